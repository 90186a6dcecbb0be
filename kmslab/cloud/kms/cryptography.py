"""The cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, GenerateRandom.

Each operation that takes GrantTokens checks them before anything else, as
CreateGrant does: its API reference lists InvalidGrantTokenException ("the
specified grant token is not valid"), so a malformed token fails the call even
where the caller needs no grant.

This is the hot path (thousands of calls a second): no copies of the payload,
one cached AESGCM object per material version (keys.aead).
"""
import os

from ..errors import (
    AccessDeniedException,
    DryRunOperationException,
    IncorrectKeyException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    UnsupportedOperationException,
    ValidationException,
)
from .. import shapes
from ..operations import operation
from ..policy.catalogue import ENCRYPTION_CONTEXT_OPERATIONS
from . import ciphertext
from ..policy.authorize import authorize_account
from .access import authorize_key, key_for
from .grants import check_grant_tokens
from .keys import aead, require_enabled, resolve

# What AWS says when a ciphertext names a key that is gone, or in another Region.
KEY_GONE = (
    "The ciphertext refers to a customer master key that does not exist, "
    "does not exist in this region, or you are not allowed to access."
)
DATA_KEY_BYTES = {"AES_128": 16, "AES_256": 32}


def context_conditions(request, context_field="EncryptionContext", algorithm_field="EncryptionAlgorithm"):
    """kms:EncryptionContext:<k> and kms:EncryptionContextKeys (only when a context is sent),
    and kms:EncryptionAlgorithm (SYMMETRIC_DEFAULT when omitted)."""
    context = request.get(context_field)
    conditions = {"kms:EncryptionAlgorithm": request.get(algorithm_field) or "SYMMETRIC_DEFAULT"}
    if context:
        for k, v in context.items():
            conditions[f"kms:EncryptionContext:{k}"] = v
        conditions["kms:EncryptionContextKeys"] = list(context)
    return conditions


def request_conditions(action, context):
    """The condition keys a direct call of `action` with encryption context `context` sets, or None
    when the operation sets none: what the simulator, the access preview and lab checks ask with."""
    if action not in ENCRYPTION_CONTEXT_OPERATIONS:
        return None
    conditions = context_conditions({"EncryptionContext": context})
    if action == "kms:CreateGrant":
        del conditions["kms:EncryptionAlgorithm"]  # CreateGrant takes no algorithm
    return conditions


def require_usage(key, usage, operation_name, algorithms_field, algorithm):
    """InvalidKeyUsageException for either reason the API references give: the key's KeyUsage
    is not `usage`, or `algorithm` is not one its KeySpec offers (KeyMetadata's `algorithms_field`).
    The messages are KMS's as its users quote them, e.g. "<arn> key usage is SIGN_VERIFY which is
    not valid for Encrypt." and "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_4096."."""
    meta = key["KeyMetadata"]
    if meta["KeyUsage"] != usage:
        raise InvalidKeyUsageException(
            f"{meta['Arn']} key usage is {meta['KeyUsage']} which is not valid for {operation_name}."
        )
    if algorithm not in meta.get(algorithms_field, ()):
        raise InvalidKeyUsageException(f"Algorithm {algorithm} is incompatible with key spec {meta['KeySpec']}.")


def require_encrypt_decrypt(key, operation_name, algorithm=None):
    """A symmetric key takes SYMMETRIC_DEFAULT only, the default (Encrypt API reference,
    EncryptionAlgorithm); the RSA and SM2 algorithms are for asymmetric keys."""
    require_usage(key, "ENCRYPT_DECRYPT", operation_name, "EncryptionAlgorithms", algorithm or "SYMMETRIC_DEFAULT")


def require_no_recipient(request):
    # Attested recipients (Nitro Enclaves, NitroTPM) have no place in a sandbox.
    if request.get("Recipient"):
        raise UnsupportedOperationException("Recipient attestation documents are not available in this sandbox.")


def refuse_dry_run(request):
    """Every check passed; DryRun stops here (DryRun API reference)."""
    if request.get("DryRun"):
        raise DryRunOperationException("The request would have succeeded, but the DryRun option is set.")


