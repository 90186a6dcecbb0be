"""GetKeyPolicy, PutKeyPolicy, ListKeyPolicies."""
import json

from ..factories import call, fails, make_key, ok

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
        ],
    },
    indent=4,
)


def test_put_key_policy_stores_the_text_as_given(world, admin):
    key_id = make_key(world, admin)["KeyId"]

    assert ok(world, admin, "PutKeyPolicy", KeyId=key_id, Policy=POLICY) == {}

    assert ok(world, admin, "GetKeyPolicy", KeyId=key_id, PolicyName="default") == {"Policy": POLICY, "PolicyName": "default"}


def test_a_policy_that_is_not_json_leaves_the_old_one(world, admin):
    key_id = make_key(world, admin, Policy=POLICY)["KeyId"]

    error = fails(world, admin, "PutKeyPolicy", KeyId=key_id, Policy='{"Version": ')

    assert error.code == "MalformedPolicyDocumentException"
    assert ok(world, admin, "GetKeyPolicy", KeyId=key_id)["Policy"] == POLICY


def test_a_policy_over_32_kilobytes_is_refused(world, admin):
    key_id = make_key(world, admin)["KeyId"]
    padded = json.dumps({"Version": "2012-10-17", "Id": "x" * 32768, "Statement": []})

    assert fails(world, admin, "PutKeyPolicy", KeyId=key_id, Policy=padded).code == "LimitExceededException"


def test_put_key_policy_with_the_lockout_check_bypassed_is_logged_as_such(world, admin):
    key_id = make_key(world, admin)["KeyId"]

    outcome = call(world, admin, "PutKeyPolicy", KeyId=key_id, Policy=POLICY, BypassPolicyLockoutSafetyCheck=True)

    assert outcome.error is None
    assert outcome.record["requestParameters"]["bypassPolicyLockoutSafetyCheck"] is True


def test_a_key_has_one_policy_named_default(world, admin):
    key_id = make_key(world, admin)["KeyId"]

    assert ok(world, admin, "ListKeyPolicies", KeyId=key_id) == {"PolicyNames": ["default"], "Truncated": False}
    error = fails(world, admin, "GetKeyPolicy", KeyId=key_id, PolicyName="other")
    assert (error.code, error.message) == ("NotFoundException", "No such policy exists")
