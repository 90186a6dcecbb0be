"""EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
ListKeyRotations, and automatic rotation on the sandbox clock."""
import pytest
from tests.conftest import T0
from ..factories import DAY, call, fails, make_key, ok

from kmslab.cloud.kms import ciphertext


@pytest.fixture
def key(world, admin):
    return make_key(world, admin)


def test_rotation_is_off_until_enabled_then_yearly_by_default(world, admin, key):
    before = ok(world, admin, "GetKeyRotationStatus", KeyId=key["KeyId"])
    ok(world, admin, "EnableKeyRotation", KeyId=key["KeyId"])
    after = ok(world, admin, "GetKeyRotationStatus", KeyId=key["Arn"])

    assert before == {"KeyRotationEnabled": False, "KeyId": key["Arn"]}
    assert after == {
        "KeyRotationEnabled": True,
        "KeyId": key["Arn"],
        "RotationPeriodInDays": 365,
        "NextRotationDate": T0 + 365 * DAY,
    }


@pytest.mark.parametrize("days, constraint", [(89, "greater than or equal to 90"), (2561, "less than or equal to 2560")])
def test_the_rotation_period_is_90_to_2560_days(world, admin, key, days, constraint):
    error = fails(world, admin, "EnableKeyRotation", KeyId=key["KeyId"], RotationPeriodInDays=days)

    assert (error.code, error.message) == (
        "ValidationException",
        f"1 validation error detected: Value '{days}' at 'rotationPeriodInDays' failed to satisfy constraint: "
        f"Member must have value {constraint}",
    )


def test_rotation_status_takes_a_key_id_or_arn_not_an_alias(world, admin, key):
    ok(world, admin, "CreateAlias", AliasName="alias/payroll", TargetKeyId=key["KeyId"])

    assert fails(world, admin, "GetKeyRotationStatus", KeyId="alias/payroll").code == "NotFoundException"


def test_a_changed_period_counts_from_when_rotation_was_enabled(world, admin, key, clock):
    ok(world, admin, "EnableKeyRotation", KeyId=key["KeyId"], RotationPeriodInDays=365)
    clock.t += 10 * DAY

    ok(world, admin, "EnableKeyRotation", KeyId=key["KeyId"], RotationPeriodInDays=90)

    assert ok(world, admin, "GetKeyRotationStatus", KeyId=key["KeyId"])["NextRotationDate"] == T0 + 90 * DAY


