"""GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial, and expiry on the sandbox clock."""
import hashlib
import uuid

import pytest
from tests.conftest import T0
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
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


# Material for every key type AWS imports (importing-keys-conceptual, "Requirements for imported key material").


def pkcs8(private_key):
    return private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def rsa_2048():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    "spec, usage, curve",
    [
        ("ECC_NIST_P256", "SIGN_VERIFY", ec.SECP256R1),
        ("ECC_NIST_P384", "KEY_AGREEMENT", ec.SECP384R1),
        ("ECC_SECG_P256K1", "SIGN_VERIFY", ec.SECP256K1),
    ],
)
def test_an_imported_ecc_private_key_gives_its_public_key(world, admin, spec, usage, curve):
    key = make_key(world, admin, KeySpec=spec, KeyUsage=usage, Origin="EXTERNAL")
    mine = ec.generate_private_key(curve())

    imported = import_material(world, admin, key["KeyId"], pkcs8(mine))

    public = ok(world, admin, "GetPublicKey", KeyId=key["KeyId"])
    meta = ok(world, admin, "DescribeKey", KeyId=key["KeyId"])["KeyMetadata"]
    assert public["PublicKey"] == spki(mine.public_key())
    assert (meta["KeyState"], meta["Origin"]) == ("Enabled", "EXTERNAL")
    assert "CurrentKeyMaterialId" not in meta and imported["KeyId"] == key["Arn"]


@pytest.mark.parametrize("algorithm", ["RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"])
def test_an_imported_rsa_private_key_gives_its_public_key(world, admin, rsa_2048, algorithm):
    key = make_key(world, admin, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY", Origin="EXTERNAL")

    import_material(world, admin, key["KeyId"], pkcs8(rsa_2048), algorithm=algorithm, spec="RSA_4096")

    assert ok(world, admin, "GetPublicKey", KeyId=key["KeyId"])["PublicKey"] == spki(rsa_2048.public_key())


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])
def test_an_rsa_private_key_is_too_large_for_rsa_oaep_alone(world, admin, algorithm):
    key = make_key(world, admin, KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT", Origin="EXTERNAL")

    fails(world, admin, "GetParametersForImport", "ValidationException", KeyId=key["KeyId"],
          WrappingAlgorithm=algorithm, WrappingKeySpec="RSA_4096")


def test_a_p521_private_key_needs_more_than_rsa_2048_oaep(world, admin):
    key = make_key(world, admin, KeySpec="ECC_NIST_P521", KeyUsage="SIGN_VERIFY", Origin="EXTERNAL")
    mine = ec.generate_private_key(ec.SECP521R1())

    fails(world, admin, "GetParametersForImport", "ValidationException", KeyId=key["KeyId"],
          WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    import_material(world, admin, key["KeyId"], pkcs8(mine), spec="RSA_3072")

    assert ok(world, admin, "GetPublicKey", KeyId=key["KeyId"])["PublicKey"] == spki(mine.public_key())


@pytest.mark.parametrize(
    "material",
    [
        pytest.param(lambda: pkcs8(ec.generate_private_key(ec.SECP384R1())), id="another curve"),
        pytest.param(lambda: pkcs8(ed25519.Ed25519PrivateKey.generate()), id="Ed25519"),
        pytest.param(lambda: b"\x30\x03\x02\x01\x00", id="not a private key"),
        pytest.param(lambda: ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()),
            id="SEC1, not PKCS 8"),
    ],
)
def test_asymmetric_material_must_be_a_pkcs8_private_key_of_the_keys_spec(world, admin, material):
    key = make_key(world, admin, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Origin="EXTERNAL")
    params = parameters(world, admin, key["KeyId"], "RSA_AES_KEY_WRAP_SHA_256")

    request = import_request(key["KeyId"], params, material(), "RSA_AES_KEY_WRAP_SHA_256", ExpirationModel=NEVER)
    fails(world, admin, "ImportKeyMaterial", "IncorrectKeyMaterialException", **request)

    assert ok(world, admin, "DescribeKey", KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingImport"


def test_an_rsa_key_takes_only_a_private_key_of_its_size(world, admin, rsa_2048):
    key = make_key(world, admin, KeySpec="RSA_3072", KeyUsage="SIGN_VERIFY", Origin="EXTERNAL")
    params = parameters(world, admin, key["KeyId"], "RSA_AES_KEY_WRAP_SHA_256")

    request = import_request(key["KeyId"], params, pkcs8(rsa_2048), "RSA_AES_KEY_WRAP_SHA_256", ExpirationModel=NEVER)

    fails(world, admin, "ImportKeyMaterial", "IncorrectKeyMaterialException", **request)


def test_an_asymmetric_key_reimports_only_its_own_private_key(world, admin):
    key = make_key(world, admin, KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT", Origin="EXTERNAL")
    mine = ec.generate_private_key(ec.SECP256R1())
    import_material(world, admin, key["KeyId"], pkcs8(mine))
    ok(world, admin, "DeleteImportedKeyMaterial", KeyId=key["KeyId"])
    params = parameters(world, admin, key["KeyId"])

    request = import_request(key["KeyId"], params, pkcs8(ec.generate_private_key(ec.SECP256R1())), ExpirationModel=NEVER)
    fails(world, admin, "ImportKeyMaterial", "IncorrectKeyMaterialException", **request)
    import_material(world, admin, key["KeyId"], pkcs8(mine))

    assert ok(world, admin, "GetPublicKey", KeyId=key["KeyId"])["PublicKey"] == spki(mine.public_key())


@pytest.mark.parametrize(
    "spec, length, accepted",
    [
        ("HMAC_224", 28, True),
        ("HMAC_224", 27, False),
        ("HMAC_256", 31, False),
        ("HMAC_384", 48, True),
        ("HMAC_512", 63, False),
        ("HMAC_512", 128, True),
        ("HMAC_256", 129, False),
    ],
)
def test_hmac_material_is_from_the_specs_length_to_1024_bits(world, admin, spec, length, accepted):
    key = make_key(world, admin, KeySpec=spec, KeyUsage="GENERATE_VERIFY_MAC", Origin="EXTERNAL")
    params = parameters(world, admin, key["KeyId"])

    outcome = call(world, admin, "ImportKeyMaterial",
                   **import_request(key["KeyId"], params, b"\x5a" * length, ExpirationModel=NEVER))

    if accepted:
        assert outcome.error is None
        assert ok(world, admin, "DescribeKey", KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"
    else:
        assert outcome.error.code == "IncorrectKeyMaterialException"


def test_an_hmac_key_reimports_only_its_own_material(world, admin):
    key = make_key(world, admin, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC", Origin="EXTERNAL")
    import_material(world, admin, key["KeyId"], b"\x01" * 32)
    params = parameters(world, admin, key["KeyId"])

    request = import_request(key["KeyId"], params, b"\x02" * 32, ExpirationModel=NEVER)

    fails(world, admin, "ImportKeyMaterial", "IncorrectKeyMaterialException", **request)


@pytest.mark.parametrize(
    "spec, usage",
    [
        ("ML_DSA_44", "SIGN_VERIFY"),
        ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY"),
        ("ML_KEM_768", "ENCAPSULATE_DECAPSULATE"),
    ],
)
def test_keys_aws_cannot_import_into_are_not_made_for_import(world, admin, spec, usage):
    fails(world, admin, "CreateKey", "UnsupportedOperationException", KeySpec=spec, KeyUsage=usage, Origin="EXTERNAL")
