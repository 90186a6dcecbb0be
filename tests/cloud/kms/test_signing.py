"""Sign and Verify for every KeySpec, SigningAlgorithm and MessageType AWS pairs, checked both in
kmslab and outside it (`cryptography` and the system openssl with GetPublicKey's key), signatures
made outside (with imported RSA and ECC private keys) verified in kmslab, and every refusal the
Sign and Verify API references document."""
import hashlib
import json
import shutil
import subprocess

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa

from ..factories import call, fails, import_material, make_key, make_user, ok

RSA_ALGORITHMS = [f"RSASSA_{scheme}_SHA_{bits}" for scheme in ("PSS", "PKCS1_V1_5") for bits in (256, 384, 512)]
# (KeySpec, SigningAlgorithm, MessageType): every combination AWS accepts (Sign API reference, MessageType).
CASES = [
    *[(f"RSA_{n}", algorithm, kind) for n in (2048, 3072, 4096) for algorithm in RSA_ALGORITHMS for kind in ("RAW", "DIGEST")],
    *[(spec, algorithm, kind)
      for spec, algorithm in [("ECC_NIST_P256", "ECDSA_SHA_256"), ("ECC_NIST_P384", "ECDSA_SHA_384"),
                              ("ECC_NIST_P521", "ECDSA_SHA_512"), ("ECC_SECG_P256K1", "ECDSA_SHA_256")]
      for kind in ("RAW", "DIGEST")],
    ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", "RAW"),
    *[(f"ML_DSA_{n}", "ML_DSA_SHAKE_256", kind) for n in (44, 65, 87) for kind in ("RAW", "EXTERNAL_MU")],
]
MESSAGE = b"The quick brown fox signs the lazy dog's release notes."
SHA = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def case_id(case):
    return "-".join(case)


def sha(algorithm):
    return SHA[algorithm[-3:]]()


def digest_of(algorithm, message):
    return hashlib.new(sha(algorithm).name, message).digest()


def mu_of(public_der, message):
    """FIPS 204's mu of `message` under this public key, with the empty context, as a signer
    outside KMS computes it for EXTERNAL_MU (mldsa, "Offline verification with ML-DSA key pairs")."""
    hasher = mldsa.MLDSAMuHasher(serialization.load_der_public_key(public_der))
    hasher.update(message)
    return hasher.finalize()


def message_for(kind, algorithm, public_der, message=MESSAGE):
    """The Message field of a request of type `kind` for `message`."""
    if kind == "DIGEST":
        return digest_of(algorithm, message)
    if kind == "EXTERNAL_MU":
        return mu_of(public_der, message)
    return message


def verify_outside(public_der, algorithm, message, signature):
    """Verify as a learner would with GetPublicKey's key and `cryptography`, written from the
    algorithms' definitions, not from kmslab's code. Raises InvalidSignature."""
    public = serialization.load_der_public_key(public_der)
    if algorithm.startswith("RSASSA_PSS_"):
        assert isinstance(public, rsa.RSAPublicKey)
        pss = padding.PSS(mgf=padding.MGF1(sha(algorithm)), salt_length=sha(algorithm).digest_size)
        public.verify(signature, message, pss, sha(algorithm))
    elif algorithm.startswith("RSASSA_PKCS1_V1_5_"):
        assert isinstance(public, rsa.RSAPublicKey)
        public.verify(signature, message, padding.PKCS1v15(), sha(algorithm))
    elif algorithm.startswith("ECDSA_"):
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(signature, message, ec.ECDSA(sha(algorithm)))
    elif algorithm == "ED25519_SHA_512":
        assert isinstance(public, ed25519.Ed25519PublicKey)
        public.verify(signature, message)
    else:
        public.verify(signature, message)


