"""The policy evaluator against data-driven vectors (tests/cloud/policy/vectors/*.json).

Format (see vectors/README.md): each file is
    {"about": "...", "defaults": {<vector fields>}, "vectors": [<vector>, ...]}
and each vector, merged over the defaults (caller and key one level deep), is
one of three kinds:

- "decide" (the default): a caller, a key, an action, the request's own
  condition keys ("context"), a key policy, IAM policies and grants ->
  expected {"decision", "gate"?, "source"?, "statement"?}.
  "condition" is shorthand for a key policy whose only statement allows the
  caller everything under that Condition block.
- "parse": {"policy", "policyKind"} -> expected {"error"?, "contains"?}.
- "save": check_key_policy (save rules and the lockout check) for "keyPolicy"
  as set by the caller, with "bypass" -> expected {"error"?, "contains"?}.
"""
import json
from pathlib import Path

import pytest

from kmslab.cloud import iam, principals
from kmslab.cloud.calls import Context
from kmslab.cloud.clock import Clock
from kmslab.cloud.errors import AWSError
from kmslab.cloud.kms import access
from kmslab.cloud.policy import grammar
from kmslab.cloud.world import World

VECTORS = Path(__file__).parent / "vectors"
T0 = 1_795_000_000.0  # 2026-11-18T11:06:40Z
REGION = "us-east-1"
ACCOUNTS = ("111122223333", "444455556666")
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
DEFAULT_CALLER = {"kind": "IAMUser", "account": "111122223333", "name": "alice"}
DEFAULT_KEY = {"account": "111122223333"}


def load():
    cases = []
    for path in sorted(VECTORS.glob("*.json")):
        data = json.loads(path.read_text())
        defaults = data.get("defaults", {})
        for vector in data["vectors"]:
            merged = {**defaults, **vector}
            for part in ("caller", "key"):
                merged[part] = {**defaults.get(part, {}), **vector.get(part, {})}
            cases.append(pytest.param(merged, id=f"{path.stem}:{vector['id']}"))
    return cases


def document(value):
    return value if isinstance(value, str) else json.dumps(value)


def make_world():
    world = World.new(bytes(32), clock=Clock(real=lambda: T0))
    for account in ACCOUNTS:
        world.add_account(account)
    return world


def make_caller(world, spec, identity_policies):
    spec = {**DEFAULT_CALLER, **spec}
    account, kind = spec["account"], spec["kind"]
    mfa = spec.get("mfa")
    extra = {
        "mfa_authenticated": mfa,
        "mfa_auth_time": T0 - spec.get("mfaAge", 0) if mfa else None,
        "source_ip": spec.get("sourceIp", "203.0.113.10"),
        "secure_transport": spec.get("secureTransport", True),
        "via_service": spec.get("viaService"),
    }
    if mfa is not None:
        extra["session_created"] = T0 - 60
    tags = [{"Key": k, "Value": v} for k, v in spec.get("tags", {}).items()]
    if kind == "Root":
        return principals.root_caller(account, **extra)
    if kind == "AWSService":
        return principals.Caller(kind="AWSService", arn=spec["name"], account=account, principal_id=spec["name"])
    if kind == "IAMUser":
        holder = iam.add_user(world, account, spec["name"], spec.get("path", "/"))
    else:
        holder = iam.add_role(world, account, spec["name"], "{}", spec.get("path", "/"))
    holder["Tags"] = tags
    for i, policy in enumerate(identity_policies, 1):
        holder["InlinePolicies"][f"P{i}"] = document(policy)
    if kind == "IAMUser":
        return principals.user_caller(account, holder, **extra)
    session = spec.get("session", "s1")
    return principals.role_session_caller(account, holder, session, **extra)


