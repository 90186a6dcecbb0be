"""The cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, GenerateRandom."""
from ..errors import IncorrectKeyException, InvalidKeyUsageException
from ..operations import operation
from . import ciphertext
from .access import authorize_key
from .keys import aead, require_enabled, resolve


def context_conditions(request, key="EncryptionContext"):
    """kms:EncryptionContext:<k> and kms:EncryptionContextKeys, set only when a context is sent."""
    context = request.get(key) or {}
    conditions = {f"kms:EncryptionContext:{k}": v for k, v in context.items()}
    if context:
        conditions["kms:EncryptionContextKeys"] = list(context)
    conditions["kms:EncryptionAlgorithm"] = request.get("EncryptionAlgorithm", "SYMMETRIC_DEFAULT")
    return conditions


def require_encrypt_decrypt(key, operation_name):
    meta = key["KeyMetadata"]
    if meta["KeyUsage"] != "ENCRYPT_DECRYPT":
        raise InvalidKeyUsageException(
            f"{meta['Arn']} key usage is {meta['KeyUsage']} which is not valid for {operation_name}."
        )


def encrypt_with(ctx, key, plaintext, context):
    version = len(key["Materials"]) - 1
    ctx.additional_event_data["keyMaterialId"] = key["Materials"][version]["KeyMaterialId"]
    return ciphertext.seal(aead(ctx.world, key, version), key["KeyMetadata"]["KeyId"], version, plaintext, context)


@operation("kms", "Encrypt", read_only=True)
def encrypt(ctx, request):
    key = resolve(ctx, request["KeyId"])
    ctx.add_resource(key["KeyMetadata"]["Arn"])
    authorize_key(ctx, "kms:Encrypt", key, context_conditions(request))
    require_enabled(key)
    require_encrypt_decrypt(key, "Encrypt")
    blob = encrypt_with(ctx, key, request["Plaintext"], request.get("EncryptionContext"))
    return {
        "CiphertextBlob": blob,
        "KeyId": key["KeyMetadata"]["Arn"],
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    }


def key_of_blob(ctx, blob, key_id):
    """The key a ciphertext names; IncorrectKeyException when KeyId names another key."""
    named_id, version = ciphertext.parse(blob)
    key = ctx.world.doc["kms"]["keys"].get(named_id)
    if key is None or version >= len(key["Materials"]):
        raise ciphertext.InvalidCiphertextException("")
    if key_id is not None and resolve(ctx, key_id) is not key:
        raise IncorrectKeyException(
            "The key ID in the request does not identify a CMK that can perform this operation."
        )
    return key, version


@operation("kms", "Decrypt", read_only=True)
def decrypt(ctx, request):
    ctx.logged_request = {"EncryptionAlgorithm": "SYMMETRIC_DEFAULT", **request}
    key, version = key_of_blob(ctx, request["CiphertextBlob"], request.get("KeyId"))
    ctx.add_resource(key["KeyMetadata"]["Arn"])
    authorize_key(ctx, "kms:Decrypt", key, context_conditions(request))
    require_enabled(key)
    ctx.additional_event_data["keyMaterialId"] = key["Materials"][version]["KeyMaterialId"]
    plaintext = ciphertext.open_(aead(ctx.world, key, version), request["CiphertextBlob"], request.get("EncryptionContext"))
    return {
        "KeyId": key["KeyMetadata"]["Arn"],
        "Plaintext": plaintext,
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    }
