"""GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext."""
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mlkem, rsa

from ..factories import allow, call, fails, make_key, make_user, ok

CONTEXT = {"tenant": "acme"}
# Every KeyPairSpec of botocore's model that the sandbox makes, with the public key type it must be.
PAIR_SPECS = {
    "RSA_2048": rsa.RSAPublicKey,
    "RSA_3072": rsa.RSAPublicKey,
    "RSA_4096": rsa.RSAPublicKey,
    "ECC_NIST_P256": ec.EllipticCurvePublicKey,
    "ECC_NIST_P384": ec.EllipticCurvePublicKey,
    "ECC_NIST_P521": ec.EllipticCurvePublicKey,
    "ECC_SECG_P256K1": ec.EllipticCurvePublicKey,
    "ECC_NIST_EDWARDS25519": ed25519.Ed25519PublicKey,
    "ML_KEM_768": mlkem.MLKEM768PublicKey,
    "ML_KEM_1024": mlkem.MLKEM1024PublicKey,
}
OPERATIONS = ["GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"]


@pytest.fixture
def key(world, admin):
    return make_key(world, admin)


def public_bytes(private):
    return private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize("spec", PAIR_SPECS)
def test_the_encrypted_private_key_decrypts_to_the_pkcs8_of_the_public_key(world, admin, key, spec):
    pair = ok(world, admin, "GenerateDataKeyPair", KeyId=key["KeyId"], KeyPairSpec=spec, EncryptionContext=CONTEXT)

    decrypted = ok(world, admin, "Decrypt", CiphertextBlob=pair["PrivateKeyCiphertextBlob"], EncryptionContext=CONTEXT)
    private = serialization.load_der_private_key(decrypted["Plaintext"], password=None)

    assert decrypted["Plaintext"] == pair["PrivateKeyPlaintext"]
    assert isinstance(serialization.load_der_public_key(pair["PublicKey"]), PAIR_SPECS[spec])
    assert public_bytes(private) == pair["PublicKey"]
    assert (pair["KeyId"], pair["KeyPairSpec"], pair["KeyMaterialId"]) == (key["Arn"], spec, key["CurrentKeyMaterialId"])


def test_without_plaintext_returns_no_private_key_but_the_same_pair(world, admin, key):
    pair = ok(world, admin, "GenerateDataKeyPairWithoutPlaintext", KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256")

    private = serialization.load_der_private_key(
        ok(world, admin, "Decrypt", CiphertextBlob=pair["PrivateKeyCiphertextBlob"])["Plaintext"], password=None)

    assert set(pair) == {"PrivateKeyCiphertextBlob", "PublicKey", "KeyId", "KeyPairSpec", "KeyMaterialId"}
    assert public_bytes(private) == pair["PublicKey"]


def test_each_call_makes_a_new_pair(world, admin, key):
    first, second = (ok(world, admin, "GenerateDataKeyPairWithoutPlaintext", KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256")
                     for _ in range(2))

    assert first["PublicKey"] != second["PublicKey"]


@pytest.mark.parametrize("context", [None, {"tenant": "globex"}])
def test_the_private_key_needs_its_encryption_context_to_decrypt(world, admin, key, context):
    pair = ok(world, admin, "GenerateDataKeyPairWithoutPlaintext", KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256",
              EncryptionContext=CONTEXT)
    request = {"CiphertextBlob": pair["PrivateKeyCiphertextBlob"]}
    if context:
        request["EncryptionContext"] = context

    assert fails(world, admin, "Decrypt", **request).code == "InvalidCiphertextException"


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("spec", ["SM2", "ML_KEM_512"])
def test_a_pair_spec_the_sandbox_cannot_make_is_unsupported(world, admin, key, operation, spec):
    error = fails(world, admin, operation, KeyId=key["KeyId"], KeyPairSpec=spec)

    assert error.code == "UnsupportedOperationException" and spec in error.message


@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_asymmetric_kms_key_cannot_encrypt_a_pair(world, admin, operation):
    rsa_key = make_key(world, admin, KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    signing = make_key(world, admin, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")

    encrypting = fails(world, admin, operation, KeyId=rsa_key["KeyId"], KeyPairSpec="RSA_2048")
    other_usage = fails(world, admin, operation, KeyId=signing["KeyId"], KeyPairSpec="RSA_2048")

    assert (encrypting.code, encrypting.message) == (
        "InvalidKeyUsageException", "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.")
    assert (other_usage.code, other_usage.message) == (
        "InvalidKeyUsageException", f"{signing['Arn']} key usage is SIGN_VERIFY which is not valid for {operation}.")


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_disabled_key_makes_no_pair(world, admin, key, operation):
    ok(world, admin, "DisableKey", KeyId=key["KeyId"])

    assert fails(world, admin, operation, KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256").code == "DisabledException"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_dry_run_makes_no_pair(world, admin, key, operation):
    assert fails(world, admin, operation, KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256", DryRun=True).code == "DryRunOperationException"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_policy_can_allow_some_pair_specs_only(world, admin, key, operation):
    bob = make_user(world, admin, "bob", allow(f"kms:{operation}", **{"StringEquals": {"kms:DataKeyPairSpec": "ECC_NIST_P256"}}))

    ok(world, bob, operation, KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256")
    fails(world, bob, operation, "AccessDeniedException", KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P384")


def test_cloudtrail_never_logs_either_half_of_the_pair(world, admin, key):
    outcome = call(world, admin, "GenerateDataKeyPair", KeyId=key["KeyId"], KeyPairSpec="ECC_NIST_P256", EncryptionContext=CONTEXT)

    assert outcome.record["requestParameters"] == {"keyId": key["KeyId"], "keyPairSpec": "ECC_NIST_P256", "encryptionContext": CONTEXT}
    assert outcome.record["responseElements"] is None
    assert outcome.record["additionalEventData"] == {"keyMaterialId": key["CurrentKeyMaterialId"]}
    assert outcome.record["readOnly"] is True
    assert [r["ARN"] for r in outcome.record["resources"]] == [key["Arn"]]
