"""KMS keys: the key record, KeyId resolution, key states, and key material.

A key record in `world.doc["kms"]["keys"][key_id]`:

    {"KeyMetadata": {...exactly the fields DescribeKey returns...},
     "Region": "us-east-1",
     "Policy": "<the key policy document, as given>",
     "Tags": [{"TagKey": ..., "TagValue": ...}],
     "Materials": [{"KeyMaterialId": hex, "Sealed": <sealed 32 bytes> | None, ...}],
     "Rotation": {...}}

Materials are never removed while the key exists: index i is "key material
version i" in the ciphertext header, so every earlier ciphertext still decrypts.
"""
import hashlib
import os
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import (
    DisabledException,
    KMSInvalidStateException,
    NotFoundException,
)

MATERIAL_PURPOSE = "kms-key-material"


def key_arn(region, account, key_id):
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def alias_arn(region, account, name):
    return f"arn:aws:kms:{region}:{account}:alias/{name.removeprefix('alias/')}"


def new_key_id():
    return str(uuid.uuid4())


def _is_uuid(text):
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def resolve(ctx, key_id, allow_alias=True, allow_alias_arn=True):
    """KeyId (key id, key ARN, alias name or alias ARN) -> key record.

    Key ids and alias names resolve in the caller's own account and the
    request's Region; another account's key needs its ARN (or an alias ARN
    where the operation accepts one). Failing to find a key is NotFound, never
    AccessDenied. Sets `ctx.request_alias` for kms:RequestAlias.
    """
    keys = ctx.world.doc["kms"]["keys"]
    ctx.request_alias = None
    if key_id.startswith("arn:"):
        parts = key_id.split(":", 5)
        if len(parts) != 6 or parts[2] != "kms" or not parts[4]:
            raise NotFoundException(f"Invalid arn {key_id}")
        region, account, resource = parts[3], parts[4], parts[5]
        if region != ctx.region:
            raise NotFoundException(f"Invalid arn {region}")
        if resource.startswith("key/"):
            key = keys.get(resource[4:])
            if key is None or key["KeyMetadata"]["Arn"] != key_id:
                raise NotFoundException(f"Key '{key_id}' does not exist")
            return key
        if resource.startswith("alias/") and allow_alias_arn:
            return _by_alias(ctx, account, region, resource, key_id)
        raise NotFoundException(f"Invalid arn {key_id}")
    if key_id.startswith("alias/"):
        if not allow_alias:
            raise NotFoundException(f"Invalid keyId '{key_id}'")
        return _by_alias(ctx, ctx.caller.account, ctx.region, key_id, alias_arn(ctx.region, ctx.caller.account, key_id))
    if not _is_uuid(key_id):
        raise NotFoundException(f"Invalid keyId '{key_id}'")
    key = keys.get(key_id)
    meta = key and key["KeyMetadata"]
    if key is None or meta["AWSAccountId"] != ctx.caller.account or key["Region"] != ctx.region:
        raise NotFoundException(f"Key '{key_arn(ctx.region, ctx.caller.account, key_id)}' does not exist")
    return key


def _by_alias(ctx, account, region, name, arn):
    alias = ctx.world.doc["kms"]["aliases"].get(arn)
    if alias is None or "TargetKeyId" not in alias:
        raise NotFoundException(f"Alias {arn} is not found.")
    ctx.request_alias = name
    return ctx.world.doc["kms"]["keys"][alias["TargetKeyId"]]


# Key states (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html).


def require_enabled(key):
    """Cryptographic operations need an Enabled key; each other state has its own error."""
    meta = key["KeyMetadata"]
    state = meta["KeyState"]
    if state == "Enabled":
        return
    if state == "Disabled":
        raise DisabledException(f"{meta['Arn']} is disabled.")
    raise KMSInvalidStateException(f"{meta['Arn']} is {_state_words(state)}.")


def require_not(key, *states):
    """Management operations refuse some states with KMSInvalidStateException."""
    meta = key["KeyMetadata"]
    if meta["KeyState"] in states:
        raise KMSInvalidStateException(f"{meta['Arn']} is {_state_words(meta['KeyState'])}.")


def _state_words(state):
    return {
        "PendingDeletion": "pending deletion",
        "PendingImport": "pending import",
        "Disabled": "disabled",
        "Unavailable": "unavailable",
        "Creating": "creating",
        "Updating": "updating",
        "PendingReplicaDeletion": "pending replica deletion",
    }.get(state, state)


# Key material.


def new_material(world, secret=None):
    """A material entry: 32 random bytes (or imported ones), sealed under the master key."""
    secret = os.urandom(32) if secret is None else secret
    return {
        "KeyMaterialId": hashlib.sha256(os.urandom(32)).hexdigest(),
        "Sealed": world.seal(MATERIAL_PURPOSE, secret),
    }


def aead(world, key, version):
    """The AESGCM object for one material version (cached; never saved)."""
    cache = world.cache.setdefault("aead", {})
    entry = key["Materials"][version]
    sealed = entry["Sealed"]
    found = cache.get(sealed)
    if found is None:
        found = cache[sealed] = AESGCM(world.unseal(MATERIAL_PURPOSE, sealed))
    return found
