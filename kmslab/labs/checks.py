"""Objective checks: pure functions over a lab run's world and its trail.

"Can bob decrypt with tenant=acme?" is answered by the policy engine itself
(`access.decide`, the same evaluation every call gets), so any correct policy
passes and a lookalike fails; no check reads policy text. Trail checks read
CloudTrail records as the feed shows them.
"""
import dataclasses

from kmslab.cloud import principals
from kmslab.cloud.kms import access
from kmslab.cloud.kms.cryptography import request_conditions
from kmslab.cloud.kms.keys import find
from kmslab.cloud.policy import grammar, lint
from kmslab.cloud.policy.authorize import decide_account

from .catalog import ACCOUNTS
from .setup import lab_keys, principal_arn


def _list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def callers(world, name, mfa=False, source_ip=None, via_service=None):
    """The Callers a check's principal names: one user or role, or "*" for every user and role."""
    if name == "*":
        found = []
        for account in ACCOUNTS.values():
            for user in world.account(account)["users"].values():
                found.append(principals.user_caller(account, user))
            for role in world.account(account)["roles"].values():
                found.append(principals.role_session_caller(account, role, "lab-check"))
    elif name.partition("@")[0] == "root":
        # The account's root user: "root" (account A) or "root@B".
        ref = name.partition("@")[2] or "A"
        found = [principals.root_caller(ACCOUNTS.get(ref, ref))]
    else:
        user_name, _, ref = name.partition("@")
        account = ACCOUNTS.get(ref, ref) if ref else None
        found = []
        for acc in ([account] if account else ACCOUNTS.values()):
            users, roles = world.account(acc)["users"], world.account(acc)["roles"]
            if user_name in users:
                found.append(principals.user_caller(acc, users[user_name]))
            elif user_name in roles:
                found.append(principals.role_session_caller(acc, roles[user_name], "lab-check"))
            if found:
                break
    now = world.now()
    extra = {}
    if mfa:
        # An STS session started with MFA a moment ago (GetSessionToken with SerialNumber and TokenCode).
        extra = dict(mfa_authenticated=True, mfa_auth_time=now, session_created=now)
    if source_ip:
        extra["source_ip"] = source_ip
    if via_service:
        extra["via_service"] = via_service
    return [dataclasses.replace(c, **extra) for c in found]


def key_record(world, ref):
    """A lab key by its alias: the key the lab set up under that name, else the alias's current key."""
    name, _, account_ref = ref.partition("@")
    arn = lab_keys(world).get(name)
    if arn:
        return find(world, arn.rsplit("/", 1)[1], arn.split(":")[3])
    account = ACCOUNTS.get(account_ref, account_ref) if account_ref else ACCOUNTS["A"]
    for alias in world.doc["kms"]["aliases"].values():
        if alias["AliasName"] == name and alias["AliasArn"].split(":")[4] == account:
            return find(world, alias.get("TargetKeyId"), alias["AliasArn"].split(":")[3])
    return None


def decisions(world, check):
    """Every decision a can/cannot check asks for: [(caller, action, context, Decision)]."""
    key = key_record(world, check["key"]) if check.get("key") else None
    if check.get("key") and key is None:
        return None
    contexts = check.get("contexts") or [check.get("context") or {}]
    found = []
    for caller in callers(world, check["principal"], check.get("mfa", False), check.get("source_ip"),
                          check.get("via_service")):
        if caller.user_name and caller.user_name in _list(check.get("except")):
            continue
        for action in _list(check["action"]):
            for context in contexts:
                conditions = request_conditions(action, context)
                if key is None:
                    decision = decide_account(world, caller, action, conditions)
                else:
                    decision = access.decide(world, caller, action, key, conditions)
                found.append((caller, action, context, decision))
    return found


def _can(world, check, records, baseline):
    """Every decision allows; with `gate` (e.g. "grant", "key-policy"), every one allows through that gate."""
    found = decisions(world, check)
    gate = check.get("gate")
    return bool(found) and all(d.allowed and (gate is None or d.gate == gate) for *_, d in found)


