"""key-lockout: removing the root statement is refused until alice names herself; bypassing the check locks her out."""
import json

from kmslab.labs.setup import base_statements

from .labrun import LabRun, arn

SLUG = "key-lockout"
KEY = "alias/ledger"
ADMIN_ACTIONS = ["kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:DescribeKey", "kms:EnableKey", "kms:DisableKey"]
ALICE = {"Sid": "KeyAdministrator", "Effect": "Allow", "Principal": {"AWS": arn("A", "alice")},
         "Action": ADMIN_ACTIONS, "Resource": "*"}
BOB = {"Sid": "KeyUser", "Effect": "Allow", "Principal": {"AWS": arn("A", "bob")},
       "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}


def reject_first(run):
    outcome = run.put_key_policy(KEY, [], name="alice")
    assert outcome.error.code == "MalformedPolicyDocumentException"
    assert outcome.error.message == "The new key policy will not allow you to update the key policy in the future."
    return outcome


def test_at_the_start_iam_policies_open_the_key_to_dave_and_nothing_counts():
    run = LabRun(SLUG)
    assert run.call("dave", "DescribeKey", KeyId=KEY).error is None
    assert run.call("bob", "Encrypt", KeyId=KEY, Plaintext=b"x").error is None
    assert not any(run.status().values())


def test_the_lockout_check_rejects_removing_root_and_nothing_changes():
    run = LabRun(SLUG)
    before = run.call("alice", "GetKeyPolicy", KeyId=run.keys[KEY], PolicyName="default").response["Policy"]
    reject_first(run)
    after = run.call("alice", "GetKeyPolicy", KeyId=run.keys[KEY], PolicyName="default").response["Policy"]
    assert after == before
    assert run.status() == {"lockout-rejected": True, "iam-door-closed": False, "alice-keeps-control": False,
                            "bob-keeps-working": False}


def test_admin_writing_the_narrow_policy_after_alices_rejection_is_a_second_correct_solution():
    run = LabRun(SLUG)
    reject_first(run)
    assert run.put_key_policy(KEY, [ALICE, BOB], name="admin").error is None
    assert run.call("dave", "DescribeKey", KeyId=KEY).error.code == "AccessDeniedException"
    assert run.call("bob", "Encrypt", KeyId=KEY, Plaintext=b"x").error is None
    # alice can still tighten it further herself
    assert run.put_key_policy(KEY, [ALICE, BOB], name="alice").error is None
    assert all(run.status().values()), run.status()


def test_bypassing_the_safety_check_locks_alice_out_for_good():
    run = LabRun(SLUG)
    reject_first(run)
    account = run.keys[KEY].split(":")[4]
    policy = json.dumps({"Version": "2012-10-17", "Statement": base_statements(account, False) + [BOB]})
    bypass = run.call("alice", "PutKeyPolicy", KeyId=run.keys[KEY], PolicyName="default", Policy=policy,
                      BypassPolicyLockoutSafetyCheck=True)
    assert bypass.error is None
    again = run.put_key_policy(KEY, [ALICE, BOB], name="alice")
    assert again.error.code == "AccessDeniedException"
    status = run.status()
    assert status["iam-door-closed"] is True and status["bob-keeps-working"] is True
    assert status["alice-keeps-control"] is False


def test_keeping_root_and_denying_dave_leaves_the_iam_door_open():
    run = LabRun(SLUG)
    reject_first(run)
    assert run.put_key_policy(KEY, [ALICE, BOB, {"Effect": "Deny", "Principal": {"AWS": arn("A", "dave")},
                                                 "Action": "kms:*", "Resource": "*"}],
                              name="alice", delegate=True).error is None
    assert run.call("dave", "DescribeKey", KeyId=KEY).error.code == "AccessDeniedException"
    assert run.status()["iam-door-closed"] is False  # the root user and any IAM policy still count


def test_principal_star_limited_to_the_account_is_still_a_broad_principal():
    run = LabRun(SLUG)
    reject_first(run)
    everyone = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Encrypt", "kms:Decrypt"],
                "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}}
    assert run.put_key_policy(KEY, [ALICE, everyone], name="alice").error is None
    assert run.status()["iam-door-closed"] is False  # mallory can decrypt now


def test_alice_with_kms_star_fails_her_objective():
    run = LabRun(SLUG)
    reject_first(run)
    assert run.put_key_policy(KEY, [dict(ALICE, Action="kms:*"), BOB], name="alice").error is None
    status = run.status()
    assert status["iam-door-closed"] is True and status["alice-keeps-control"] is False


def test_forgetting_bob_breaks_the_application():
    run = LabRun(SLUG)
    reject_first(run)
    assert run.put_key_policy(KEY, [ALICE], name="alice").error is None
    assert run.call("bob", "Encrypt", KeyId=KEY, Plaintext=b"x").error.code == "AccessDeniedException"
    status = run.status()
    assert status["alice-keeps-control"] is True and status["bob-keeps-working"] is False
