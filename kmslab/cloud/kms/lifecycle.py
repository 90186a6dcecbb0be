"""Creating and describing keys, and moving them between states."""
import json

from ..operations import operation
from .access import authorize_account, authorize_key
from .keys import key_arn, new_key_id, new_material, resolve


def default_policy(account):
    """The key policy CreateKey gives a key when the request has none (key-policy-default)."""
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
    )


@operation("kms", "CreateKey")
def create_key(ctx, request):
    authorize_account(ctx, "kms:CreateKey")
    account, region = ctx.caller.account, ctx.region
    key_id = new_key_id()
    origin = request.get("Origin", "AWS_KMS")
    material = new_material(ctx.world) if origin == "AWS_KMS" else None
    meta = {
        "AWSAccountId": account,
        "KeyId": key_id,
        "Arn": key_arn(region, account, key_id),
        "CreationDate": ctx.time,
        "Enabled": origin == "AWS_KMS",
        "Description": request.get("Description", ""),
        "KeyUsage": request.get("KeyUsage", "ENCRYPT_DECRYPT"),
        "KeyState": "Enabled" if origin == "AWS_KMS" else "PendingImport",
        "Origin": origin,
        "KeyManager": "CUSTOMER",
        "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
        "MultiRegion": False,
    }
    if material:
        meta["CurrentKeyMaterialId"] = material["KeyMaterialId"]
    key = {
        "KeyMetadata": meta,
        "Region": region,
        "Policy": request.get("Policy") or default_policy(account),
        "Tags": list(request.get("Tags", [])),
        "Materials": [material] if material else [],
        "Rotation": {"Enabled": False},
    }
    ctx.world.doc["kms"]["keys"][key_id] = key
    ctx.add_resource(meta["Arn"])
    return {"KeyMetadata": dict(meta)}


@operation("kms", "DescribeKey", read_only=True)
def describe_key(ctx, request):
    key = resolve(ctx, request["KeyId"])
    ctx.add_resource(key["KeyMetadata"]["Arn"])
    authorize_key(ctx, "kms:DescribeKey", key)
    return {"KeyMetadata": dict(key["KeyMetadata"])}