def _cannot(world, check, records, baseline):
    found = decisions(world, check)
    if not found:
        return False
    gate = check.get("gate")
    return all(not d.allowed and (gate is None or d.gate == gate) for *_, d in found)


def access_matrix(world, check):
    """{"arn action": allowed} for an `unchanged` check, as a run's baseline keeps it."""
    found = decisions(world, dict(check, principal="*")) or []
    return {f"{c.arn} {a}": d.allowed for c, a, _, d in found}


def _unchanged(world, check, records, baseline):
    before = baseline.get(check_id(check))
    if before is None:
        return False
    now = access_matrix(world, check)
    return all(now.get(k) == v for k, v in before.items())


def check_id(check):
    return repr(sorted((k, repr(v)) for k, v in check.items()))


def _in_range(value, wanted):
    """`wanted` is a number (equal) or [low, high] (inclusive)."""
    if value is None:
        return False
    if isinstance(wanted, list):
        return wanted[0] <= value <= wanted[1]
    return value == wanted


def grant_matches(world, grant, spec):
    """A grant (GrantListEntry fields) fits `spec`: {grantee, operations (exactly these), includes (at
    least these), constraint = "EncryptionContextSubset" | "EncryptionContextEquals" | "none" (or a
    list of them), context (the constraint's pairs, exactly), retiring}."""
    if spec.get("grantee") and grant.get("GranteePrincipal") != principal_arn(world, spec["grantee"]):
        return False
    if spec.get("retiring") and grant.get("RetiringPrincipal") != principal_arn(world, spec["retiring"]):
        return False
    operations = set(grant.get("Operations") or ())
    if "operations" in spec and operations != set(spec["operations"]):
        return False
    if "includes" in spec and not set(spec["includes"]) <= operations:
        return False
    constraints = grant.get("Constraints") or {}
    if "constraint" in spec and next(iter(constraints), "none") not in _list(spec["constraint"]):
        return False
    if "context" in spec and next(iter(constraints.values()), None) != spec["context"]:
        return False
    return True


def _grants_hold(world, key, spec):
    """The key's grants that fit `spec` (grant_matches) number at least one, or exactly `count`."""
    matching = sum(1 for g in world.doc["kms"]["grants"].values()
                   if g["KeyId"] == key["KeyMetadata"]["Arn"] and grant_matches(world, g, spec))
    return matching == spec["count"] if "count" in spec else matching >= 1


def _requested_grant(record):
    """The grant a CreateGrant record asked for, in GrantListEntry's field names."""
    params = record.get("requestParameters") or {}
    constraints = {k[0].upper() + k[1:]: v for k, v in (params.get("constraints") or {}).items()}
    return {"GranteePrincipal": params.get("granteePrincipal"), "RetiringPrincipal": params.get("retiringPrincipal"),
            "Operations": params.get("operations") or [], "Constraints": constraints}


def _user_state(world, check):
    """`user` ("mallory", "carol@B") with `access_keys` = how many Active access keys it has left."""
    name, _, ref = check["user"].partition("@")
    account = ACCOUNTS.get(ref, ref) if ref else ACCOUNTS["A"]
    if "access_keys" in check:
        active = [k for k in world.doc["access_keys"].values()
                  if k["Account"] == account and k["UserName"] == name and k["Status"] == "Active"]
        if len(active) != check["access_keys"]:
            return False
    return True


def _key_count(world, check):
    """The customer managed keys of an account (A unless `account` names B) that are not pending deletion."""
    account = ACCOUNTS.get(check.get("account", "A"), check.get("account"))
    return sum(1 for key in world.doc["kms"]["keys"].values()
               if key["KeyMetadata"]["AWSAccountId"] == account and key["KeyMetadata"].get("KeyManager") == "CUSTOMER"
               and key["KeyMetadata"]["KeyState"] not in ("PendingDeletion", "PendingReplicaDeletion"))