def make_key(world, spec, policy):
    spec = {**DEFAULT_KEY, **spec}
    account = spec["account"]
    arn = f"arn:aws:kms:{REGION}:{account}:key/{KEY_ID}"
    key = {
        "KeyMetadata": {
            "AWSAccountId": account, "KeyId": KEY_ID, "Arn": arn,
            "KeySpec": spec.get("spec", "SYMMETRIC_DEFAULT"), "KeyUsage": spec.get("usage", "ENCRYPT_DECRYPT"),
            "Origin": spec.get("origin", "AWS_KMS"), "MultiRegion": spec.get("multiRegion", False),
        },
        "Region": REGION,
        "Policy": policy,
        "Tags": [{"TagKey": k, "TagValue": v} for k, v in spec.get("tags", {}).items()],
    }
    world.doc["kms"]["keys"][KEY_ID] = key
    for name in spec.get("aliases", []):
        alias_arn = f"arn:aws:kms:{REGION}:{account}:{name}"
        world.doc["kms"]["aliases"][alias_arn] = {"AliasName": name, "AliasArn": alias_arn, "TargetKeyId": KEY_ID}
    return key


def default_policy(account):
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"}]}


def key_policy_of(vector, caller):
    if "condition" in vector:
        principal = caller.principal_arn if caller.kind != "Root" else caller.arn
        return {"Version": "2012-10-17", "Statement": [{
            "Sid": "Conditional", "Effect": "Allow", "Principal": {"AWS": principal},
            "Action": "kms:*", "Resource": "*", "Condition": vector["condition"]}]}
    return vector.get("keyPolicy") or default_policy(vector["key"].get("account", DEFAULT_KEY["account"]))


def expect_error(vector, run):
    expected = vector["expected"]
    try:
        run()
    except AWSError as exc:
        assert expected.get("error") == exc.code, f"unexpected {exc.code}: {exc.message}"
        assert expected.get("contains", "") in exc.message, exc.message
        return
    assert "error" not in expected, f"expected {expected['error']}"


def run_decide(vector):
    world = make_world()
    caller = make_caller(world, vector["caller"], vector.get("identityPolicies", []))
    key = make_key(world, vector["key"], document(key_policy_of(vector, caller)))
    for i, grant in enumerate(vector.get("grants", [])):
        grant_id = f"{i:064x}"
        world.doc["kms"]["grants"][grant_id] = {
            "KeyId": key["KeyMetadata"]["Arn"], "GrantId": grant_id,
            "IssuingAccount": f"arn:aws:iam::{key['KeyMetadata']['AWSAccountId']}:root", **grant,
        }
    decision = access.decide(world, caller, vector["action"], key, vector.get("context"), REGION,
                             request_alias=vector.get("requestAlias"))
    d = decision.to_dict()
    json.dumps(d)  # the explanation is stored beside the trail record: it must be plain JSON
    expected = vector["expected"]
    assert d["decision"] == expected["decision"], d
    if "gate" in expected:
        assert d["gate"] == expected["gate"], d
    deciding = d.get("deciding") or {}
    if "source" in expected:
        assert deciding.get("source", "").startswith(expected["source"]), d
    if "statement" in expected:
        assert deciding.get("statement") == expected["statement"], d


def run_parse(vector):
    expect_error(vector, lambda: grammar.parse(document(vector["policy"]), vector.get("policyKind", "key")))


def run_save(vector):
    world = make_world()
    caller = make_caller(world, vector["caller"], vector.get("identityPolicies", []))
    for name in vector.get("users", []):
        iam.add_user(world, *name.split("/"))
    ctx = Context(world=world, caller=caller, service="kms", operation="PutKeyPolicy", request={},
                  region=REGION, time=T0, read_only=False)
    arn = f"arn:aws:kms:{REGION}:{vector['key'].get('account', DEFAULT_KEY['account'])}:key/{KEY_ID}"
    expect_error(vector, lambda: access.check_key_policy(ctx, arn, document(vector["keyPolicy"]),
                                                         vector.get("bypass", False)))


@pytest.mark.parametrize("vector", load())
def test_vector(vector):
    {"decide": run_decide, "parse": run_parse, "save": run_save}[vector.get("kind", "decide")](vector)


def test_there_are_enough_vectors_to_cover_the_spec():
    assert len(load()) >= 150
