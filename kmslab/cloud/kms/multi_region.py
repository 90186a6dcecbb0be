"""Multi-Region keys: ReplicateKey, UpdatePrimaryRegion, and keeping related keys in step
(multi-region-keys-overview).

A primary key and its replicas share their key id, key spec, key usage, origin,
key material and automatic rotation ("shared properties", mrk-sync-properties):
rotation is managed on the primary and synchronized to the replicas. Each one
has its own key policy, description, tags, aliases, grants and key state. Every
member's KeyMetadata holds the family's MultiRegionConfiguration, kept equal here.

What AWS does asynchronously takes a few seconds of sandbox time: a new replica
is Creating, then Enabled (or PendingImport); UpdatePrimaryRegion leaves both keys
Updating, then as they were. A key's record holds what it becomes and when
(`"Settle": {"Date", "KeyState"}`); schedule.run_due applies it and writes
AWS's SynchronizeMultiRegionKey record.
"""
import copy
import dataclasses

from .. import records
from ..errors import AlreadyExistsException, NotFoundException, UnsupportedOperationException, ValidationException
from ..operations import operation
from ..policy.authorize import authorize_account
from .access import authorize_key, check_key_policy, key_for
from .keys import (
    DAY,
    REGIONS,
    configure,
    family,
    find,
    is_replica,
    key_arn,
    note_due,
    record_name,
    refuse_aws_managed,
    require_enabled,
    require_not,
)
from .lifecycle import default_policy
from .tags import check_tags, tag_conditions

# ReplicateKey API reference: Creating "changes to Enabled (or PendingImport) after a few seconds".
SETTLE_SECONDS = 5.0


def _settle(world, key, state, now):
    key["Settle"] = {"Date": now + SETTLE_SECONDS, "KeyState": state}
    note_due(world, key["Settle"]["Date"])


def _require_primary(key):
    meta = key["KeyMetadata"]
    if not meta.get("MultiRegion"):
        raise UnsupportedOperationException(f"{meta['Arn']} is not a multi-Region key.")
    if is_replica(key):
        raise UnsupportedOperationException(f"{meta['Arn']} is not a multi-Region primary key.")


def _check_region(region):
    # botocore's RegionType pattern passes names no Region has; the sandbox's Regions are AWS's commercial ones.
    if region not in REGIONS:
        raise ValidationException(f"{region} is not a valid AWS Region.")


def _record_in(ctx, region, operation_name, arn, logged_request, response):
    """The call's record as written in another Region (ReplicateKey's CreateKey, UpdatePrimaryRegion's second)."""
    there = dataclasses.replace(
        ctx, region=region, operation=operation_name, logged_request=logged_request, resources=[arn],
        additional_event_data={}, request_id=records.new_event_id(), explanations=[], later_records=[],
    )
    ctx.later_records.append(records.api_call_record(there, response, None))


@operation("kms", "ReplicateKey")
def replicate_key(ctx, request):
    # CloudTrail logs the defaults of what was not sent (ct-replicate-key).
    ctx.logged_request = {"BypassPolicyLockoutSafetyCheck": False, "Description": "", **request}
    region = request["ReplicaRegion"]
    _check_region(region)
    tags = request.get("Tags", [])
    # ReplicateKey API reference, "Required permissions": kms:ReplicateKey on the primary key
    # in its Region, kms:CreateKey (and kms:TagResource for Tags) in the replica Region.
    primary = key_for(ctx, request["KeyId"], "kms:ReplicateKey", {"kms:ReplicaRegion": region, **tag_conditions(tags)})
    refuse_aws_managed(ctx, primary, "kms:ReplicateKey")
    _require_primary(primary)
    require_not(primary, "PendingDeletion", "PendingReplicaDeletion", "Updating")
    meta = primary["KeyMetadata"]
    account, key_id = meta["AWSAccountId"], meta["KeyId"]
    if region == primary["Region"] or find(ctx.world, key_id, region) is not None:
        raise AlreadyExistsException(f"Replica key {key_arn(region, account, key_id)} already exists.")
    there = dataclasses.replace(ctx, region=region)
    authorize_account(
        there,
        "kms:CreateKey",
        {"kms:KeySpec": meta["KeySpec"], "kms:KeyUsage": meta["KeyUsage"], "kms:KeyOrigin": meta["Origin"],
         "kms:MultiRegion": True, "kms:MultiRegionKeyType": "REPLICA", **tag_conditions(tags)},
    )
    if tags:
        authorize_account(there, "kms:TagResource", tag_conditions(tags))
    check_tags(tags)
    arn = key_arn(region, account, key_id)
    policy = request.get("Policy") or default_policy(account)
    if request.get("Policy") is not None:
        check_key_policy(ctx, arn, policy, request.get("BypassPolicyLockoutSafetyCheck", False))
    replica_meta = {
        **copy.deepcopy(meta),
        "Arn": arn,
        "CreationDate": ctx.time,
        "Enabled": False,
        "Description": request.get("Description", ""),
        "KeyState": "Creating",
    }
    for field in ("DeletionDate", "PendingDeletionWindowInDays", "ValidTo", "ExpirationModel"):
        replica_meta.pop(field, None)
    materials = copy.deepcopy(primary["Materials"])
    if meta["Origin"] == "EXTERNAL":
        # Each related key imports the same material itself (multi-region-keys-import).
        for material in materials:
            material["Sealed"] = None
        replica_meta.pop("CurrentKeyMaterialId", None)
    replica = {
        "KeyMetadata": replica_meta,
        "Region": region,
        "Policy": policy,
        "Tags": [dict(tag) for tag in tags],
        "Materials": materials,
        "Rotation": dict(primary["Rotation"]),
        "OnDemandRotations": primary["OnDemandRotations"],
    }
    _settle(ctx.world, replica, "Enabled" if meta["Origin"] == "AWS_KMS" else "PendingImport", ctx.time)
    ctx.world.doc["kms"]["keys"][record_name(key_id, region)] = replica
    configure(family(ctx.world, primary) + [replica])
    response = {"ReplicaKeyMetadata": dict(replica_meta), "ReplicaPolicy": policy, "ReplicaTags": replica["Tags"]}
    # ct-replicate-key: "A ReplicateKey request results in a ReplicateKey operation and a CreateKey operation."
    created = {key: request[key] for key in ("Description", "Tags", "BypassPolicyLockoutSafetyCheck") if key in request}
    _record_in(ctx, region, "CreateKey", arn, {**created, "MultiRegion": True}, {"KeyMetadata": dict(replica_meta)})
    return response


