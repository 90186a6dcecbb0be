"""DryRun: DryRunOperationException when the call would have succeeded, after every check and
before any change; the call's real error otherwise (DryRun API reference; kms-dryrun)."""
import copy

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kmslab.cloud import shapes
from kmslab.cloud.operations import REGISTRY

from ..factories import call, make_key, make_user, ok

DRY_RUN = ("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
# A peer's public key for DeriveSharedSecret: P-256, DER SubjectPublicKeyInfo.
PEER = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def setup(world, admin):
    """A key, a ciphertext under it, a second key, and a grant on the key: what every case needs."""
    key = make_key(world, admin)
    other = make_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    grant = ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=admin.arn, Operations=["Decrypt"],
               RetiringPrincipal=admin.arn)
    hmac = make_key(world, admin, KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyId"]
    mac = ok(world, admin, "GenerateMac", KeyId=hmac, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    agreement = make_key(world, admin, KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyId"]
    kem = make_key(world, admin, KeySpec="ML_KEM_768", KeyUsage="ENCAPSULATE_DECAPSULATE")["KeyId"]
    encapsulated = ok(world, admin, "Encapsulate", KeyId=kem, EncapsulationAlgorithm="ML_KEM")
    signing = make_key(world, admin, KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyId"]
    signature = ok(world, admin, "Sign", KeyId=signing, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    return {"signing": signing, "signature": signature, "key": key["KeyId"], "other": other["KeyId"], "blob": blob, "grant": grant, "admin": admin.arn,
            "hmac": hmac, "mac": mac, "agreement": agreement, "kem": kem,
            "encapsulated": encapsulated["SharedSecretCiphertextBlob"], "peer": PEER}


# operation -> its request, given what setup() made
CASES = {
    "Encrypt": lambda s: {"KeyId": s["key"], "Plaintext": b"x"},
    "Decrypt": lambda s: {"CiphertextBlob": s["blob"]},
    "ReEncrypt": lambda s: {"CiphertextBlob": s["blob"], "DestinationKeyId": s["other"]},
    "GenerateDataKey": lambda s: {"KeyId": s["key"], "KeySpec": "AES_256"},
    "GenerateDataKeyWithoutPlaintext": lambda s: {"KeyId": s["key"], "NumberOfBytes": 16},
    "GenerateDataKeyPair": lambda s: {"KeyId": s["key"], "KeyPairSpec": "ECC_NIST_P256"},
    "GenerateDataKeyPairWithoutPlaintext": lambda s: {"KeyId": s["key"], "KeyPairSpec": "ECC_NIST_P256"},
    "CreateGrant": lambda s: {"KeyId": s["key"], "GranteePrincipal": s["admin"], "Operations": ["Encrypt"]},
    "RetireGrant": lambda s: {"GrantToken": s["grant"]["GrantToken"]},
    "RevokeGrant": lambda s: {"KeyId": s["key"], "GrantId": s["grant"]["GrantId"]},
    "GenerateMac": lambda s: {"KeyId": s["hmac"], "Message": b"m", "MacAlgorithm": "HMAC_SHA_256"},
    "VerifyMac": lambda s: {"KeyId": s["hmac"], "Message": b"m", "MacAlgorithm": "HMAC_SHA_256", "Mac": s["mac"]},
    "DeriveSharedSecret": lambda s: {"KeyId": s["agreement"], "KeyAgreementAlgorithm": "ECDH", "PublicKey": s["peer"]},
    "Encapsulate": lambda s: {"KeyId": s["kem"], "EncapsulationAlgorithm": "ML_KEM"},
    "Decapsulate": lambda s: {"KeyId": s["kem"], "EncapsulationAlgorithm": "ML_KEM",
                              "SharedSecretCiphertextBlob": s["encapsulated"]},
    "Sign": lambda s: {"KeyId": s["signing"], "Message": b"m", "SigningAlgorithm": "ECDSA_SHA_256"},
    "Verify": lambda s: {"KeyId": s["signing"], "Message": b"m", "SigningAlgorithm": "ECDSA_SHA_256",
                         "Signature": s["signature"]},
}


def test_every_implemented_operation_with_dry_run_is_here():
    with_dry_run = {
        name for service, name in REGISTRY
        if service == "kms" and "DryRun" in shapes.operation_model("kms", name).input_shape.members
    }
    assert with_dry_run == set(CASES)


def kms_state(world):
    return copy.deepcopy({section: dict(world.doc["kms"][section]) for section in ("keys", "aliases", "grants")})


@pytest.mark.parametrize("operation", sorted(CASES))
def test_a_dry_run_that_would_succeed_changes_nothing(world, admin, operation):
    request = CASES[operation](setup(world, admin))
    before = kms_state(world)

    outcome = call(world, admin, operation, DryRun=True, **request)

    assert (outcome.error.code, outcome.error.message) == DRY_RUN
    assert kms_state(world) == before
    assert outcome.record["errorCode"] == "DryRunOperationException"
    assert outcome.record["requestParameters"]["dryRun"] is True
    # The same call without DryRun succeeds.
    assert call(world, admin, operation, **request).error is None


@pytest.mark.parametrize("operation", sorted(CASES))
def test_a_dry_run_that_would_fail_answers_the_real_error(world, admin, operation):
    request = CASES[operation](setup(world, admin))
    nobody = make_user(world, admin, "nobody")

    outcome = call(world, nobody, operation, DryRun=True, **request)

    assert outcome.error.code == "AccessDeniedException"


@pytest.mark.parametrize("operation", ["Encrypt", "Decrypt", "GenerateDataKey", "CreateGrant"])
def test_a_dry_run_on_a_disabled_key_is_refused_as_the_call_would_be(world, admin, operation):
    made = setup(world, admin)
    ok(world, admin, "DisableKey", KeyId=made["key"])

    outcome = call(world, admin, operation, DryRun=True, **CASES[operation](made))

    assert outcome.error.code == "DisabledException"


def test_a_dry_run_of_a_grant_that_does_not_exist_is_not_found(world, admin):
    made = setup(world, admin)

    outcome = call(world, admin, "RevokeGrant", DryRun=True, KeyId=made["key"], GrantId="0" * 64)

    assert outcome.error.code == "NotFoundException"