def openssl_verify(tmp_path, public_der, algorithm, message, signature, digest=None):
    """The system openssl's verdict on temporary files: `openssl dgst -verify` on the message
    (`pkeyutl -rawin` for Ed25519), or with `digest`, `openssl pkeyutl -verify` on the digest
    alone, as a signer that hashed outside checks it. True when openssl says it verified."""
    pem = serialization.load_der_public_key(public_der).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "public.pem").write_bytes(pem)
    (tmp_path / "message").write_bytes(message if digest is None else digest)
    (tmp_path / "signature").write_bytes(signature)
    pss = algorithm.startswith("RSASSA_PSS_")
    if algorithm == "ED25519_SHA_512":
        command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "public.pem", "-rawin",
                   "-in", "message", "-sigfile", "signature"]
    elif digest is not None:
        command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "public.pem", "-in", "message",
                   "-sigfile", "signature", "-pkeyopt", f"digest:sha{algorithm[-3:]}"]
        if pss:
            command += ["-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:digest"]
    else:
        command = ["openssl", "dgst", f"-sha{algorithm[-3:]}", "-verify", "public.pem", "-signature", "signature"]
        if pss:
            command += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"]
        command.append("message")
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    # dgst says "Verified OK", pkeyutl "Signature Verified Successfully"; both exit 1 on a failure.
    return done.returncode == 0 and ("Verified OK" in done.stdout or "Verified Successfully" in done.stdout)


