"""Every instructor control acts, is recorded, and shows; closing makes the runs read-only."""
import pytest
from django.test import Client
from django.utils import timezone

from kmslab.cloud.errors import AccessDenied, AccessDeniedException
from kmslab.labs import runs
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import Sandbox
from kmslab.workshops import cohort
from kmslab.workshops.models import Action, Workshop

from ..labs.test_consumers import fix_bob
from ..labs.test_views import call_as
from .people import instructor, joined, logged_in, start, workshop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def room():
    iris = instructor()
    w = workshop(iris)
    alice = joined(w, "alice")
    run = start(alice, w)
    return iris, logged_in(iris), w, alice, run


def post(client, w, control, data=None):
    response = client.post(f"/instructor/workshops/{w.id}/{control}/", data or {})
    assert response.status_code == 302
    w.refresh_from_db()
    return client.get(f"/instructor/workshops/{w.id}/").content.decode()


def test_reset_one_learners_run(room):
    iris, client, w, alice, run = room
    assert fix_bob(run).error is None
    runs.evaluate(run)
    page = post(client, w, f"runs/{run.sandbox_id}/reset")
    run.refresh_from_db()
    assert run.progress == {}
    assert 'data-action="reset"' in page and "alice&#x27;s run of encryption-context" in page


def test_advance_the_clock_for_one_learner_or_for_all(room):
    iris, client, w, alice, run = room
    bob = joined(w, "bob")
    other = start(bob, w)
    before = {r.pk: runner.load_world(r.pk).now() for r in (run, other)}
    post(client, w, "clock", {"advance": "7d", "learner": run.learner_id})
    assert runner.load_world(run.pk).now() - before[run.pk] >= 7 * 86400
    assert runner.load_world(other.pk).now() - before[other.pk] < 86400
    page = post(client, w, "clock", {"advance": "1d"})
    assert runner.load_world(other.pk).now() - before[other.pk] >= 86400
    assert "for everyone (2 runs)" in page and "for alice (1 run)" in page


def test_announce_shows_on_the_learners_pages(room):
    iris, client, w, alice, run = room
    post(client, w, "announce", {"message": "Break <b>until</b> 11:00"})
    for path in (f"/workshops/{w.id}/", f"/labs/runs/{run.sandbox_id}/", f"/s/{run.sandbox_id}/keys/"):
        page = alice.get(path).content.decode()
        assert "data-announcement" in page and "Break &lt;b&gt;until&lt;/b&gt; 11:00" in page, path


def test_locking_hints_refuses_them_and_says_so(room):
    iris, client, w, alice, run = room
    post(client, w, "hints", {"locked": "true"})
    assert "data-hints-locked" in alice.get(f"/labs/runs/{run.sandbox_id}/").content.decode()
    assert alice.post(f"/labs/runs/{run.sandbox_id}/hints/bob-acme-only/").status_code == 403
    post(client, w, "hints", {"locked": "false"})
    assert alice.post(f"/labs/runs/{run.sandbox_id}/hints/bob-acme-only/").status_code == 302
    assert [a.action for a in Action.objects.filter(workshop=w)][:2] == ["unlock hints", "lock hints"]


def test_keeping_the_clock_hides_the_learners_clock_form_and_refuses_it(room):
    iris, client, w, alice, run = room
    post(client, w, "learner-clock", {"allowed": "false"})
    assert "data-clock-locked" in alice.get(f"/s/{run.sandbox_id}/").content.decode()
    assert alice.post(f"/s/{run.sandbox_id}/clock/", {"advance": "1d"}).status_code == 403
    bob = joined(w, "bob")
    assert Sandbox.objects.get(pk=start(bob, w).pk).clock_locked  # a run started later follows the setting
    post(client, w, "learner-clock", {"allowed": "true"})
    assert alice.post(f"/s/{run.sandbox_id}/clock/", {"advance": "1d"}).status_code == 302


