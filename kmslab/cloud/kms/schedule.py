"""What falls due on the sandbox clock: deletion windows ending, rotations, expiring imports,
multi-Region keys settling (multi_region.py).

`run_due` runs before every call (calls.call) and when a learner advances the
clock. It is on the hot path, so it scans the keys only once the earliest due
time it remembers (`world.cache["kms_next_due"]`, lowered by keys.note_due)
has passed. Each event is recorded as the AwsServiceEvent AWS writes for it,
stamped with the time it fell due.
"""
import math

from .. import records
from .keys import DAY, alias_names, forget_imported_material, is_replica, record_name, rotate, synchronize
from .multi_region import delete_from_family, settle_due


def run_due(world):
    """Run everything due at world.now(); return the AwsServiceEvent records it wrote, oldest first."""
    now = world.now()
    due = world.cache.get("kms_next_due")
    if due is not None and now < due:
        return []
    keys = world.doc["kms"]["keys"]
    events = []
    next_due = math.inf
    for key_id in list(keys):
        # Looked at without being noted as changed (world.Entities.peek) unless something falls due.
        when = _next_event(keys.peek(key_id))
        if when > now:
            next_due = min(next_due, when)
            continue
        key = keys[key_id]
        events += settle_due(world, key, now)
        events += _expire_material(world, key, now)
        events += _rotate(world, key, now)
        changed = _delete(world, key, now, events)
        if changed is not None:
            for other in changed:
                next_due = min(next_due, _next_event(other))
            continue
        next_due = min(next_due, _next_event(key))
    world.cache["kms_next_due"] = next_due
    events.sort(key=lambda event: event[0])
    return [record for _, record in events]


def _delete(world, key, now, events):
    """A deletion window that ended: the key, its material, aliases and grants are gone (ScheduleKeyDeletion).

    Returns None when nothing was deleted, else the other keys whose schedule it changed
    (a multi-Region primary that waited for its last replica)."""
    meta = key["KeyMetadata"]
    if meta["KeyState"] != "PendingDeletion" or meta["DeletionDate"] > now:
        return None
    changed = []
    kms = world.doc["kms"]
    key_id, arn = meta["KeyId"], meta["Arn"]
    name = record_name(key_id, key["Region"])
    if meta["MultiRegion"] and meta["MultiRegionConfiguration"]["ReplicaKeys"]:
        changed.append(delete_from_family(world, key, meta["DeletionDate"]))
    del kms["keys"][name]
    # Remembered so that Decrypt can tell a deleted key's ciphertext from a forged one.
    kms.setdefault("deleted_keys", []).append(key_id)
    for alias in alias_names(world, key):
        del kms["aliases"][alias]
    for grant_id in [g for g, grant in kms["grants"].items() if grant.get("KeyId") in (key_id, arn)]:
        del kms["grants"][grant_id]
    for token in [t for t, entry in kms["import_tokens"].items() if entry["KeyId"] == name]:
        del kms["import_tokens"][token]
    # ct-delete-key: since December 2022 the record names the key in responseElements.
    events.append((meta["DeletionDate"], records.service_event_record("DeleteKey", arn, meta["DeletionDate"], response={"keyId": arn})))
    return changed


def _rotate(world, key, now):
    """Automatic rotation: each period that ended adds a material version (rotate-keys).

    Disabled and pending-deletion keys do not rotate; EnableKey moves an
    overdue rotation to the moment the key is enabled again. A multi-Region
    primary's rotation is synchronized to its replicas, which never rotate by themselves."""
    rotation = key["Rotation"]
    meta = key["KeyMetadata"]
    events = []
    if not rotation["Enabled"] or meta["KeyState"] != "Enabled" or is_replica(key):
        return events
    while rotation["NextRotationDate"] <= now:
        when = rotation["NextRotationDate"]
        events.append((when, rotate(world, key, "AUTOMATIC", when)))
        rotation["NextRotationDate"] = when + rotation["RotationPeriodInDays"] * DAY
    if events and meta["MultiRegion"]:
        synchronize(world, key)
        if meta["MultiRegionConfiguration"]["ReplicaKeys"]:
            events.append((events[-1][0], records.synchronize_record(meta["Arn"], events[-1][0])))
    return events


def _expire_material(world, key, now):
    """Imported material past its ValidTo is deleted; the key waits for a re-import (ct-deleteexpiredkeymaterial)."""
    meta = key["KeyMetadata"]
    valid_to = meta.get("ValidTo")
    if valid_to is None or valid_to > now:
        return []
    details = {"keyId": meta["KeyId"], "keyMaterialId": meta["CurrentKeyMaterialId"]}
    forget_imported_material(key)
    return [(valid_to, records.service_event_record("DeleteExpiredKeyMaterial", meta["Arn"], valid_to, details=details))]


def _next_event(key):
    meta = key["KeyMetadata"]
    rotation = key["Rotation"]
    times = [math.inf]
    if meta["KeyState"] == "PendingDeletion":
        times.append(meta["DeletionDate"])
    if rotation["Enabled"] and meta["KeyState"] == "Enabled" and not is_replica(key):
        times.append(rotation["NextRotationDate"])
    if "Settle" in key:
        times.append(key["Settle"]["Date"])
    if meta.get("ValidTo") is not None:
        times.append(meta["ValidTo"])
    return min(times)