def _state(world, check, records, baseline):
    # Counted from where the lab's setup left the clock.
    advanced = world.clock.offset - (world.doc.get("lab") or {}).get("clock_offset", 0)
    if "advanced_days" in check and advanced < check["advanced_days"] * 86400:
        return False
    if check.get("user") and not _user_state(world, check):
        return False
    if "key_count" in check and _key_count(world, check) not in _list(check["key_count"]):
        return False
    if not check.get("key"):
        return True
    key = key_record(world, check["key"])
    if key is None:
        return False
    meta = key["KeyMetadata"]
    if "state" in check and meta.get("KeyState") not in _list(check["state"]):
        return False
    rotation = key.get("Rotation") or {}
    if "rotation" in check and bool(rotation.get("Enabled")) != check["rotation"]:
        return False
    if "rotation_period" in check and not (
            rotation.get("Enabled") and _in_range(rotation.get("RotationPeriodInDays"), check["rotation_period"])):
        return False
    if "grants" in check and not _grants_hold(world, key, check["grants"]):
        return False
    if "pending_window" in check and meta.get("PendingDeletionWindowInDays") != check["pending_window"]:
        return False
    if "origin" in check and meta.get("Origin") != check["origin"]:
        return False
    if any(t["TagKey"] in _list(check.get("untagged")) for t in key.get("Tags", [])):
        return False
    for tag, value in check.get("tags", {}).items():
        if {t["TagKey"]: t["TagValue"] for t in key.get("Tags", [])}.get(tag) != value:
            return False
    if "alias_target" in check:
        target = key_record(world, check["alias_target"])
        alias = next((a for a in world.doc["kms"]["aliases"].values() if a["AliasName"] == check["alias"]), None)
        if not alias or not target or alias.get("TargetKeyId") != target["KeyMetadata"]["KeyId"]:
            return False
    return True


def _lint(world, check, records, baseline):
    """No finding of rule `absent` on the key policy's statements that name `principal` (or on any)."""
    key = key_record(world, check["key"])
    if key is None:
        return False
    account = key["KeyMetadata"]["AWSAccountId"]
    findings = [f for f in lint.lint(key["Policy"], "key", account) if f.id == check["absent"]]
    names = _list(check.get("principal"))
    if not names:
        return not findings
    arns = {c.arn for n in names for c in callers(world, n)}
    statements = grammar.parse(key["Policy"], "key").statements
    return not any(f.statement and set(statements[f.statement - 1].aws_principals) & arns for f in findings)


def _who(record):
    identity = record.get("userIdentity", {})
    if identity.get("type") == "IAMUser":
        return identity.get("userName"), identity.get("accountId")
    if identity.get("type") == "AssumedRole":
        issuer = identity.get("sessionContext", {}).get("sessionIssuer", {})
        if issuer.get("type") == "Role":
            return issuer.get("userName"), identity.get("accountId")
        # A GetSessionToken session is shown as the IAM user it belongs to.
    return identity.get("userName") or identity.get("arn", "").rsplit("/", 1)[-1], identity.get("accountId")


def _event_and_principal_match(record, spec):
    if spec.get("event") and record.get("eventName") not in _list(spec["event"]):
        return False
    if spec.get("principal"):
        name, account = _who(record)
        wanted, _, ref = spec["principal"].partition("@")
        if name != wanted or (ref and account != ACCOUNTS.get(ref, ref)):
            return False
    return True


def record_matches(world, record, spec):
    if not _event_and_principal_match(record, spec):
        return False
    if "mfa" in spec:
        attributes = record.get("userIdentity", {}).get("sessionContext", {}).get("attributes", {})
        if (attributes.get("mfaAuthenticated") == "true") != spec["mfa"]:
            return False
    if "error" in spec:
        code = record.get("errorCode") or ""
        wanted = spec["error"]
        if wanted == "*" and not code or wanted != "*" and code != wanted:
            return False
    if spec.get("key"):
        key = key_record(world, spec["key"])
        if key is None:
            return False
        arns = {r.get("ARN") for r in record.get("resources") or ()}
        params = record.get("requestParameters") or {}
        if key["KeyMetadata"]["Arn"] not in arns and params.get("keyId") not in (
                key["KeyMetadata"]["Arn"], key["KeyMetadata"]["KeyId"]) and not _names_alias(arns, spec["key"]):
            return False
    if spec.get("context"):
        context = (record.get("requestParameters") or {}).get("encryptionContext") or {}
        if any(context.get(k) != v for k, v in spec["context"].items()):
            return False
    if "min_days" in spec and (record.get("requestParameters") or {}).get("pendingWindowInDays", 0) < spec["min_days"]:
        return False
    if spec.get("grant") and not grant_matches(world, _requested_grant(record), spec["grant"]):
        return False
    if spec.get("material") and not _material_matches(world, record, spec):
        return False
    for name, value in spec.get("params", {}).items():
        if (record.get("requestParameters") or {}).get(name) != value:
            return False
    return True


