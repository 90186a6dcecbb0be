"""Creating, describing and listing keys, and moving them between states."""
import json

from ..cloudtrail import event_time
from ..errors import KMSInvalidStateException, UnsupportedOperationException, ValidationException
from ..operations import operation
from ..policy.authorize import authorize_account
from ..policy.catalogue import CRYPTO_ACTIONS
from . import specs
from .access import check_key_policy, key_for
from .custom_key_stores import require_custom_key_store
from .keys import (
    DAY, is_replica, key_arn, new_key, note_due, page, record_name, refuse_aws_managed, require_not,
)
from .tags import check_tags, tag_conditions


def default_policy(account):
    """The key policy CreateKey gives a key when the request has none (key-policy-default),
    pretty-printed the way GetKeyPolicy returns it."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        },
        indent=2,
        separators=(",", " : "),
    )


def _check_key_type(request):
    """The KeySpec and KeyUsage a CreateKey request asks for, refused as AWS refuses them."""
    if request.get("KeySpec") and request.get("CustomerMasterKeySpec"):
        # CreateKey API reference: CustomerMasterKeySpec is deprecated; use one or the other.
        raise ValidationException("You cannot specify both KeySpec and CustomerMasterKeySpec.")
    spec = request.get("KeySpec") or request.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
    usage = specs.check(spec, request.get("KeyUsage"))
    if request.get("CustomKeyStoreId"):
        require_custom_key_store(request["CustomKeyStoreId"])
    if request.get("Origin", "AWS_KMS") not in ("AWS_KMS", "EXTERNAL") or request.get("XksKeyId"):
        raise UnsupportedOperationException("Custom key stores are not available in this sandbox.")
    if request.get("Origin") == "EXTERNAL" and not specs.importable(spec):
        # The wording is kmslab's; importing-keys-conceptual lists the specs that take imports.
        raise UnsupportedOperationException(f"KeySpec {spec} does not support imported key material.")
    # Every key spec can be multi-Region, with KMS-made or imported material (CreateKey API
    # reference, MultiRegion); only custom key stores cannot hold one, refused above.
    return spec, usage


@operation("kms", "CreateKey")
def create_key(ctx, request):
    spec, usage = _check_key_type(request)
    origin = request.get("Origin", "AWS_KMS")
    tags = request.get("Tags", [])
    multi_region = bool(request.get("MultiRegion"))
    conditions = {
        "kms:KeySpec": spec,
        "kms:KeyUsage": usage,
        "kms:KeyOrigin": origin,
        "kms:MultiRegion": multi_region,
        **tag_conditions(tags),
    }
    if multi_region:
        conditions["kms:MultiRegionKeyType"] = "PRIMARY"
    if "BypassPolicyLockoutSafetyCheck" in request:
        conditions["kms:BypassPolicyLockoutSafetyCheck"] = request["BypassPolicyLockoutSafetyCheck"]
    authorize_account(ctx, "kms:CreateKey", conditions)
    check_tags(tags)
    account, region = ctx.caller.account, ctx.region
    key = new_key(
        ctx.world,
        account,
        region,
        ctx.time,
        description=request.get("Description", ""),
        origin=origin,
        policy=request.get("Policy") or default_policy(account),
        tags=[dict(tag) for tag in tags],
        spec=spec,
        usage=usage,
        multi_region=multi_region,
    )
    meta = key["KeyMetadata"]
    if request.get("Policy") is not None:
        check_key_policy(ctx, meta["Arn"], request["Policy"], request.get("BypassPolicyLockoutSafetyCheck", False))
    ctx.world.doc["kms"]["keys"][record_name(meta["KeyId"], region)] = key
    ctx.add_resource(meta["Arn"])
    return {"KeyMetadata": dict(meta)}


@operation("kms", "DescribeKey", read_only=True)
def describe_key(ctx, request):
    # GrantTokens are accepted but not checked: unlike the cryptographic operations,
    # DescribeKey's API reference (and botocore's model) lists no InvalidGrantTokenException.
    key = key_for(ctx, request["KeyId"], "kms:DescribeKey", allow_alias=True)
    return {"KeyMetadata": dict(key["KeyMetadata"])}


@operation("kms", "GetKeyLastUsage", read_only=True)
def get_key_last_usage(ctx, request):
    """The key's last successful cryptographic operation, in every key state (the API reference
    lists no KMSInvalidStateException). It is read from the trail, which names each call's key
    in `resources` and holds every call since the key was made, so a use writes nothing more
    than its record, and the answer names that record (CloudTrailEventId, KmsRequestId)."""
    key = key_for(ctx, request["KeyId"], "kms:GetKeyLastUsage")
    meta = key["KeyMetadata"]
    record = last_use(ctx.trail, meta["Arn"]) if ctx.trail is not None else None
    last = {} if record is None else {
        "Operation": record["eventName"],
        "Timestamp": event_time(record),
        "CloudTrailEventId": record["eventID"],
        "KmsRequestId": record["requestID"],
    }
    return {"KeyId": meta["KeyId"], "KeyLastUsage": last, "TrackingStartDate": meta["CreationDate"],
            "KeyCreationDate": meta["CreationDate"]}


# What GetKeyLastUsage counts: the operations of the cryptographic actions (ReEncryptFrom and
# ReEncryptTo are both ReEncrypt's).
CRYPTOGRAPHIC_OPERATIONS = frozenset(action[4:].removesuffix("From").removesuffix("To") for action in CRYPTO_ACTIONS)


def last_use(trail, key_arn, page_size=100):
    """The newest record of a successful cryptographic operation on the key, or None."""
    before = None
    while rows := trail.lookup(attribute="ResourceName", value=key_arn, before=before, limit=page_size):
        for row in rows:
            record = json.loads(row["record_json"])
            if record["eventName"] in CRYPTOGRAPHIC_OPERATIONS and "errorCode" not in record:
                return record
        before = rows[-1]["sequence"]
    return None


@operation("kms", "ListKeys", read_only=True)
def list_keys(ctx, request):
    authorize_account(ctx, "kms:ListKeys")
    account, region = ctx.caller.account, ctx.region
    # The account's keys in this Region in the order they were made: one page is read, not every key.
    listed = ctx.world.doc["kms"]["keys"].listing.group((account, region))
    chunk, tail = page(listed, request, 100, 1000)
    keys = [name.split("/")[0] for _, name in chunk]  # record names: key id, or key id/Region
    return {"Keys": [{"KeyId": key_id, "KeyArn": key_arn(region, account, key_id)} for key_id in keys], **tail}


def _managed_key(ctx, request, action):
    """Resolve (key id or ARN), authorize, and refuse AWS managed keys: the start of every management call."""
    key = key_for(ctx, request["KeyId"], action)
    refuse_aws_managed(ctx, key, action)
    return key


@operation("kms", "UpdateKeyDescription")
def update_key_description(ctx, request):
    key = _managed_key(ctx, request, "kms:UpdateKeyDescription")
    require_not(key, "PendingDeletion", "PendingReplicaDeletion")
    key["KeyMetadata"]["Description"] = request["Description"]
    return {}


@operation("kms", "EnableKey")
def enable_key(ctx, request):
    key = _managed_key(ctx, request, "kms:EnableKey")
    require_not(key, "PendingDeletion", "PendingReplicaDeletion", "PendingImport", "Creating", "Updating")
    meta = key["KeyMetadata"]
    meta["KeyState"] = "Enabled"
    meta["Enabled"] = True
    rotation = key["Rotation"]
    if rotation["Enabled"]:
        # GetKeyRotationStatus API reference: a re-enabled key whose rotation fell
        # due while it was disabled rotates at once, then keeps its period.
        rotation["NextRotationDate"] = max(rotation["NextRotationDate"], ctx.time)
        note_due(ctx.world, rotation["NextRotationDate"])
    return {}


@operation("kms", "DisableKey")
def disable_key(ctx, request):
    key = _managed_key(ctx, request, "kms:DisableKey")
    require_not(key, "PendingDeletion", "PendingReplicaDeletion", "PendingImport", "Creating", "Updating")
    meta = key["KeyMetadata"]
    meta["KeyState"] = "Disabled"
    meta["Enabled"] = False
    return {}


@operation("kms", "ScheduleKeyDeletion")
def schedule_key_deletion(ctx, request):
    window = request.get("PendingWindowInDays", 30)
    # The model allows 1-365; the API reference allows 7-30.
    if not 7 <= window <= 30:
        bound = "greater than or equal to 7" if window < 7 else "less than or equal to 30"
        raise ValidationException(
            f"1 validation error detected: Value '{window}' at 'pendingWindowInDays' failed to satisfy constraint: "
            f"Member must have value {bound}"
        )
    key = key_for(ctx, request["KeyId"], "kms:ScheduleKeyDeletion", {"kms:ScheduleKeyDeletionPendingWindowInDays": window})
    meta = key["KeyMetadata"]
    refuse_aws_managed(ctx, key, "kms:ScheduleKeyDeletion")
    require_not(key, "PendingDeletion", "PendingReplicaDeletion")
    meta["Enabled"] = False
    meta["PendingDeletionWindowInDays"] = window
    if meta["MultiRegion"] and not is_replica(key) and meta["MultiRegionConfiguration"]["ReplicaKeys"]:
        # A primary with replicas waits for them; its window starts when the last is deleted
        # and its deletion date is not known until then (ScheduleKeyDeletion API reference).
        meta["KeyState"] = "PendingReplicaDeletion"
        return {"KeyId": meta["Arn"], "KeyState": "PendingReplicaDeletion", "PendingWindowInDays": window}
    meta["KeyState"] = "PendingDeletion"
    meta["DeletionDate"] = ctx.time + window * DAY
    note_due(ctx.world, meta["DeletionDate"])
    return {
        "KeyId": meta["Arn"],
        "DeletionDate": meta["DeletionDate"],
        "KeyState": "PendingDeletion",
        "PendingWindowInDays": window,
    }


@operation("kms", "CancelKeyDeletion")
def cancel_key_deletion(ctx, request):
    key = _managed_key(ctx, request, "kms:CancelKeyDeletion")
    meta = key["KeyMetadata"]
    if meta["KeyState"] not in ("PendingDeletion", "PendingReplicaDeletion"):
        raise KMSInvalidStateException(f"{meta['Arn']} is not pending deletion.")
    # CancelKeyDeletion leaves the key Disabled; a key with no usable material
    # (imported material deleted or expired) can only wait for an import.
    usable = bool(key["Materials"]) and key["Materials"][-1]["Sealed"] is not None
    meta["KeyState"] = "Disabled" if usable else "PendingImport"
    meta.pop("DeletionDate", None)  # a primary pending replica deletion has none yet
    meta.pop("PendingDeletionWindowInDays")
    return {"KeyId": meta["Arn"]}
