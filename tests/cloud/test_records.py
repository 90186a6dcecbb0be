"""CloudTrail records: one per call, AWS's fields, secrets never written."""
from tests.conftest import T0

from kmslab.cloud import calls, records, shapes

from .factories import call, make_key, ok

KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_dates_inside_a_record_are_written_as_aws_writes_them():
    # ct-createkey's creationDate: "Aug 10, 2022, 10:38:27 PM" (UTC, 12-hour clock).
    assert records.trail_date(1660171107) == "Aug 10, 2022, 10:38:27 PM"
    assert records.trail_date(T0 - 11 * 3600) == "Nov 18, 2026, 12:06:40 AM"


def test_member_names_follow_the_javabeans_rule(world, admin):
    outcome = call(world, admin, "CreateKey")

    metadata = outcome.record["responseElements"]["keyMetadata"]
    # ct-createkey: AWSAccountId keeps its capitals; keyId, creationDate are lowered.
    assert metadata["AWSAccountId"] == "111122223333" and "aWSAccountId" not in metadata
    assert metadata["creationDate"] == "Nov 18, 2026, 11:06:40 AM"


def test_read_only_kms_calls_log_no_response(world, admin):
    key = make_key(world, admin)

    for operation, request in [("DescribeKey", {"KeyId": key["KeyId"]}), ("ListKeys", {}),
                               ("GetKeyPolicy", {"KeyId": key["KeyId"]}), ("ListAliases", {})]:
        record = call(world, admin, operation, **request).record
        assert (record["readOnly"], record["responseElements"]) == (True, None), operation


def test_operations_that_return_nothing_name_their_key_in_the_response(world, admin):
    key = make_key(world, admin)

    for operation, request in [("DisableKey", {}), ("EnableKey", {}), ("EnableKeyRotation", {}),
                               ("UntagResource", {"TagKeys": ["t"]})]:
        record = call(world, admin, operation, KeyId=key["KeyId"], **request).record
        assert record["responseElements"] == {"keyId": key["Arn"]}, operation
    # ct-tagresource, ct-disable-key-rotation: a null response.
    for operation, request in [("TagResource", {"Tags": [{"TagKey": "t", "TagValue": "v"}]}),
                               ("DisableKeyRotation", {})]:
        assert call(world, admin, operation, KeyId=key["KeyId"], **request).record["responseElements"] is None


def test_create_alias_names_the_key_then_the_alias(world, admin):
    key = make_key(world, admin)

    record = call(world, admin, "CreateAlias", AliasName="alias/a", TargetKeyId=key["KeyId"]).record

    alias_arn = "arn:aws:kms:us-east-1:111122223333:alias/a"
    assert [(r["ARN"], r["type"]) for r in record["resources"]] == [
        (key["Arn"], "AWS::KMS::Key"), (alias_arn, "AWS::KMS::Key")]
    assert record["responseElements"] == {"keyId": key["Arn"]}


def test_a_grant_retired_by_its_token_is_named_in_additional_event_data(world, admin):
    key = make_key(world, admin)
    grant = ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=admin.arn,
               Operations=["Encrypt", "RetireGrant"])

    created = call(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=admin.arn,
                   Operations=["Decrypt"]).record
    record = call(world, admin, "RetireGrant", GrantToken=grant["GrantToken"]).record

    assert created["responseElements"]["keyId"] == key["Arn"] and "grantToken" not in created["responseElements"]
    # ct-retiregrant: the token is all the request held, and CloudTrail does not log it.
    assert record["requestParameters"] is None
    assert record["additionalEventData"] == {"grantId": grant["GrantId"]}


def test_re_encrypt_logs_both_algorithms_and_both_materials(world, admin):
    source, destination = make_key(world, admin), make_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=source["KeyId"], Plaintext=b"x")["CiphertextBlob"]

    record = call(world, admin, "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=destination["KeyId"]).record

    assert record["requestParameters"] == {"sourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                                           "destinationKeyId": destination["KeyId"],
                                           "destinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    assert record["additionalEventData"] == {"destinationKeyMaterialId": destination["CurrentKeyMaterialId"],
                                             "sourceKeyMaterialId": source["CurrentKeyMaterialId"]}


def test_a_kms_call_on_no_key_lists_no_resources(world, admin):
    # ct-generaterandom: "Because this operation doesn't use an AWS KMS key, the resources field is empty."
    assert call(world, admin, "GenerateRandom", NumberOfBytes=8).record["resources"] == []


def test_a_service_event_is_written_by_aws_itself():
    record = records.service_event_record("RotateKey", KEY_ARN, T0, details={"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"})

    assert record["userIdentity"] == {"accountId": "111122223333", "invokedBy": "AWS Internal"}
    assert (record["sourceIPAddress"], record["userAgent"]) == ("AWS Internal", "AWS Internal")
    assert (record["eventType"], record["readOnly"], record["awsRegion"]) == ("AwsServiceEvent", False, "us-east-1")
    assert (record["requestParameters"], record["responseElements"]) == (None, None)
    assert record["serviceEventDetails"] == {"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}
    assert record["resources"] == [{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": KEY_ARN}]
    assert record["eventTime"] == "2026-11-18T11:06:40Z"
    assert "requestID" not in record  # no request made it (ct-rotatekey, ct-delete-key)


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
