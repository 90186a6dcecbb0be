"""The rows the dashboard shows: a learner's last call across their runs, and when they count as stuck."""
import pytest

from kmslab.labs import setup
from kmslab.sandboxes import runner
from kmslab.workshops import dashboard

from ..labs.test_views import call_as
from .people import joined, start, workshop

pytestmark = pytest.mark.django_db(transaction=True)


def key_of(run):
    return setup.lab_keys(runner.load_world(run.sandbox_id))["alias/tenant-data"]


def row_of(w, run):
    return dashboard.rows(w)[run.learner_id]


def test_a_fresh_run_shows_no_call_the_lab_seeded_records_are_not_the_learners():
    w = workshop(labs=["trail-forensics"])
    run = start(joined(w, "alice"), w, "trail-forensics")
    assert run.seeded > 0
    assert row_of(w, run)["call"] is None
    assert row_of(w, run)["stuck"] == ""
    call_as(run, "admin", "ListKeys")
    assert row_of(w, run)["call"][0] == "ListKeys"


def test_the_last_call_is_the_newest_across_the_learners_runs():
    w = workshop()
    alice = joined(w, "alice")
    first = start(alice, w, "encryption-context")
    second = start(alice, w, "explicit-deny")
    call_as(second, "admin", "ListKeys")
    call_as(first, "admin", "DescribeKey", KeyId=key_of(first))
    event, error, denied, _, sandbox = row_of(w, first)["call"]
    assert (event, error, denied, sandbox) == ("DescribeKey", "", False, str(first.sandbox_id))
    assert row_of(w, first)["where"][0] == "encryption-context"
    call_as(second, "admin", "ListAliases")
    event, _, _, _, sandbox = row_of(w, first)["call"]
    assert (event, sandbox) == ("ListAliases", str(second.sandbox_id))
    assert row_of(w, first)["where"][0] == "explicit-deny"


def test_three_denied_calls_in_a_row_on_one_operation_flag_the_learner_and_another_call_clears_it():
    w = workshop()
    run = start(joined(w, "bob-fan"), w)
    key = key_of(run)
    for _ in range(2):
        assert call_as(run, "bob", "DescribeKey", KeyId=key).error is not None
    assert row_of(w, run)["stuck"] == ""
    assert call_as(run, "bob", "DescribeKey", KeyId=key).error is not None
    assert row_of(w, run)["stuck"] == "3 denied DescribeKey calls in a row"
    event, error, denied, record, _ = row_of(w, run)["call"]
    assert (event, error, denied) == ("DescribeKey", "AccessDeniedException", True)
    assert dashboard.explanations([row_of(w, run)])[record]["decision"] != "Allow"
    call_as(run, "admin", "DescribeKey", KeyId=key)
    assert row_of(w, run)["stuck"] == ""


def test_a_streak_longer_than_the_calls_a_row_reads_says_so():
    w = workshop()
    run = start(joined(w, "stubborn"), w)
    key = key_of(run)
    for _ in range(dashboard.RECENT + 2):
        call_as(run, "bob", "DescribeKey", KeyId=key)
    assert row_of(w, run)["stuck"] == f"{dashboard.RECENT}+ denied DescribeKey calls in a row"


def test_every_learner_of_a_big_room_gets_their_own_calls():
    w = workshop()
    runs = [start(joined(w, f"learner-{i}"), w) for i in range(12)]
    for i, run in enumerate(runs):
        for _ in range(i % 3 + 1):
            call_as(run, "admin", "ListKeys")
    rows = dashboard.rows(w)
    for run in runs:
        assert rows[run.learner_id]["call"][4] == str(run.sandbox_id)
