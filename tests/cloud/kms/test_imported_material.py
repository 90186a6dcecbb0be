"""GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial, and expiry on the sandbox clock."""
import hashlib
import uuid

import pytest
from tests.conftest import T0
from cryptography.hazmat.primitives import serialization
from ..factories import DAY, call, fails, import_material, import_request, make_key, ok

MATERIAL = bytes(range(32))
NEVER = "KEY_MATERIAL_DOES_NOT_EXPIRE"


@pytest.fixture
def key(world, admin):
    return make_key(world, admin, Origin="EXTERNAL")


def key_material_id(key):
    return hashlib.sha256(uuid.UUID(key["KeyId"]).bytes + MATERIAL).hexdigest()


def parameters(world, admin, key_id, algorithm="RSAES_OAEP_SHA_256", spec="RSA_2048"):
    return ok(world, admin, "GetParametersForImport", KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec=spec)


@pytest.mark.parametrize(
    "algorithm, spec",
    [
        ("RSAES_OAEP_SHA_1", "RSA_2048"),
        ("RSAES_OAEP_SHA_256", "RSA_3072"),
        ("RSA_AES_KEY_WRAP_SHA_1", "RSA_2048"),
        ("RSA_AES_KEY_WRAP_SHA_256", "RSA_4096"),
    ],
)
def test_alice_imports_her_own_material_and_uses_the_key(world, admin, key, algorithm, spec):
    outcome = call(world, admin, "GetParametersForImport", KeyId=key["KeyId"], WrappingAlgorithm=algorithm, WrappingKeySpec=spec)
    params = outcome.response
    public_key = serialization.load_der_public_key(params["PublicKey"])

    request = import_request(key["KeyId"], params, MATERIAL, algorithm, ExpirationModel=NEVER)
    imported = ok(world, admin, "ImportKeyMaterial", **request)

    assert public_key.key_size == int(spec[4:])
    assert (outcome.record["readOnly"], outcome.record["responseElements"]) == (True, None)
    assert (params["KeyId"], params["ParametersValidTo"]) == (key["Arn"], T0 + DAY)
    material_id = key_material_id(key)
    assert imported == {"KeyId": key["Arn"], "KeyMaterialId": material_id}
    meta = ok(world, admin, "DescribeKey", KeyId=key["KeyId"])["KeyMetadata"]
    assert (meta["KeyState"], meta["Enabled"], meta["ExpirationModel"]) == ("Enabled", True, "KEY_MATERIAL_DOES_NOT_EXPIRE")
    assert meta["CurrentKeyMaterialId"] == material_id and "ValidTo" not in meta
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"mine")["CiphertextBlob"]
    assert ok(world, admin, "Decrypt", CiphertextBlob=blob)["Plaintext"] == b"mine"


@pytest.mark.parametrize(
    "algorithm, spec, message",
    [
        ("RSAES_PKCS1_V1_5", "RSA_2048", "The wrapping algorithm RSAES_PKCS1_V1_5 is not supported."),
        ("RSAES_OAEP_SHA_256", "SM2", "The wrapping key spec SM2 is not supported."),
    ],
)
def test_retired_and_regional_wrapping_choices_are_refused(world, admin, key, algorithm, spec, message):
    error = fails(world, admin, "GetParametersForImport", KeyId=key["KeyId"], WrappingAlgorithm=algorithm, WrappingKeySpec=spec)

    assert (error.code, error.message) == ("ValidationException", message)


def test_two_keys_with_the_same_imported_material_keep_their_ciphertexts_apart(world, admin):
    first, second = make_key(world, admin, Origin="EXTERNAL"), make_key(world, admin, Origin="EXTERNAL")
    import_material(world, admin, first["KeyId"], MATERIAL)
    import_material(world, admin, second["KeyId"], MATERIAL)
    blob = ok(world, admin, "Encrypt", KeyId=first["KeyId"], Plaintext=b"x")["CiphertextBlob"]

    assert fails(world, admin, "Decrypt", CiphertextBlob=blob, KeyId=second["KeyId"]).code == "IncorrectKeyException"


def test_expiring_material_is_deleted_when_valid_to_passes(world, admin, key, clock):
    import_material(world, admin, key["KeyId"], MATERIAL, ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=T0 + 2 * DAY)
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert ok(world, admin, "DescribeKey", KeyId=key["KeyId"])["KeyMetadata"]["ValidTo"] == T0 + 2 * DAY

    clock.t += 2 * DAY
    outcome = call(world, admin, "Decrypt", CiphertextBlob=blob)

    [record] = outcome.service_records
    assert (record["eventName"], record["eventType"]) == ("DeleteExpiredKeyMaterial", "AwsServiceEvent")
    assert record["serviceEventDetails"] == {"keyId": key["KeyId"]}
    assert (outcome.error.code, outcome.error.message) == ("KMSInvalidStateException", f"{key['Arn']} is pending import.")
    meta = ok(world, admin, "DescribeKey", KeyId=key["KeyId"])["KeyMetadata"]
    assert (meta["KeyState"], meta["Enabled"]) == ("PendingImport", False)
    assert "ValidTo" not in meta and "ExpirationModel" not in meta


def test_reimporting_the_same_material_brings_old_ciphertexts_back(world, admin, key):
    import_material(world, admin, key["KeyId"], MATERIAL)
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"kept")["CiphertextBlob"]
    deleted = ok(world, admin, "DeleteImportedKeyMaterial", KeyId=key["KeyId"])

    import_material(world, admin, key["KeyId"], MATERIAL)

    assert deleted == {"KeyId": key["Arn"], "KeyMaterialId": key_material_id(key)}
    assert ok(world, admin, "Decrypt", CiphertextBlob=blob)["Plaintext"] == b"kept"


