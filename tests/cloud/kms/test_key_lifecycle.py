"""CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey, DisableKey,
ScheduleKeyDeletion, CancelKeyDeletion, and a deletion window ending on the sandbox clock."""
import json
import re

import pytest
from tests.conftest import T0
from ..factories import DAY, call, fails, make_key, ok

from kmslab.cloud.kms.cryptography import KEY_GONE


def test_a_new_key_is_described_with_every_field_aws_returns(world, admin):
    meta = make_key(world, admin, Description="payroll")

    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", meta["KeyId"])
    assert re.fullmatch(r"[0-9a-f]{64}", meta["CurrentKeyMaterialId"])
    assert meta == {
        "AWSAccountId": "111122223333",
        "KeyId": meta["KeyId"],
        "Arn": f"arn:aws:kms:us-east-1:111122223333:key/{meta['KeyId']}",
        "CreationDate": T0,
        "Enabled": True,
        "Description": "payroll",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeyState": "Enabled",
        "Origin": "AWS_KMS",
        "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": False,
        "CurrentKeyMaterialId": meta["CurrentKeyMaterialId"],
    }
    assert ok(world, admin, "DescribeKey", KeyId=meta["KeyId"])["KeyMetadata"] == meta


def test_a_key_for_imported_material_waits_for_it(world, admin):
    meta = make_key(world, admin, Origin="EXTERNAL")

    assert (meta["Origin"], meta["KeyState"], meta["Enabled"]) == ("EXTERNAL", "PendingImport", False)
    assert "CurrentKeyMaterialId" not in meta


