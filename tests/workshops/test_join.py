"""Learners join with the code and a display name, resume from the same browser or by their link, and start labs."""
import re

import pytest
from django.test import Client
from django.utils import timezone

from kmslab.workshops import cohort
from kmslab.workshops.models import Learner

from .people import join, joined, start, workshop

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_join_form_has_the_labelled_fields():
    page = Client().get("/join/").content.decode()
    assert '<label for="id_code">Join code</label>' in page
    assert '<label for="id_display_name">Display name</label>' in page


def test_a_code_is_accepted_however_it_is_typed():
    w = workshop()
    typed = w.join_code.lower().replace("-", " ")
    client = Client()
    response = client.post("/join/", {"code": typed, "display_name": "alice"})
    assert response.status_code == 302 and response["Location"] == f"/workshops/{w.id}/"
    assert cohort.normalise_code(w.join_code[4:]) == w.join_code


def test_a_wrong_code_is_refused_with_a_sentence():
    workshop()
    client = Client()
    response = client.post("/join/", {"code": "KMS-AAAAAA", "display_name": "alice"})
    assert response.status_code == 422
    assert "No workshop has this join code" in response.content.decode()
    assert not Learner.objects.exists()


def test_display_names_are_unique_in_a_workshop_whatever_their_case():
    w = workshop()
    joined(w, "Alice")
    _, response = join(w, "alice")
    assert response.status_code == 422 and "is taken in this workshop" in response.content.decode()
    other = workshop(labs=["explicit-deny"])
    assert join(other, "alice")[1].status_code == 302  # another workshop's names are its own


def test_rejoining_from_the_same_browser_resumes_whatever_name_is_typed():
    w = workshop()
    alice = joined(w, "alice")
    run = start(alice, w)
    _, response = join(w, "somebody else", client=alice)
    assert response.status_code == 302
    assert Learner.objects.filter(workshop=w).count() == 1
    assert f"/labs/runs/{run.sandbox_id}/" in alice.get(f"/workshops/{w.id}/").content.decode()


def test_the_resume_link_is_shown_once_and_moves_the_learner_to_another_browser():
    w = workshop()
    alice = joined(w, "alice")
    run = start(alice, w)
    first = alice.get(f"/workshops/{w.id}/").content.decode()
    link = re.search(r'data-resume-url>([^<]+)<', first).group(1)
    assert "data-resume-url" not in alice.get(f"/workshops/{w.id}/").content.decode()
    laptop = Client()
    path = link.split("testserver", 1)[1]
    assert laptop.get(path).status_code == 200  # a confirmation, which adds nothing yet
    assert laptop.get(f"/labs/runs/{run.sandbox_id}/").status_code == 404
    assert laptop.post(path).status_code == 302
    assert laptop.get(f"/labs/runs/{run.sandbox_id}/").status_code == 200
    assert laptop.get(f"/workshops/{w.id}/").status_code == 200


def test_a_new_resume_link_ends_the_old_one():
    w = workshop()
    alice = joined(w, "alice")
    old = re.search(r'data-resume-url>([^<]+)<', alice.get(f"/workshops/{w.id}/").content.decode()).group(1)
    alice.post(f"/workshops/{w.id}/resume-link/")
    assert Client().get(old.split("testserver", 1)[1]).status_code == 404


def test_a_full_a_closed_or_a_not_yet_open_workshop_refuses_joiners():
    full = workshop(max_learners=1)
    joined(full, "alice")
    assert "is full" in join(full, "bob")[1].content.decode()
    later = workshop(opens=timezone.now() + timezone.timedelta(hours=1))
    assert "opens at" in join(later, "bob")[1].content.decode()
    ended = workshop(closes=timezone.now() - timezone.timedelta(minutes=1))
    assert "has closed" in join(ended, "bob")[1].content.decode()


def test_starting_a_lab_twice_resumes_the_run_and_a_lab_outside_the_workshop_is_not_found():
    w = workshop()
    alice = joined(w, "alice")
    assert start(alice, w).pk == start(alice, w).pk
    assert alice.post(f"/workshops/{w.id}/labs/key-rotation/start/").status_code == 404


def test_display_names_are_escaped():
    w = workshop()
    name = '<img src=x onerror=alert(1)>'
    client = joined(w, name)
    page = client.get(f"/workshops/{w.id}/").content.decode()
    assert name not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_join_codes_are_rate_limited_against_guessing(settings):
    settings.KMSLAB_GUESS_RATE = 3
    w = workshop()
    client = Client()
    for _ in range(3):
        assert client.post("/join/", {"code": "KMS-WRONG2", "display_name": "x"}).status_code == 422
    refused = client.post("/join/", {"code": w.join_code, "display_name": "x"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert not Learner.objects.exists()
