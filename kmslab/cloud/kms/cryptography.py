"""The cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, GenerateRandom.

A symmetric key's ciphertext is kmslab's blob (ciphertext.py), which names its
key. An RSA encryption key's ciphertext is the raw RSAES-OAEP output, as AWS's
is: anyone can make one outside KMS with GetPublicKey's key, and it names no
key, so Decrypt needs the KeyId and the EncryptionAlgorithm (Decrypt API reference).

Each operation that takes GrantTokens checks them before anything else, as
CreateGrant does: its API reference lists InvalidGrantTokenException ("the
specified grant token is not valid"), so a malformed token fails the call even
where the caller needs no grant.

This is the hot path (thousands of calls a second): no copies of the payload,
one cached AESGCM object per material version (keys.aead).
"""
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ..errors import (
    AccessDeniedException,
    IncorrectKeyException,
    InvalidCiphertextException,
    InvalidKeyUsageException,
    ValidationException,
)
from .. import shapes
from ..operations import operation
from ..policy.catalogue import ENCRYPTION_CONTEXT_OPERATIONS
from . import ciphertext, specs
from ..policy.authorize import authorize_account
from .access import authorize_key, key_for
from .grants import check_grant_tokens
from .custom_key_stores import require_custom_key_store
from .keys import aead, ever_existed, find, private_key, public_key, refuse_dry_run, require_enabled, resolve

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


def require_usage(key, usage, operation_name, algorithm=None, context=None):
    """InvalidKeyUsageException for either reason its API reference gives: the key's KeyUsage
    is not the operation's, or the algorithm does not fit its KeySpec (specs.USAGES). A
    symmetric key takes SYMMETRIC_DEFAULT only (Encrypt API reference, EncryptionAlgorithm),
    which is what the encryption operations mean when they omit the algorithm. The message is
    KMS's as its users quote it, e.g. "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec
    RSA_4096." for the mirror case.

    An encryption context (which only the encryption operations take) "is supported only on
    operations with symmetric encryption KMS keys" (Encrypt API reference, EncryptionContext);
    KMS refuses one sent with an asymmetric key with the ValidationException below (its
    wording as emulators measured against AWS record it; AWS's documentation gives none)."""
    meta = key["KeyMetadata"]
    if meta["KeyUsage"] != usage:
        raise InvalidKeyUsageException(
            f"{meta['Arn']} key usage is {meta['KeyUsage']} which is not valid for {operation_name}."
        )
    algorithm = algorithm or "SYMMETRIC_DEFAULT"
    [offered] = specs.USAGES[meta["KeySpec"]][usage].values()
    if algorithm not in offered:
        raise InvalidKeyUsageException(f"Algorithm {algorithm} is incompatible with key spec {meta['KeySpec']}.")
    if context and not specs.is_symmetric(meta["KeySpec"]):
        raise ValidationException("EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs.")


def require_no_recipient(request):
    """Recipient must hold an attestation document signed by AWS Nitro Enclaves or NitroTPM,
    which KMS verifies ("You cannot supply your own certificate to digitally sign the
    attestation document": attested-calls). A sandbox has no Nitro root of trust, so no
    document a learner can make is valid, and the call is refused as an invalid request."""
    if request.get("Recipient"):
        raise ValidationException("The attestation document in the Recipient parameter is not valid.")


# RSAES-OAEP (RFC 8017 7.1): a k-byte modulus encrypts at most k - 2*hLen - 2 bytes,
# the limits AWS states per key spec and algorithm (asymmetric-key-specs, "RSA key specs").
OAEP_DIGESTS = {"RSAES_OAEP_SHA_1": hashes.SHA1, "RSAES_OAEP_SHA_256": hashes.SHA256}


def oaep(algorithm):
    digest = OAEP_DIGESTS[algorithm]()
    return padding.OAEP(mgf=padding.MGF1(digest), algorithm=digest, label=None)


def require_fits(key, algorithm, plaintext):
    """ValidationException when `plaintext` is too long for an RSA key and OAEP algorithm."""
    spec = key["KeyMetadata"]["KeySpec"]
    if specs.is_symmetric(spec):
        return
    limit = int(spec[4:]) // 8 - 2 * OAEP_DIGESTS[algorithm].digest_size - 2
    if len(plaintext) > limit:
        raise ValidationException(f"Algorithm {algorithm} and key spec {spec} cannot encrypt data larger than {limit} bytes.")


def usable_key(ctx, key_id, action, conditions, operation_name, algorithm=None, context=None, usage="ENCRYPT_DECRYPT"):
    """Resolve, authorize and check a key for a cryptographic operation."""
    key = key_for(ctx, key_id, action, conditions, allow_alias=True)
    require_enabled(key)
    require_usage(key, usage, operation_name, algorithm, context)
    return key


def encrypt_with(ctx, key, plaintext, context):
    """Seal under the newest material version; CloudTrail names it in additionalEventData."""
    version = len(key["Materials"]) - 1
    material_id = key["Materials"][version]["KeyMaterialId"]
    ctx.additional_event_data["keyMaterialId"] = material_id
    blob = ciphertext.seal(aead(ctx.world, key, version), key["KeyMetadata"]["KeyId"], version, plaintext, context)
    return blob, material_id


def encrypt_under(ctx, key, algorithm, plaintext, context):
    """(ciphertext, material id or None): a symmetric key's blob, or an RSA key's raw OAEP output.
    Only symmetric keys have material ids (KeyMaterialId in the Decrypt and ReEncrypt API references)."""
    if specs.is_symmetric(key["KeyMetadata"]["KeySpec"]):
        return encrypt_with(ctx, key, plaintext, context)
    return public_key(ctx.world, key).encrypt(plaintext, oaep(algorithm)), None


