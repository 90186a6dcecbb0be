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
