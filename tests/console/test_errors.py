"""The error pages a learner can meet: styled, saying what happened, linking home, with DEBUG off."""
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.views import defaults

HOME_LINK = 'href="/"'


def assert_styled_error(response, status):
    page = response.content.decode()
    assert response.status_code == status
    assert "/static/css/kmslab.css" in page
    assert HOME_LINK in page and "Your sandboxes" in page
    return page


def test_a_deleted_keys_page_says_there_is_no_such_key_and_links_home(alice):
    key_page = alice.create_key()
    alice.post(key_page + "ScheduleKeyDeletion/", {"PendingWindowInDays": "7"})
    alice.post(alice.home + "clock/", {"advance": "8d"})

    page = assert_styled_error(alice.get(key_page), 404)

    assert "No such key." in page
    assert "deletion window ended" in page


def test_another_learners_sandbox_is_a_styled_404_that_names_no_owner(alice, mallory):
    page = assert_styled_error(mallory.get(alice.home), 404)
    assert "No such sandbox." in page
    assert "alice" not in page


def test_an_unknown_url_is_a_styled_404_without_djangos_internals(transactional_db, client):
    page = assert_styled_error(client.get("/no/such/page/"), 404)
    assert "Resolver404" not in page
    assert "<code>/no/such/page/</code>" in page


def test_a_form_posted_without_its_csrf_token_gets_a_styled_page_saying_so(transactional_db):
    browser = Client(enforce_csrf_checks=True)
    page = assert_styled_error(browser.post("/", {"name": "week 1"}), 403)
    assert "CSRF" in page and "could not be sent" in page


def test_a_request_for_a_host_kmslab_does_not_serve_is_a_styled_400(transactional_db, client):
    page = assert_styled_error(client.get("/", headers={"host": "kmslab.example.com"}), 400)
    assert "KMSLAB_ALLOWED_HOSTS" in page


def test_the_server_error_page_is_styled_and_reads_nothing_from_the_database(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = defaults.server_error(RequestFactory().get("/s/anything/"))
    page = assert_styled_error(response, 500)
    assert "Something went wrong in kmslab" in page


def test_a_view_that_fails_is_answered_with_the_server_error_page(alice, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("kmslab.console.views.sandboxes.snapshot.due", broken)
    alice.client.raise_request_exception = False

    page = assert_styled_error(alice.get(alice.home), 500)
    assert "a bug" not in page


def test_the_403_page_shows_the_reason_it_was_given(rf):
    response = defaults.permission_denied(rf.get("/"), PermissionDenied("Workshop closed"))
    assert "Workshop closed" in assert_styled_error(response, 403)
