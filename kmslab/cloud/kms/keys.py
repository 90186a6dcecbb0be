"""KMS keys: the key record, KeyId resolution, key states, and key material.

A key record in `world.doc["kms"]["keys"][record_name(key_id, region)]`:

    {"KeyMetadata": {...exactly the fields DescribeKey returns...},
     "Region": "us-east-1",
     "Policy": "<the key policy document, as given>",
     "Tags": [{"TagKey": ..., "TagValue": ...}],
     "Materials": [{"KeyMaterialId": hex, "Sealed": <sealed material (specs.py)> | None,
                    "RotationDate": epoch | None, "RotationType": "AUTOMATIC" | "ON_DEMAND" | None}],
     "Rotation": {"Enabled": bool, "RotationPeriodInDays": int, "NextRotationDate": epoch},
     "OnDemandRotations": int}

Materials are never removed while the key exists: index i is "key material
version i" in the ciphertext header, so every earlier ciphertext still decrypts.
Imported material that is deleted or expires keeps its entry with `Sealed: None`,
so re-importing the same material revives the ciphertexts made under it.

Related multi-Region keys (a primary and its replicas) share one key id, each in
its own Region, so their records are named by key id and Region
(`mrk-…/eu-west-1`); every other key's record is named by its key id alone.
Their shared properties (key spec, usage, origin, material, rotation) are kept
equal by multi_region.py; `MultiRegionConfiguration` is in every member's
KeyMetadata, as DescribeKey returns it.
"""
import copy
import hashlib
import json
import os
import uuid

import botocore.loaders

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .. import records
from ..errors import (
    AccessDeniedException,
    DisabledException,
    DryRunOperationException,
    InvalidMarkerException,
    KMSInvalidStateException,
    NotFoundException,
    UnsupportedOperationException,
)
from . import specs

MATERIAL_PURPOSE = "kms-key-material"
DAY = 86400

# The predefined aliases AWS puts in every account; the AWS managed key behind
# one is created the first time the alias is used (DescribeKey API reference:
# "KMS creates an AWS managed key ... and associates the alias with it").
AWS_MANAGED_SERVICES = {
    "acm": "ACM",
    "backup": "Backup",
    "dynamodb": "DynamoDB",
    "ebs": "EBS",
    "elasticfilesystem": "EFS",
    "glue": "Glue",
    "lambda": "Lambda",
    "logs": "CloudWatch Logs",
    "rds": "RDS",
    "redshift": "Redshift",
    "s3": "S3",
    "secretsmanager": "Secrets Manager",
    "sns": "SNS",
    "sqs": "SQS",
    "ssm": "Systems Manager",
}


def key_arn(region, account, key_id):
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def alias_arn(region, account, name):
    return f"arn:aws:kms:{region}:{account}:alias/{name.removeprefix('alias/')}"


def new_key_id(multi_region=False):
    # Multi-Region key ids are "mrk-" and 32 hex digits, no dashes (multi-region-keys-overview).
    return "mrk-" + os.urandom(16).hex() if multi_region else str(uuid.uuid4())


def record_name(key_id, region):
    """The name of a key's record in world.doc["kms"]["keys"]."""
    return f"{key_id}/{region}" if key_id.startswith("mrk-") else key_id


def find(world, key_id, region):
    """The record of key `key_id` in `region`, or None (any account: key ids are world-unique)."""
    key = world.doc["kms"]["keys"].get(record_name(key_id, region))
    return key if key is not None and key["Region"] == region else None


def ever_existed(world, key_id):
    """Whether key `key_id` exists in some Region or was deleted: Decrypt tells its ciphertexts from forged ones."""
    kms = world.doc["kms"]
    if key_id in kms.get("deleted_keys", ()):
        return True
    if key_id.startswith("mrk-"):
        return any(record_name(key_id, region) in kms["keys"] for region in REGIONS)
    return key_id in kms["keys"]


def _is_mrk(text):
    return len(text) == 36 and text.startswith("mrk-") and all(c in "0123456789abcdef" for c in text[4:])


# The Regions of the sandbox: those of AWS's commercial partition, as botocore lists them.
REGIONS = frozenset(
    region
    for partition in botocore.loaders.Loader().load_data("partitions")["partitions"]
    if partition["id"] == "aws"
    for region in partition["regions"]
    if region != "aws-global"
)


