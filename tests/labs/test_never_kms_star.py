"""never-kms-star: bob keeps the cryptographic actions, alice gets administration without use, nobody keeps kms:*."""
from .labrun import LabRun, arn

USE = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
# AWS's own key-administrator statement from the default key policy.
AWS_ADMIN = ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
             "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
             "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"]
ALL = {"bob-not-admin": True, "bob-uses": True, "alice-administers": True, "no-kms-star": True}


def statement(user, actions, effect="Allow"):
    return {"Effect": effect, "Principal": {"AWS": arn("A", user)}, "Action": actions, "Resource": "*"}


def test_a_fresh_run_meets_nothing_and_bob_has_kms_star():
    run = LabRun("never-kms-star")
    assert run.call("bob", "ScheduleKeyDeletion", KeyId=run.keys["alias/billing"], PendingWindowInDays=7).error is None
    assert not any(run.status().values())


def test_aws_key_administrator_statement_with_wildcards_is_a_second_correct_solution():
    run = LabRun("never-kms-star")
    assert run.put_key_policy("alias/billing", [statement("bob", USE), statement("alice", AWS_ADMIN)]).error is None
    assert run.status() == ALL
    assert run.call("alice", "Decrypt", CiphertextBlob=run.call(
        "bob", "Encrypt", KeyId="alias/billing", Plaintext=b"x").response["CiphertextBlob"]).error.code == \
        "AccessDeniedException"


def test_kms_star_with_denies_on_top_still_fails_the_lint_objective():
    run = LabRun("never-kms-star")
    admin_actions = ["kms:PutKeyPolicy", "kms:CreateGrant", "kms:ScheduleKeyDeletion"]
    run.put_key_policy("alias/billing", [
        statement("bob", "kms:*"), statement("bob", admin_actions, "Deny"), statement("alice", AWS_ADMIN)])
    assert run.status() == dict(ALL, **{"no-kms-star": False})


def test_kms_star_for_alice_lets_her_decrypt():
    run = LabRun("never-kms-star")
    run.put_key_policy("alias/billing", [statement("bob", USE), statement("alice", "kms:*")])
    assert run.status() == dict(ALL, **{"alice-administers": False, "no-kms-star": False})


def test_removing_bob_altogether_breaks_the_application():
    run = LabRun("never-kms-star")
    run.put_key_policy("alias/billing", [statement("alice", AWS_ADMIN)])
    assert run.status() == dict(ALL, **{"bob-uses": False})
