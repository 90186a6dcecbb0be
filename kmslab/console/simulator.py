"""The policy simulator: the decision a call would get, and why, without making it.

The request context is built the way a call builds it (the caller of the
chosen principal, with or without MFA, from an IP, directly or through a
service), the key is resolved the way KMS resolves a KeyId (key id, key ARN,
alias name or alias ARN, in the caller's account), and the decision comes from
the policy engine's own evaluation (kms/access.py simulate). Nothing is
written: no call, no trail record.
"""
import dataclasses
import json
import re
from urllib.parse import urlencode

from kmslab.cloud.errors import AWSError
from kmslab.cloud.kms import access, keys
from kmslab.cloud.policy import catalogue

from . import access_preview, acting

VIA_SERVICES = (
    ("", "none: a direct call"),
    ("s3", "Amazon S3"),
    ("dynamodb", "Amazon DynamoDB"),
    ("secretsmanager", "AWS Secrets Manager"),
    ("ec2", "Amazon EBS (ec2)"),
    ("rds", "Amazon RDS"),
    ("lambda", "AWS Lambda"),
)
ACTIONS = tuple(sorted(catalogue.ACTIONS))


def simulate(world, identity, action, key_ref="", context=None, source_ip="127.0.0.1", via_service=""):
    """-> {"decision": Decision, "key": key record or None} or {"error": AWSError} (the key did not resolve)."""
    request = access_preview.Request(context or {}, identity.mfa)
    caller = dataclasses.replace(request.caller(world, acting.caller(world, identity)),
                                 source_ip=source_ip or "127.0.0.1", via_service=via_service or None)
    spec = catalogue.ACTIONS[action]
    conditions = request.conditions(action)
    # Alias operations are authorized on the key as well as on the alias (alias-access);
    # with a key given, the simulator shows the key's side.
    if spec.resource == "*" or not key_ref:
        return {"decision": access.simulate(world, caller, action, None, conditions), "key": None}
    # Resolved as the call would (aliases too: an operation that takes none would refuse one, but the
    # simulator names any key that way): alias/aws/<service> creates its AWS managed key on first use,
    # here on the snapshot only, which is never saved.
    # An ARN names its Region (a multi-Region replica's, say); a key id or alias name is the world's.
    region = key_ref.split(":")[3] if key_ref.startswith("arn:") and key_ref.count(":") >= 5 else world.region
    try:
        key, request_alias = keys.resolve(world, key_ref, caller.account, region, world.now(), allow_alias=True)
    except AWSError as exc:
        return {"error": exc}
    decision = access.simulate(world, caller, action, key, conditions, request_alias)
    return {"decision": decision, "key": key}


def identity_from_arn(arn):
    """The simulator's principal choice ("account/kind/name") for a principal or session ARN, or None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[4].isdigit():
        return None
    account, resource = parts[4], parts[5]
    if resource == "root":
        return f"{account}/root/root"
    kind, _, rest = resource.partition("/")
    if not rest:
        return None
    if kind in ("user", "role"):
        return f"{account}/{kind}/{rest.rsplit('/', 1)[-1]}"  # the name is after the path
    if kind == "assumed-role":
        return f"{account}/role/{rest.split('/')[0]}"  # assumed-role/ROLE/SESSION
    return None


def query_from_record(record):
    """The simulator's query string for one CloudTrail record: that event's inputs filled in."""
    identity = record.get("userIdentity", {})
    params = record.get("requestParameters") or {}
    query = {"principal": identity.get("arn", ""), "action": f"kms:{record.get('eventName', '')}"}
    resources = record.get("resources") or []
    if resources:
        query["key"] = resources[0].get("ARN", "")
    elif params.get("keyId"):
        query["key"] = params["keyId"]
    if params.get("encryptionContext"):
        query["context"] = json.dumps(params["encryptionContext"])
    attributes = identity.get("sessionContext", {}).get("attributes", {})
    if attributes.get("mfaAuthenticated") == "true":
        query["mfa"] = "on"
    if record.get("sourceIPAddress") and re.fullmatch(r"[\d.:a-fA-F]+", record["sourceIPAddress"]):
        query["source_ip"] = record["sourceIPAddress"]
    return urlencode(query)