def test_automatic_rotation_adds_material_and_old_ciphertexts_still_decrypt(world, admin, key, clock):
    old_blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"before")["CiphertextBlob"]
    ok(world, admin, "EnableKeyRotation", KeyId=key["KeyId"], RotationPeriodInDays=90)

    clock.t += 90 * DAY
    outcome = call(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"after")

    [record] = outcome.service_records
    assert (record["eventName"], record["eventType"]) == ("RotateKey", "AwsServiceEvent")
    [rotation] = ok(world, admin, "ListKeyRotations", KeyId=key["KeyId"])["Rotations"]
    assert record["serviceEventDetails"] == {
        "rotationType": "AUTOMATIC", "keyOrigin": "AWS_KMS", "previousKeyMaterialId": key["CurrentKeyMaterialId"],
        "currentKeyMaterialId": rotation["KeyMaterialId"], "keyId": key["KeyId"]}
    assert rotation["RotationType"] == "AUTOMATIC" and rotation["RotationDate"] == T0 + 90 * DAY
    new_blob = outcome.response["CiphertextBlob"]
    assert ciphertext.parse(old_blob)[1] == 0 and ciphertext.parse(new_blob)[1] == 1
    assert outcome.record["additionalEventData"]["keyMaterialId"] == rotation["KeyMaterialId"]
    assert ok(world, admin, "Decrypt", CiphertextBlob=old_blob)["Plaintext"] == b"before"
    assert ok(world, admin, "Decrypt", CiphertextBlob=new_blob)["Plaintext"] == b"after"
    status = ok(world, admin, "GetKeyRotationStatus", KeyId=key["KeyId"])
    assert status["NextRotationDate"] == T0 + 180 * DAY
    assert ok(world, admin, "DescribeKey", KeyId=key["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"] == rotation["KeyMaterialId"]


def test_a_long_jump_of_the_clock_runs_every_rotation_that_fell_due(world, admin, key, clock):
    ok(world, admin, "EnableKeyRotation", KeyId=key["KeyId"], RotationPeriodInDays=90)

    clock.t += 365 * DAY
    outcome = call(world, admin, "ListKeyRotations", KeyId=key["KeyId"])

    assert [r["eventName"] for r in outcome.service_records] == ["RotateKey"] * 4
    assert [r["RotationDate"] for r in outcome.response["Rotations"]] == [T0 + n * 90 * DAY for n in (1, 2, 3, 4)]


def test_a_disabled_key_does_not_rotate_until_it_is_enabled_again(world, admin, key, clock):
    ok(world, admin, "EnableKeyRotation", KeyId=key["KeyId"], RotationPeriodInDays=90)
    ok(world, admin, "DisableKey", KeyId=key["KeyId"])

    clock.t += 100 * DAY
    assert ok(world, admin, "ListKeyRotations", KeyId=key["KeyId"])["Rotations"] == []
    ok(world, admin, "EnableKey", KeyId=key["KeyId"])
    outcome = call(world, admin, "ListKeyRotations", KeyId=key["KeyId"])

    # GetKeyRotationStatus API reference: an overdue key rotates as soon as it is enabled.
    assert [r["RotationDate"] for r in outcome.response["Rotations"]] == [T0 + 100 * DAY]
    assert ok(world, admin, "GetKeyRotationStatus", KeyId=key["KeyId"])["NextRotationDate"] == T0 + 190 * DAY


def test_disabling_rotation_stops_it(world, admin, key, clock):
    ok(world, admin, "EnableKeyRotation", KeyId=key["KeyId"], RotationPeriodInDays=90)
    ok(world, admin, "DisableKeyRotation", KeyId=key["KeyId"])

    clock.t += 100 * DAY

    assert ok(world, admin, "ListKeyRotations", KeyId=key["KeyId"])["Rotations"] == []
    assert ok(world, admin, "GetKeyRotationStatus", KeyId=key["KeyId"]) == {"KeyRotationEnabled": False, "KeyId": key["Arn"]}


def test_rotation_status_is_false_while_pending_deletion_and_comes_back_on_cancel(world, admin, key):
    ok(world, admin, "EnableKeyRotation", KeyId=key["KeyId"])
    ok(world, admin, "ScheduleKeyDeletion", KeyId=key["KeyId"])

    pending = ok(world, admin, "GetKeyRotationStatus", KeyId=key["KeyId"])
    ok(world, admin, "CancelKeyDeletion", KeyId=key["KeyId"])

    assert pending["KeyRotationEnabled"] is False
    assert ok(world, admin, "GetKeyRotationStatus", KeyId=key["KeyId"])["KeyRotationEnabled"] is True


def test_on_demand_rotation_rotates_now_and_leaves_the_schedule(world, admin, key):
    ok(world, admin, "EnableKeyRotation", KeyId=key["KeyId"])

    assert ok(world, admin, "RotateKeyOnDemand", KeyId=key["KeyId"]) == {"KeyId": key["Arn"]}

    [rotation] = ok(world, admin, "ListKeyRotations", KeyId=key["KeyId"])["Rotations"]
    assert (rotation["RotationType"], rotation["RotationDate"], rotation["KeyMaterialState"]) == ("ON_DEMAND", T0, "CURRENT")
    assert ok(world, admin, "GetKeyRotationStatus", KeyId=key["KeyId"])["NextRotationDate"] == T0 + 365 * DAY


def test_an_on_demand_rotation_writes_its_call_then_kms_s_rotate_key_event(world, admin, key):
    """ct-rotatekeyondemand: "For an example of the CloudTrail log entry that is written when the key
    is rotated, see RotateKey" — the call's record, then the service event of the rotation."""
    before = key["CurrentKeyMaterialId"]

    outcome = call(world, admin, "RotateKeyOnDemand", KeyId=key["KeyId"])

    call_record, event = outcome.records
    assert call_record["eventName"] == "RotateKeyOnDemand"
    assert (event["eventName"], event["eventType"]) == ("RotateKey", "AwsServiceEvent")
    current = ok(world, admin, "DescribeKey", KeyId=key["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"]
    assert event["serviceEventDetails"] == {"rotationType": "ON_DEMAND", "keyOrigin": "AWS_KMS",
                                            "previousKeyMaterialId": before, "currentKeyMaterialId": current,
                                            "keyId": key["KeyId"]}
    assert event["resources"][0]["ARN"] == key["Arn"]
    assert len(call(world, admin, "RotateKeyOnDemand", KeyId="alias/aws/s3").records) == 1  # refused: no event


def test_a_key_rotates_on_demand_at_most_25_times(world, admin, key):
    for _ in range(25):
        ok(world, admin, "RotateKeyOnDemand", KeyId=key["KeyId"])

    error = fails(world, admin, "RotateKeyOnDemand", KeyId=key["KeyId"])

    assert (error.code, error.message) == (
        "LimitExceededException",
        "The on-demand rotations limit has been reached for the given keyId. "
        f"No more on-demand rotations can be performed for this key: {key['Arn']}",
    )
    assert len(ok(world, admin, "ListKeyRotations", KeyId=key["KeyId"])["Rotations"]) == 25


def test_list_key_rotations_can_include_the_first_material_and_pages(world, admin, key):
    for _ in range(2):
        ok(world, admin, "RotateKeyOnDemand", KeyId=key["KeyId"])

    first = ok(world, admin, "ListKeyRotations", KeyId=key["KeyId"], IncludeKeyMaterial="ALL_KEY_MATERIAL", Limit=2)
    rest = ok(world, admin, "ListKeyRotations", KeyId=key["KeyId"], IncludeKeyMaterial="ALL_KEY_MATERIAL", Marker=first["NextMarker"])

    assert first["Rotations"][0] == {
        "KeyId": key["Arn"],
        "KeyMaterialId": key["CurrentKeyMaterialId"],
        "KeyMaterialState": "NON_CURRENT",
    }
    assert [r["KeyMaterialState"] for r in first["Rotations"] + rest["Rotations"]] == ["NON_CURRENT", "NON_CURRENT", "CURRENT"]
    assert first["Truncated"] is True and rest["Truncated"] is False
