"""Encapsulate and Decapsulate: ML-KEM (FIPS 203) with an ENCAPSULATE_DECAPSULATE key.

Encapsulate is done by KMS with the key's public key; anyone can do the same outside
with GetPublicKey's key. SharedSecretCiphertextBlob is the raw ML-KEM ciphertext (1088
bytes for ML_KEM_768, 1568 for ML_KEM_1024) and the shared secret is 32 bytes.
Decapsulate refuses only a ciphertext of the wrong length: any other ciphertext gives
some 32 bytes (ML-KEM's implicit rejection; Decapsulate API reference).
"""
from ..errors import InvalidCiphertextException
from ..operations import operation
from .cryptography import usable_key
from .grants import check_grant_tokens
from .keys import note_use, private_key, refuse_dry_run

CIPHERTEXT_BYTES = {"ML_KEM_768": 1088, "ML_KEM_1024": 1568}


def _ml_kem_key(ctx, request, action, operation_name):
    check_grant_tokens(ctx.world, request.get("GrantTokens"))
    return usable_key(
        ctx, request["KeyId"], action, None, operation_name, request["EncapsulationAlgorithm"],
        usage="ENCAPSULATE_DECAPSULATE",
    )


@operation("kms", "Encapsulate", read_only=True)
def encapsulate(ctx, request):
    key = _ml_kem_key(ctx, request, "kms:Encapsulate", "Encapsulate")
    refuse_dry_run(request)
    shared_secret, blob = private_key(ctx.world, key).public_key().encapsulate()
    note_use(ctx, key)
    return {
        "KeyId": key["KeyMetadata"]["Arn"],
        "SharedSecret": shared_secret,
        "SharedSecretCiphertextBlob": blob,
        "EncapsulationAlgorithm": request["EncapsulationAlgorithm"],
    }


@operation("kms", "Decapsulate", read_only=True)
def decapsulate(ctx, request):
    key = _ml_kem_key(ctx, request, "kms:Decapsulate", "Decapsulate")
    blob = request["SharedSecretCiphertextBlob"]
    if len(blob) != CIPHERTEXT_BYTES[key["KeyMetadata"]["KeySpec"]]:
        raise InvalidCiphertextException("")
    refuse_dry_run(request)
    shared_secret = private_key(ctx.world, key).decapsulate(blob)
    note_use(ctx, key)
    return {
        "KeyId": key["KeyMetadata"]["Arn"],
        "SharedSecret": shared_secret,
        "EncapsulationAlgorithm": request["EncapsulationAlgorithm"],
    }
