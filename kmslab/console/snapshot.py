"""Reading a world snapshot for display.

Pages show the whole sandbox at once, the way a teacher sees it, without
making calls: reading a page writes nothing to CloudTrail. Only actions are
calls (kmslab/console/pages.py `run`).
"""
from urllib.parse import urlencode

from django.core.paginator import Paginator

from kmslab.cloud.kms import specs
from kmslab.cloud.kms.keys import alias_names, family, find, is_replica

from .pages import duration


def region_query(world, region):
    """What a key page's URL adds for a key outside the world's default Region: "?region=eu-west-1", else ""
    (so every single-Region key's URL stays as it was)."""
    return "" if region == world.region else "?" + urlencode({"region": region})


# Rows of the console's key tables per page: at 10,000 keys the whole table took over a second to render.
KEYS_PER_PAGE = 100


def keys(world):
    """Key rows for a table: {"meta", "region", "query", "aliases", "rotation"}, customer keys first,
    oldest first. A multi-Region key has a row per Region, each with its own aliases."""
    return [_key_row(world, key) for key in _keys_in_order(world)]


def key_page(world, number=1):
    """One page of keys() (KEYS_PER_PAGE rows) as a Django Page; a number out of range gives the last page."""
    page = Paginator(_keys_in_order(world), KEYS_PER_PAGE).get_page(number)
    page.object_list = [_key_row(world, key) for key in page.object_list]
    return page


def _keys_in_order(world):
    records = list(world.doc["kms"]["keys"].values())
    records.sort(key=lambda key: (key["KeyMetadata"]["KeyManager"] != "CUSTOMER", key["KeyMetadata"]["CreationDate"]))
    return records


def _key_row(world, key):
    return {"meta": key["KeyMetadata"], "region": key["Region"], "query": region_query(world, key["Region"]),
            "aliases": key_aliases(world, key), "rotation": key.get("Rotation", {}), "policy": key.get("Policy", "")}


def key_aliases(world, record):
    """The aliases of one key record (a replica has its own)."""
    return [world.doc["kms"]["aliases"][arn] for arn in alias_names(world, record)]


def multi_region(world, record):
    """A multi-Region key's family for its page: {"members", "primary", "replicas"} (members: the primary,
    then its replicas), each {"Region", "Arn", "KeyState", "query", "here"}; None for a single-Region key."""
    if not record["KeyMetadata"].get("MultiRegion"):
        return None
    members = [
        {"Region": m["Region"], "Arn": m["KeyMetadata"]["Arn"], "KeyState": m["KeyMetadata"]["KeyState"],
         "query": region_query(world, m["Region"]), "here": m is record}
        for m in family(world, record)
    ]
    return {"members": members, "primary": members[0], "replicas": members[1:]}


def key(world, key_id, region):
    """Everything the key page shows about the key `key_id` in `region`, or None."""
    record = find(world, key_id, region)
    if record is None:
        return None
    meta = record["KeyMetadata"]
    now = world.now()
    grants = [g for g in world.doc["kms"]["grants"].values() if g.get("KeyId") == meta["Arn"]]
    materials = [
        {"version": i, "current": m["KeyMaterialId"] == meta.get("CurrentKeyMaterialId"), **m}
        for i, m in enumerate(record["Materials"])
    ]
    return {
        "meta": meta,
        "record": record,
        "region": region,
        "query": region_query(world, region),
        "multi_region": multi_region(world, record),
        "aliases": key_aliases(world, record),
        "tags": record.get("Tags", []),
        "rotation": record.get("Rotation", {}),
        "rotations": [m for m in materials if m.get("RotationDate")],
        "materials": materials,
        "grants": grants,
        "deletion_in": duration(max(0, meta["DeletionDate"] - now)) if meta.get("DeletionDate") else None,
        "public": specs.is_asymmetric(meta["KeySpec"]),
    }


def due(world):
    """[{"when", "in", "what", "key", "query"}] soonest first: deletions, automatic rotations, imported
    material expiring. A replica's rotation is its primary's (mrk-sync-properties), listed once."""
    now = world.now()
    items = []
    for record in world.doc["kms"]["keys"].values():
        meta = record["KeyMetadata"]
        if meta.get("KeyState") == "PendingDeletion" and meta.get("DeletionDate"):
            items.append((meta["DeletionDate"], "Deletion", record))
        rotation = record.get("Rotation", {})
        if (rotation.get("Enabled") and rotation.get("NextRotationDate") and meta.get("KeyState") == "Enabled"
                and not is_replica(record)):
            items.append((rotation["NextRotationDate"], "Automatic rotation", record))
        if meta.get("ExpirationModel") == "KEY_MATERIAL_EXPIRES" and meta.get("ValidTo"):
            items.append((meta["ValidTo"], "Imported key material expires", record))
    items.sort(key=lambda item: item[0])
    return [{"when": when, "in": duration(max(0, when - now)), "what": what, "key": record["KeyMetadata"],
             "query": region_query(world, record["Region"])} for when, what, record in items]


def sessions(world):
    """STS sessions that have not expired: who they are for, MFA, expiry."""
    now = world.now()
    return [
        {**s, "principal": s.get("UserName") or f"{s.get('RoleName')}/{s.get('RoleSessionName')}",
         "expires_in": duration(s["Expiration"] - now)}
        for s in world.doc["sessions"].values()
        if s.get("Expiration", 0) > now
    ]
