"""Authorization shared by every service: the request's condition keys, the
identity-based policies that apply to a caller, decisions on IAM policies
alone, and what a call does with any decision.

`enforce(ctx, decision)` is the one way a call takes a decision: it keeps the
decision's explanation with the call (ctx.explanations, the "why" beside the
CloudTrail record) and raises AWS's error unless the decision allows.
`authorize_account(ctx, action, ...)` decides and enforces on IAM policies
alone (IAM's own API, CloudTrail, KMS operations on no key and the IAM side of
an alias); decisions on a key (key policy, grants) are kms/access.py's.
"""
from ..errors import AccessDeniedException, MalformedPolicyDocumentException
from . import grammar
from .catalogue import ACTIONS
from .evaluate import PolicyTrace, Request, Values, evaluate_policy
from .explain import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Decision

PRINCIPAL_TYPES = {"Root": "Account", "IAMUser": "User", "AssumedRole": "AssumedRole", "AWSService": "Service"}


# The request context.


def via_service_name(via_service, region):
    """kms:ViaService is `service.REGION.amazonaws.com` (conditions-kms, kms:ViaService)."""
    name = via_service.removesuffix(".amazonaws.com")
    return via_service if "." in name else f"{name}.{region}.amazonaws.com"


def key_aliases(world, key_id, region=None):
    """The names of the aliases of a key (in `region` only, if given: related multi-Region keys share a key id)."""
    prefix = f"arn:aws:kms:{region}:" if region else "arn:"
    return [a["AliasName"] for arn, a in world.doc["kms"]["aliases"].items()
            if a.get("TargetKeyId") == key_id and arn.startswith(prefix)]


class RequestFacts:
    """What the condition keys of one request are computed from; `resolve(name)` answers
    one key (lower-case name), or None when the request does not have it."""

    __slots__ = ("world", "caller", "action", "key", "region", "time", "request_alias")

    def __init__(self, world, caller, action, key, region, time, request_alias):
        self.world, self.caller, self.action, self.key = world, caller, action, key
        self.region, self.time, self.request_alias = region, time, request_alias

    def resolve(self, name):
        getter = GLOBAL_GETTERS.get(name)
        if getter is not None:
            return getter(self, self.caller)
        if self.key is not None:
            getter = KEY_GETTERS.get(name)
            if getter is not None:
                return getter(self, self.key["KeyMetadata"])
            if name.startswith("aws:resourcetag/"):
                # Tag keys are matched case-insensitively, like every condition key name.
                wanted = name[len("aws:resourcetag/"):]
                return next((t["TagValue"] for t in self.key.get("Tags", []) if t["TagKey"].lower() == wanted), None)
        if name.startswith("aws:principaltag/"):
            wanted = name[len("aws:principaltag/"):]
            return next((v for k, v in self.caller.tags.items() if k.lower() == wanted), None)
        if name == "kms:requestalias" and self.request_alias:
            spec = ACTIONS.get(self.action)
            return self.request_alias if spec and "kms:RequestAlias" in spec.keys else None
        return None


def _mfa_present(facts, caller):
    # Long-term credentials carry no MFA information at all: the key is absent,
    # not false (IAM user guide, aws:MultiFactorAuthPresent).
    return None if caller.mfa_authenticated is None else bool(caller.mfa_authenticated)


def _mfa_age(facts, caller):
    if caller.mfa_authenticated and caller.mfa_auth_time is not None:
        return int(facts.time - caller.mfa_auth_time)
    return None


# The global keys (IAM user guide, reference_policies_condition-keys), from the caller and the clock.
GLOBAL_GETTERS = {
    "aws:currenttime": lambda f, c: f.time,
    "aws:epochtime": lambda f, c: int(f.time),
    "aws:securetransport": lambda f, c: bool(c.secure_transport),
    "aws:principalarn": lambda f, c: c.principal_arn,
    "aws:principalaccount": lambda f, c: c.account,
    "aws:principaltype": lambda f, c: PRINCIPAL_TYPES.get(c.kind, c.kind),
    "aws:userid": lambda f, c: c.principal_id,
    "aws:requestedregion": lambda f, c: f.region,
    "aws:viaawsservice": lambda f, c: bool(c.via_service),
    "aws:sourceip": lambda f, c: c.source_ip or None,
    "aws:username": lambda f, c: c.user_name if c.kind == "IAMUser" else None,
    "aws:multifactorauthpresent": _mfa_present,
    "aws:multifactorauthage": _mfa_age,
    "aws:tokenissuetime": lambda f, c: c.session_created,
}

