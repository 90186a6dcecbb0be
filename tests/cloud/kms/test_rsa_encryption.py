"""Encrypt, Decrypt and ReEncrypt with RSA encryption keys (RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256).

The ciphertext is raw RSAES-OAEP output, as AWS's is: made outside KMS with
GetPublicKey's key (by `cryptography` or openssl), it decrypts in kmslab; and
what kmslab makes, only the private key (in kmslab) opens.
"""
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from ..factories import call, fails, make_key, ok

from kmslab.cloud.kms import ciphertext

ALGORITHMS = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
# AWS's plaintext limits per key spec and algorithm (asymmetric-key-specs, "RSA key specs").
LIMITS = {
    ("RSA_2048", "RSAES_OAEP_SHA_1"): 214,
    ("RSA_2048", "RSAES_OAEP_SHA_256"): 190,
    ("RSA_3072", "RSAES_OAEP_SHA_1"): 342,
    ("RSA_3072", "RSAES_OAEP_SHA_256"): 318,
    ("RSA_4096", "RSAES_OAEP_SHA_1"): 470,
    ("RSA_4096", "RSAES_OAEP_SHA_256"): 446,
}


def rsa_key(world, admin, spec="RSA_2048"):
    return make_key(world, admin, KeySpec=spec, KeyUsage="ENCRYPT_DECRYPT")


def public_key(world, admin, key):
    return serialization.load_der_public_key(ok(world, admin, "GetPublicKey", KeyId=key["KeyId"])["PublicKey"])


def oaep(algorithm):
    digest = hashes.SHA1() if algorithm == "RSAES_OAEP_SHA_1" else hashes.SHA256()
    return padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("spec", ["RSA_2048", "RSA_3072", "RSA_4096"])
def test_kmslab_decrypts_what_was_encrypted_outside_with_the_public_key(world, admin, spec, algorithm):
    key = rsa_key(world, admin, spec)
    blob = public_key(world, admin, key).encrypt(b"made outside KMS", oaep(algorithm))

    plain = ok(world, admin, "Decrypt", CiphertextBlob=blob, KeyId=key["KeyId"], EncryptionAlgorithm=algorithm)

    # No KeyMaterialId: AWS returns it for symmetric encryption keys only.
    assert plain == {"KeyId": key["Arn"], "Plaintext": b"made outside KMS", "EncryptionAlgorithm": algorithm}


@pytest.mark.parametrize("algorithm, digest", [("RSAES_OAEP_SHA_1", "sha1"), ("RSAES_OAEP_SHA_256", "sha256")])
def test_kmslab_decrypts_what_openssl_encrypted_with_the_public_key(world, admin, tmp_path, algorithm, digest):
    key = rsa_key(world, admin)
    (tmp_path / "public.der").write_bytes(ok(world, admin, "GetPublicKey", KeyId=key["KeyId"])["PublicKey"])
    (tmp_path / "message").write_bytes(b"encrypted by openssl")
    subprocess.run(
        ["openssl", "pkeyutl", "-encrypt", "-pubin", "-keyform", "DER", "-inkey", "public.der",
         "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", f"rsa_oaep_md:{digest}", "-pkeyopt", f"rsa_mgf1_md:{digest}",
         "-in", "message", "-out", "message.enc"],
        cwd=tmp_path, check=True, capture_output=True,
    )

    plain = ok(world, admin, "Decrypt", CiphertextBlob=(tmp_path / "message.enc").read_bytes(), KeyId=key["KeyId"],
               EncryptionAlgorithm=algorithm)

    assert plain["Plaintext"] == b"encrypted by openssl"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_kmslab_encrypts_raw_oaep_that_kmslab_decrypts(world, admin, algorithm):
    key = rsa_key(world, admin)

    encrypted = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"round trip", EncryptionAlgorithm=algorithm)
    plain = ok(world, admin, "Decrypt", CiphertextBlob=encrypted["CiphertextBlob"], KeyId=key["Arn"],
               EncryptionAlgorithm=algorithm)

    assert encrypted["KeyId"] == key["Arn"] and encrypted["EncryptionAlgorithm"] == algorithm
    # Raw RSA output: exactly the modulus size, no header, and randomized (OAEP).
    assert len(encrypted["CiphertextBlob"]) == 256
    again = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"round trip", EncryptionAlgorithm=algorithm)
    assert again["CiphertextBlob"] != encrypted["CiphertextBlob"]
    assert plain["Plaintext"] == b"round trip"


