"""Instructors log in; each sees and controls only their own workshops; learners reach none of their pages."""
import pytest
from django.test import Client

from kmslab.workshops.models import Workshop

from .people import PASSWORD, instructor, joined, logged_in, start, workshop

pytestmark = pytest.mark.django_db(transaction=True)


def instructor_paths(w, learner=None, run=None):
    base = f"/instructor/workshops/{w.id}/"
    paths = ["/instructor/", base, base + "progress.csv", base + "progress.json"]
    if learner:
        paths.append(base + f"learners/{learner.id}/")
    return paths


def control_posts(w, run=None):
    base = f"/instructor/workshops/{w.id}/"
    posts = [(base + "announce/", {"message": "hi"}), (base + "clock/", {"advance": "1d"}),
             (base + "hints/", {"locked": "true"}), (base + "learner-clock/", {"allowed": "false"}),
             (base + "stuck/", {"stuck_minutes": "2"}), (base + "retention/", {"retention_days": "1"}),
             (base + "closes/", {"closes": ""}), (base + "join-code/", {}), (base + "close/", {}),
             (base + "reopen/", {}), (base + "delete/", {"confirm": w.join_code})]
    if run:
        posts.insert(0, (base + f"runs/{run.sandbox_id}/reset/", {}))
    return posts


def test_the_login_page_has_labelled_fields_and_a_wrong_password_is_refused():
    instructor()
    client = Client()
    page = client.get("/login/").content.decode()
    assert ">Username<" in page and ">Password<" in page
    response = client.post("/login/", {"username": "iris", "password": "wrong"})
    assert response.status_code == 200 and "do not match" in response.content.decode()
    assert client.get("/instructor/").status_code == 302


def test_failed_logins_are_rate_limited(settings):
    settings.KMSLAB_GUESS_RATE = 2
    instructor()
    client = Client()
    for _ in range(2):
        client.post("/login/", {"username": "iris", "password": "wrong"})
    assert client.post("/login/", {"username": "iris", "password": PASSWORD}).status_code == 429


def test_a_learner_session_reaches_no_instructor_page_nor_control():
    w = workshop()
    alice = joined(w, "alice")
    run = start(alice, w)
    learner = run.learner
    for path in instructor_paths(w, learner):
        response = alice.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path
    for path, data in control_posts(w, run):
        response = alice.post(path, data)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path
    w.refresh_from_db()
    assert not w.is_closed and not w.hints_locked and w.announcement == ""


def test_an_instructor_sees_only_their_own_workshops_and_a_superuser_all():
    iris, oscar = instructor("iris"), instructor("oscar")
    mine, theirs = workshop(iris), workshop(oscar)
    alice = joined(theirs, "alice")
    run = start(alice, theirs)
    client = logged_in(iris)
    listing = client.get("/instructor/").content.decode()
    assert mine.join_code in listing and theirs.join_code not in listing
    for path in instructor_paths(theirs, run.learner):
        if path != "/instructor/":
            assert client.get(path).status_code == 404, path
    for path, data in control_posts(theirs, run):
        assert client.post(path, data).status_code == 404, path
    theirs.refresh_from_db()
    assert not theirs.is_closed
    root = logged_in(instructor("root", superuser=True))
    assert theirs.join_code in root.get("/instructor/").content.decode()
    assert root.get(f"/instructor/workshops/{theirs.id}/").status_code == 200


def test_creating_a_workshop_from_the_page():
    client = logged_in(instructor())
    response = client.post("/instructor/", {"title": "Tuesday", "labs": ["explicit-deny", "encryption-context"]})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Tuesday" in page and "data-join-code=" in page
    bad = client.post("/instructor/", {"title": "", "labs": ["nope"]})
    assert bad.status_code == 422


def test_the_page_orders_the_labs_by_the_positions_given_the_others_after_as_listed():
    client = logged_in(instructor())
    page = client.get("/instructor/").content.decode()
    assert 'name="position-key-rotation"' in page and "Position of " in page
    client.post("/instructor/", {"title": "Ordered", "labs": ["encryption-context", "explicit-deny", "key-rotation",
                                                              "grants"],
                                 "position-key-rotation": "1", "position-explicit-deny": "2"})
    assert Workshop.objects.get(title="Ordered").labs == ["key-rotation", "explicit-deny", "encryption-context",
                                                          "grants"]
    bad = client.post("/instructor/", {"title": "Bad", "labs": ["grants"], "position-grants": "0"})
    assert bad.status_code == 422 and not Workshop.objects.filter(title="Bad").exists()
