"""DeriveSharedSecret: ECDH with a KEY_AGREEMENT key, checked against `cryptography`'s ECDH
on the other side."""
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kmslab.cloud.kms.specs import CURVES

from ..factories import allow, call, fails, import_material, make_key, make_user, ok

SPECS = ["ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"]


def agreement_key(world, admin, spec="ECC_NIST_P256", **request):
    return make_key(world, admin, KeySpec=spec, KeyUsage="KEY_AGREEMENT", **request)


def der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def kms_public_key(world, admin, key_id):
    return serialization.load_der_public_key(ok(world, admin, "GetPublicKey", KeyId=key_id)["PublicKey"])


def derive(world, caller, key_id, public_key_der, **request):
    return ok(world, caller, "DeriveSharedSecret", KeyId=key_id, KeyAgreementAlgorithm="ECDH", PublicKey=public_key_der,
              **request)


@pytest.mark.parametrize("spec", SPECS)
def test_kms_and_its_peer_derive_the_same_raw_secret(world, admin, spec):
    key = agreement_key(world, admin, spec)
    bob = ec.generate_private_key(CURVES[spec]())

    derived = derive(world, admin, key["KeyId"], der(bob.public_key()))
    bobs = bob.exchange(ec.ECDH(), kms_public_key(world, admin, key["KeyId"]))

    assert derived["SharedSecret"] == bobs
    assert len(bobs) == (CURVES[spec].key_size + 7) // 8
    assert (derived["KeyId"], derived["KeyAgreementAlgorithm"], derived["KeyOrigin"]) == (key["Arn"], "ECDH", "AWS_KMS")


def test_two_kms_keys_agree_with_each_others_public_key(world, admin):
    alice, bob = agreement_key(world, admin), agreement_key(world, admin)

    alices = derive(world, admin, alice["KeyId"], der(kms_public_key(world, admin, bob["KeyId"])))["SharedSecret"]
    bobs = derive(world, admin, bob["KeyId"], der(kms_public_key(world, admin, alice["KeyId"])))["SharedSecret"]

    assert alices == bobs


def test_another_peer_gives_another_secret(world, admin):
    key = agreement_key(world, admin)
    peers = [ec.generate_private_key(ec.SECP256R1()).public_key() for _ in range(2)]

    first, second = (derive(world, admin, key["KeyId"], der(peer))["SharedSecret"] for peer in peers)

    assert first != second


@pytest.mark.parametrize(
    "public_key",
    [
        pytest.param(b"not a public key", id="not DER"),
        pytest.param(der(ec.generate_private_key(ec.SECP384R1()).public_key()), id="another curve"),
        pytest.param(der(ec.generate_private_key(ec.SECP256K1()).public_key()), id="secp256k1"),
        pytest.param(der(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()), id="RSA"),
        pytest.param(
            ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint),
            id="a bare point",
        ),
    ],
)
def test_the_public_key_must_be_spki_on_the_keys_curve(world, admin, public_key):
    key = agreement_key(world, admin)

    fails(world, admin, "DeriveSharedSecret", "ValidationException", KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH",
          PublicKey=public_key)


