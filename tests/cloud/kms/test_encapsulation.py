"""Encapsulate and Decapsulate with ML-KEM keys, checked against `cryptography`'s ML-KEM
on the other side."""
import pytest
from cryptography.hazmat.primitives import serialization

from ..factories import allow, call, fails, make_key, make_user, ok

SPECS = {"ML_KEM_768": 1088, "ML_KEM_1024": 1568}


def kem_key(world, admin, spec="ML_KEM_768"):
    return make_key(world, admin, KeySpec=spec, KeyUsage="ENCAPSULATE_DECAPSULATE")


def decapsulate(world, caller, key_id, blob):
    return ok(world, caller, "Decapsulate", KeyId=key_id, SharedSecretCiphertextBlob=blob, EncapsulationAlgorithm="ML_KEM")


@pytest.mark.parametrize("spec", SPECS)
def test_a_secret_encapsulated_outside_to_the_public_key_decapsulates_in_kms(world, admin, spec):
    key = kem_key(world, admin, spec)
    public_key = serialization.load_der_public_key(ok(world, admin, "GetPublicKey", KeyId=key["KeyId"])["PublicKey"])

    secret, blob = public_key.encapsulate()
    recovered = decapsulate(world, admin, key["KeyId"], blob)

    assert recovered == {"KeyId": key["Arn"], "SharedSecret": secret, "EncapsulationAlgorithm": "ML_KEM"}


@pytest.mark.parametrize("spec", SPECS)
def test_kms_encapsulates_a_fresh_32_byte_secret_that_decapsulates(world, admin, spec):
    key = kem_key(world, admin, spec)

    first = ok(world, admin, "Encapsulate", KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM")
    second = ok(world, admin, "Encapsulate", KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM")

    assert (first["KeyId"], first["EncapsulationAlgorithm"]) == (key["Arn"], "ML_KEM")
    assert len(first["SharedSecret"]) == 32 and len(first["SharedSecretCiphertextBlob"]) == SPECS[spec]
    assert first["SharedSecret"] != second["SharedSecret"]
    assert decapsulate(world, admin, key["KeyId"], first["SharedSecretCiphertextBlob"])["SharedSecret"] == first["SharedSecret"]


@pytest.mark.parametrize("change", ["another key", "changed ciphertext"])
def test_a_wrong_ciphertext_of_the_right_length_gives_another_secret_not_an_error(world, admin, change):
    key, other = kem_key(world, admin), kem_key(world, admin)
    made = ok(world, admin, "Encapsulate", KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM")
    blob, key_id = made["SharedSecretCiphertextBlob"], key["KeyId"]
    if change == "another key":
        key_id = other["KeyId"]
    else:
        blob = blob[:-1] + bytes([blob[-1] ^ 1])

    recovered = decapsulate(world, admin, key_id, blob)["SharedSecret"]

    # Implicit rejection (Decapsulate API reference): 32 pseudo-random bytes.
    assert len(recovered) == 32 and recovered != made["SharedSecret"]


@pytest.mark.parametrize("length", [1087, 1089, 1568])
def test_a_ciphertext_of_the_wrong_length_is_invalid(world, admin, length):
    key = kem_key(world, admin)

    fails(world, admin, "Decapsulate", "InvalidCiphertextException", KeyId=key["KeyId"],
          SharedSecretCiphertextBlob=b"\x01" * length, EncapsulationAlgorithm="ML_KEM")


@pytest.mark.parametrize("operation", ["Encapsulate", "Decapsulate"])
def test_a_key_of_another_usage_does_not_encapsulate(world, admin, operation):
    key = make_key(world, admin, KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")
    request = dict(KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM")
    if operation == "Decapsulate":
        request["SharedSecretCiphertextBlob"] = b"\x01" * 1088

    error = fails(world, admin, operation, "InvalidKeyUsageException", **request)

    assert error.message == f"{key['Arn']} key usage is KEY_AGREEMENT which is not valid for {operation}."


def test_a_disabled_key_neither_encapsulates_nor_decapsulates(world, admin):
    key = kem_key(world, admin)
    blob = ok(world, admin, "Encapsulate", KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM")["SharedSecretCiphertextBlob"]
    ok(world, admin, "DisableKey", KeyId=key["KeyId"])

    fails(world, admin, "Encapsulate", "DisabledException", KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM")
    fails(world, admin, "Decapsulate", "DisabledException", KeyId=key["KeyId"], SharedSecretCiphertextBlob=blob,
          EncapsulationAlgorithm="ML_KEM")


def test_dry_run_checks_the_ciphertext_length_too(world, admin):
    key = kem_key(world, admin)
    request = dict(KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM", DryRun=True)

    fails(world, admin, "Encapsulate", "DryRunOperationException", **request)
    fails(world, admin, "Decapsulate", "DryRunOperationException", SharedSecretCiphertextBlob=b"\x01" * 1088, **request)
    fails(world, admin, "Decapsulate", "InvalidCiphertextException", SharedSecretCiphertextBlob=b"\x01", **request)


def test_encapsulating_and_decapsulating_are_separate_permissions(world, admin):
    key = kem_key(world, admin)
    carol = make_user(world, admin, "carol", allow("kms:Encapsulate"))

    blob = ok(world, carol, "Encapsulate", KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM")["SharedSecretCiphertextBlob"]
    fails(world, carol, "Decapsulate", "AccessDeniedException", KeyId=key["KeyId"], SharedSecretCiphertextBlob=blob,
          EncapsulationAlgorithm="ML_KEM")


def test_a_grant_token_is_checked(world, admin):
    key = kem_key(world, admin)

    fails(world, admin, "Encapsulate", "InvalidGrantTokenException", KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM",
          GrantTokens=["not a token"])


def test_cloudtrail_logs_neither_secret_nor_ciphertext(world, admin):
    key = kem_key(world, admin)
    made = call(world, admin, "Encapsulate", KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM")
    opened = call(world, admin, "Decapsulate", KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM",
                  SharedSecretCiphertextBlob=made.response["SharedSecretCiphertextBlob"])

    # ct-encapsulate, ct-decapsulate.
    for outcome in (made, opened):
        assert outcome.record["requestParameters"] == {"keyId": key["KeyId"], "encapsulationAlgorithm": "ML_KEM"}
        assert outcome.record["responseElements"] is None


@pytest.mark.parametrize("operation", ["Encapsulate", "Decapsulate"])
def test_a_key_pending_deletion_neither_encapsulates_nor_decapsulates(world, admin, operation):
    key = kem_key(world, admin)
    ok(world, admin, "ScheduleKeyDeletion", KeyId=key["KeyId"])
    request = dict(KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM")
    if operation == "Decapsulate":
        request["SharedSecretCiphertextBlob"] = b"\x01" * 1088

    error = fails(world, admin, operation, "KMSInvalidStateException", **request)

    assert error.message == f"{key['Arn']} is pending deletion."