def test_what_kmslab_encrypts_is_standard_oaep_that_the_private_key_opens_outside(world, admin, private_key_pool):
    """Only the private key opens it, and a learner never has that one; the test does: the
    key's private key is the first RSA_2048 key of the session's pool (conftest.pooled_private_keys)."""
    key = rsa_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"standard", EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]

    private = private_key_pool["RSA_2048"][0]

    assert private.decrypt(blob, oaep("RSAES_OAEP_SHA_256")) == b"standard"


@pytest.mark.parametrize("spec, algorithm", list(LIMITS))
def test_each_spec_and_algorithm_encrypts_up_to_its_limit_and_not_a_byte_more(world, admin, spec, algorithm):
    key = rsa_key(world, admin, spec)
    limit = LIMITS[spec, algorithm]

    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x" * limit, EncryptionAlgorithm=algorithm)["CiphertextBlob"]
    error = fails(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x" * (limit + 1), EncryptionAlgorithm=algorithm)

    assert (error.code, error.message) == (
        "ValidationException",
        f"Algorithm {algorithm} and key spec {spec} cannot encrypt data larger than {limit} bytes.",
    )
    assert ok(world, admin, "Decrypt", CiphertextBlob=blob, KeyId=key["KeyId"], EncryptionAlgorithm=algorithm)["Plaintext"] == b"x" * limit


@pytest.mark.parametrize("operation, request_", [
    ("Encrypt", {"Plaintext": b"x"}),
    ("Decrypt", {"CiphertextBlob": b"\0" * 256}),
])
def test_an_rsa_key_needs_its_encryption_algorithm(world, admin, operation, request_):
    key = rsa_key(world, admin)

    error = fails(world, admin, operation, KeyId=key["KeyId"], **request_)

    assert (error.code, error.message) == ("InvalidKeyUsageException", "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.")


def test_an_rsa_key_refuses_an_algorithm_of_another_key_type(world, admin):
    key = rsa_key(world, admin)

    error = fails(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="SM2PKE")

    assert (error.code, error.message) == ("InvalidKeyUsageException", "Algorithm SM2PKE is incompatible with key spec RSA_2048.")


def test_an_rsa_signing_key_does_not_encrypt(world, admin):
    key = make_key(world, admin, KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")

    error = fails(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")

    assert (error.code, error.message) == ("InvalidKeyUsageException", f"{key['Arn']} key usage is SIGN_VERIFY which is not valid for Encrypt.")


CONTEXT_REFUSED = ("ValidationException", "EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs.")


def test_an_rsa_key_takes_no_encryption_context(world, admin):
    key = rsa_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1")["CiphertextBlob"]

    encrypt = fails(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1",
                    EncryptionContext={"tenant": "acme"})
    decrypt = fails(world, admin, "Decrypt", CiphertextBlob=blob, KeyId=key["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_1",
                    EncryptionContext={"tenant": "acme"})

    assert (encrypt.code, encrypt.message) == CONTEXT_REFUSED
    assert (decrypt.code, decrypt.message) == CONTEXT_REFUSED


def test_an_rsa_ciphertext_without_its_key_id_is_invalid(world, admin):
    """The raw blob names no key, and is no symmetric blob either."""
    key = rsa_key(world, admin)
    blob = bytes([ciphertext.VERSION])
    while blob[0] == ciphertext.VERSION:  # 1 in 256 starts as a symmetric blob's header would; take another
        blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]

    error = fails(world, admin, "Decrypt", CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256")

    assert (error.code, error.message) == ("InvalidCiphertextException", "")


def test_a_wrong_key_algorithm_or_ciphertext_is_an_invalid_ciphertext(world, admin):
    key, other = rsa_key(world, admin), rsa_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]
    symmetric = make_key(world, admin)
    symmetric_blob = ok(world, admin, "Encrypt", KeyId=symmetric["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    tampered = bytes([blob[0] ^ 1]) + blob[1:]

    for request in [
        {"CiphertextBlob": blob, "KeyId": other["KeyId"], "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
        {"CiphertextBlob": blob, "KeyId": key["KeyId"], "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"},
        {"CiphertextBlob": tampered, "KeyId": key["KeyId"], "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
        {"CiphertextBlob": blob[:-1], "KeyId": key["KeyId"], "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
        {"CiphertextBlob": symmetric_blob, "KeyId": key["KeyId"], "EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
    ]:
        error = fails(world, admin, "Decrypt", **request)
        assert (error.code, error.message) == ("InvalidCiphertextException", ""), request


def test_decrypt_with_a_disabled_rsa_key_is_refused(world, admin):
    key = rsa_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]
    ok(world, admin, "DisableKey", KeyId=key["KeyId"])

    error = fails(world, admin, "Decrypt", CiphertextBlob=blob, KeyId=key["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256")

    assert (error.code, error.message) == ("DisabledException", f"{key['Arn']} is disabled.")


def test_reencrypt_from_an_rsa_key_to_a_symmetric_key_and_back(world, admin):
    rsa, symmetric = rsa_key(world, admin), make_key(world, admin)
    blob = public_key(world, admin, rsa).encrypt(b"moving", oaep("RSAES_OAEP_SHA_1"))

    to_symmetric = ok(world, admin, "ReEncrypt", CiphertextBlob=blob, SourceKeyId=rsa["KeyId"],
                      SourceEncryptionAlgorithm="RSAES_OAEP_SHA_1", DestinationKeyId=symmetric["KeyId"],
                      DestinationEncryptionContext={"tenant": "acme"})
    to_rsa = ok(world, admin, "ReEncrypt", CiphertextBlob=to_symmetric["CiphertextBlob"], SourceEncryptionContext={"tenant": "acme"},
                DestinationKeyId=rsa["KeyId"], DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_256")

    assert {k: v for k, v in to_symmetric.items() if k != "CiphertextBlob"} == {
        "SourceKeyId": rsa["Arn"], "KeyId": symmetric["Arn"],
        "SourceEncryptionAlgorithm": "RSAES_OAEP_SHA_1", "DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "DestinationKeyMaterialId": symmetric["CurrentKeyMaterialId"],
    }
    assert {k: v for k, v in to_rsa.items() if k != "CiphertextBlob"} == {
        "SourceKeyId": symmetric["Arn"], "KeyId": rsa["Arn"],
        "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT", "DestinationEncryptionAlgorithm": "RSAES_OAEP_SHA_256",
        "SourceKeyMaterialId": symmetric["CurrentKeyMaterialId"],
    }
    plain = ok(world, admin, "Decrypt", CiphertextBlob=to_rsa["CiphertextBlob"], KeyId=rsa["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert plain["Plaintext"] == b"moving"


def test_reencrypt_to_an_rsa_key_refuses_a_plaintext_over_its_limit(world, admin):
    rsa, symmetric = rsa_key(world, admin), make_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=symmetric["KeyId"], Plaintext=b"x" * 191)["CiphertextBlob"]

    error = fails(world, admin, "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=rsa["KeyId"],
                  DestinationEncryptionAlgorithm="RSAES_OAEP_SHA_256")

    assert (error.code, error.message) == (
        "ValidationException", "Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than 190 bytes.")


def test_reencrypt_needs_the_rsa_source_key_and_algorithm(world, admin):
    rsa, symmetric = rsa_key(world, admin), make_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=rsa["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]

    no_algorithm = fails(world, admin, "ReEncrypt", CiphertextBlob=blob, SourceKeyId=rsa["KeyId"], DestinationKeyId=symmetric["KeyId"])

    assert (no_algorithm.code, no_algorithm.message) == (
        "InvalidKeyUsageException", "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.")


def test_the_cloudtrail_record_names_the_algorithm_and_no_material(world, admin):
    key = rsa_key(world, admin)

    outcome = call(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"never logged", EncryptionAlgorithm="RSAES_OAEP_SHA_256")

    assert outcome.record["requestParameters"] == {"keyId": key["KeyId"], "encryptionAlgorithm": "RSAES_OAEP_SHA_256"}
    assert outcome.record["responseElements"] is None
    assert "additionalEventData" not in outcome.record
    assert "never logged" not in str(outcome.record)


def test_dry_run_checks_the_size_limit_first(world, admin):
    key = rsa_key(world, admin)
    request = {"KeyId": key["KeyId"], "EncryptionAlgorithm": "RSAES_OAEP_SHA_256", "DryRun": True}

    assert fails(world, admin, "Encrypt", Plaintext=b"x" * 191, **request).code == "ValidationException"
    assert fails(world, admin, "Encrypt", Plaintext=b"x" * 190, **request).code == "DryRunOperationException"


def test_the_console_anatomy_of_an_rsa_ciphertext_is_one_raw_range(world, admin):
    key = rsa_key(world, admin)
    blob = b"\0" + ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"][1:]

    assert ciphertext.anatomy(blob) == [{"name": "raw RSAES-OAEP ciphertext", "start": 0, "end": 256, "value": "256 bytes"}]