def test_reimporting_other_material_is_refused(world, admin, key):
    import_material(world, admin, key["KeyId"], MATERIAL)
    ok(world, admin, "DeleteImportedKeyMaterial", KeyId=key["KeyId"])
    params = parameters(world, admin, key["KeyId"])

    request = import_request(key["KeyId"], params, b"\xff" * 32, ExpirationModel=NEVER)
    error = fails(world, admin, "ImportKeyMaterial", **request)

    assert error.code == "IncorrectKeyMaterialException"
    assert ok(world, admin, "DescribeKey", KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingImport"


def test_a_second_new_material_is_not_available(world, admin, key):
    import_material(world, admin, key["KeyId"], MATERIAL)
    params = parameters(world, admin, key["KeyId"])

    request = import_request(key["KeyId"], params, MATERIAL, ExpirationModel=NEVER, ImportType="NEW_KEY_MATERIAL")
    error = fails(world, admin, "ImportKeyMaterial", **request)

    assert error.code == "UnsupportedOperationException"


def test_an_import_token_lasts_24_hours(world, admin, key, clock):
    params = parameters(world, admin, key["KeyId"])
    clock.t += DAY

    request = import_request(key["KeyId"], params, MATERIAL, ExpirationModel=NEVER)
    error = fails(world, admin, "ImportKeyMaterial", **request)

    assert error.code == "ExpiredImportTokenException"


@pytest.mark.parametrize("token", ["another key's", "made up"])
def test_an_import_token_works_only_for_its_key(world, admin, key, token):
    other = make_key(world, admin, Origin="EXTERNAL")
    params = parameters(world, admin, other["KeyId"])
    import_token = params["ImportToken"] if token == "another key's" else b"\x00" * 48

    request = import_request(key["KeyId"], {**params, "ImportToken": import_token}, MATERIAL, ExpirationModel=NEVER)
    error = fails(world, admin, "ImportKeyMaterial", **request)

    assert error.code == "InvalidImportTokenException"


def test_material_wrapped_under_another_public_key_is_an_invalid_ciphertext(world, admin, key):
    params = parameters(world, admin, key["KeyId"])
    stranger = parameters(world, admin, make_key(world, admin, Origin="EXTERNAL")["KeyId"])

    wrapped_for_another_key = {**params, "PublicKey": stranger["PublicKey"]}
    request = import_request(key["KeyId"], wrapped_for_another_key, MATERIAL, ExpirationModel=NEVER)
    error = fails(world, admin, "ImportKeyMaterial", **request)

    assert error.code == "InvalidCiphertextException"


def test_symmetric_material_is_256_bits(world, admin, key):
    params = parameters(world, admin, key["KeyId"])

    request = import_request(key["KeyId"], params, MATERIAL[:16], ExpirationModel=NEVER)
    error = fails(world, admin, "ImportKeyMaterial", **request)

    assert error.code == "IncorrectKeyMaterialException"


@pytest.mark.parametrize(
    "expiry, message",
    [
        ({}, "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"),
        (
            {"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE", "ValidTo": T0 + DAY},
            "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE",
        ),
        ({"ValidTo": T0 - 1}, "The ValidTo date must be in the future and no more than 365 days from now."),
        ({"ValidTo": T0 + 366 * DAY}, "The ValidTo date must be in the future and no more than 365 days from now."),
    ],
    ids=["expires without ValidTo", "ValidTo without expiry", "past", "beyond a year"],
)
def test_valid_to_comes_with_expiring_material_only(world, admin, key, expiry, message):
    params = parameters(world, admin, key["KeyId"])

    request = import_request(key["KeyId"], params, MATERIAL, **expiry)
    error = fails(world, admin, "ImportKeyMaterial", **request)

    assert (error.code, error.message) == ("ValidationException", message)


def test_import_logs_its_expiry_but_not_the_material_or_token(world, admin, key):
    params = parameters(world, admin, key["KeyId"])

    request = import_request(key["KeyId"], params, MATERIAL,
                             ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=T0 + 30 * DAY)
    outcome = call(world, admin, "ImportKeyMaterial", **request)

    assert outcome.record["requestParameters"] == {
        "keyId": key["KeyId"],
        "expirationModel": "KEY_MATERIAL_EXPIRES",
        "validTo": T0 + 30 * DAY,
    }


def test_deleting_material_of_a_key_pending_deletion_keeps_it_pending_deletion(world, admin, key):
    import_material(world, admin, key["KeyId"], MATERIAL)
    ok(world, admin, "ScheduleKeyDeletion", KeyId=key["KeyId"])

    ok(world, admin, "DeleteImportedKeyMaterial", KeyId=key["KeyId"])
    ok(world, admin, "CancelKeyDeletion", KeyId=key["KeyId"])

    # With no material left, the cancelled key can only wait for an import.
    assert ok(world, admin, "DescribeKey", KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingImport"


def test_deleting_material_by_an_id_the_key_does_not_have_is_not_found(world, admin, key):
    import_material(world, admin, key["KeyId"], MATERIAL)

    error = fails(world, admin, "DeleteImportedKeyMaterial", KeyId=key["KeyId"], KeyMaterialId="0" * 64)

    assert error.code == "NotFoundException"