def _names_alias(arns, ref):
    """Whether a record lists the alias a key reference names ("alias/payroll", "alias/x@B").
    An alias operation's record names the alias and only the key it points to afterwards
    (ct-updatealias): moving alias/payroll away from the payroll key names alias/payroll."""
    name, _, account_ref = ref.partition("@")
    account = ACCOUNTS.get(account_ref, account_ref) if account_ref else ACCOUNTS["A"]
    return name.startswith("alias/") and any(
        arn and arn.split(":")[4] == account and arn.split(":", 5)[5] == name for arn in arns)


def _material_matches(world, record, spec):
    """`material`: which key material the call used (additionalEventData.keyMaterialId): "original"
    (the key's first, e.g. a ciphertext made before any rotation), "rotated" (any later one),
    "current" (the newest now) or "noncurrent"."""
    used = (record.get("additionalEventData") or {}).get("keyMaterialId")
    arns = [r.get("ARN") for r in record.get("resources") or ()]
    key = next((find(world, a.rsplit("/", 1)[1], a.split(":")[3]) for a in arns if a), None)
    if not used or key is None or not key.get("Materials"):
        return False
    first, current = key["Materials"][0]["KeyMaterialId"], key["Materials"][-1]["KeyMaterialId"]
    wanted = spec["material"]
    return {"original": used == first, "rotated": used != first, "current": used == current,
            "noncurrent": used != current}.get(wanted, False)


def reads(lab, record):
    """Whether a trail check of the lab could match this record, judged by its event and principal alone:
    a record that none could match, in a call that changed nothing else, cannot change an objective."""
    return record.get("eventName") in lab.trail_events and any(
        _event_and_principal_match(record, spec) for spec in lab.trail_specs)


def _trail(world, check, records, baseline):
    matching = [i for i, r in enumerate(records) if record_matches(world, r, check)]
    if check.get("none"):
        return not matching
    if check.get("before"):
        earlier = [i for i, r in enumerate(records) if record_matches(world, r, check["before"])]
        matching = [i for i in matching if earlier and earlier[0] < i]
    return len(matching) >= check.get("count", 1)


def _any(world, check, records, baseline):
    return any(holds(world, c, records, baseline) for c in check["checks"])


def _all(world, check, records, baseline):
    return all(holds(world, c, records, baseline) for c in check["checks"])


def holds(world, check, records, baseline):
    return CHECKS[check["kind"]](world, check, records, baseline)


CHECKS = {"trail": _trail, "any": _any, "all": _all, "can": _can, "cannot": _cannot, "state": _state, "lint": _lint,
          "unchanged": _unchanged}


def evaluate(lab, world, records, done=(), baseline=None):
    """{objective id: True | False} on this world and trail (oldest record first).

    An objective already done stays done (`done`); one that comes `after`
    another is not checked before that one is done, so a fresh run meets none."""
    baseline = baseline or {}
    status = {}
    for objective in lab.objectives:
        if objective.id in done:
            status[objective.id] = True
            continue
        if objective.after and not status.get(objective.after):
            status[objective.id] = False
            continue
        status[objective.id] = all(holds(world, c, records, baseline) for c in objective.checks)
    return status


def baseline_for(lab, world):
    """What `unchanged` checks compare against: the access matrices of the lab's fresh world."""
    found = {}
    for objective in lab.objectives:
        for check in objective.checks:
            if check["kind"] == "unchanged":
                found[check_id(check)] = access_matrix(world, check)
    return found
