"""A learner never sees another learner's runs, names or trail, in the same workshop or another."""
import pytest
from django.test import Client

from .people import joined, start, workshop

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_learner_sees_neither_the_runs_nor_the_name_of_another_in_the_same_workshop():
    w = workshop()
    alice, bob = joined(w, "alice-the-first"), joined(w, "bob")
    run = start(alice, w)
    sandbox = run.sandbox_id
    for path in (f"/labs/runs/{sandbox}/", f"/labs/runs/{sandbox}/debrief/", f"/s/{sandbox}/", f"/s/{sandbox}/keys/",
                 f"/s/{sandbox}/iam/", f"/s/{sandbox}/trail/", f"/s/{sandbox}/trail.json", f"/s/{sandbox}/trail.csv"):
        assert bob.get(path).status_code == 404, path
        assert bob.get(path, headers={"HX-Request": "true"}).status_code == 404, path
    for path in (f"/labs/runs/{sandbox}/reset/", f"/labs/runs/{sandbox}/hints/bob-acme-only/", f"/s/{sandbox}/clock/"):
        assert bob.post(path, {"advance": "1d"}).status_code == 404, path
    for path in (f"/workshops/{w.id}/", "/labs/", "/labs/progress/", "/"):
        assert "alice-the-first" not in bob.get(path).content.decode(), path


def test_someone_who_has_not_joined_gets_a_404_for_the_workshop_page_and_its_labs():
    w = workshop()
    stranger = Client()
    assert stranger.get(f"/workshops/{w.id}/").status_code == 404
    assert stranger.post(f"/workshops/{w.id}/labs/encryption-context/start/").status_code == 404
    assert stranger.post(f"/workshops/{w.id}/resume-link/").status_code == 404
    assert stranger.get("/workshops/999999/").status_code == 404