def usable_key(ctx, key_id, action, conditions, operation_name, algorithm=None):
    """Resolve, authorize and check a key for a cryptographic operation."""
    key = key_for(ctx, key_id, action, conditions, allow_alias=True)
    require_enabled(key)
    require_encrypt_decrypt(key, operation_name, algorithm)
    return key


def encrypt_with(ctx, key, plaintext, context):
    """Seal under the newest material version; CloudTrail names it in additionalEventData."""
    version = len(key["Materials"]) - 1
    material_id = key["Materials"][version]["KeyMaterialId"]
    ctx.additional_event_data["keyMaterialId"] = material_id
    blob = ciphertext.seal(aead(ctx.world, key, version), key["KeyMetadata"]["KeyId"], version, plaintext, context)
    return blob, material_id


@operation("kms", "Encrypt", read_only=True)
def encrypt(ctx, request):
    check_grant_tokens(ctx.world, request.get("GrantTokens"))
    key = usable_key(
        ctx, request["KeyId"], "kms:Encrypt", context_conditions(request), "Encrypt", request.get("EncryptionAlgorithm")
    )
    refuse_dry_run(request)
    blob, _ = encrypt_with(ctx, key, request["Plaintext"], request.get("EncryptionContext"))
    return {"CiphertextBlob": blob, "KeyId": key["KeyMetadata"]["Arn"], "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}


def key_of_blob(ctx, blob, key_id):
    """(key, material version, the alias name the request's KeyId used or None) of a ciphertext.

    IncorrectKeyException when the request's KeyId names another key; the
    AccessDenied wording when the named key was deleted or is in another
    Region; InvalidCiphertextException when it names no key there ever was."""
    named_id, version = ciphertext.parse(blob)
    kms = ctx.world.doc["kms"]
    key = kms["keys"].get(named_id)
    if key is None and named_id not in kms.get("deleted_keys", ()):
        raise InvalidCiphertextException("")
    if key is None or key["Region"] != ctx.region:
        raise AccessDeniedException(KEY_GONE)
    if version >= len(key["Materials"]):
        raise InvalidCiphertextException("")
    request_alias = None
    if key_id is not None:
        named, request_alias = resolve(ctx.world, key_id, ctx.caller.account, ctx.region, ctx.time, allow_alias=True)
        if named is not key:
            raise IncorrectKeyException("The key ID in the request does not identify a CMK that can perform this operation.")
    return key, version, request_alias


@operation("kms", "Decrypt", read_only=True)
def decrypt(ctx, request):
    # CloudTrail always logs the algorithm, SYMMETRIC_DEFAULT when omitted (ct-decrypt).
    ctx.logged_request = {"EncryptionAlgorithm": "SYMMETRIC_DEFAULT", **request}
    check_grant_tokens(ctx.world, request.get("GrantTokens"))
    blob = shapes.require(request, "CiphertextBlob")
    require_no_recipient(request)
    key, version, request_alias = key_of_blob(ctx, blob, request.get("KeyId"))
    meta = key["KeyMetadata"]
    ctx.add_resource(meta["Arn"])
    authorize_key(ctx, "kms:Decrypt", key, context_conditions(request), request_alias)
    require_enabled(key)
    require_encrypt_decrypt(key, "Decrypt", request.get("EncryptionAlgorithm"))
    refuse_dry_run(request)
    material_id = key["Materials"][version]["KeyMaterialId"]
    ctx.additional_event_data["keyMaterialId"] = material_id
    plaintext = ciphertext.open_(aead(ctx.world, key, version), blob, request.get("EncryptionContext"))
    return {
        "KeyId": meta["Arn"],
        "Plaintext": plaintext,
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "KeyMaterialId": material_id,
    }


@operation("kms", "ReEncrypt", read_only=True)
def re_encrypt(ctx, request):
    check_grant_tokens(ctx.world, request.get("GrantTokens"))
    blob = shapes.require(request, "CiphertextBlob")
    source, version, source_alias = key_of_blob(ctx, blob, request.get("SourceKeyId"))
    # kms:RequestAlias: each key is authorized with the alias (if any) that named it.
    destination, destination_alias = resolve(ctx.world, request["DestinationKeyId"], ctx.caller.account, ctx.region,
                                             ctx.time, allow_alias=True)
    source_arn, destination_arn = source["KeyMetadata"]["Arn"], destination["KeyMetadata"]["Arn"]
    # CloudTrail lists the source key, then the destination key (ct-reencrypt).
    ctx.add_resource(source_arn)
    ctx.add_resource(destination_arn)
    same = source is destination
    authorize_key(
        ctx,
        "kms:ReEncryptFrom",
        source,
        {**context_conditions(request, "SourceEncryptionContext", "SourceEncryptionAlgorithm"), "kms:ReEncryptOnSameKey": same},
        source_alias,
    )
    authorize_key(
        ctx,
        "kms:ReEncryptTo",
        destination,
        {
            **context_conditions(request, "DestinationEncryptionContext", "DestinationEncryptionAlgorithm"),
            "kms:ReEncryptOnSameKey": same,
        },
        destination_alias,
    )
    require_enabled(source)
    require_encrypt_decrypt(source, "ReEncrypt", request.get("SourceEncryptionAlgorithm"))
    require_enabled(destination)
    require_encrypt_decrypt(destination, "ReEncrypt", request.get("DestinationEncryptionAlgorithm"))
    refuse_dry_run(request)
    plaintext = ciphertext.open_(aead(ctx.world, source, version), blob, request.get("SourceEncryptionContext"))
    new_blob, material_id = encrypt_with(ctx, destination, plaintext, request.get("DestinationEncryptionContext"))
    return {
        "CiphertextBlob": new_blob,
        "SourceKeyId": source_arn,
        "KeyId": destination_arn,
        "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "SourceKeyMaterialId": source["Materials"][version]["KeyMaterialId"],
        "DestinationKeyMaterialId": material_id,
    }


def new_data_key(ctx, request, action, operation_name):
    """A fresh random data key sealed under the KMS key: (key, plaintext, blob, material id)."""
    check_grant_tokens(ctx.world, request.get("GrantTokens"))
    spec, count = request.get("KeySpec"), request.get("NumberOfBytes")
    # GenerateDataKey API reference: KeySpec or NumberOfBytes, exactly one.
    if (spec is None) == (count is None):
        raise ValidationException("Please specify either number of bytes or key spec.")
    key = usable_key(ctx, request["KeyId"], action, context_conditions(request), operation_name)
    refuse_dry_run(request)
    plaintext = os.urandom(count or DATA_KEY_BYTES[spec])
    blob, material_id = encrypt_with(ctx, key, plaintext, request.get("EncryptionContext"))
    return key, plaintext, blob, material_id


@operation("kms", "GenerateDataKey", read_only=True)
def generate_data_key(ctx, request):
    require_no_recipient(request)
    key, plaintext, blob, material_id = new_data_key(ctx, request, "kms:GenerateDataKey", "GenerateDataKey")
    return {"CiphertextBlob": blob, "Plaintext": plaintext, "KeyId": key["KeyMetadata"]["Arn"], "KeyMaterialId": material_id}


@operation("kms", "GenerateDataKeyWithoutPlaintext", read_only=True)
def generate_data_key_without_plaintext(ctx, request):
    key, _, blob, material_id = new_data_key(
        ctx, request, "kms:GenerateDataKeyWithoutPlaintext", "GenerateDataKeyWithoutPlaintext"
    )
    return {"CiphertextBlob": blob, "KeyId": key["KeyMetadata"]["Arn"], "KeyMaterialId": material_id}


@operation("kms", "GenerateRandom", read_only=True)
def generate_random(ctx, request):
    count = request.get("NumberOfBytes")
    if count is None:
        raise ValidationException("NumberOfBytes is required.")
    if request.get("CustomKeyStoreId"):
        raise UnsupportedOperationException("Custom key stores are not available in this sandbox.")
    require_no_recipient(request)
    authorize_account(ctx, "kms:GenerateRandom")
    return {"Plaintext": os.urandom(count)}
