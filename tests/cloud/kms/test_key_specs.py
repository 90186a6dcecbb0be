"""CreateKey for every KeySpec and KeyUsage AWS offers, DescribeKey's algorithm fields,
GetPublicKey, and the operations a key's type refuses."""
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, mlkem, rsa

from ..factories import allow, deny, fails, make_key, make_user, ok

RSA_SIGNING = [
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
]
# (KeySpec, KeyUsage, the algorithm field DescribeKey lists, its algorithms): AWS's table (key-types).
PAIRS = [
    *[(f"RSA_{n}", "ENCRYPT_DECRYPT", "EncryptionAlgorithms", ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]) for n in (2048, 3072, 4096)],
    *[(f"RSA_{n}", "SIGN_VERIFY", "SigningAlgorithms", RSA_SIGNING) for n in (2048, 3072, 4096)],
    ("ECC_NIST_P256", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_256"]),
    ("ECC_NIST_P384", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_384"]),
    ("ECC_NIST_P521", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_512"]),
    ("ECC_SECG_P256K1", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_256"]),
    *[(f"ECC_NIST_P{n}", "KEY_AGREEMENT", "KeyAgreementAlgorithms", ["ECDH"]) for n in (256, 384, 521)],
    ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY", "SigningAlgorithms", ["ED25519_SHA_512", "ED25519_PH_SHA_512"]),
    *[(f"ML_DSA_{n}", "SIGN_VERIFY", "SigningAlgorithms", ["ML_DSA_SHAKE_256"]) for n in (44, 65, 87)],
    *[(f"ML_KEM_{n}", "ENCAPSULATE_DECAPSULATE", "EncapsulationAlgorithms", ["ML_KEM"]) for n in (768, 1024)],
    *[(f"HMAC_{n}", "GENERATE_VERIFY_MAC", "MacAlgorithms", [f"HMAC_SHA_{n}"]) for n in (224, 256, 384, 512)],
]
ASYMMETRIC = [pair for pair in PAIRS if not pair[0].startswith("HMAC")]
PUBLIC_TYPES = {
    "RSA": rsa.RSAPublicKey,
    "ECC_NIST_EDWARDS25519": ed25519.Ed25519PublicKey,
    "ECC": ec.EllipticCurvePublicKey,
    "ML_DSA_44": mldsa.MLDSA44PublicKey,
    "ML_DSA_65": mldsa.MLDSA65PublicKey,
    "ML_DSA_87": mldsa.MLDSA87PublicKey,
    "ML_KEM_768": mlkem.MLKEM768PublicKey,
    "ML_KEM_1024": mlkem.MLKEM1024PublicKey,
}
ALGORITHM_FIELDS = {"EncryptionAlgorithms", "SigningAlgorithms", "KeyAgreementAlgorithms", "EncapsulationAlgorithms", "MacAlgorithms"}


@pytest.mark.parametrize("spec,usage,field,algorithms", PAIRS)
def test_every_pair_aws_offers_is_created_and_described_with_its_algorithms(world, admin, spec, usage, field, algorithms):
    meta = make_key(world, admin, KeySpec=spec, KeyUsage=usage)

    assert (meta["KeySpec"], meta["CustomerMasterKeySpec"], meta["KeyUsage"]) == (spec, spec, usage)
    assert meta["KeyState"] == "Enabled" and meta["Origin"] == "AWS_KMS"
    assert meta[field] == algorithms
    assert not ALGORITHM_FIELDS - {field} & meta.keys()
    # The current key material is named for symmetric encryption keys only (DescribeKey API reference).
    assert "CurrentKeyMaterialId" not in meta
    assert ok(world, admin, "DescribeKey", KeyId=meta["KeyId"])["KeyMetadata"] == meta


def test_the_deprecated_customer_master_key_spec_still_makes_the_key(world, admin):
    meta = make_key(world, admin, CustomerMasterKeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")

    assert meta["KeySpec"] == "ECC_NIST_P256"


@pytest.mark.parametrize("spec", ["RSA_2048", "ECC_NIST_P256", "HMAC_256", "ML_DSA_65", "ML_KEM_768"])
def test_a_key_other_than_symmetric_needs_its_key_usage(world, admin, spec):
    error = fails(world, admin, "CreateKey", "ValidationException", KeySpec=spec)

    assert "KeyUsage" in error.message


@pytest.mark.parametrize(
    "spec,usage",
    [
        ("SYMMETRIC_DEFAULT", "SIGN_VERIFY"),
        ("RSA_2048", "GENERATE_VERIFY_MAC"),
        ("RSA_4096", "KEY_AGREEMENT"),
        ("ECC_NIST_P256", "ENCRYPT_DECRYPT"),
        ("ECC_SECG_P256K1", "KEY_AGREEMENT"),
        ("ECC_NIST_EDWARDS25519", "KEY_AGREEMENT"),
        ("HMAC_256", "SIGN_VERIFY"),
        ("ML_DSA_65", "ENCRYPT_DECRYPT"),
        ("ML_KEM_768", "SIGN_VERIFY"),
    ],
)
def test_a_pair_aws_does_not_offer_is_refused(world, admin, spec, usage):
    error = fails(world, admin, "CreateKey", "ValidationException", KeySpec=spec, KeyUsage=usage)

    assert spec in error.message and usage in error.message
    assert ok(world, admin, "ListKeys")["Keys"] == []


@pytest.mark.parametrize("spec", ["SM2", "ML_KEM_512"])
def test_a_spec_this_sandbox_cannot_make_says_so(world, admin, spec):
    usage = "ENCAPSULATE_DECAPSULATE" if spec.startswith("ML_KEM") else "SIGN_VERIFY"

    error = fails(world, admin, "CreateKey", "UnsupportedOperationException", KeySpec=spec, KeyUsage=usage)

    assert spec in error.message


def test_the_condition_keys_of_create_key_name_the_spec_and_usage(world, admin):
    bob = make_user(world, admin, "bob", allow("kms:CreateKey"), {**deny("kms:CreateKey"), "Condition": {"StringEquals": {"kms:KeySpec": "RSA_4096"}}})

    make_key(world, bob, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    fails(world, bob, "CreateKey", "AccessDeniedException", KeySpec="RSA_4096", KeyUsage="SIGN_VERIFY")


def _public_type(spec):
    return PUBLIC_TYPES.get(spec) or PUBLIC_TYPES[spec.split("_")[0]]


@pytest.mark.parametrize("spec,usage,field,algorithms", ASYMMETRIC)
def test_get_public_key_gives_der_subject_public_key_info_with_the_keys_use(world, admin, spec, usage, field, algorithms):
    meta = make_key(world, admin, KeySpec=spec, KeyUsage=usage)

    response = ok(world, admin, "GetPublicKey", KeyId=meta["KeyId"])

    public_key = serialization.load_der_public_key(response["PublicKey"])
    assert isinstance(public_key, _public_type(spec))
    assert response == {
        "KeyId": meta["Arn"],
        "PublicKey": response["PublicKey"],
        "CustomerMasterKeySpec": spec,
        "KeySpec": spec,
        "KeyUsage": usage,
        field: algorithms,
    }


def test_each_key_has_its_own_key_pair(world, admin):
    one, two = (make_key(world, admin, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY") for _ in range(2))

    assert ok(world, admin, "GetPublicKey", KeyId=one["KeyId"])["PublicKey"] != ok(world, admin, "GetPublicKey", KeyId=two["KeyId"])["PublicKey"]


def test_get_public_key_takes_an_alias(world, admin):
    meta = make_key(world, admin, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    ok(world, admin, "CreateAlias", AliasName="alias/signer", TargetKeyId=meta["KeyId"])

    assert ok(world, admin, "GetPublicKey", KeyId="alias/signer")["KeyId"] == meta["Arn"]


@pytest.mark.parametrize("spec,usage", [("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"), ("HMAC_256", "GENERATE_VERIFY_MAC")])
def test_a_key_without_a_public_key_refuses_get_public_key(world, admin, spec, usage):
    meta = make_key(world, admin, KeySpec=spec, KeyUsage=usage)

    fails(world, admin, "GetPublicKey", "UnsupportedOperationException", KeyId=meta["KeyId"])


def test_get_public_key_needs_an_enabled_key(world, admin):
    meta = make_key(world, admin, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    ok(world, admin, "DisableKey", KeyId=meta["KeyId"])

    fails(world, admin, "GetPublicKey", "DisabledException", KeyId=meta["KeyId"])


def test_get_public_key_is_authorized_by_the_key_policy(world, admin):
    meta = make_key(world, admin, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    reader = make_user(world, admin, "reader", allow("kms:DescribeKey"))

    fails(world, reader, "GetPublicKey", "AccessDeniedException", KeyId=meta["KeyId"])


@pytest.mark.parametrize("spec,usage", [("RSA_2048", "ENCRYPT_DECRYPT"), ("ECC_NIST_P256", "SIGN_VERIFY"), ("HMAC_256", "GENERATE_VERIFY_MAC")])
@pytest.mark.parametrize("operation", ["EnableKeyRotation", "DisableKeyRotation", "GetKeyRotationStatus", "RotateKeyOnDemand", "ListKeyRotations"])
def test_only_symmetric_keys_rotate(world, admin, spec, usage, operation):
    meta = make_key(world, admin, KeySpec=spec, KeyUsage=usage)

    fails(world, admin, operation, "UnsupportedOperationException", KeyId=meta["KeyId"])


@pytest.mark.parametrize("operation,request_", [
    ("Encrypt", {"Plaintext": b"x"}),
    ("GenerateDataKey", {"KeySpec": "AES_256"}),
    ("GenerateDataKeyWithoutPlaintext", {"KeySpec": "AES_256"}),
])
@pytest.mark.parametrize("spec,usage", [("ECC_NIST_P256", "SIGN_VERIFY"), ("HMAC_256", "GENERATE_VERIFY_MAC"), ("ML_KEM_768", "ENCAPSULATE_DECAPSULATE")])
def test_a_key_of_another_usage_refuses_symmetric_encryption(world, admin, spec, usage, operation, request_):
    meta = make_key(world, admin, KeySpec=spec, KeyUsage=usage)

    error = fails(world, admin, operation, "InvalidKeyUsageException", KeyId=meta["KeyId"], **request_)

    assert f"key usage is {usage}" in error.message


@pytest.mark.parametrize("operation", ["GenerateDataKey", "GenerateDataKeyWithoutPlaintext"])
def test_an_rsa_encryption_key_makes_no_data_keys(world, admin, operation):
    meta = make_key(world, admin, KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")

    error = fails(world, admin, operation, "InvalidKeyUsageException", KeyId=meta["KeyId"], KeySpec="AES_256")

    assert error.message == "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."
