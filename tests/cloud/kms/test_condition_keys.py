"""Each operation hands the policy engine the request's own condition keys (policy-eval.md §4.1):
a key-policy Deny on a key's value stops exactly the requests that carry that value."""
import json

import pytest

from ..factories import DAY, call, fails, make_key, ok, wrap


def deny_on_key(world, admin, key_id, action, condition):
    """Give the key a policy that allows the account everything but denies `action` under `condition`."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": action, "Resource": "*", "Condition": condition},
        ],
    }
    ok(world, admin, "PutKeyPolicy", KeyId=key_id, Policy=json.dumps(policy))


def test_a_short_deletion_window_can_be_forbidden(world, admin):
    key_id = make_key(world, admin)["KeyId"]
    deny_on_key(world, admin, key_id, "kms:ScheduleKeyDeletion", {"NumericLessThan": {"kms:ScheduleKeyDeletionPendingWindowInDays": "14"}})

    assert fails(world, admin, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7).code == "AccessDeniedException"
    assert ok(world, admin, "ScheduleKeyDeletion", KeyId=key_id)["PendingWindowInDays"] == 30


def test_a_long_rotation_period_can_be_forbidden(world, admin):
    key_id = make_key(world, admin)["KeyId"]
    deny_on_key(world, admin, key_id, "kms:EnableKeyRotation", {"NumericGreaterThan": {"kms:RotationPeriodInDays": "365"}})

    assert fails(world, admin, "EnableKeyRotation", KeyId=key_id, RotationPeriodInDays=730).code == "AccessDeniedException"
    ok(world, admin, "EnableKeyRotation", KeyId=key_id, RotationPeriodInDays=180)


@pytest.mark.parametrize(
    "condition, refused, allowed",
    [
        (
            {"StringEquals": {"kms:WrappingAlgorithm": "RSAES_OAEP_SHA_1"}},
            {"WrappingAlgorithm": "RSAES_OAEP_SHA_1", "WrappingKeySpec": "RSA_2048"},
            {"WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"},
        ),
        (
            {"StringEquals": {"kms:WrappingKeySpec": "RSA_3072"}},
            {"WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_3072"},
            {"WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"},
        ),
    ],
    ids=["wrapping algorithm", "wrapping key spec"],
)
def test_weak_wrapping_can_be_forbidden(world, admin, condition, refused, allowed):
    key_id = make_key(world, admin, Origin="EXTERNAL")["KeyId"]
    deny_on_key(world, admin, key_id, "kms:GetParametersForImport", condition)

    assert fails(world, admin, "GetParametersForImport", KeyId=key_id, **refused).code == "AccessDeniedException"
    ok(world, admin, "GetParametersForImport", KeyId=key_id, **allowed)


def test_material_that_never_expires_can_be_forbidden(world, admin, clock):
    key_id = make_key(world, admin, Origin="EXTERNAL")["KeyId"]
    deny_on_key(world, admin, key_id, "kms:ImportKeyMaterial", {"StringEquals": {"kms:ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}})
    params = ok(world, admin, "GetParametersForImport", KeyId=key_id, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    request = dict(KeyId=key_id, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrap(params["PublicKey"], b"\x01" * 32))

    assert fails(world, admin, "ImportKeyMaterial", ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE", **request).code == "AccessDeniedException"
    ok(world, admin, "ImportKeyMaterial", ValidTo=clock.t + 30 * DAY, **request)


def test_tags_can_be_guarded_by_request_tag_and_tag_keys(world, admin):
    key_id = make_key(world, admin)["KeyId"]
    deny_on_key(world, admin, key_id, "kms:TagResource", {"StringEquals": {"aws:RequestTag/env": "prod"}})

    assert fails(world, admin, "TagResource", KeyId=key_id, Tags=[{"TagKey": "env", "TagValue": "prod"}]).code == "AccessDeniedException"
    ok(world, admin, "TagResource", KeyId=key_id, Tags=[{"TagKey": "env", "TagValue": "dev"}, {"TagKey": "owner", "TagValue": "alice"}])
    deny_on_key(world, admin, key_id, "kms:UntagResource", {"ForAnyValue:StringEquals": {"aws:TagKeys": "owner"}})
    assert fails(world, admin, "UntagResource", KeyId=key_id, TagKeys=["owner"]).code == "AccessDeniedException"
    ok(world, admin, "UntagResource", KeyId=key_id, TagKeys=["env"])


def test_reencrypting_onto_the_same_key_can_be_forbidden(world, admin):
    key_id, other = make_key(world, admin)["KeyId"], make_key(world, admin)["KeyId"]
    deny_on_key(world, admin, key_id, "kms:ReEncrypt*", {"Bool": {"kms:ReEncryptOnSameKey": "true"}})
    blob = ok(world, admin, "Encrypt", KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]

    assert fails(world, admin, "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=key_id).code == "AccessDeniedException"
    ok(world, admin, "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=other)


def test_data_keys_can_be_limited_by_encryption_context_keys(world, admin):
    key_id = make_key(world, admin)["KeyId"]
    deny_on_key(world, admin, key_id, "kms:GenerateDataKey", {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "debug"}})

    assert fails(world, admin, "GenerateDataKey", KeyId=key_id, KeySpec="AES_256", EncryptionContext={"debug": "1"}).code == "AccessDeniedException"
    ok(world, admin, "GenerateDataKey", KeyId=key_id, KeySpec="AES_256", EncryptionContext={"tenant": "acme"})


def test_an_iam_policy_can_forbid_creating_keys_for_imported_material(world, admin):
    admin_user = world.account("111122223333")["users"]["admin"]
    admin_user["InlinePolicies"]["NoImports"] = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Deny", "Action": "kms:CreateKey", "Resource": "*", "Condition": {"StringEquals": {"kms:KeyOrigin": "EXTERNAL"}}}
            ],
        }
    )

    assert fails(world, admin, "CreateKey", Origin="EXTERNAL").code == "AccessDeniedException"
    assert world.doc["kms"]["keys"] == {}
    make_key(world, admin)


def test_an_iam_policy_can_require_tags_on_new_keys(world, admin):
    admin_user = world.account("111122223333")["users"]["admin"]
    admin_user["InlinePolicies"]["TagYourKeys"] = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "kms:CreateKey", "Resource": "*", "Condition": {"Null": {"aws:RequestTag/team": "true"}}}],
        }
    )

    assert call(world, admin, "CreateKey").error.code == "AccessDeniedException"
    make_key(world, admin, Tags=[{"TagKey": "team", "TagValue": "red"}])


def test_valid_to_is_a_condition_key_only_when_the_material_expires(world, admin, clock):
    key_id = make_key(world, admin, Origin="EXTERNAL")["KeyId"]
    deny_on_key(world, admin, key_id, "kms:ImportKeyMaterial", {"Null": {"kms:ValidTo": "false"}})
    params = ok(world, admin, "GetParametersForImport", KeyId=key_id, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    request = dict(KeyId=key_id, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrap(params["PublicKey"], b"\x02" * 32))

    assert fails(world, admin, "ImportKeyMaterial", ValidTo=clock.t + DAY, **request).code == "AccessDeniedException"
    ok(world, admin, "ImportKeyMaterial", ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE", **request)