def _is_uuid(text):
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def resolve(world, key_id, account, region, now, allow_alias=False):
    """KeyId (key id, key ARN, alias name or alias ARN) -> (key record, the alias name
    that named it or None: kms:RequestAlias).

    Only the cryptographic operations and DescribeKey accept alias names and
    alias ARNs (they pass allow_alias=True); every other operation takes a key
    id or key ARN. Key ids and alias names resolve in the caller's `account`
    and the request's `region`; another account's key needs its ARN (or an
    alias ARN where the operation accepts one). Failing to find a key is
    NotFound, never AccessDenied. An AWS managed alias used for the first time
    creates its key at `now`.
    """
    if key_id.startswith("arn:"):
        parts = key_id.split(":", 5)
        if len(parts) != 6 or parts[2] != "kms" or not parts[4]:
            raise NotFoundException(f"Invalid arn {key_id}")
        arn_region, arn_account, resource = parts[3], parts[4], parts[5]
        if arn_region != region:
            raise NotFoundException(f"Invalid arn {arn_region}")
        if resource.startswith("key/"):
            key = find(world, resource[4:], region)
            if key is None or key["KeyMetadata"]["Arn"] != key_id:
                raise NotFoundException(f"Key '{key_id}' does not exist")
            return key, None
        if resource.startswith("alias/") and allow_alias:
            return _by_alias(world, arn_account, region, resource, key_id, arn_account == account, now)
        raise NotFoundException(f"Invalid arn {key_id}")
    if key_id.startswith("alias/"):
        if not allow_alias:
            raise NotFoundException(f"Invalid keyId '{key_id}'")
        return _by_alias(world, account, region, key_id, alias_arn(region, account, key_id), True, now)
    key = find(world, key_id, region)
    if key is None and not (_is_uuid(key_id) or _is_mrk(key_id)):
        raise NotFoundException(f"Invalid keyId '{key_id}'")
    if key is None or key["KeyMetadata"]["AWSAccountId"] != account:
        raise NotFoundException(f"Key '{key_arn(region, account, key_id)}' does not exist")
    return key, None


def _by_alias(world, account, region, name, arn, own, now):
    alias = world.doc["kms"]["aliases"].get(arn)
    if alias is None and own and name.startswith("alias/aws/") and name[10:] in AWS_MANAGED_SERVICES:
        alias = create_aws_managed_key(world, account, region, name[10:], now)
    if alias is None:
        raise NotFoundException(f"Alias {arn} is not found.")
    return find(world, alias["TargetKeyId"], region), name


# Key records.


def new_key(
    world,
    account,
    region,
    now,
    *,
    description="",
    origin="AWS_KMS",
    policy,
    tags=(),
    key_manager="CUSTOMER",
    spec="SYMMETRIC_DEFAULT",
    usage="ENCRYPT_DECRYPT",
    multi_region=False,
):
    """A key record of a KeySpec and KeyUsage pair specs.check allowed, not yet stored."""
    key_id = new_key_id(multi_region)
    meta = {
        "AWSAccountId": account,
        "KeyId": key_id,
        "Arn": key_arn(region, account, key_id),
        "CreationDate": now,
        "Enabled": origin == "AWS_KMS",
        "Description": description,
        "KeyUsage": usage,
        "KeyState": "Enabled" if origin == "AWS_KMS" else "PendingImport",
        "Origin": origin,
        "KeyManager": key_manager,
        "CustomerMasterKeySpec": spec,
        "KeySpec": spec,
        **specs.algorithms(spec, usage),
        "MultiRegion": multi_region,
    }
    if multi_region:
        meta["MultiRegionConfiguration"] = {
            "MultiRegionKeyType": "PRIMARY",
            "PrimaryKey": {"Arn": meta["Arn"], "Region": region},
            "ReplicaKeys": [],
        }
    materials = []
    if origin == "AWS_KMS":
        materials.append(new_material(world, spec))
        # DescribeKey API reference: CurrentKeyMaterialId is present for symmetric encryption keys only.
        if specs.is_symmetric(spec):
            meta["CurrentKeyMaterialId"] = materials[0]["KeyMaterialId"]
    return {
        "KeyMetadata": meta,
        "Region": region,
        "Policy": policy,
        "Tags": list(tags),
        "Materials": materials,
        "Rotation": {"Enabled": False},
        "OnDemandRotations": 0,
    }


def aws_managed_policy(account, region, service):
    """The key policy of an AWS managed key: usable only through its service, readable by the account."""
    label = AWS_MANAGED_SERVICES[service]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Id": f"auto-{service}-2",
            "Statement": [
                {
                    "Sid": f"Allow access through {label} for all principals in the account that are authorized to use {label}",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:CallerAccount": account, "kms:ViaService": f"{service}.{region}.amazonaws.com"}
                    },
                },
                {
                    "Sid": "Allow direct access to key metadata to the account",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                    "Resource": "*",
                },
            ],
        },
        indent=2,
        separators=(",", " : "),
    )


