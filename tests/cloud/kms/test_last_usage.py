"""GetKeyLastUsage: the last successful cryptographic operation on a key (GetKeyLastUsage API reference)."""
import copy

import pytest

from ..factories import ACCOUNT_B, T0, allow, call, fails, make_key, make_user, ok, policy


def last_usage(world, caller, key_id):
    return ok(world, caller, "GetKeyLastUsage", KeyId=key_id)


def test_a_new_key_has_no_last_usage_and_is_tracked_from_its_creation(world, admin):
    key = make_key(world, admin)

    assert last_usage(world, admin, key["Arn"]) == {
        "KeyId": key["KeyId"],
        "KeyLastUsage": {},
        "TrackingStartDate": T0,
        "KeyCreationDate": T0,
    }


def test_a_use_is_named_by_its_operation_time_and_cloudtrail_event(world, admin, clock):
    key = make_key(world, admin)
    clock.t += 60

    outcome = call(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")

    assert last_usage(world, admin, key["KeyId"])["KeyLastUsage"] == {
        "Operation": "Encrypt",
        "Timestamp": T0 + 60,
        "CloudTrailEventId": outcome.record["eventID"],
        "KmsRequestId": outcome.record["requestID"],
    }


@pytest.mark.parametrize("operation, request_", [
    ("GenerateDataKey", {"KeySpec": "AES_256"}),
    ("GenerateDataKeyWithoutPlaintext", {"NumberOfBytes": 32}),
    ("Decrypt", {}),
])
def test_every_cryptographic_operation_counts(world, admin, operation, request_):
    key = make_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    request_ = {"CiphertextBlob": blob} if operation == "Decrypt" else {"KeyId": key["KeyId"], **request_}

    outcome = call(world, admin, operation, **request_)

    found = last_usage(world, admin, key["KeyId"])["KeyLastUsage"]
    assert (found["Operation"], found["CloudTrailEventId"]) == (operation, outcome.record["eventID"])


def test_re_encrypt_is_a_use_of_both_keys(world, admin):
    source, destination = make_key(world, admin), make_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=source["KeyId"], Plaintext=b"x")["CiphertextBlob"]

    outcome = call(world, admin, "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=destination["KeyId"])

    for key in (source, destination):
        found = last_usage(world, admin, key["KeyId"])["KeyLastUsage"]
        assert (found["Operation"], found["CloudTrailEventId"]) == ("ReEncrypt", outcome.record["eventID"])


def test_failed_calls_dry_runs_and_other_operations_are_not_uses(world, admin):
    key = make_key(world, admin)
    outsider = make_user(world, admin, "outsider")
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"a": "b"})["CiphertextBlob"]
    before = last_usage(world, admin, key["KeyId"])["KeyLastUsage"]

    fails(world, admin, "Decrypt", "InvalidCiphertextException", CiphertextBlob=blob)
    fails(world, outsider, "Encrypt", "AccessDeniedException", KeyId=key["KeyId"], Plaintext=b"x")
    fails(world, admin, "Encrypt", "DryRunOperationException", KeyId=key["KeyId"], Plaintext=b"x", DryRun=True)
    ok(world, admin, "DescribeKey", KeyId=key["KeyId"])
    ok(world, admin, "GenerateRandom", NumberOfBytes=8)
    ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=outsider.arn, Operations=["Decrypt"])

    assert last_usage(world, admin, key["KeyId"])["KeyLastUsage"] == before
    assert before["Operation"] == "Encrypt"


@pytest.mark.parametrize("state_change", ["DisableKey", "ScheduleKeyDeletion"])
def test_last_usage_is_read_in_every_key_state(world, admin, state_change):
    key = make_key(world, admin)
    ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
    ok(world, admin, state_change, KeyId=key["KeyId"])

    assert last_usage(world, admin, key["KeyId"])["KeyLastUsage"]["Operation"] == "Encrypt"


def test_get_key_last_usage_needs_kms_get_key_last_usage(world, admin):
    key = make_key(world, admin)
    reader = make_user(world, admin, "reader", allow("kms:GetKeyLastUsage"))
    other = make_user(world, admin, "other", allow("kms:DescribeKey"))

    last_usage(world, reader, key["KeyId"])
    error = fails(world, other, "GetKeyLastUsage", "AccessDeniedException", KeyId=key["KeyId"])

    assert "kms:GetKeyLastUsage" in error.message


def test_get_key_last_usage_is_not_a_cross_account_operation(world, admin, admin_b):
    everyone = policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"})
    key = make_key(world, admin, Policy=everyone, BypassPolicyLockoutSafetyCheck=True)

    outcome = call(world, admin_b, "GetKeyLastUsage", KeyId=key["Arn"])

    assert outcome.error.code == "AccessDeniedException"
    assert outcome.explanations[-1]["gate"] == "cross-account-operation"
    assert admin_b.account == ACCOUNT_B


def test_get_key_last_usage_takes_no_alias(world, admin):
    make_key(world, admin)

    fails(world, admin, "GetKeyLastUsage", "NotFoundException", KeyId="alias/aws/s3")


def test_the_last_use_is_found_behind_many_later_records(world, admin):
    key = make_key(world, admin)
    outcome = call(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
    for _ in range(120):
        ok(world, admin, "DescribeKey", KeyId=key["KeyId"])

    assert last_usage(world, admin, key["KeyId"])["KeyLastUsage"]["CloudTrailEventId"] == outcome.record["eventID"]


def test_a_use_changes_nothing_in_the_key_record(world, admin):
    key = make_key(world, admin)
    before = copy.deepcopy(world.doc["kms"]["keys"][key["KeyId"]])

    ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")

    assert world.doc["kms"]["keys"][key["KeyId"]] == before


@pytest.mark.parametrize("spec, usage, operation, request_", [
    ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "GenerateDataKeyPair", {"KeyPairSpec": "ECC_NIST_P256"}),
    ("RSA_2048", "ENCRYPT_DECRYPT", "Encrypt", {"Plaintext": b"x", "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
    ("HMAC_256", "GENERATE_VERIFY_MAC", "GenerateMac", {"Message": b"m", "MacAlgorithm": "HMAC_SHA_256"}),
    ("ML_KEM_768", "ENCAPSULATE_DECAPSULATE", "Encapsulate", {"EncapsulationAlgorithm": "ML_KEM"}),
    ("ECC_NIST_P256", "SIGN_VERIFY", "Sign", {"Message": b"m", "SigningAlgorithm": "ECDSA_SHA_256"}),
])
def test_the_operations_of_every_key_type_count(world, admin, spec, usage, operation, request_):
    key = make_key(world, admin, KeySpec=spec, KeyUsage=usage)

    outcome = call(world, admin, operation, KeyId=key["KeyId"], **request_)

    found = last_usage(world, admin, key["KeyId"])["KeyLastUsage"]
    assert (found["Operation"], found["CloudTrailEventId"]) == (operation, outcome.record["eventID"])
