"""disable-before-delete: DisableKey reveals the forgotten consumer reversibly; ScheduleKeyDeletion first does not."""
from .labrun import LabRun

SLUG = "disable-before-delete"


def key(run):
    return run.keys["alias/old-reports"]


def dave_reads(run):
    return run.call("dave", "Decrypt", CiphertextBlob=run.blob("report-2019"))


def test_at_the_start_dave_still_reads_the_archive_and_nothing_counts():
    run = LabRun(SLUG)
    opened = dave_reads(run)
    assert opened.error is None and opened.response["Plaintext"] == b"2019 annual report: archived copy"
    assert not any(run.status().values())


def test_the_solve_path_meets_every_objective():
    run = LabRun(SLUG)
    run.solve()
    assert all(run.status().values()), run.status()


def test_admin_disabling_waiting_three_days_and_re_enabling_is_a_second_correct_path():
    run = LabRun(SLUG)
    # DisableKey takes a key ID or key ARN, not an alias.
    assert run.call("admin", "DisableKey", KeyId="alias/old-reports").error.code == "NotFoundException"
    assert run.call("admin", "DisableKey", KeyId=key(run).rsplit("/", 1)[1]).error is None
    assert run.status()["disabled-first"] is True
    run.world.clock.advance(3 * 86400)  # watch the trail for a while
    failed = dave_reads(run)
    assert failed.error.code == "DisabledException"
    assert failed.error.message == f"{key(run)} is disabled."
    assert run.status()["consumer-found"] is True
    assert run.call("admin", "EnableKey", KeyId=key(run)).error is None
    assert run.status()["re-enabled"] is False  # dave has not read the archive since
    assert dave_reads(run).error is None
    assert all(run.status().values()), run.status()


def test_scheduling_deletion_first_fails_every_objective_even_after_recovering():
    run = LabRun(SLUG)
    assert run.call("alice", "ScheduleKeyDeletion", KeyId=key(run), PendingWindowInDays=7).error is None
    pending = dave_reads(run)
    assert pending.error.code == "KMSInvalidStateException"  # pending deletion, not disabled
    # A key pending deletion cannot be disabled.
    assert run.call("alice", "DisableKey", KeyId=key(run)).error.code == "KMSInvalidStateException"
    assert run.call("alice", "CancelKeyDeletion", KeyId=key(run)).error is None
    # CancelKeyDeletion leaves the key Disabled: dave now sees DisabledException, with no DisableKey by anyone.
    assert dave_reads(run).error.code == "DisabledException"
    assert run.call("alice", "EnableKey", KeyId=key(run)).error is None
    assert dave_reads(run).error is None
    assert not any(run.status().values()), run.status()
    # Disabling now does not make up for it: the deletion was scheduled.
    run.call("alice", "DisableKey", KeyId=key(run))
    dave_reads(run)
    assert not any(run.status().values()), run.status()


def test_disabling_and_leaving_the_key_disabled_fails_the_last_objective():
    run = LabRun(SLUG)
    assert run.call("alice", "DisableKey", KeyId=key(run)).error is None
    assert dave_reads(run).error.code == "DisabledException"
    status = run.status()
    assert status["disabled-first"] and status["consumer-found"]
    assert status["re-enabled"] is False


def test_finding_the_consumer_and_deleting_the_key_anyway_fails_the_last_objective():
    run = LabRun(SLUG)
    run.solve()
    assert run.call("alice", "DisableKey", KeyId=key(run)).error is None
    assert run.call("alice", "ScheduleKeyDeletion", KeyId=key(run), PendingWindowInDays=30).error is None
    status = run.judged_now()
    assert status["re-enabled"] is False
    assert status["disabled-first"] is False  # without the run's memory of objectives, the deletion shows


def test_cutting_dave_off_by_policy_is_not_disabling_the_key():
    run = LabRun(SLUG)
    run.call("admin", "DeleteUserPolicy", service="iam", UserName="dave", PolicyName="audit-archive")
    assert dave_reads(run).error.code == "AccessDeniedException"
    assert not any(run.status().values())
