"""CloudTrail records: one per call, AWS's fields, secrets never written."""
from tests.conftest import T0

from kmslab.cloud import calls, records, shapes

KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_a_service_event_is_written_by_aws_itself():
    record = records.service_event_record("RotateKey", KEY_ARN, T0, details={"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"})

    assert record["userIdentity"] == {"accountId": "111122223333", "invokedBy": "AWS Internal"}
    assert (record["sourceIPAddress"], record["userAgent"]) == ("AWS Internal", "AWS Internal")
    assert (record["eventType"], record["readOnly"], record["awsRegion"]) == ("AwsServiceEvent", False, "us-east-1")
    assert (record["requestParameters"], record["responseElements"]) == (None, None)
    assert record["serviceEventDetails"] == {"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}
    assert record["resources"] == [{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": KEY_ARN}]
    assert record["eventTime"] == "2026-11-18T11:06:40Z"


def test_a_service_event_without_details_has_none():
    record = records.service_event_record("DeleteKey", KEY_ARN, T0, response={"keyId": KEY_ARN})

    assert record["responseElements"] == {"keyId": KEY_ARN}
    assert "serviceEventDetails" not in record


def test_a_failed_call_is_recorded_with_its_error(world, admin):
    outcome = calls.call(world, admin, "kms", "DescribeKey", {"KeyId": "fake-key-id"})

    assert (outcome.record["errorCode"], outcome.record["errorMessage"]) == ("NotFoundException", "Invalid keyId 'fake-key-id'")
    assert outcome.record["responseElements"] is None
    assert outcome.record["requestParameters"] == {"keyId": "fake-key-id"}
    assert "resources" not in outcome.record


def test_secrets_are_dropped_and_encryption_context_keys_keep_their_case():
    request = {"KeyId": "k", "Plaintext": b"secret", "EncryptionContext": {"Tenant": "acme"}}

    logged = records.scrub(request, shapes.operation_model("kms", "Encrypt").input_shape)

    assert logged == {"keyId": "k", "encryptionContext": {"Tenant": "acme"}}