@operation("kms", "UpdatePrimaryRegion")
def update_primary_region(ctx, request):
    region = request["PrimaryRegion"]
    _check_region(region)
    conditions = {"kms:PrimaryRegion": region}
    primary = key_for(ctx, request["KeyId"], "kms:UpdatePrimaryRegion", conditions)
    refuse_aws_managed(ctx, primary, "kms:UpdatePrimaryRegion")
    _require_primary(primary)
    meta = primary["KeyMetadata"]
    members = family(ctx.world, primary)
    new_primary = next((m for m in members[1:] if m["Region"] == region), None)
    if new_primary is None:
        raise NotFoundException(f"Key '{key_arn(region, meta['AWSAccountId'], meta['KeyId'])}' does not exist")
    # UpdatePrimaryRegion API reference: kms:UpdatePrimaryRegion on the current primary key
    # (in its Region) and on the replica key (in the new primary's Region).
    there = dataclasses.replace(ctx, region=region)
    authorize_key(there, "kms:UpdatePrimaryRegion", new_primary, conditions)
    require_enabled(primary)
    require_enabled(new_primary)
    for key in (primary, new_primary):
        _settle(ctx.world, key, key["KeyMetadata"]["KeyState"], ctx.time)
        key["KeyMetadata"]["KeyState"] = "Updating"
        key["KeyMetadata"]["Enabled"] = False
    members.remove(new_primary)
    configure([new_primary] + members)
    # ct-update-primary-region: one record in each of the two Regions.
    _record_in(ctx, region, "UpdatePrimaryRegion", new_primary["KeyMetadata"]["Arn"], request, {})
    return {}


def delete_from_family(world, key, now):
    """A key whose deletion window ended leaves its family; a primary waiting for its last
    replica (PendingReplicaDeletion) starts its own window then (multi-region-keys-delete).
    Returns the primary."""
    members = [m for m in family(world, key) if m is not None and m is not key]
    configure(members)
    primary = members[0]
    meta = primary["KeyMetadata"]
    if len(members) == 1 and meta["KeyState"] == "PendingReplicaDeletion":
        meta["KeyState"] = "PendingDeletion"
        meta["DeletionDate"] = now + meta["PendingDeletionWindowInDays"] * DAY
    return primary


def settle_due(world, key, now):
    """Apply a due Settle: [(time, the SynchronizeMultiRegionKey record it writes)], or []."""
    settle = key.get("Settle")
    if settle is None or settle["Date"] > now:
        return []
    del key["Settle"]
    meta = key["KeyMetadata"]
    was = meta["KeyState"]
    if was in ("Creating", "Updating"):  # else a call (ScheduleKeyDeletion, say) changed it meanwhile
        meta["KeyState"] = settle["KeyState"]
        meta["Enabled"] = settle["KeyState"] == "Enabled"
    if was == "Creating" or not is_replica(key):
        primary_arn = meta["MultiRegionConfiguration"]["PrimaryKey"]["Arn"]
        return [(settle["Date"], records.synchronize_record(primary_arn, settle["Date"]))]
    return []