def signing_key(world, admin, spec):
    """(key id, GetPublicKey's DER public key) of a new SIGN_VERIFY key."""
    key_id = make_key(world, admin, KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyId"]
    return key_id, ok(world, admin, "GetPublicKey", KeyId=key_id)["PublicKey"]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_kmslab_signature_verifies_in_kmslab_and_outside_it(world, admin, case):
    spec, algorithm, kind = case
    key_id, public_der = signing_key(world, admin, spec)
    message = message_for(kind, algorithm, public_der)

    signed = ok(world, admin, "Sign", KeyId=key_id, Message=message, MessageType=kind, SigningAlgorithm=algorithm)
    arn = f"arn:aws:kms:us-east-1:111122223333:key/{key_id}"

    assert signed == {"KeyId": arn, "Signature": signed["Signature"], "SigningAlgorithm": algorithm}
    verified = ok(world, admin, "Verify", KeyId=key_id, Message=message, MessageType=kind,
                  Signature=signed["Signature"], SigningAlgorithm=algorithm)
    assert verified == {"KeyId": arn, "SignatureValid": True, "SigningAlgorithm": algorithm}
    # A digest or mu signs the message it stands for: outside, the whole message verifies.
    verify_outside(public_der, algorithm, MESSAGE, signed["Signature"])


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl on this machine")
@pytest.mark.parametrize("case", [c for c in CASES if not c[0].startswith("ML_DSA")], ids=case_id)
def test_openssl_verifies_a_kmslab_signature_with_the_public_key(world, admin, case, tmp_path):
    spec, algorithm, kind = case
    key_id, public_der = signing_key(world, admin, spec)
    message = message_for(kind, algorithm, public_der)
    signature = ok(world, admin, "Sign", KeyId=key_id, Message=message, MessageType=kind,
                   SigningAlgorithm=algorithm)["Signature"]

    assert openssl_verify(tmp_path, public_der, algorithm, MESSAGE, signature)
    assert not openssl_verify(tmp_path, public_der, algorithm, MESSAGE + b"!", signature)
    if kind == "DIGEST":
        assert openssl_verify(tmp_path, public_der, algorithm, MESSAGE, signature, digest=message)
        assert not openssl_verify(tmp_path, public_der, algorithm, MESSAGE, signature, digest=digest_of(algorithm, b"other"))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_verify_refuses_another_message_another_key_and_a_broken_signature(world, admin, case):
    spec, algorithm, kind = case
    key_id, public_der = signing_key(world, admin, spec)
    other_id, other_der = signing_key(world, admin, spec)
    message = message_for(kind, algorithm, public_der)
    signature = ok(world, admin, "Sign", KeyId=key_id, Message=message, MessageType=kind,
                   SigningAlgorithm=algorithm)["Signature"]
    request = {"MessageType": kind, "SigningAlgorithm": algorithm}
    changed = message_for(kind, algorithm, public_der, MESSAGE + b"!")
    flipped = bytes([signature[0] ^ 1]) + signature[1:]

    for key, text, sig in [(key_id, changed, signature), (other_id, message_for(kind, algorithm, other_der), signature),
                           (key_id, message, flipped), (key_id, message, signature[:-1]), (key_id, message, b"\x00")]:
        error = fails(world, admin, "Verify", "KMSInvalidSignatureException", KeyId=key, Message=text, Signature=sig, **request)
        assert error.message == ""


@pytest.mark.parametrize("spec", ["RSA_2048", "ECC_NIST_P256", "ECC_NIST_EDWARDS25519", "ML_DSA_44"])
def test_verify_refuses_a_signature_made_outside_with_another_private_key(world, admin, spec):
    """Until imported signing material exists, the signature of a key made outside is one
    kmslab's key must refuse."""
    key_id, _ = signing_key(world, admin, spec)
    algorithm = ok(world, admin, "DescribeKey", KeyId=key_id)["KeyMetadata"]["SigningAlgorithms"][0]
    if spec == "RSA_2048":
        outside = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        signature = outside.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    elif spec == "ECC_NIST_P256":
        signature = ec.generate_private_key(ec.SECP256R1()).sign(MESSAGE, ec.ECDSA(hashes.SHA256()))
    elif spec == "ECC_NIST_EDWARDS25519":
        signature = ed25519.Ed25519PrivateKey.generate().sign(MESSAGE)
    else:
        signature = mldsa.MLDSA44PrivateKey.generate().sign(MESSAGE)

    fails(world, admin, "Verify", "KMSInvalidSignatureException", KeyId=key_id, Message=MESSAGE,
          Signature=signature, SigningAlgorithm=algorithm)


@pytest.mark.parametrize("algorithm", ["RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_512", "ECDSA_SHA_384"])
def test_the_message_type_of_verify_need_not_be_the_one_of_sign(world, admin, algorithm):
    """Verify API reference: "The message type does not need to be the same as the one used for
    signing"; a message and its digest are the same message."""
    key_id, _ = signing_key(world, admin, "ECC_NIST_P384" if algorithm.startswith("ECDSA") else "RSA_3072")
    digest = digest_of(algorithm, MESSAGE)
    by_raw = ok(world, admin, "Sign", KeyId=key_id, Message=MESSAGE, SigningAlgorithm=algorithm)["Signature"]
    by_digest = ok(world, admin, "Sign", KeyId=key_id, Message=digest, MessageType="DIGEST",
                   SigningAlgorithm=algorithm)["Signature"]

    ok(world, admin, "Verify", KeyId=key_id, Message=digest, MessageType="DIGEST", Signature=by_raw, SigningAlgorithm=algorithm)
    ok(world, admin, "Verify", KeyId=key_id, Message=MESSAGE, Signature=by_digest, SigningAlgorithm=algorithm)
    # A digest sent as RAW is hashed again: it is another message.
    fails(world, admin, "Verify", "KMSInvalidSignatureException", KeyId=key_id, Message=digest,
          Signature=by_raw, SigningAlgorithm=algorithm)


def test_pkcs1_v1_5_signatures_are_deterministic_and_the_same_for_a_message_and_its_digest(world, admin):
    key_id, _ = signing_key(world, admin, "RSA_2048")
    algorithm = "RSASSA_PKCS1_V1_5_SHA_256"

    by_raw = ok(world, admin, "Sign", KeyId=key_id, Message=MESSAGE, SigningAlgorithm=algorithm)["Signature"]
    by_digest = ok(world, admin, "Sign", KeyId=key_id, Message=digest_of(algorithm, MESSAGE), MessageType="DIGEST",
                   SigningAlgorithm=algorithm)["Signature"]

    assert by_raw == by_digest


def test_an_ml_dsa_signature_of_the_raw_message_verifies_as_its_external_mu(world, admin):
    """mldsa: "The signatures produced by the externally computed μ are the same as the RAW ones"."""
    key_id, public_der = signing_key(world, admin, "ML_DSA_65")
    signature = ok(world, admin, "Sign", KeyId=key_id, Message=MESSAGE, SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]

    ok(world, admin, "Verify", KeyId=key_id, Message=mu_of(public_der, MESSAGE), MessageType="EXTERNAL_MU",
       Signature=signature, SigningAlgorithm="ML_DSA_SHAKE_256")


def test_a_signature_verified_with_another_algorithm_of_the_key_is_invalid(world, admin):
    key_id, _ = signing_key(world, admin, "RSA_2048")
    signature = ok(world, admin, "Sign", KeyId=key_id, Message=MESSAGE, SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]

    for algorithm in ("RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PSS_SHA_384"):
        fails(world, admin, "Verify", "KMSInvalidSignatureException", KeyId=key_id, Message=MESSAGE,
              Signature=signature, SigningAlgorithm=algorithm)


@pytest.mark.parametrize("spec, algorithm, size", [
    ("RSA_2048", "RSASSA_PSS_SHA_256", 31), ("RSA_2048", "RSASSA_PSS_SHA_256", 48),
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_384", 32), ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512", 48),
    ("ECC_NIST_P256", "ECDSA_SHA_256", 20), ("ECC_NIST_P521", "ECDSA_SHA_512", 32),
])
@pytest.mark.parametrize("operation", ["Sign", "Verify"])
def test_a_digest_must_be_as_long_as_the_algorithms_hash(world, admin, spec, algorithm, size, operation):
    """Sign API reference: "the length of the Message value must match the length of hashed
    messages for the specified signing algorithm"."""
    key_id, _ = signing_key(world, admin, spec)
    extra = {"Signature": b"\x01" * 64} if operation == "Verify" else {}

    error = fails(world, admin, operation, "ValidationException", KeyId=key_id, Message=b"\x07" * size,
                  MessageType="DIGEST", SigningAlgorithm=algorithm, **extra)

    assert error.message == f"Digest is invalid length for algorithm {algorithm}."