def test_create_key_records_the_new_key_in_cloudtrail(world, admin):
    outcome = call(world, admin, "CreateKey", Description="audited")
    arn = outcome.response["KeyMetadata"]["Arn"]

    assert outcome.record["eventName"] == "CreateKey"
    assert outcome.record["readOnly"] is False
    assert outcome.record["resources"] == [{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": arn}]
    assert outcome.record["responseElements"]["keyMetadata"]["arn"] == arn


def test_a_key_created_without_a_policy_gets_the_default_key_policy(world, admin):
    key_id = make_key(world, admin)["KeyId"]

    policy = ok(world, admin, "GetKeyPolicy", KeyId=key_id)

    assert policy["PolicyName"] == "default"
    assert json.loads(policy["Policy"]) == {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def test_a_key_policy_given_at_creation_is_stored_as_given(world, admin):
    text = '{"Version":"2012-10-17",  "Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}'
    key_id = make_key(world, admin, Policy=text)["KeyId"]

    assert ok(world, admin, "GetKeyPolicy", KeyId=key_id)["Policy"] == text


def test_a_key_policy_that_is_not_json_creates_no_key(world, admin):
    error = fails(world, admin, "CreateKey", Policy="{not json")

    assert error.code == "MalformedPolicyDocumentException"
    assert world.doc["kms"]["keys"] == {}


@pytest.mark.parametrize(
    "request_, code, message",
    [
        ({"KeyUsage": "SIGN_VERIFY"}, "ValidationException", "KeyUsage SIGN_VERIFY is not compatible with KeySpec SYMMETRIC_DEFAULT."),
        ({"KeySpec": "RSA_2048", "CustomerMasterKeySpec": "RSA_2048"}, "ValidationException", "You cannot specify both KeySpec and CustomerMasterKeySpec."),
        ({"Origin": "AWS_CLOUDHSM"}, "UnsupportedOperationException", "Custom key stores are not available in this sandbox."),
        ({"MultiRegion": True}, "UnsupportedOperationException", "Multi-Region keys are not available in this sandbox."),
    ],
)
def test_create_key_refuses_what_a_sandbox_key_cannot_be(world, admin, request_, code, message):
    error = fails(world, admin, "CreateKey", **request_)

    assert (error.code, error.message) == (code, message)
    assert world.doc["kms"]["keys"] == {}


def test_create_key_with_tags_keeps_them(world, admin):
    key_id = make_key(world, admin, Tags=[{"TagKey": "team", "TagValue": "red"}])["KeyId"]

    assert ok(world, admin, "ListResourceTags", KeyId=key_id)["Tags"] == [{"TagKey": "team", "TagValue": "red"}]


def test_create_key_refuses_reserved_tags_and_creates_nothing(world, admin):
    error = fails(world, admin, "CreateKey", Tags=[{"TagKey": "aws:owner", "TagValue": "x"}])

    assert (error.code, error.message) == ("TagException", "Tags beginning with aws: are reserved")
    assert world.doc["kms"]["keys"] == {}


@pytest.mark.parametrize("form", ["key id", "key ARN", "alias name", "alias ARN"])
def test_describe_key_finds_a_key_by_any_of_its_names(world, admin, form):
    meta = make_key(world, admin)
    ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=meta["KeyId"])
    names = {
        "key id": meta["KeyId"],
        "key ARN": meta["Arn"],
        "alias name": "alias/payroll",
        "alias ARN": "arn:aws:kms:us-east-1:111122223333:alias/payroll",
    }

    assert ok(world, admin, "DescribeKey", KeyId=names[form])["KeyMetadata"]["KeyId"] == meta["KeyId"]


@pytest.mark.parametrize(
    "key_id, message",
    [
        ("1234abcd-12ab-34cd-56ef-1234567890ab", "Key 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' does not exist"),
        ("fake-key-id", "Invalid keyId 'fake-key-id'"),
        ("arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "Invalid arn us-west-2"),
        ("alias/missing", "Alias arn:aws:kms:us-east-1:111122223333:alias/missing is not found."),
    ],
)
def test_describe_key_names_what_it_could_not_find(world, admin, key_id, message):
    error = fails(world, admin, "DescribeKey", KeyId=key_id)

    assert (error.code, error.message) == ("NotFoundException", message)


def test_another_account_cannot_find_a_key_by_its_bare_id(world, admin, admin_b):
    meta = make_key(world, admin)

    error = fails(world, admin_b, "DescribeKey", KeyId=meta["KeyId"])

    assert (error.code, error.message) == (
        "NotFoundException",
        f"Key 'arn:aws:kms:us-east-1:444455556666:key/{meta['KeyId']}' does not exist",
    )


def test_management_operations_take_a_key_id_or_arn_not_an_alias(world, admin):
    meta = make_key(world, admin)
    ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=meta["KeyId"])

    error = fails(world, admin, "DisableKey", KeyId="alias/payroll")

    assert (error.code, error.message) == ("NotFoundException", "Invalid keyId 'alias/payroll'")


def test_list_keys_pages_through_the_callers_keys_only(world, admin, admin_b):
    ids = [make_key(world, admin)["KeyId"] for _ in range(3)]
    make_key(world, admin_b)

    first = ok(world, admin, "ListKeys", Limit=2)
    second = ok(world, admin, "ListKeys", Limit=2, Marker=first["NextMarker"])

    assert first["Truncated"] is True and second["Truncated"] is False
    assert "NextMarker" not in second
    listed = first["Keys"] + second["Keys"]
    assert [entry["KeyId"] for entry in listed] == ids
    assert listed[0] == {"KeyId": ids[0], "KeyArn": f"arn:aws:kms:us-east-1:111122223333:key/{ids[0]}"}


def test_list_keys_refuses_a_marker_it_never_issued(world, admin):
    error = fails(world, admin, "ListKeys", Marker="not-a-marker")

    assert error.code == "InvalidMarkerException"


def test_update_key_description(world, admin):
    key_id = make_key(world, admin, Description="old")["KeyId"]

    ok(world, admin, "UpdateKeyDescription", KeyId=key_id, Description="new")

    assert ok(world, admin, "DescribeKey", KeyId=key_id)["KeyMetadata"]["Description"] == "new"


def test_disable_then_enable_a_key(world, admin):
    key_id = make_key(world, admin)["KeyId"]

    ok(world, admin, "DisableKey", KeyId=key_id)
    disabled = ok(world, admin, "DescribeKey", KeyId=key_id)["KeyMetadata"]
    ok(world, admin, "EnableKey", KeyId=key_id)
    enabled = ok(world, admin, "DescribeKey", KeyId=key_id)["KeyMetadata"]

    assert (disabled["KeyState"], disabled["Enabled"]) == ("Disabled", False)
    assert (enabled["KeyState"], enabled["Enabled"]) == ("Enabled", True)


def test_schedule_key_deletion_waits_thirty_days_by_default(world, admin):
    meta = make_key(world, admin)

    response = ok(world, admin, "ScheduleKeyDeletion", KeyId=meta["KeyId"])
    described = ok(world, admin, "DescribeKey", KeyId=meta["KeyId"])["KeyMetadata"]

    assert response == {
        "KeyId": meta["Arn"],
        "DeletionDate": T0 + 30 * DAY,
        "KeyState": "PendingDeletion",
        "PendingWindowInDays": 30,
    }
    assert (described["KeyState"], described["Enabled"]) == ("PendingDeletion", False)
    assert (described["DeletionDate"], described["PendingDeletionWindowInDays"]) == (T0 + 30 * DAY, 30)


@pytest.mark.parametrize(
    "days, constraint", [(6, "greater than or equal to 7"), (31, "less than or equal to 30")]
)
def test_schedule_key_deletion_takes_a_window_of_7_to_30_days(world, admin, days, constraint):
    key_id = make_key(world, admin)["KeyId"]

    error = fails(world, admin, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=days)

    assert (error.code, error.message) == (
        "ValidationException",
        f"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: "
        f"Member must have value {constraint}",
    )


def test_cancel_key_deletion_leaves_the_key_disabled(world, admin):
    meta = make_key(world, admin)
    ok(world, admin, "ScheduleKeyDeletion", KeyId=meta["KeyId"], PendingWindowInDays=7)

    assert ok(world, admin, "CancelKeyDeletion", KeyId=meta["KeyId"]) == {"KeyId": meta["Arn"]}
    described = ok(world, admin, "DescribeKey", KeyId=meta["KeyId"])["KeyMetadata"]

    assert (described["KeyState"], described["Enabled"]) == ("Disabled", False)
    assert "DeletionDate" not in described and "PendingDeletionWindowInDays" not in described


def test_when_the_window_ends_the_key_its_aliases_and_grants_are_gone(world, admin, clock):
    meta = make_key(world, admin)
    ok(world, admin, "CreateAlias", AliasName="alias/doomed", TargetKeyId=meta["KeyId"])
    blob = ok(world, admin, "Encrypt", KeyId=meta["KeyId"], Plaintext=b"last words")["CiphertextBlob"]
    ok(world, admin, "CreateGrant", KeyId=meta["KeyId"], GranteePrincipal=admin.arn, Operations=["Decrypt"])
    ok(world, admin, "ScheduleKeyDeletion", KeyId=meta["KeyId"], PendingWindowInDays=7)

    clock.t += 7 * DAY - 1
    assert call(world, admin, "ListKeys").service_records == []
    clock.t += 1
    outcome = call(world, admin, "ListKeys")

    assert outcome.response["Keys"] == []
    # Only the account's predefined alias/aws/* names are left, with no key behind them.
    assert [a for a in ok(world, admin, "ListAliases")["Aliases"] if not a["AliasName"].startswith("alias/aws/")] == []
    assert world.doc["kms"]["grants"] == {}
    [record] = outcome.service_records
    assert record["eventName"] == "DeleteKey"
    assert record["eventType"] == "AwsServiceEvent"
    assert record["userIdentity"] == {"accountId": "111122223333", "invokedBy": "AWS Internal"}
    assert record["eventTime"] == "2026-11-25T11:06:40Z"
    assert record["responseElements"] == {"keyId": meta["Arn"]}
    assert record["resources"] == [{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": meta["Arn"]}]
    error = fails(world, admin, "Decrypt", CiphertextBlob=blob)
    assert (error.code, error.message) == ("AccessDeniedException", KEY_GONE)


def test_a_cancelled_deletion_never_happens(world, admin, clock):
    key_id = make_key(world, admin)["KeyId"]
    ok(world, admin, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    ok(world, admin, "CancelKeyDeletion", KeyId=key_id)

    clock.t += 8 * DAY

    assert call(world, admin, "DescribeKey", KeyId=key_id).service_records == []
    assert ok(world, admin, "DescribeKey", KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
