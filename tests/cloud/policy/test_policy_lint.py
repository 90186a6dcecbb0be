"""The linter: each rule fires on the pattern it names and stays quiet on the fix."""
import json

import pytest

from kmslab.cloud.policy.lint import lint

A, B = "111122223333", "444455556666"
ROOT = f"arn:aws:iam::{A}:root"
APP = f"arn:aws:iam::{A}:role/app"
ADMIN = f"arn:aws:iam::{A}:role/admin"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DELEGATE = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}


def key_policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": [DELEGATE, *statements]})


def iam_policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def kp(principal, action, condition=None, effect="Allow", **extra):
    s = {"Effect": effect, "Principal": principal if principal == "*" else {"AWS": principal},
         "Action": action, "Resource": "*", **extra}
    if condition:
        s["Condition"] = condition
    return s


def ip(action, resource="*", condition=None, effect="Allow"):
    s = {"Effect": effect, "Action": action, "Resource": resource}
    if condition:
        s["Condition"] = condition
    return s


MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}

# (rule, kind, policy that triggers it, policy that does not)
CASES = [
    ("KMS-001", "key", json.dumps({"Version": "2012-10-17", "Statement": [kp(APP, "kms:Encrypt")]}), key_policy()),
    ("KMS-002", "key", key_policy(kp(APP, "kms:*")), key_policy(kp(APP, ["kms:Encrypt", "kms:Decrypt"]))),
    ("KMS-003", "identity", iam_policy(ip("kms:*")), iam_policy(ip("kms:Encrypt", KEY))),
    ("KMS-004", "identity", iam_policy(ip("kms:Decrypt", "*")), iam_policy(ip("kms:Decrypt", KEY))),
    ("KMS-005", "key", key_policy(kp("*", "kms:Decrypt")),
     key_policy(kp("*", "kms:Decrypt", {"StringEquals": {"kms:CallerAccount": A}}))),
    ("KMS-006", "key", key_policy({"Effect": "Allow", "NotPrincipal": {"AWS": APP}, "Action": "kms:Decrypt", "Resource": "*"}),
     key_policy(kp(APP, "kms:Decrypt"))),
    ("KMS-007", "key", key_policy({"Effect": "Deny", "NotPrincipal": {"AWS": ADMIN}, "Action": "kms:PutKeyPolicy", "Resource": "*"}),
     key_policy({"Effect": "Deny", "NotPrincipal": {"AWS": [ADMIN, ROOT]}, "Action": "kms:PutKeyPolicy", "Resource": "*"})),
    ("KMS-008", "key", key_policy(kp(APP, ["kms:Encrypt", "kms:ScheduleKeyDeletion"])),
     key_policy(kp(APP, "kms:Encrypt"), kp(ADMIN, "kms:ScheduleKeyDeletion", MFA))),
    ("KMS-009", "key", key_policy(kp(ADMIN, "kms:ScheduleKeyDeletion")), key_policy(kp(ADMIN, "kms:ScheduleKeyDeletion", MFA))),
    ("KMS-010", "key", key_policy(kp("*", "kms:*", {"Bool": {"aws:MultiFactorAuthPresent": "false"}}, effect="Deny")),
     key_policy(kp("*", "kms:*", {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, effect="Deny"))),
    ("KMS-011", "identity", iam_policy(ip("kms:Decrypt", KEY, {"Null": {"aws:MultiFactorAuthPresent": "false"}})),
     iam_policy(ip("kms:Decrypt", KEY, MFA))),
    ("KMS-012", "identity", iam_policy(ip("kms:Decrypt", KEY, {"ForAnyValue:StringEquals": {"kms:CallerAccount": A}})),
     iam_policy(ip("kms:Decrypt", KEY, {"StringEquals": {"kms:CallerAccount": A}}))),
    ("KMS-013", "identity", iam_policy(ip("kms:Decrypt", KEY, {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["a"]}})),
     iam_policy(ip("kms:Decrypt", KEY, {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["a"]},
                                        "Null": {"kms:EncryptionContextKeys": "false"}}))),
    ("KMS-014", "identity", iam_policy(ip("kms:Decrypt", KEY, {"StringEquals": {"kms:EncryptionContextKeys": "a"}})),
     iam_policy(ip("kms:Decrypt", KEY, {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "a"}}))),
    ("KMS-015", "identity", iam_policy(ip("kms:Decrypt", KEY, {"StringEquals": {"kms:EncryptionContext:app": "web*"}})),
     iam_policy(ip("kms:Decrypt", KEY, {"StringLike": {"kms:EncryptionContext:app": "web*"}}))),
    ("KMS-016", "key", key_policy(kp(APP, "kms:CreateGrant")),
     key_policy(kp(APP, "kms:CreateGrant", {"Bool": {"kms:GrantIsForAWSResource": "true"}}))),
    ("KMS-017", "key", key_policy(kp(f"arn:aws:iam::{B}:role/ops", "kms:DisableKey")),
     key_policy(kp(f"arn:aws:iam::{B}:role/ops", "kms:Decrypt", {"StringEquals": {"kms:EncryptionContext:app": "x"}}))),
    ("KMS-018", "key", key_policy({"Effect": "Allow", "Principal": {"AWS": APP}, "Action": "kms:Decrypt"}),
     key_policy(kp(APP, "kms:Decrypt"))),
    ("KMS-019", "identity", iam_policy(ip("kms:Decrypt", f"arn:aws:kms:us-east-1:{A}:alias/app")),
     iam_policy(ip("kms:Decrypt", KEY))),
    ("KMS-020", "key", key_policy(kp(APP, "kms:Decrypt", {"StringEquals": {"aws:ResourceTag/env": "prod"}})),
     key_policy(kp(APP, "kms:Decrypt", {"StringEquals": {"kms:EncryptionContext:env": "prod"}}))),
    ("KMS-021", "key", key_policy(kp(APP, "kms:Sign", {"StringEquals": {"kms:EncryptionContext:env": "prod"}})),
     key_policy(kp(APP, "kms:Decrypt", {"StringEquals": {"kms:EncryptionContext:env": "prod"}}))),
    ("KMS-022", "identity", iam_policy(ip("kms:Decrypt", KEY, {"StringEquals": {"kms:ViaService": "S3.amazonaws.com"}})),
     iam_policy(ip("kms:Decrypt", KEY, {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}))),
    ("KMS-023", "identity", iam_policy(ip("kms:Decrypt", KEY, {"NumericLessThan": {"aws: MultiFactorAuthAge": "300"}})),
     iam_policy(ip("kms:Decrypt", KEY, {"NumericLessThan": {"aws:MultiFactorAuthAge": "300"}}))),
    ("KMS-024", "key", key_policy(),
     key_policy(kp("*", "kms:PutKeyPolicy", {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}, effect="Deny"),
                kp("*", "kms:ScheduleKeyDeletion",
                   {"NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": "30"}}, effect="Deny"))),
    ("KMS-025", "key", key_policy(kp("AIDAJQABLZS4A3QDU576Q", "kms:Decrypt")), key_policy(kp(APP, "kms:Decrypt"))),
    ("KMS-026", "identity", iam_policy(ip("kms:Decrypt", "*", {"StringEquals": {"aws:ResourceTag/team": "blue"}}),
                                       ip("kms:TagResource", KEY)),
     iam_policy(ip("kms:Decrypt", "*", {"StringEquals": {"aws:ResourceTag/team": "blue"}}))),
    ("KMS-027", "key", key_policy(kp(f"arn:aws:iam::{B}:root", "kms:Decrypt")),
     key_policy(kp(f"arn:aws:iam::{B}:root", "kms:Decrypt", {"StringEquals": {"kms:EncryptionContext:app": "x"}}))),
    ("KMS-028", "key", key_policy(kp(APP, ["kms:Decrypt", "kms:DescribeKey"], {"StringEquals": {"kms:EncryptionContext:app": "x"}})),
     key_policy(kp(APP, "kms:Decrypt", {"StringEquals": {"kms:EncryptionContext:app": "x"}}), kp(APP, "kms:DescribeKey"))),
]


