"""Reading a world snapshot for display.

Pages show the whole sandbox at once, the way a teacher sees it, without
making calls: reading a page writes nothing to CloudTrail. Only actions are
calls (kmslab/console/pages.py `run`).
"""
from kmslab.cloud.kms import specs

from .pages import duration


def aliases_by_key(world):
    found = {}
    for alias in world.doc["kms"]["aliases"].values():
        if alias.get("TargetKeyId"):
            found.setdefault(alias["TargetKeyId"], []).append(alias)
    return found


def keys(world, account=None):
    """Key rows for a table: {"meta", "aliases", "rotation"}, customer keys first, oldest first."""
    aliases = aliases_by_key(world)
    rows = [
        {"meta": key["KeyMetadata"], "aliases": aliases.get(key_id, []), "rotation": key.get("Rotation", {})}
        for key_id, key in world.doc["kms"]["keys"].items()
        if account is None or key["KeyMetadata"]["AWSAccountId"] == account
    ]
    rows.sort(key=lambda row: (row["meta"]["KeyManager"] != "CUSTOMER", row["meta"]["CreationDate"]))
    return rows


def key(world, key_id):
    """Everything the key page shows about one key, or None."""
    record = world.doc["kms"]["keys"].get(key_id)
    if record is None:
        return None
    meta = record["KeyMetadata"]
    now = world.now()
    grants = [g for g in world.doc["kms"]["grants"].values() if g.get("KeyId") in (key_id, meta["Arn"])]
    materials = [
        {"version": i, "current": m["KeyMaterialId"] == meta.get("CurrentKeyMaterialId"), **m}
        for i, m in enumerate(record["Materials"])
    ]
    return {
        "meta": meta,
        "record": record,
        "aliases": aliases_by_key(world).get(key_id, []),
        "tags": record.get("Tags", []),
        "rotation": record.get("Rotation", {}),
        "rotations": [m for m in materials if m.get("RotationDate")],
        "materials": materials,
        "grants": grants,
        "deletion_in": duration(max(0, meta["DeletionDate"] - now)) if meta.get("DeletionDate") else None,
        "public": specs.is_asymmetric(meta["KeySpec"]),
    }


def due(world):
    """[{"when", "in", "what", "key"}] soonest first: deletions, automatic rotations, imported material expiring."""
    now = world.now()
    items = []
    for record in world.doc["kms"]["keys"].values():
        meta = record["KeyMetadata"]
        if meta.get("KeyState") == "PendingDeletion" and meta.get("DeletionDate"):
            items.append((meta["DeletionDate"], "Deletion", meta))
        rotation = record.get("Rotation", {})
        if rotation.get("Enabled") and rotation.get("NextRotationDate") and meta.get("KeyState") == "Enabled":
            items.append((rotation["NextRotationDate"], "Automatic rotation", meta))
        if meta.get("ExpirationModel") == "KEY_MATERIAL_EXPIRES" and meta.get("ValidTo"):
            items.append((meta["ValidTo"], "Imported key material expires", meta))
    items.sort(key=lambda item: item[0])
    return [{"when": when, "in": duration(max(0, when - now)), "what": what, "key": meta} for when, what, meta in items]


def sessions(world):
    """STS sessions that have not expired: who they are for, MFA, expiry."""
    now = world.now()
    return [
        {**s, "principal": s.get("UserName") or f"{s.get('RoleName')}/{s.get('RoleSessionName')}",
         "expires_in": duration(s["Expiration"] - now)}
        for s in world.doc["sessions"].values()
        if s.get("Expiration", 0) > now
    ]
