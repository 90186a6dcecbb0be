"""mfa-for-destructive-operations: BoolIfExists stops long-term keys; Bool lets them through."""
import json

from .labrun import LabRun, arn

SLUG = "mfa-for-destructive-operations"
DESTRUCTIVE = ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DeleteAlias", "kms:DeleteImportedKeyMaterial"]


def deny(condition):
    statement = {"Effect": "Deny", "Action": DESTRUCTIVE, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


def alice_policy(run, statements):
    return run.call("admin", "PutUserPolicy", service="iam", UserName="alice", PolicyName="require-mfa",
                    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def schedule(run, mfa):
    return run.call("alice", "ScheduleKeyDeletion", mfa=mfa, KeyId=run.keys["alias/payroll"], PendingWindowInDays=7)


def finish(run):
    assert schedule(run, mfa=False).error.code == "AccessDeniedException"
    assert schedule(run, mfa=True).error is None
    assert run.call("alice", "CancelKeyDeletion", KeyId=run.keys["alias/payroll"]).error is None
    assert run.call("alice", "EnableKey", KeyId=run.keys["alias/payroll"]).error is None


def test_the_lab_hands_over_alices_mfa_device():
    run = LabRun(SLUG)
    assert run.files["alice-mfa-seed"] and run.files["alice-mfa-serial"].endswith(":mfa/alice")
    assert schedule(run, mfa=False).error is None  # today her long-term keys are enough
    assert not any(run.status().values())


def test_a_deny_in_the_key_policy_for_everyone_but_admin_is_a_second_correct_fix():
    run = LabRun(SLUG)
    statement = dict(deny({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
                           "ArnNotEquals": {"aws:PrincipalArn": arn("A", "admin")}}), Principal="*")
    assert run.put_key_policy("alias/payroll", [statement], delegate=True).error is None
    finish(run)
    assert all(run.status().values()), run.status()


def test_bool_instead_of_bool_if_exists_lets_long_term_keys_through_and_fails_the_first_objective():
    run = LabRun(SLUG)
    alice_policy(run, [deny({"Bool": {"aws:MultiFactorAuthPresent": "false"}})])
    # Her access keys carry no aws:MultiFactorAuthPresent, so Bool never matches and the Deny never applies.
    assert schedule(run, mfa=False).error is None
    assert run.status()["no-destruction-without-mfa"] is False
    assert not any(run.status().values())


def test_a_deny_without_condition_locks_alice_out_even_with_mfa():
    run = LabRun(SLUG)
    alice_policy(run, [deny(None)])
    status = run.status()
    assert status["no-destruction-without-mfa"] is True
    assert status["alice-encrypts-without-mfa"] is True
    assert status["alice-with-mfa-can-delete"] is False
    assert schedule(run, mfa=True).error.code == "AccessDeniedException"
    assert run.status()["trail-shows-mfa"] is False


def test_denying_kms_star_without_mfa_stops_alices_encrypt_too():
    run = LabRun(SLUG)
    alice_policy(run, [{"Effect": "Deny", "Action": "kms:*", "Resource": "*",
                        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}])
    status = run.status()
    assert status["no-destruction-without-mfa"] is True
    assert status["alice-encrypts-without-mfa"] is False


def test_the_order_of_the_two_calls_matters_and_the_key_must_end_enabled():
    run = LabRun(SLUG)
    alice_policy(run, [deny({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})])
    assert schedule(run, mfa=True).error is None
    assert run.call("alice", "CancelKeyDeletion", KeyId=run.keys["alias/payroll"]).error is None
    assert schedule(run, mfa=False).error.code == "AccessDeniedException"
    assert run.status()["trail-shows-mfa"] is False  # allowed first, denied after: not the proof asked for
    assert schedule(run, mfa=True).error is None
    status = run.status()
    assert status["trail-shows-mfa"] is True
    assert status["key-not-pending"] is False  # still pending deletion
    run.call("alice", "CancelKeyDeletion", KeyId=run.keys["alias/payroll"])
    assert run.status()["key-not-pending"] is False  # cancelled leaves it Disabled
    run.call("alice", "EnableKey", KeyId=run.keys["alias/payroll"])
    assert all(run.status().values()), run.status()