@pytest.mark.parametrize("rule,kind,bad,good", CASES, ids=[c[0] for c in CASES])
def test_rule_fires_on_the_pattern_and_not_on_the_fix(rule, kind, bad, good):
    assert rule in {f.id for f in lint(bad, kind, A)}
    assert rule not in {f.id for f in lint(good, kind, A)}


def test_a_finding_points_at_its_statement_and_says_why():
    finding = next(f for f in lint(key_policy(kp(APP, "kms:*", Sid="AppAll")), "key", A) if f.id == "KMS-002")
    assert (finding.statement, finding.sid, finding.severity) == (2, "AppAll", "high")
    assert finding.why and finding.message
    assert set(finding.to_dict()) == {"id", "severity", "message", "statement", "sid", "why"}


def test_a_policy_that_does_not_parse_is_one_error_finding():
    [finding] = lint("{", "key")
    assert finding.severity == "error" and "not valid JSON" in finding.message


# KMS-028: an encryption-context condition on operations that never carry a context.

CONTEXT = {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}
USE_AND_LOOK = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"]


def context_findings(statement, kind="key"):
    text = key_policy(statement) if kind == "key" else iam_policy(statement)
    return [f for f in lint(text, kind, A) if f.id == "KMS-028"]


@pytest.mark.parametrize("statement", [
    kp(APP, USE_AND_LOOK, CONTEXT),
    kp(APP, "kms:*", {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["tenant"]}}),
    kp(APP, ["kms:Decrypt", "kms:GetKeyPolicy"], {"Null": {"kms:EncryptionContextKeys": "false"}}),
    kp(APP, ["kms:Encrypt", "kms:Describe*"], {"StringLike": {"kms:EncryptionContext:tenant": "ac*"}}),
], ids=["StringEquals", "ForAnyValue keys", "Null false", "StringLike with a wildcard action"])
def test_an_allow_requiring_a_context_is_flagged_for_describekey_and_friends(statement):
    [finding] = context_findings(statement)
    assert finding.severity == "warning" and finding.statement == 2
    assert finding.message.startswith(("This Allow never allows kms:DescribeKey", "This Allow never allows kms:GetKeyPolicy"))
    assert "own statement" in finding.why


