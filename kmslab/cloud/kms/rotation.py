"""Key rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus,
RotateKeyOnDemand, ListKeyRotations (rotate-keys).

Rotation adds a material version and never removes one: new ciphertexts use
the newest, old ones still decrypt. Automatic rotations are run by
schedule.run_due when the clock passes `Rotation["NextRotationDate"]`.
A multi-Region key's rotation is managed on its primary and synchronized to its
replicas (multi-region-keys-manage: "rotation of the primary is synchronized").
"""
from ..errors import LimitExceededException, UnsupportedOperationException
from ..operations import operation
from .access import key_for
from .keys import DAY, note_due, page, refuse_aws_managed, refuse_replica, require_enabled, require_origin, rotate, synchronize

DEFAULT_PERIOD_DAYS = 365
MAX_ON_DEMAND = 25  # resource-limits: on-demand rotations per key, not adjustable


def require_rotatable(key):
    """Only symmetric encryption keys rotate, and only with material KMS made (rotate-keys:
    "not supported" on asymmetric, HMAC, imported and custom key store keys)."""
    meta = key["KeyMetadata"]
    if meta["KeySpec"] != "SYMMETRIC_DEFAULT":
        raise UnsupportedOperationException(f"{meta['Arn']} key spec is {meta['KeySpec']} which is not valid for this operation.")
    require_origin(key, "AWS_KMS")


@operation("kms", "EnableKeyRotation")
def enable_key_rotation(ctx, request):
    period = request.get("RotationPeriodInDays", DEFAULT_PERIOD_DAYS)
    key = key_for(ctx, request["KeyId"], "kms:EnableKeyRotation", {"kms:RotationPeriodInDays": period})
    # Imported material cannot rotate (key-state table, notes 6 and 7).
    refuse_aws_managed(ctx, key, "kms:EnableKeyRotation")
    require_rotatable(key)
    refuse_replica(key)
    require_enabled(key)
    rotation = key["Rotation"]
    if rotation["Enabled"]:
        # A new period counts from the last rotation (or from when rotation was enabled).
        start = rotation["NextRotationDate"] - rotation["RotationPeriodInDays"] * DAY
    else:
        start = ctx.time
    key["Rotation"] = {"Enabled": True, "RotationPeriodInDays": period, "NextRotationDate": start + period * DAY}
    note_due(ctx.world, key["Rotation"]["NextRotationDate"])
    synchronize(ctx.world, key)
    return {}


@operation("kms", "DisableKeyRotation")
def disable_key_rotation(ctx, request):
    key = key_for(ctx, request["KeyId"], "kms:DisableKeyRotation")
    refuse_aws_managed(ctx, key, "kms:DisableKeyRotation")
    require_rotatable(key)
    refuse_replica(key)
    require_enabled(key)
    key["Rotation"] = {"Enabled": False}
    synchronize(ctx.world, key)
    return {}


@operation("kms", "GetKeyRotationStatus", read_only=True)
def get_key_rotation_status(ctx, request):
    key = key_for(ctx, request["KeyId"], "kms:GetKeyRotationStatus")
    require_rotatable(key)
    meta = key["KeyMetadata"]
    rotation = key["Rotation"]
    # While a key is pending deletion its rotation status is false; cancelling
    # the deletion brings the old status back (GetKeyRotationStatus API reference).
    enabled = rotation["Enabled"] and meta["KeyState"] != "PendingDeletion"
    response = {"KeyRotationEnabled": enabled, "KeyId": meta["Arn"]}
    if enabled:
        response["RotationPeriodInDays"] = rotation["RotationPeriodInDays"]
        response["NextRotationDate"] = rotation["NextRotationDate"]
    return response


@operation("kms", "RotateKeyOnDemand")
def rotate_key_on_demand(ctx, request):
    key = key_for(ctx, request["KeyId"], "kms:RotateKeyOnDemand")
    meta = key["KeyMetadata"]
    refuse_aws_managed(ctx, key, "kms:RotateKeyOnDemand")
    require_rotatable(key)
    refuse_replica(key)
    require_enabled(key)
    if key["OnDemandRotations"] >= MAX_ON_DEMAND:
        raise LimitExceededException(
            "The on-demand rotations limit has been reached for the given keyId. "
            f"No more on-demand rotations can be performed for this key: {meta['Arn']}"
        )
    # On-demand rotations leave the automatic schedule as it is (RotateKeyOnDemand API reference).
    ctx.later_records.append(rotate(ctx.world, key, "ON_DEMAND", ctx.time))
    key["OnDemandRotations"] += 1
    synchronize(ctx.world, key)
    return {"KeyId": meta["Arn"]}


@operation("kms", "ListKeyRotations", read_only=True)
def list_key_rotations(ctx, request):
    key = key_for(ctx, request["KeyId"], "kms:ListKeyRotations")
    require_rotatable(key)
    arn = key["KeyMetadata"]["Arn"]
    materials = key["Materials"]
    current = len(materials) - 1
    entries = []
    for version, material in enumerate(materials):
        # ROTATIONS_ONLY (the default) leaves out the key's first material.
        if version == 0 and request.get("IncludeKeyMaterial") != "ALL_KEY_MATERIAL":
            continue
        entry = {
            "KeyId": arn,
            "KeyMaterialId": material["KeyMaterialId"],
            "KeyMaterialState": "CURRENT" if version == current else "NON_CURRENT",
        }
        if material["RotationType"]:
            entry["RotationDate"] = material["RotationDate"]
            entry["RotationType"] = material["RotationType"]
        entries.append(entry)
    chunk, tail = page(entries, request, 100, 1000)
    return {"Rotations": chunk, **tail}