def test_a_signing_key_derives_nothing(world, admin):
    key = make_key(world, admin, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    peer = der(ec.generate_private_key(ec.SECP256R1()).public_key())

    error = fails(world, admin, "DeriveSharedSecret", "InvalidKeyUsageException", KeyId=key["KeyId"],
                  KeyAgreementAlgorithm="ECDH", PublicKey=peer)

    assert error.message == f"{key['Arn']} key usage is SIGN_VERIFY which is not valid for DeriveSharedSecret."


def test_a_disabled_key_derives_nothing(world, admin):
    key = agreement_key(world, admin)
    ok(world, admin, "DisableKey", KeyId=key["KeyId"])

    fails(world, admin, "DeriveSharedSecret", "DisabledException", KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH",
          PublicKey=der(ec.generate_private_key(ec.SECP256R1()).public_key()))


def test_dry_run_checks_the_public_key_too(world, admin):
    key = agreement_key(world, admin)
    request = dict(KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH", DryRun=True)

    fails(world, admin, "DeriveSharedSecret", "DryRunOperationException",
          PublicKey=der(ec.generate_private_key(ec.SECP256R1()).public_key()), **request)
    fails(world, admin, "DeriveSharedSecret", "ValidationException", PublicKey=b"junk", **request)


def test_a_recipient_attestation_document_is_refused_as_invalid(world, admin):
    key = agreement_key(world, admin)

    fails(world, admin, "DeriveSharedSecret", "ValidationException", KeyId=key["KeyId"],
          KeyAgreementAlgorithm="ECDH", PublicKey=der(ec.generate_private_key(ec.SECP256R1()).public_key()),
          Recipient={"KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256", "AttestationDocument": b"doc"})


def test_the_key_agreement_algorithm_is_a_condition_key(world, admin):
    key = agreement_key(world, admin)
    peer = der(ec.generate_private_key(ec.SECP256R1()).public_key())
    carol = make_user(world, admin, "carol",
                      allow("kms:DeriveSharedSecret", StringEquals={"kms:KeyAgreementAlgorithm": "ECDH"}))
    dave = make_user(world, admin, "dave",
                     allow("kms:DeriveSharedSecret", StringEquals={"kms:KeyAgreementAlgorithm": "SM2"}))

    derive(world, carol, key["KeyId"], peer)
    fails(world, dave, "DeriveSharedSecret", "AccessDeniedException", KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH",
          PublicKey=peer)


def test_a_grant_token_is_checked(world, admin):
    key = agreement_key(world, admin)

    fails(world, admin, "DeriveSharedSecret", "InvalidGrantTokenException", KeyId=key["KeyId"],
          KeyAgreementAlgorithm="ECDH", PublicKey=der(ec.generate_private_key(ec.SECP256R1()).public_key()),
          GrantTokens=["not a token"])


def test_cloudtrail_logs_neither_the_public_key_nor_the_secret(world, admin):
    key = agreement_key(world, admin)

    outcome = call(world, admin, "DeriveSharedSecret", KeyId=key["KeyId"], KeyAgreementAlgorithm="ECDH",
                   PublicKey=der(ec.generate_private_key(ec.SECP256R1()).public_key()))

    assert outcome.record["requestParameters"] == {"keyId": key["KeyId"], "keyAgreementAlgorithm": "ECDH"}
    assert outcome.record["responseElements"] is None


def test_an_imported_private_key_agrees_and_says_its_origin(world, admin):
    key = agreement_key(world, admin, Origin="EXTERNAL")
    mine = ec.generate_private_key(ec.SECP256R1())
    import_material(world, admin, key["KeyId"], mine.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    bob = ec.generate_private_key(ec.SECP256R1())

    derived = derive(world, admin, key["KeyId"], der(bob.public_key()))

    assert derived["KeyOrigin"] == "EXTERNAL"
    assert derived["SharedSecret"] == mine.exchange(ec.ECDH(), bob.public_key())


def test_openssl_derives_the_same_secret_from_the_downloaded_public_key(world, admin, tmp_path):
    key = agreement_key(world, admin, "ECC_NIST_P384")
    bob = ec.generate_private_key(ec.SECP384R1())
    (tmp_path / "bob.pem").write_bytes(bob.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (tmp_path / "kms.der").write_bytes(ok(world, admin, "GetPublicKey", KeyId=key["KeyId"])["PublicKey"])

    bobs = subprocess.run(
        ["openssl", "pkeyutl", "-derive", "-inkey", tmp_path / "bob.pem", "-peerkey", tmp_path / "kms.der",
         "-peerform", "DER"],
        check=True, capture_output=True,
    ).stdout

    assert derive(world, admin, key["KeyId"], der(bob.public_key()))["SharedSecret"] == bobs


@pytest.mark.parametrize("state, words", [("PendingDeletion", "pending deletion"), ("PendingImport", "pending import")])
def test_a_key_pending_deletion_or_import_derives_nothing(world, admin, state, words):
    key = agreement_key(world, admin, **({"Origin": "EXTERNAL"} if state == "PendingImport" else {}))
    if state == "PendingDeletion":
        ok(world, admin, "ScheduleKeyDeletion", KeyId=key["KeyId"])

    error = fails(world, admin, "DeriveSharedSecret", "KMSInvalidStateException", KeyId=key["KeyId"],
                  KeyAgreementAlgorithm="ECDH", PublicKey=der(ec.generate_private_key(ec.SECP256R1()).public_key()))

    assert error.message == f"{key['Arn']} is {words}."