def test_the_same_trap_in_an_iam_policy_names_the_operation():
    [finding] = context_findings(ip(USE_AND_LOOK, KEY, CONTEXT), kind="identity")
    assert finding.message == "This Allow never allows kms:DescribeKey: it carries no encryption context."


@pytest.mark.parametrize("statement", [
    kp(APP, ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"], CONTEXT),
    kp(APP, USE_AND_LOOK, {"StringEqualsIfExists": {"kms:EncryptionContext:tenant": "acme"}}),
    kp(APP, USE_AND_LOOK, {"StringNotEquals": {"kms:EncryptionContext:tenant": "globex"}}),
    kp(APP, USE_AND_LOOK, {"Null": {"kms:EncryptionContextKeys": "true"}}),
    kp(APP, USE_AND_LOOK, {"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["tenant"]}}),
    # CreateGrant carries the context of its constraints: requiring one there is a real control.
    kp(APP, ["kms:Decrypt", "kms:CreateGrant"], CONTEXT),
    kp(APP, USE_AND_LOOK, {"StringEquals": {"kms:CallerAccount": A}}),
], ids=["only cryptographic operations", "IfExists", "negated", "Null true", "ForAllValues", "CreateGrant",
        "no context condition"])
def test_an_allow_that_lets_contextless_calls_through_is_not_flagged(statement):
    assert context_findings(statement) == []


def test_a_deny_unless_the_context_matches_denies_describekey_and_putkeypolicy_every_time():
    for operator in ("StringNotEquals", "StringNotEqualsIfExists"):
        [finding] = context_findings(kp("*", "kms:*", {operator: {"kms:EncryptionContext:tenant": "acme"}}, effect="Deny"))
        assert finding.severity == "high"
        assert finding.message == ("This Deny always denies kms:DescribeKey, kms:GetKeyPolicy, kms:PutKeyPolicy "
                                   "and 46 more: they carry no encryption context.")


@pytest.mark.parametrize("condition", [
    {"StringNotEquals": {"kms:EncryptionContext:tenant": "acme"}, "Null": {"kms:EncryptionContextKeys": "false"}},
    {"StringEquals": {"kms:EncryptionContext:tenant": "globex"}},
], ids=["absence handled by Null false", "plain operator"])
def test_a_deny_that_leaves_contextless_calls_alone_is_not_flagged(condition):
    assert context_findings(kp("*", "kms:*", condition, effect="Deny")) == []


def test_a_context_condition_on_contextless_operations_only_is_kms_021_not_028():
    ids = {f.id for f in lint(key_policy(kp(APP, "kms:DescribeKey", CONTEXT)), "key", A)}
    assert "KMS-021" in ids and "KMS-028" not in ids


def test_what_kms_028_says_is_what_the_evaluator_does(world, admin):
    """alice's Allow requires a context: her Decrypt with it passes, her DescribeKey never can."""
    from kmslab.cloud import iam, principals
    from kmslab.cloud.kms import access

    from ..factories import make_key

    alice = principals.user_caller(A, iam.add_user(world, A, "alice"))
    statement = kp(alice.arn, USE_AND_LOOK, CONTEXT)
    key_id = make_key(world, admin, Policy=key_policy(statement), BypassPolicyLockoutSafetyCheck=True)["KeyId"]
    key = world.doc["kms"]["keys"][key_id]
    assert access.simulate(world, alice, "kms:Decrypt", key, {"kms:EncryptionContext:tenant": "acme"}).allowed
    assert not access.simulate(world, alice, "kms:DescribeKey", key).allowed
    assert context_findings(statement)
