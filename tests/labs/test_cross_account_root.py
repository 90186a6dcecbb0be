"""cross-account-root: the key policy trusts account B, B's IAM picks carol; frank, with no IAM policy, stays out."""
import json

from kmslab.cloud.kms import access
from kmslab.labs import checks

from .labrun import LabRun, arn

SLUG = "cross-account-root"
KEY = "alias/shared"
B_ROOT = "arn:aws:iam::444455556666:root"


def share(run, principal, actions=("kms:Decrypt", "kms:DescribeKey")):
    return run.put_key_policy(KEY, [{"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": principal},
                                     "Action": list(actions), "Resource": "*"}], delegate=True)


def allow_in_b(run, user, actions=("kms:Decrypt",), resource=None):
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(actions), "Resource": resource or run.keys[KEY]}]})
    return run.call("admin@B", "PutUserPolicy", service="iam", UserName=user, PolicyName="partner",
                    PolicyDocument=document)


def decrypt(run, name):
    return run.call(name, "Decrypt", CiphertextBlob=run.blob("partner-order"))


def gate(run, name):
    caller = checks.callers(run.world, name)[0]
    return access.decide(run.world, caller, "kms:Decrypt", checks.key_record(run.world, KEY)).gate


def test_at_the_start_carol_is_denied_by_the_key_policy_and_nothing_counts():
    run = LabRun(SLUG)
    assert decrypt(run, "carol").error.code == "AccessDeniedException"
    assert gate(run, "carol") == "no-key-policy-allow"
    assert decrypt(run, "admin@B").error.code == "AccessDeniedException"  # B's Action "*" is not enough
    assert not any(run.status().values())


def test_only_the_key_policy_half_leaves_carol_denied_by_her_own_account():
    run = LabRun(SLUG)
    assert share(run, B_ROOT).error is None
    assert decrypt(run, "carol").error.code == "AccessDeniedException"
    assert gate(run, "carol") == "no-iam-allow-cross-account"
    assert run.status() == {"account-b-trusted": True, "carol-decrypts": False, "frank-denied": False}


def test_only_the_iam_half_leaves_carol_denied_by_the_key_policy():
    run = LabRun(SLUG)
    assert allow_in_b(run, "carol").error is None
    assert decrypt(run, "carol").error.code == "AccessDeniedException"
    assert not any(run.status().values())


def test_naming_carols_arn_lets_her_decrypt_but_is_not_the_account_model():
    run = LabRun(SLUG)
    assert share(run, arn("B", "carol")).error is None
    assert allow_in_b(run, "carol").error is None
    assert decrypt(run, "carol").error is None
    assert gate(run, "admin@B") == "no-key-policy-allow"
    assert run.status() == {"account-b-trusted": False, "carol-decrypts": False, "frank-denied": False}


def test_a_wider_b_root_statement_and_a_wildcard_iam_resource_are_a_second_correct_solution():
    run = LabRun(SLUG)
    assert share(run, B_ROOT, ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                               "kms:DescribeKey"]).error is None
    # AWS's example policy for the external account: the key ARN may also be matched by a pattern.
    assert allow_in_b(run, "carol", ["kms:Decrypt", "kms:DescribeKey"],
                      "arn:aws:kms:*:111122223333:key/*").error is None
    assert decrypt(run, "carol").error is None
    assert decrypt(run, "frank").error.code == "AccessDeniedException"
    assert all(run.status().values()), run.status()


def test_principal_star_opens_the_key_to_account_a_users_without_policies():
    run = LabRun(SLUG)
    assert share(run, "*").error is None
    allow_in_b(run, "carol")
    assert decrypt(run, "carol").error is None
    assert decrypt(run, "mallory").error is None  # in the key's own account a "*" allows directly
    assert run.status()["account-b-trusted"] is False


def test_giving_frank_a_policy_too_fails_the_last_objective():
    run = LabRun(SLUG)
    share(run, B_ROOT)
    allow_in_b(run, "carol")
    allow_in_b(run, "frank")
    assert decrypt(run, "carol").error is None
    assert decrypt(run, "frank").error is None
    assert run.status() == {"account-b-trusted": True, "carol-decrypts": True, "frank-denied": False}


def test_a_bare_alias_name_from_account_b_does_not_reach_account_as_key():
    run = LabRun(SLUG)
    share(run, B_ROOT, ["kms:Encrypt", "kms:Decrypt"])
    allow_in_b(run, "carol", ["kms:Encrypt", "kms:Decrypt"])
    assert run.call("carol", "Encrypt", KeyId=KEY, Plaintext=b"x").error.code == "NotFoundException"
    assert run.call("carol", "Encrypt", KeyId=run.keys[KEY], Plaintext=b"x").error is None