def create_aws_managed_key(world, account, region, service, now):
    """Create the AWS managed key behind alias/aws/<service>; returns the alias record.

    AWS managed keys rotate every year and their rotation cannot be changed
    (EnableKeyRotation API reference, since May 2022)."""
    key = new_key(
        world,
        account,
        region,
        now,
        description=f"Default key that protects my {AWS_MANAGED_SERVICES[service]} data when no other key is defined",
        policy=aws_managed_policy(account, region, service),
        key_manager="AWS",
    )
    key["Rotation"] = {"Enabled": True, "RotationPeriodInDays": 365, "NextRotationDate": now + 365 * DAY}
    kms = world.doc["kms"]
    kms["keys"][key["KeyMetadata"]["KeyId"]] = key
    arn = alias_arn(region, account, f"alias/aws/{service}")
    alias = {
        "AliasName": f"alias/aws/{service}",
        "AliasArn": arn,
        "TargetKeyId": key["KeyMetadata"]["KeyId"],
        "CreationDate": now,
        "LastUpdatedDate": now,
    }
    kms["aliases"][arn] = alias
    note_due(world, key["Rotation"]["NextRotationDate"])
    return alias


def alias_names(world, key):
    """The ARNs of the aliases that point to `key`: an alias names a key id in its own account and Region."""
    meta = key["KeyMetadata"]
    prefix = alias_arn(key["Region"], meta["AWSAccountId"], "")
    return [arn for arn, alias in world.doc["kms"]["aliases"].items()
            if alias["TargetKeyId"] == meta["KeyId"] and arn.startswith(prefix)]


def note_due(world, when):
    """Tell the schedule something falls due at `when` (schedule.run_due skips scanning until then)."""
    due = world.cache.get("kms_next_due")
    if due is not None and when < due:
        world.cache["kms_next_due"] = when


def refuse_aws_managed(ctx, key, action):
    """AWS managed keys can be viewed and used through their service, never managed.

    Their key policy allows the account only kms:Describe*, Get* and List*, and
    no one can change it (key-policy-default, "AWS managed keys"); so whatever
    IAM says, every other management call is denied."""
    meta = key["KeyMetadata"]
    if meta["KeyManager"] == "AWS":
        raise AccessDeniedException(
            f"User: {ctx.caller.arn} is not authorized to perform: {action} on resource: {meta['Arn']} "
            f"because no resource-based policy allows the {action} action"
        )


def refuse_dry_run(request):
    """Every check passed and nothing has changed yet; DryRun stops here (DryRun API reference:
    "DryRunOperationException when the request would have succeeded")."""
    if request.get("DryRun"):
        raise DryRunOperationException("The request would have succeeded, but the DryRun option is set.")


# Related multi-Region keys.


def is_replica(key):
    return key["KeyMetadata"].get("MultiRegionConfiguration", {}).get("MultiRegionKeyType") == "REPLICA"


def family(world, key):
    """The records of the multi-Region key `key` is one of: the primary first, then its replicas."""
    meta = key["KeyMetadata"]
    config = meta["MultiRegionConfiguration"]
    regions = [config["PrimaryKey"]["Region"]] + [replica["Region"] for replica in config["ReplicaKeys"]]
    return [find(world, meta["KeyId"], region) for region in regions]


def configure(members):
    """Write the family's MultiRegionConfiguration into each member; members[0] is the primary."""
    primary = {"Arn": members[0]["KeyMetadata"]["Arn"], "Region": members[0]["Region"]}
    replicas = [{"Arn": m["KeyMetadata"]["Arn"], "Region": m["Region"]} for m in members[1:]]
    for i, member in enumerate(members):
        member["KeyMetadata"]["MultiRegionConfiguration"] = {
            "MultiRegionKeyType": "REPLICA" if i else "PRIMARY",
            "PrimaryKey": dict(primary),
            "ReplicaKeys": [dict(replica) for replica in replicas],
        }


def synchronize(world, primary):
    """Copy the primary's shared properties to its replicas: rotation and, for KMS-made
    material, the material versions (imported material is imported into each key)."""
    meta = primary["KeyMetadata"]
    if not meta.get("MultiRegion"):
        return
    for replica in family(world, primary)[1:]:
        replica["Rotation"] = dict(primary["Rotation"])
        replica["OnDemandRotations"] = primary["OnDemandRotations"]
        if meta["Origin"] == "AWS_KMS":
            replica["Materials"] = copy.deepcopy(primary["Materials"])
            if "CurrentKeyMaterialId" in meta:
                replica["KeyMetadata"]["CurrentKeyMaterialId"] = meta["CurrentKeyMaterialId"]