def decrypt_under(ctx, key, version, algorithm, blob, context):
    """(plaintext, material id or None); InvalidCiphertextException when `blob` is not the key's."""
    if version is None:
        try:
            return private_key(ctx.world, key).decrypt(blob, oaep(algorithm)), None
        except ValueError:
            raise InvalidCiphertextException("") from None
    return ciphertext.open_(aead(ctx.world, key, version), blob, context), key["Materials"][version]["KeyMaterialId"]


@operation("kms", "Encrypt", read_only=True)
def encrypt(ctx, request):
    # CloudTrail logs the algorithm, SYMMETRIC_DEFAULT when omitted (ct-encrypt).
    ctx.logged_request = {**request, "EncryptionAlgorithm": request.get("EncryptionAlgorithm", "SYMMETRIC_DEFAULT")}
    check_grant_tokens(ctx.world, request.get("GrantTokens"))
    algorithm = request.get("EncryptionAlgorithm") or "SYMMETRIC_DEFAULT"
    context = request.get("EncryptionContext")
    key = usable_key(ctx, request["KeyId"], "kms:Encrypt", context_conditions(request), "Encrypt", algorithm, context)
    require_fits(key, algorithm, request["Plaintext"])
    refuse_dry_run(request)
    blob, _ = encrypt_under(ctx, key, algorithm, request["Plaintext"], context)
    return {"CiphertextBlob": blob, "KeyId": key["KeyMetadata"]["Arn"], "EncryptionAlgorithm": algorithm}


def key_of_blob(ctx, blob, key_id):
    """(key, material version or None for an RSA key, the alias name the request's KeyId used or None).

    An RSA ciphertext names no key: the request's KeyId says which. A symmetric
    blob names its own: IncorrectKeyException when the request's KeyId names
    another key; the AccessDenied wording when the named key was deleted or is in
    another Region; InvalidCiphertextException when it names no key there ever was
    (and so when an RSA ciphertext comes without its KeyId)."""
    named, request_alias = None, None
    if key_id is not None:
        named, request_alias = resolve(ctx.world, key_id, ctx.caller.account, ctx.region, ctx.time, allow_alias=True)
        if specs.is_asymmetric(named["KeyMetadata"]["KeySpec"]):
            return named, None, request_alias
    named_id, version = ciphertext.parse(blob)
    key = find(ctx.world, named_id, ctx.region)
    if key is None:
        if not ever_existed(ctx.world, named_id):
            raise InvalidCiphertextException("")
        raise AccessDeniedException(KEY_GONE)
    if version >= len(key["Materials"]):
        raise InvalidCiphertextException("")
    if named is not None and named is not key:
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
    algorithm = request.get("EncryptionAlgorithm") or "SYMMETRIC_DEFAULT"
    context = request.get("EncryptionContext")
    require_usage(key, "ENCRYPT_DECRYPT", "Decrypt", algorithm, context)
    refuse_dry_run(request)
    if version is not None:
        ctx.additional_event_data["keyMaterialId"] = key["Materials"][version]["KeyMaterialId"]
    plaintext, material_id = decrypt_under(ctx, key, version, algorithm, blob, context)
    response = {"KeyId": meta["Arn"], "Plaintext": plaintext, "EncryptionAlgorithm": algorithm}
    if material_id is not None:
        response["KeyMaterialId"] = material_id
    return response


@operation("kms", "ReEncrypt", read_only=True)
def re_encrypt(ctx, request):
    # CloudTrail logs both algorithms, SYMMETRIC_DEFAULT when omitted (ct-reencrypt).
    ctx.logged_request = {
        "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT", **request,
        "DestinationEncryptionAlgorithm": request.get("DestinationEncryptionAlgorithm", "SYMMETRIC_DEFAULT"),
    }
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
    source_algorithm = request.get("SourceEncryptionAlgorithm") or "SYMMETRIC_DEFAULT"
    destination_algorithm = request.get("DestinationEncryptionAlgorithm") or "SYMMETRIC_DEFAULT"
    source_context, destination_context = request.get("SourceEncryptionContext"), request.get("DestinationEncryptionContext")
    require_enabled(source)
    require_usage(source, "ENCRYPT_DECRYPT", "ReEncrypt", source_algorithm, source_context)
    require_enabled(destination)
    require_usage(destination, "ENCRYPT_DECRYPT", "ReEncrypt", destination_algorithm, destination_context)
    refuse_dry_run(request)
    plaintext, source_material_id = decrypt_under(ctx, source, version, source_algorithm, blob, source_context)
    require_fits(destination, destination_algorithm, plaintext)
    new_blob, material_id = encrypt_under(ctx, destination, destination_algorithm, plaintext, destination_context)
    # ct-reencrypt names both materials (those a symmetric key has), in place of Encrypt's keyMaterialId.
    ctx.additional_event_data = {
        name: value for name, value in (("destinationKeyMaterialId", material_id),
                                        ("sourceKeyMaterialId", source_material_id)) if value is not None
    }
    response = {
        "CiphertextBlob": new_blob,
        "SourceKeyId": source_arn,
        "KeyId": destination_arn,
        "SourceEncryptionAlgorithm": source_algorithm,
        "DestinationEncryptionAlgorithm": destination_algorithm,
    }
    if source_material_id is not None:
        response["SourceKeyMaterialId"] = source_material_id
    if material_id is not None:
        response["DestinationKeyMaterialId"] = material_id
    return response


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
    require_no_recipient(request)
    authorize_account(ctx, "kms:GenerateRandom")
    if request.get("CustomKeyStoreId"):
        require_custom_key_store(request["CustomKeyStoreId"])
    return {"Plaintext": os.urandom(count)}
