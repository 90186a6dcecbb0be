"""Plain factory functions for the KMS tests: run a call, make a key, put it in a state."""
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

from kmslab.cloud import calls

DAY = 86400


def call(world, caller, operation, **request):
    """Run one KMS call; returns its Outcome."""
    return calls.call(world, caller, "kms", operation, request)


def ok(world, caller, operation, **request):
    outcome = call(world, caller, operation, **request)
    assert outcome.error is None, (outcome.error.code, outcome.error.message)
    return outcome.response


def fails(world, caller, operation, **request):
    """The error a call fails with (it must fail)."""
    outcome = call(world, caller, operation, **request)
    assert outcome.error is not None, f"{operation} succeeded: {outcome.response}"
    return outcome.error


def make_key(world, caller, **request):
    """A new key's KeyMetadata."""
    return ok(world, caller, "CreateKey", **request)["KeyMetadata"]


def wrap(public_key_der, material, algorithm="RSAES_OAEP_SHA_256", aes_key=bytes(range(32))):
    """Wrap key material as a learner would with openssl, under GetParametersForImport's public key."""
    public_key = serialization.load_der_public_key(public_key_der)
    digest = hashes.SHA1() if algorithm.endswith("SHA_1") else hashes.SHA256()
    oaep = padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)
    if algorithm.startswith("RSA_AES_KEY_WRAP"):
        return public_key.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)
    return public_key.encrypt(material, oaep)


def import_request(key_id, params, material, algorithm="RSAES_OAEP_SHA_256", **request):
    """ImportKeyMaterial's request: `material` wrapped under the public key in GetParametersForImport's `params`."""
    return {"KeyId": key_id, "ImportToken": params["ImportToken"],
            "EncryptedKeyMaterial": wrap(params["PublicKey"], material, algorithm), **request}


def import_material(world, caller, key_id, material, algorithm="RSAES_OAEP_SHA_256", spec="RSA_2048", **request):
    """GetParametersForImport, wrap, ImportKeyMaterial (material that never expires unless told)."""
    params = ok(world, caller, "GetParametersForImport", KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec=spec)
    request.setdefault("ExpirationModel", "KEY_MATERIAL_DOES_NOT_EXPIRE")
    return ok(world, caller, "ImportKeyMaterial", **import_request(key_id, params, material, algorithm, **request))


def key_in_state(world, caller, state):
    """(key id, a ciphertext made under it while it was Enabled) for a key in `state`.

    Enabled, Disabled and PendingDeletion keys have KMS-made material; the
    PendingImport key is an EXTERNAL key whose imported material was deleted."""
    if state == "PendingImport":
        key_id = make_key(world, caller, Origin="EXTERNAL")["KeyId"]
        import_material(world, caller, key_id, b"\x07" * 32)
    else:
        key_id = make_key(world, caller)["KeyId"]
    blob = ok(world, caller, "Encrypt", KeyId=key_id, Plaintext=b"made while enabled")["CiphertextBlob"]
    if state == "Disabled":
        ok(world, caller, "DisableKey", KeyId=key_id)
    elif state == "PendingDeletion":
        ok(world, caller, "ScheduleKeyDeletion", KeyId=key_id)
    elif state == "PendingImport":
        ok(world, caller, "DeleteImportedKeyMaterial", KeyId=key_id)
    return key_id, blob