def refuse_replica(key):
    """Shared properties are changed on the primary key only (mrk-sync-properties)."""
    if is_replica(key):
        meta = key["KeyMetadata"]
        raise UnsupportedOperationException(
            f"{meta['Arn']} is a multi-Region replica key. Change its shared properties on its primary key."
        )


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


def require_origin(key, origin):
    """Rotation needs KMS-made material, import needs EXTERNAL (key-state table, notes 6 and 9)."""
    meta = key["KeyMetadata"]
    if meta["Origin"] != origin:
        raise UnsupportedOperationException(
            f"{meta['Arn']} origin is {meta['Origin']} which is not valid for this operation."
        )


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


def new_material(world, spec, rotation_type=None, now=None):
    """A material entry: new material for `spec`, sealed under the master key, and how it came to be."""
    return {
        "KeyMaterialId": hashlib.sha256(os.urandom(32)).hexdigest(),
        "Sealed": world.seal(MATERIAL_PURPOSE, specs.generate(spec)),
        "RotationDate": now,
        "RotationType": rotation_type,
    }


def rotate(world, key, rotation_type, now):
    """Add a new material version; it encrypts from now on, the old ones still decrypt.
    -> the RotateKey service event KMS writes for it, automatic or on demand (ct-rotatekey,
    ct-rotatekeyondemand): which material it replaced, and by which."""
    meta = key["KeyMetadata"]
    previous = meta["CurrentKeyMaterialId"]
    material = new_material(world, meta["KeySpec"], rotation_type=rotation_type, now=now)
    key["Materials"].append(material)
    meta["CurrentKeyMaterialId"] = material["KeyMaterialId"]
    details = {"rotationType": rotation_type, "keyOrigin": meta["Origin"], "previousKeyMaterialId": previous,
               "currentKeyMaterialId": material["KeyMaterialId"], "keyId": meta["KeyId"]}
    return records.service_event_record("RotateKey", meta["Arn"], now, details=details)


def forget_imported_material(key):
    """Delete a key's imported material: PendingImport, unless it is pending deletion (DeleteImportedKeyMaterial)."""
    meta = key["KeyMetadata"]
    for material in key["Materials"]:
        material["Sealed"] = None
    meta.pop("ValidTo", None)
    meta.pop("ExpirationModel", None)
    if meta["KeyState"] != "PendingDeletion":
        meta["KeyState"] = "PendingImport"
        meta["Enabled"] = False


def aead(world, key, version):
    """The AESGCM object for one material version of a symmetric key (cached; never saved)."""
    return _unsealed(world, "aead", key["Materials"][version]["Sealed"], AESGCM)


def private_key(world, key):
    """The private key of an asymmetric key (cached; never saved). Asymmetric keys never rotate."""
    return _unsealed(world, "private_key", key["Materials"][0]["Sealed"], specs.load_private)


def public_key(world, key):
    """The public key of an asymmetric key (cached): Verify's, made once per key, not per call."""
    return _unsealed(world, "public_key", key["Materials"][0]["Sealed"], lambda _: private_key(world, key).public_key())


def hmac_key(world, key):
    """The key bytes of an HMAC key (cached; never saved). HMAC keys never rotate."""
    return _unsealed(world, "hmac_key", key["Materials"][0]["Sealed"], bytes)


def _unsealed(world, kind, sealed, load):
    cache = world.cache.setdefault(kind, {})
    found = cache.get(sealed)
    if found is None:
        found = cache[sealed] = load(world.unseal(MATERIAL_PURPOSE, sealed))
    return found


# Listing.


def page(items, request, default_limit, max_limit):
    """One page of a Limit/Marker listing: (items, {"Truncated", "NextMarker"?}).

    The marker is the position of the next item, which AWS tells callers never
    to construct; a marker this call could not have issued is InvalidMarkerException."""
    limit = min(request.get("Limit") or default_limit, max_limit)
    marker = request.get("Marker")
    start = 0
    if marker is not None:
        if not marker.isdigit() or int(marker) > len(items):
            raise InvalidMarkerException("Invalid marker")
        start = int(marker)
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    tail = {"Truncated": more}
    if more:
        tail["NextMarker"] = str(start + limit)
    return chunk, tail