def test_closing_stops_the_join_code_and_makes_every_run_read_only(room):
    iris, client, w, alice, run = room
    page = post(client, w, "close")
    assert 'data-state="closed"' in page
    assert "has closed" in Client().post("/join/", {"code": w.join_code, "display_name": "late"}).content.decode()
    with pytest.raises(AccessDeniedException, match="read-only"):
        call_as(run, "bob", "ListKeys")
    with pytest.raises(AccessDenied, match="read-only"):
        call_as(run, "admin", "ListUsers", "iam")
    assert alice.get(f"/s/{run.sandbox_id}/keys/").status_code == 200  # still there to look at
    assert alice.post(f"/s/{run.sandbox_id}/keys/", {"Description": "x"}).status_code == 403
    assert alice.post(f"/labs/runs/{run.sandbox_id}/reset/").status_code == 403
    assert "data-workshop-closed" in alice.get(f"/labs/runs/{run.sandbox_id}/").content.decode()
    with pytest.raises(runner.ReadOnly):
        runner.advance_clock(run.sandbox_id, 60)
    post(client, w, "reopen")
    assert call_as(run, "admin", "ListKeys").error is None


def test_a_scheduled_closing_time_makes_the_runs_read_only_when_it_passes(room):
    iris, client, w, alice, run = room
    cohort.set_closes(w, timezone.now() - timezone.timedelta(seconds=1))
    with pytest.raises(AccessDeniedException):
        call_as(run, "bob", "ListKeys")


def test_the_stuck_threshold_and_the_retention_period_are_set_and_recorded(room):
    iris, client, w, alice, run = room
    page = post(client, w, "stuck", {"stuck_minutes": "3"})
    assert w.stuck_minutes == 3 and "stuck after 3 min" in page
    page = post(client, w, "retention", {"retention_days": "2"})
    assert w.retention_days == 2 and "deleted 2 days after closing" in page
    post(client, w, "stuck", {"stuck_minutes": "0"})
    assert w.stuck_minutes == 3


def test_a_new_join_code_ends_the_old_one(room):
    iris, client, w, alice, run = room
    old = w.join_code
    post(client, w, "join-code")
    assert w.join_code != old
    assert Client().post("/join/", {"code": old, "display_name": "bob"}).status_code == 422
    assert Client().post("/join/", {"code": w.join_code, "display_name": "bob"}).status_code == 302


def test_delete_needs_the_join_code_typed_and_takes_every_run_with_it(room, caplog):
    iris, client, w, alice, run = room
    post(client, w, "delete", {"confirm": "no"})
    assert Workshop.objects.filter(pk=w.pk).exists()
    response = client.post(f"/instructor/workshops/{w.id}/delete/", {"confirm": w.join_code})
    assert response.status_code == 302
    assert not Workshop.objects.filter(pk=w.pk).exists() and not Sandbox.objects.filter(pk=run.pk).exists()
    assert alice.get(f"/labs/runs/{run.sandbox_id}/").status_code == 404
    # The workshop's own log of actions is gone with it; the deletion is in the audit log.
    [line] = [r.getMessage() for r in caplog.records if r.name == "kmslab.audit"]
    assert line == f"iris deleted workshop {w.id} 'KMS basics' of iris (learners: 1, lab runs: 1)"


def test_purge_deletes_the_workshops_past_their_retention(room, caplog):
    iris, client, w, alice, run = room
    kept = workshop(iris, labs=["explicit-deny"])
    cohort.close(w)
    cohort.close(kept)
    Workshop.objects.filter(pk=w.pk).update(retention_days=0)
    assert cohort.purge() == ["KMS basics"]
    assert not Workshop.objects.filter(pk=w.pk).exists() and Workshop.objects.filter(pk=kept.pk).exists()
    assert [r.getMessage().split(" deleted ")[0] for r in caplog.records if r.name == "kmslab.audit"] == [
        "the retention period (0 days after closing)"]