@pytest.mark.parametrize("operation", ["Sign", "Verify"])
def test_a_raw_message_takes_up_to_4096_bytes(world, admin, operation):
    key_id, _ = signing_key(world, admin, "ECC_NIST_P256")
    signature = ok(world, admin, "Sign", KeyId=key_id, Message=b"m" * 4096, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    ok(world, admin, "Verify", KeyId=key_id, Message=b"m" * 4096, Signature=signature, SigningAlgorithm="ECDSA_SHA_256")
    extra = {"Signature": signature} if operation == "Verify" else {}

    error = fails(world, admin, operation, "ValidationException", KeyId=key_id, Message=b"m" * 4097,
                  SigningAlgorithm="ECDSA_SHA_256", **extra)

    assert error.message == (
        "1 validation error detected: Value at 'message' failed to satisfy constraint: "
        "Member must have length less than or equal to 4096"
    )


def test_an_ml_dsa_key_takes_4096_raw_bytes_and_larger_messages_as_external_mu(world, admin):
    """mldsa: RAW messages up to 4 KB; "For larger messages, you must externally compute" mu."""
    key_id, public_der = signing_key(world, admin, "ML_DSA_87")
    large = b"L" * 100_000
    fails(world, admin, "Sign", "ValidationException", KeyId=key_id, Message=large[:4097], SigningAlgorithm="ML_DSA_SHAKE_256")

    signature = ok(world, admin, "Sign", KeyId=key_id, Message=mu_of(public_der, large), MessageType="EXTERNAL_MU",
                   SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]

    serialization.load_der_public_key(public_der).verify(signature, large)


@pytest.mark.parametrize("spec, algorithm, kind, message", [
    # Sign API reference, MessageType: "ED25519_SHA_512 signing algorithm requires KMS MessageType:RAW",
    # "ED25519_PH_SHA_512 signing algorithm requires KMS MessageType:DIGEST".
    ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", "DIGEST", b"d" * 64),
    ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", "RAW", MESSAGE),
    ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", "EXTERNAL_MU", b"d" * 64),
    # ML-DSA signs a message (RAW) or its mu (EXTERNAL_MU); a bare hash is neither.
    ("ML_DSA_44", "ML_DSA_SHAKE_256", "DIGEST", b"d" * 32),
    # EXTERNAL_MU is ML-DSA's alone.
    ("RSA_2048", "RSASSA_PSS_SHA_512", "EXTERNAL_MU", b"d" * 64),
    ("ECC_NIST_P256", "ECDSA_SHA_256", "EXTERNAL_MU", b"d" * 64),
])
def test_a_message_type_the_algorithm_does_not_take_is_refused(world, admin, spec, algorithm, kind, message):
    key_id, _ = signing_key(world, admin, spec)

    for operation, extra in [("Sign", {}), ("Verify", {"Signature": b"\x01" * 64})]:
        error = fails(world, admin, operation, "ValidationException", KeyId=key_id, Message=message, MessageType=kind,
                      SigningAlgorithm=algorithm, **extra)
        assert error.message == f"Message type {kind} is incompatible with algorithm {algorithm}."


@pytest.mark.parametrize("size", [32, 63, 65])
def test_external_mu_is_64_bytes(world, admin, size):
    key_id, _ = signing_key(world, admin, "ML_DSA_44")

    fails(world, admin, "Sign", "ValidationException", KeyId=key_id, Message=b"m" * size, MessageType="EXTERNAL_MU",
          SigningAlgorithm="ML_DSA_SHAKE_256")


@pytest.mark.parametrize("operation", ["Sign", "Verify"])
def test_ed25519ph_is_checked_as_aws_checks_it_then_refused_as_unavailable_here(world, admin, operation):
    key_id, _ = signing_key(world, admin, "ECC_NIST_EDWARDS25519")
    request = {"KeyId": key_id, "MessageType": "DIGEST", "SigningAlgorithm": "ED25519_PH_SHA_512"}
    if operation == "Verify":
        request["Signature"] = b"\x01" * 64
    digest = hashlib.sha512(MESSAGE).digest()

    error = fails(world, admin, operation, "ValidationException", Message=digest[:32], **request)
    assert error.message == "Digest is invalid length for algorithm ED25519_PH_SHA_512."
    error = fails(world, admin, operation, "UnsupportedOperationException", Message=digest, **request)
    assert "Ed25519ph" in error.message and "sandbox" in error.message
    # DryRun must not promise a signature the sandbox cannot make.
    fails(world, admin, operation, "UnsupportedOperationException", Message=digest, DryRun=True, **request)


@pytest.mark.parametrize("operation", ["Sign", "Verify"])
@pytest.mark.parametrize("spec, usage", [("SYMMETRIC_DEFAULT", None), ("RSA_2048", "ENCRYPT_DECRYPT"),
                                          ("HMAC_256", "GENERATE_VERIFY_MAC"), ("ECC_NIST_P256", "KEY_AGREEMENT")])
def test_a_key_that_is_not_for_signing_refuses_to_sign_and_verify(world, admin, spec, usage, operation):
    meta = make_key(world, admin, KeySpec=spec, **({"KeyUsage": usage} if usage else {}))
    extra = {"Signature": b"\x01" * 64} if operation == "Verify" else {}

    error = fails(world, admin, operation, "InvalidKeyUsageException", KeyId=meta["KeyId"], Message=MESSAGE,
                  SigningAlgorithm="ECDSA_SHA_256", **extra)

    assert error.message == f"{meta['Arn']} key usage is {meta['KeyUsage']} which is not valid for {operation}."


@pytest.mark.parametrize("spec, algorithm", [
    ("ECC_NIST_P256", "ECDSA_SHA_384"), ("ECC_NIST_P384", "ECDSA_SHA_256"), ("ECC_NIST_P521", "ECDSA_SHA_384"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_512"), ("RSA_2048", "ECDSA_SHA_256"), ("ECC_NIST_P256", "RSASSA_PSS_SHA_256"),
    ("ECC_NIST_EDWARDS25519", "ECDSA_SHA_512"), ("ML_DSA_65", "ED25519_SHA_512"), ("RSA_4096", "ML_DSA_SHAKE_256"),
    ("ECC_NIST_P256", "SM2DSA"),
])
@pytest.mark.parametrize("operation", ["Sign", "Verify"])
def test_an_algorithm_the_key_spec_does_not_offer_is_refused(world, admin, spec, algorithm, operation):
    key_id, _ = signing_key(world, admin, spec)
    extra = {"Signature": b"\x01" * 64} if operation == "Verify" else {}

    error = fails(world, admin, operation, "InvalidKeyUsageException", KeyId=key_id, Message=MESSAGE,
                  SigningAlgorithm=algorithm, **extra)

    assert error.message == f"Algorithm {algorithm} is incompatible with key spec {spec}."


def test_the_signing_algorithm_is_required(world, admin):
    key_id, _ = signing_key(world, admin, "ECC_NIST_P256")

    error = fails(world, admin, "Sign", "ValidationException", KeyId=key_id, Message=MESSAGE)

    assert "signingAlgorithm" in error.message


@pytest.mark.parametrize("state, code, words", [("Disabled", "DisabledException", "is disabled."),
                                                 ("PendingDeletion", "KMSInvalidStateException", "is pending deletion.")])
@pytest.mark.parametrize("operation", ["Sign", "Verify"])
def test_a_key_that_is_not_enabled_neither_signs_nor_verifies(world, admin, state, code, words, operation):
    key_id, _ = signing_key(world, admin, "ECC_NIST_P256")
    signature = ok(world, admin, "Sign", KeyId=key_id, Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    ok(world, admin, "DisableKey" if state == "Disabled" else "ScheduleKeyDeletion", KeyId=key_id)
    extra = {"Signature": signature} if operation == "Verify" else {}

    error = fails(world, admin, operation, code, KeyId=key_id, Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256", **extra)

    assert error.message == f"arn:aws:kms:us-east-1:111122223333:key/{key_id} {words}"


def test_dry_run_checks_everything_and_signs_nothing(world, admin):
    key_id, _ = signing_key(world, admin, "ECC_NIST_P256")
    signature = ok(world, admin, "Sign", KeyId=key_id, Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    dry = "The request would have succeeded, but the DryRun option is set."

    assert fails(world, admin, "Sign", "DryRunOperationException", KeyId=key_id, Message=MESSAGE,
                 SigningAlgorithm="ECDSA_SHA_256", DryRun=True).message == dry
    assert fails(world, admin, "Verify", "DryRunOperationException", KeyId=key_id, Message=MESSAGE, Signature=signature,
                 SigningAlgorithm="ECDSA_SHA_256", DryRun=True).message == dry
    # The real error when a check fails.
    fails(world, admin, "Sign", "InvalidKeyUsageException", KeyId=key_id, Message=MESSAGE,
          SigningAlgorithm="ECDSA_SHA_384", DryRun=True)
    fails(world, admin, "Sign", "ValidationException", KeyId=key_id, Message=b"short", MessageType="DIGEST",
          SigningAlgorithm="ECDSA_SHA_256", DryRun=True)


def test_an_alias_names_the_key_and_the_response_names_its_arn(world, admin):
    key_id, public_der = signing_key(world, admin, "ECC_NIST_P384")
    ok(world, admin, "CreateAlias", AliasName="alias/release-signing", TargetKeyId=key_id)

    signed = ok(world, admin, "Sign", KeyId="alias/release-signing", Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_384")

    assert signed["KeyId"] == f"arn:aws:kms:us-east-1:111122223333:key/{key_id}"
    verify_outside(public_der, "ECDSA_SHA_384", MESSAGE, signed["Signature"])


@pytest.mark.parametrize("operation", ["Sign", "Verify"])
def test_a_grant_token_that_is_not_one_is_refused_and_a_grant_lets_its_grantee_sign(world, admin, operation):
    key_id, _ = signing_key(world, admin, "ECC_NIST_P256")
    signature = ok(world, admin, "Sign", KeyId=key_id, Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    carol = make_user(world, admin, "carol")
    request = {"KeyId": f"arn:aws:kms:us-east-1:111122223333:key/{key_id}", "Message": MESSAGE,
               "SigningAlgorithm": "ECDSA_SHA_256", **({"Signature": signature} if operation == "Verify" else {})}
    fails(world, carol, operation, "AccessDeniedException", **request)
    grant = ok(world, admin, "CreateGrant", KeyId=key_id, GranteePrincipal=carol.arn, Operations=[operation])

    error = fails(world, admin, operation, "InvalidGrantTokenException", GrantTokens=["not-a-token"], **request)

    assert error.message == "The grant token is not valid."
    ok(world, carol, operation, GrantTokens=[grant["GrantToken"]], **request)


@pytest.mark.parametrize("condition, refused, allowed", [
    ({"StringEquals": {"kms:MessageType": "DIGEST"}},
     {"Message": hashlib.sha256(MESSAGE).digest(), "MessageType": "DIGEST", "SigningAlgorithm": "RSASSA_PSS_SHA_256"},
     {"Message": MESSAGE, "SigningAlgorithm": "RSASSA_PSS_SHA_256"}),
    ({"StringLike": {"kms:SigningAlgorithm": "RSASSA_PKCS1_V1_5_*"}},
     {"Message": MESSAGE, "SigningAlgorithm": "RSASSA_PKCS1_V1_5_SHA_256"},
     {"Message": MESSAGE, "SigningAlgorithm": "RSASSA_PSS_SHA_256"}),
    # An omitted MessageType is RAW, for the policy as for the signature.
    ({"StringEquals": {"kms:MessageType": "RAW"}},
     {"Message": MESSAGE, "SigningAlgorithm": "RSASSA_PSS_SHA_256"},
     {"Message": hashlib.sha256(MESSAGE).digest(), "MessageType": "DIGEST", "SigningAlgorithm": "RSASSA_PSS_SHA_256"}),
])
def test_a_key_policy_can_limit_signing_by_message_type_and_algorithm(world, admin, condition, refused, allowed):
    key_id, _ = signing_key(world, admin, "RSA_2048")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": ["kms:Sign", "kms:Verify"], "Resource": "*", "Condition": condition},
    ]}
    ok(world, admin, "PutKeyPolicy", KeyId=key_id, Policy=json.dumps(policy))

    fails(world, admin, "Sign", "AccessDeniedException", KeyId=key_id, **refused)
    signature = ok(world, admin, "Sign", KeyId=key_id, **allowed)["Signature"]
    ok(world, admin, "Verify", KeyId=key_id, Signature=signature, **allowed)
    fails(world, admin, "Verify", "AccessDeniedException", KeyId=key_id, Signature=signature, **refused)


def test_cloudtrail_logs_the_key_algorithm_and_message_type_never_the_message_or_signature(world, admin):
    """ct-sign, ct-verify: requestParameters hold keyId, signingAlgorithm and messageType;
    responseElements is null."""
    key_id, _ = signing_key(world, admin, "ECC_NIST_P256")
    signed = call(world, admin, "Sign", KeyId=key_id, Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256")
    signature = signed.response["Signature"]
    verified = call(world, admin, "Verify", KeyId=key_id, Message=MESSAGE, MessageType="RAW", Signature=signature,
                    SigningAlgorithm="ECDSA_SHA_256")
    refused = call(world, admin, "Verify", KeyId=key_id, Message=MESSAGE + b"!", Signature=signature,
                   SigningAlgorithm="ECDSA_SHA_256")

    for outcome in (signed, verified, refused):
        record = outcome.record
        assert record["requestParameters"] == {"keyId": key_id, "messageType": "RAW", "signingAlgorithm": "ECDSA_SHA_256"}
        assert record["responseElements"] is None
        assert record["readOnly"] is True
        assert record["resources"][0]["ARN"].endswith(key_id)
    assert (signed.record["eventName"], verified.record["eventName"]) == ("Sign", "Verify")
    assert refused.record["errorCode"] == "KMSInvalidSignatureException"


def test_a_verified_signature_is_the_keys_last_use_and_a_refused_one_is_not(world, admin):
    """GetKeyLastUsage names the last successful cryptographic operation on the key."""
    key_id, _ = signing_key(world, admin, "ML_DSA_44")
    signature = ok(world, admin, "Sign", KeyId=key_id, Message=MESSAGE, SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
    verified = call(world, admin, "Verify", KeyId=key_id, Message=MESSAGE, Signature=signature,
                    SigningAlgorithm="ML_DSA_SHAKE_256")

    fails(world, admin, "Verify", "KMSInvalidSignatureException", KeyId=key_id, Message=MESSAGE + b"!",
          Signature=signature, SigningAlgorithm="ML_DSA_SHAKE_256")

    last = ok(world, admin, "GetKeyLastUsage", KeyId=key_id)["KeyLastUsage"]
    assert (last["Operation"], last["CloudTrailEventId"]) == ("Verify", verified.record["eventID"])


def test_the_outside_verifier_refuses_what_it_must(world, admin):
    """The outside verifier these tests trust refuses what it must."""
    key_id, public_der = signing_key(world, admin, "RSA_2048")
    signature = ok(world, admin, "Sign", KeyId=key_id, Message=MESSAGE, SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]

    with pytest.raises(InvalidSignature):
        verify_outside(public_der, "RSASSA_PSS_SHA_256", MESSAGE + b"!", signature)
    with pytest.raises(InvalidSignature):
        verify_outside(public_der, "RSASSA_PKCS1_V1_5_SHA_256", MESSAGE, signature)


# Signatures made outside: a private key made with `cryptography`, imported into an EXTERNAL key
# (RSA and ECC keys take imported material; ML-DSA and Ed25519 keys do not: importing-keys-conceptual).
OUTSIDE = [
    ("RSA_2048", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSASSA_PSS_SHA_384"),
    ("RSA_2048", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSASSA_PKCS1_V1_5_SHA_256"),
    ("ECC_NIST_P256", lambda: ec.generate_private_key(ec.SECP256R1()), "ECDSA_SHA_256"),
    ("ECC_NIST_P384", lambda: ec.generate_private_key(ec.SECP384R1()), "ECDSA_SHA_384"),
    ("ECC_NIST_P521", lambda: ec.generate_private_key(ec.SECP521R1()), "ECDSA_SHA_512"),
    ("ECC_SECG_P256K1", lambda: ec.generate_private_key(ec.SECP256K1()), "ECDSA_SHA_256"),
]


def imported_signing_key(world, admin, spec, private):
    key_id = make_key(world, admin, KeySpec=spec, KeyUsage="SIGN_VERIFY", Origin="EXTERNAL")["KeyId"]
    material = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    # RSA private keys are too long for RSAES-OAEP alone; AWS imports them with RSA_AES_KEY_WRAP.
    import_material(world, admin, key_id, material, "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048")
    return key_id


def sign_outside(private, algorithm, message):
    if algorithm.startswith("ECDSA_"):
        return private.sign(message, ec.ECDSA(sha(algorithm)))
    if algorithm.startswith("RSASSA_PSS_"):
        return private.sign(message, padding.PSS(mgf=padding.MGF1(sha(algorithm)), salt_length=sha(algorithm).digest_size),
                            sha(algorithm))
    return private.sign(message, padding.PKCS1v15(), sha(algorithm))


@pytest.mark.parametrize("spec, make_private, algorithm", OUTSIDE, ids=[f"{s}-{a}" for s, _, a in OUTSIDE])
def test_kmslab_verifies_a_signature_made_outside_with_the_imported_private_key(world, admin, spec, make_private, algorithm):
    private = make_private()
    key_id = imported_signing_key(world, admin, spec, private)
    signature = sign_outside(private, algorithm, MESSAGE)

    for kind in ("RAW", "DIGEST"):
        ok(world, admin, "Verify", KeyId=key_id, Message=message_for(kind, algorithm, None), MessageType=kind,
           Signature=signature, SigningAlgorithm=algorithm)
    fails(world, admin, "Verify", "KMSInvalidSignatureException", KeyId=key_id, Message=MESSAGE + b"!",
          Signature=signature, SigningAlgorithm=algorithm)
    # And the other way: kmslab's signature checks out with the private key's own public half.
    made = ok(world, admin, "Sign", KeyId=key_id, Message=MESSAGE, SigningAlgorithm=algorithm)["Signature"]
    public_der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    verify_outside(public_der, algorithm, MESSAGE, made)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl on this machine")
@pytest.mark.parametrize("spec, make_private, algorithm", OUTSIDE, ids=[f"{s}-{a}" for s, _, a in OUTSIDE])
def test_kmslab_verifies_a_signature_openssl_made_with_the_imported_private_key(world, admin, spec, make_private, algorithm,
                                                                               tmp_path):
    private = make_private()
    key_id = imported_signing_key(world, admin, spec, private)
    (tmp_path / "private.pem").write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (tmp_path / "message").write_bytes(MESSAGE)
    command = ["openssl", "dgst", f"-sha{algorithm[-3:]}", "-sign", "private.pem", "-out", "signature"]
    if algorithm.startswith("RSASSA_PSS_"):
        command += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"]
    subprocess.run([*command, "message"], cwd=tmp_path, check=True, capture_output=True)

    ok(world, admin, "Verify", KeyId=key_id, Message=MESSAGE, Signature=(tmp_path / "signature").read_bytes(),
       SigningAlgorithm=algorithm)