# The key-resource keys (KMS guide, conditions-kms): set by every operation on a key.
KEY_GETTERS = {
    "kms:calleraccount": lambda f, meta: f.caller.account,
    "kms:keyspec": lambda f, meta: meta.get("KeySpec", "SYMMETRIC_DEFAULT"),
    "kms:keyusage": lambda f, meta: meta.get("KeyUsage", "ENCRYPT_DECRYPT"),
    "kms:keyorigin": lambda f, meta: meta.get("Origin", "AWS_KMS"),
    "kms:multiregion": lambda f, meta: bool(meta.get("MultiRegion")),
    "kms:multiregionkeytype": lambda f, meta: (meta.get("MultiRegionConfiguration") or {}).get("MultiRegionKeyType")
    if meta.get("MultiRegion") else None,
    "kms:resourcealiases": lambda f, meta: key_aliases(f.world, meta["KeyId"], meta["Arn"].split(":")[3]) or None,
    "kms:viaservice": lambda f, meta: via_service_name(f.caller.via_service, f.region) if f.caller.via_service else None,
}


def request_values(world, caller, action, key, conditions, region, time, request_alias=None):
    """The request's condition keys: `conditions` (the operation's own) and, on demand, the rest."""
    return Values(RequestFacts(world, caller, action, key, region, time, request_alias).resolve, conditions)


# The identity-based policies of a caller.


def managed_policy(world, arn):
    account = arn.split(":")[4]
    name = arn.rsplit("/", 1)[-1]
    found = world.account(account) and world.account(account)["policies"].get(name)
    return found if found and found["Arn"] == arn else None


def identity_policies(world, caller):
    """The identity-based policies that apply to a caller: [(source, document text)].

    An IAM user's own inline and attached policies, then its groups'; a role
    session's role's. The root user and service principals have none. The
    source label ("user/admin inline AdministratorAccess") is what an
    explanation shows.
    """
    account = world.account(caller.account)
    if account is None:
        return []
    if caller.kind == "IAMUser":
        holders = [("user", account["users"].get(caller.user_name))]
        if holders[0][1]:
            holders += [("group", account["groups"].get(g)) for g in holders[0][1]["Groups"]]
    elif caller.kind == "AssumedRole":
        holders = [("role", account["roles"].get(caller.role_name))]
    else:
        return []
    found = []
    for kind, holder in holders:
        if holder is None:
            continue
        name = holder.get("UserName") or holder.get("GroupName") or holder.get("RoleName")
        for policy_name, document in holder["InlinePolicies"].items():
            found.append((f"{kind}/{name} inline policy {policy_name}", document))
        for arn in holder["AttachedPolicies"]:
            policy = managed_policy(world, arn)
            if policy:
                document = policy["Versions"][policy["DefaultVersionId"]]["Document"]
                found.append((f"{kind}/{name} managed policy {policy['PolicyName']}", document))
    return found


# Decisions.


def trace_policy(text, kind, source, request):
    try:
        policy = grammar.parse(text, kind)
    except (MalformedPolicyDocumentException, ValueError) as exc:
        # A policy kmslab could not read never allows (and never denies).
        return PolicyTrace(source, kind, None, (), getattr(exc, "message", str(exc)))
    return evaluate_policy(policy, request, source, kind)


def identity_traces(world, caller, request):
    return [trace_policy(text, "identity", source, request) for source, text in identity_policies(world, caller)]


def first_applying(traces, field):
    """(source, statement) of the first applying statement of a kind: deny, allow_direct, allow_delegating."""
    for trace in traces:
        t = getattr(trace, field)
        if t is not None:
            return trace.source, t.statement
    return None


def deciding(found):
    source, statement = found
    return (source, statement.index, statement.sid)


def decide_account(world, caller, action, conditions=None, region=None, time=None, resource="*"):
    """An operation on no key (or the IAM side of an alias): IAM policies only."""
    region = region or world.region
    time = world.now() if time is None else time
    decision = Decision(IMPLICIT_DENY, "", action, resource, caller.arn, caller.account, None)
    values = request_values(world, caller, action, None, conditions, region, time)
    decision.request_values = values
    decision.policies = identity_traces(world, caller, Request(action, resource, caller, values))
    denied = first_applying(decision.policies, "deny")
    if denied:
        decision.decision, decision.gate, decision.deciding = EXPLICIT_DENY, "explicit-deny", deciding(denied)
    elif caller.is_root:
        decision.decision, decision.gate = ALLOW, "root"
    else:
        allowed = first_applying(decision.policies, "allow_direct")
        if allowed:
            decision.decision, decision.gate, decision.deciding = ALLOW, "iam", deciding(allowed)
        else:
            decision.gate = "no-iam-allow-account"
    return decision


def enforce(ctx, decision, error=AccessDeniedException, message=None):
    """Keep the decision's explanation with the call; raise `error` (AWS's message
    for the decision unless `message` is given) unless it allows."""
    ctx.explanations.append(decision.to_dict())
    if not decision.allowed:
        raise error(message or decision.error_message())
    return decision


def authorize_account(ctx, action, conditions=None, resource="*", error=AccessDeniedException):
    """Decide on the caller's IAM policies alone, for `resource`, and enforce it."""
    return enforce(ctx, decide_account(ctx.world, ctx.caller, action, conditions, ctx.region, ctx.time, resource), error)
