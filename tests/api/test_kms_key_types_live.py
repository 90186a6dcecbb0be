"""The HMAC, key agreement and ML-KEM operations through boto3 against the real server:
blobs go out and come back base64 on the wire, and each response has AWS's fields."""
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def kms(alice):
    return alice("kms")


def test_generate_mac(kms):
    key = kms.create_key(KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]

    made = kms.generate_mac(KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_384", Message=b"\x00\xffmessage")

    assert (made["KeyId"], made["MacAlgorithm"]) == (key["Arn"], "HMAC_SHA_384")
    assert isinstance(made["Mac"], bytes) and len(made["Mac"]) == 48


def test_verify_mac(kms):
    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    mac = kms.generate_mac(KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"m")["Mac"]

    verified = kms.verify_mac(KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"m", Mac=mac)

    assert {k: verified[k] for k in ("KeyId", "MacValid", "MacAlgorithm")} == {
        "KeyId": key["Arn"], "MacValid": True, "MacAlgorithm": "HMAC_SHA_256"}
    with pytest.raises(kms.exceptions.KMSInvalidMacException):
        kms.verify_mac(KeyId=key["KeyId"], MacAlgorithm="HMAC_SHA_256", Message=b"n", Mac=mac)


def test_derive_shared_secret(kms):
    key = kms.create_key(KeySpec="ECC_NIST_P384", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    bob = ec.generate_private_key(ec.SECP384R1())
    bobs_public = bob.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    derived = kms.derive_shared_secret(KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=bobs_public)

    kms_public = serialization.load_der_public_key(kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
    assert derived["SharedSecret"] == bob.exchange(ec.ECDH(), kms_public)
    assert (derived["KeyId"], derived["KeyAgreementAlgorithm"], derived["KeyOrigin"]) == (key["Arn"], "ECDH", "AWS_KMS")
    with pytest.raises(kms.exceptions.ClientError) as raised:
        kms.derive_shared_secret(KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=b"junk")
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_encapsulate(kms):
    key = kms.create_key(KeySpec="ML_KEM_1024", KeyUsage="ENCAPSULATE_DECAPSULATE")["KeyMetadata"]

    made = kms.encapsulate(KeyId=key["KeyId"], EncapsulationAlgorithm="ML_KEM")

    assert (made["KeyId"], made["EncapsulationAlgorithm"]) == (key["Arn"], "ML_KEM")
    assert len(made["SharedSecret"]) == 32 and len(made["SharedSecretCiphertextBlob"]) == 1568


def test_decapsulate(kms):
    key = kms.create_key(KeySpec="ML_KEM_768", KeyUsage="ENCAPSULATE_DECAPSULATE")["KeyMetadata"]
    public_key = serialization.load_der_public_key(kms.get_public_key(KeyId=key["KeyId"])["PublicKey"])
    secret, blob = public_key.encapsulate()

    recovered = kms.decapsulate(KeyId=key["KeyId"], SharedSecretCiphertextBlob=blob, EncapsulationAlgorithm="ML_KEM")

    assert (recovered["KeyId"], recovered["SharedSecret"], recovered["EncapsulationAlgorithm"]) == (key["Arn"], secret, "ML_KEM")
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decapsulate(KeyId=key["KeyId"], SharedSecretCiphertextBlob=blob[:-1], EncapsulationAlgorithm="ML_KEM")
