"""Key specs: which KeyUsage each KeySpec allows, the algorithms each pair offers, and its key material.

The table is AWS's (key-types, symm-asymm-choose-key-spec, hmac): DescribeKey and
GetPublicKey list a key's algorithms from it, CreateKey refuses a pair it lacks,
and each cryptographic operation refuses an algorithm the key's pair does not offer.

Material is bytes, sealed in the key record like a symmetric key's: the 32 bytes
of an AES-256 key, the bytes of an HMAC key, or an asymmetric private key as
PKCS #8 DER (ML-DSA and ML-KEM keys as their seeds, which PKCS #8 holds).
"""
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, mlkem, rsa

from ..errors import UnsupportedOperationException, ValidationException

RSA_ENCRYPTION = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
RSA_SIGNING = [
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
]
CURVES = {
    "ECC_NIST_P256": ec.SECP256R1,
    "ECC_NIST_P384": ec.SECP384R1,
    "ECC_NIST_P521": ec.SECP521R1,
    "ECC_SECG_P256K1": ec.SECP256K1,
}
ML_DSA = {"ML_DSA_44": mldsa.MLDSA44PrivateKey, "ML_DSA_65": mldsa.MLDSA65PrivateKey, "ML_DSA_87": mldsa.MLDSA87PrivateKey}
ML_KEM = {"ML_KEM_768": mlkem.MLKEM768PrivateKey, "ML_KEM_1024": mlkem.MLKEM1024PrivateKey}
# HMAC key specs: the key length KMS generates, in bytes (hmac: "key material of 224 … 512 bits").
HMAC_BYTES = {"HMAC_224": 28, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64}

# KeySpec -> {KeyUsage: {KeyMetadata field: algorithms}}.
USAGES = {
    "SYMMETRIC_DEFAULT": {"ENCRYPT_DECRYPT": {"EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"]}},
    **{
        spec: {
            "ENCRYPT_DECRYPT": {"EncryptionAlgorithms": RSA_ENCRYPTION},
            "SIGN_VERIFY": {"SigningAlgorithms": RSA_SIGNING},
        }
        for spec in ("RSA_2048", "RSA_3072", "RSA_4096")
    },
    # Each NIST curve signs with the SHA-2 of its own size only; ECDH is for the NIST curves.
    "ECC_NIST_P256": {"SIGN_VERIFY": {"SigningAlgorithms": ["ECDSA_SHA_256"]}, "KEY_AGREEMENT": {"KeyAgreementAlgorithms": ["ECDH"]}},
    "ECC_NIST_P384": {"SIGN_VERIFY": {"SigningAlgorithms": ["ECDSA_SHA_384"]}, "KEY_AGREEMENT": {"KeyAgreementAlgorithms": ["ECDH"]}},
    "ECC_NIST_P521": {"SIGN_VERIFY": {"SigningAlgorithms": ["ECDSA_SHA_512"]}, "KEY_AGREEMENT": {"KeyAgreementAlgorithms": ["ECDH"]}},
    "ECC_SECG_P256K1": {"SIGN_VERIFY": {"SigningAlgorithms": ["ECDSA_SHA_256"]}},
    "ECC_NIST_EDWARDS25519": {"SIGN_VERIFY": {"SigningAlgorithms": ["ED25519_SHA_512", "ED25519_PH_SHA_512"]}},
    **{spec: {"SIGN_VERIFY": {"SigningAlgorithms": ["ML_DSA_SHAKE_256"]}} for spec in ("ML_DSA_44", "ML_DSA_65", "ML_DSA_87")},
    **{spec: {"ENCAPSULATE_DECAPSULATE": {"EncapsulationAlgorithms": ["ML_KEM"]}} for spec in ML_KEM},
    **{spec: {"GENERATE_VERIFY_MAC": {"MacAlgorithms": [f"HMAC_SHA_{spec[5:]}"]}} for spec in HMAC_BYTES},
}

# Specs AWS offers that this sandbox cannot make, and why (CreateKey answers UnsupportedOperationException).
UNAVAILABLE = {
    "SM2": "KeySpec SM2 is supported only in the AWS Regions in China.",
    "ML_KEM_512": "KeySpec ML_KEM_512 is not available in this sandbox: its cryptography library offers ML-KEM-768 and ML-KEM-1024 only.",
}


def check(spec, usage):
    """The KeySpec / KeyUsage pair of a CreateKey request, refused as AWS refuses it."""
    if spec in UNAVAILABLE:
        raise UnsupportedOperationException(UNAVAILABLE[spec])
    if usage is None:
        if spec != "SYMMETRIC_DEFAULT":
            raise ValidationException("You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.")
        usage = "ENCRYPT_DECRYPT"
    if usage not in USAGES[spec]:
        raise ValidationException(f"KeyUsage {usage} is not compatible with KeySpec {spec}.")
    return usage


def algorithms(spec, usage):
    """The KeyMetadata fields that list a key's algorithms, e.g. {"SigningAlgorithms": [...]}."""
    return {field: list(names) for field, names in USAGES[spec][usage].items()}


def is_symmetric(spec):
    return spec == "SYMMETRIC_DEFAULT"


def is_hmac(spec):
    return spec in HMAC_BYTES


def is_asymmetric(spec):
    return not is_symmetric(spec) and not is_hmac(spec)


def importable(spec):
    """Whether a key of `spec` can take imported material (importing-keys-conceptual, "Requirements
    for imported key material": not ML-DSA, and neither Ed25519 nor ML-KEM is listed)."""
    return is_symmetric(spec) or is_hmac(spec) or spec.startswith("RSA_") or spec in CURVES


def is_private_key_of(spec, private_key):
    """Whether a private key is of `spec`: the RSA modulus size, or the elliptic curve."""
    if spec.startswith("RSA_"):
        return isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size == int(spec[4:])
    return isinstance(private_key, ec.EllipticCurvePrivateKey) and private_key.curve.name == CURVES[spec].name


def generate(spec):
    """New key material for `spec`, as the bytes the key record seals."""
    if is_symmetric(spec):
        return os.urandom(32)
    if is_hmac(spec):
        return os.urandom(HMAC_BYTES[spec])
    return private_bytes(new_private_key(spec))


def new_private_key(spec):
    if spec.startswith("RSA_"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(spec[4:]))
    if spec in CURVES:
        return ec.generate_private_key(CURVES[spec]())
    if spec == "ECC_NIST_EDWARDS25519":
        return ed25519.Ed25519PrivateKey.generate()
    if spec in ML_DSA:
        return ML_DSA[spec].generate()
    return ML_KEM[spec].generate()


def private_bytes(private_key):
    return private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def load_private(material):
    return serialization.load_der_private_key(material, password=None)


def public_der(private_key):
    """The public key as DER-encoded SubjectPublicKeyInfo (RFC 5280), as GetPublicKey returns it."""
    return private_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
