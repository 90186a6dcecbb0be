"""deletion-window: a 7-30 day window, a pending key cannot be used, cancel leaves it Disabled until EnableKey."""
import pytest

from kmslab.cloud.clock import parse_duration

from .labrun import LabRun

SLUG = "deletion-window"
KEY = "alias/legacy"


def decrypt(run):
    return run.call("bob", "Decrypt", CiphertextBlob=run.blob("archive-record"))


def schedule(run, days):
    return run.call("admin", "ScheduleKeyDeletion", KeyId=run.keys[KEY], PendingWindowInDays=days)


def describe(run):
    return run.call("admin", "DescribeKey", KeyId=run.keys[KEY]).response["KeyMetadata"]


def pending_and_failing(run):
    assert schedule(run, 7).error is None
    assert decrypt(run).error.code == "KMSInvalidStateException"
    run.world.clock.advance(parse_duration("3d"))


def test_at_the_start_bob_decrypts_and_nothing_counts():
    run = LabRun(SLUG)
    assert decrypt(run).error is None
    assert not any(run.status().values())


@pytest.mark.parametrize("days", [6, 31, 1, 365])
def test_a_window_outside_7_to_30_days_is_refused_and_the_key_is_untouched(days):
    run = LabRun(SLUG)
    refused = schedule(run, days)
    assert refused.error.code == "ValidationException"
    assert "pendingWindowInDays" in refused.error.message
    assert describe(run)["KeyState"] == "Enabled"
    assert decrypt(run).error is None
    assert not any(run.status().values())


def test_the_default_window_is_30_days_and_fails_the_first_objective():
    run = LabRun(SLUG)
    scheduled = run.call("admin", "ScheduleKeyDeletion", KeyId=run.keys[KEY])
    assert scheduled.error is None and scheduled.response["PendingWindowInDays"] == 30
    assert run.status()["window-7"] is False


def test_disable_cancel_enable_through_the_alias_arn_and_a_longer_wait_is_a_second_correct_path():
    run = LabRun(SLUG)
    assert run.call("admin", "DisableKey", KeyId=run.keys[KEY]).error is None
    assert decrypt(run).error.code == "DisabledException"
    pending_and_failing(run)  # a Disabled key may be scheduled for deletion too
    run.world.clock.advance(parse_duration("3d"))  # six days of seven: still pending
    assert describe(run)["KeyState"] == "PendingDeletion"
    key_id = run.keys[KEY].rsplit("/", 1)[1]
    assert run.call("admin", "CancelKeyDeletion", KeyId=key_id).error is None
    assert run.call("admin", "EnableKey", KeyId=key_id).error is None
    assert decrypt(run).error is None
    assert all(run.status().values()), run.status()


def test_cancel_without_enable_leaves_the_key_disabled_and_fails_the_final_objective():
    run = LabRun(SLUG)
    pending_and_failing(run)
    assert run.call("admin", "CancelKeyDeletion", KeyId=run.keys[KEY]).error is None
    assert describe(run)["KeyState"] == "Disabled"
    assert decrypt(run).error.code == "DisabledException"
    status = run.status()
    assert status["window-7"] and status["pending-decrypt-fails"] and status["clock-advanced"]
    assert status["cancel-then-enable"] is False and status["key-recovered"] is False


def test_enable_key_while_pending_is_refused_and_does_not_count():
    run = LabRun(SLUG)
    pending_and_failing(run)
    assert run.call("admin", "EnableKey", KeyId=run.keys[KEY]).error.code == "KMSInvalidStateException"
    assert run.call("admin", "CancelKeyDeletion", KeyId=run.keys[KEY]).error is None
    assert run.status()["cancel-then-enable"] is False  # the only EnableKey came before the cancel, and failed


def test_waiting_past_the_deletion_date_deletes_the_key_for_good():
    run = LabRun(SLUG)
    pending_and_failing(run)
    run.world.clock.advance(parse_duration("5d"))
    gone = run.call("admin", "CancelKeyDeletion", KeyId=run.keys[KEY])
    assert gone.error.code == "NotFoundException"
    assert any(r.get("eventName") == "DeleteKey" for r in run.records)
    assert decrypt(run).error is not None
    # Nothing can be done to the key any more: the last two objectives can never be met.
    status = run.status()
    assert status["cancel-then-enable"] is False and status["key-recovered"] is False


def test_a_pending_decrypt_by_someone_else_or_denied_does_not_count():
    run = LabRun(SLUG)
    assert schedule(run, 7).error is None
    assert run.call("admin", "Decrypt", CiphertextBlob=run.blob("archive-record")).error.code == \
        "KMSInvalidStateException"
    assert run.status()["pending-decrypt-fails"] is False
