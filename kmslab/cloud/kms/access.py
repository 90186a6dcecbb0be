"""KMS authorization: who may do what to which key, and why.

`authorize_key(ctx, action, key, conditions)` is called by every operation on
a key, after the key is resolved and before anything changes; it raises
AccessDeniedException with AWS's message or returns the Decision.
`authorize_account(ctx, action, conditions)` is the same for operations on no
key (CreateKey, ListKeys, ListAliases, GenerateRandom, ListRetirableGrants):
IAM policies only, on Resource "*". `authorize_alias` checks the IAM side of
an alias operation on the alias ARN (aliases have no policy of their own).

`conditions` holds the request-specific condition keys the operation sets
(kms:EncryptionContext:<k>, kms:EncryptionAlgorithm, ...); the global ones
(aws:*) and the key's properties (kms:KeySpec, kms:ResourceAliases, ...) are
added here. Each decision, with its explanation, is appended to
ctx.explanations as plain JSON data.

The algorithm is the spec's §1.2 (shared/research/policy-eval.md), after the
KMS developer guide's key-policies, key-policy-default, key-policy-modifying-
external-accounts and grants pages:
1. an operation that cannot be used across accounts is denied on another
   account's key, whatever the policies say;
2. an explicit Deny in the key policy or an IAM policy wins;
3. the key policy is the primary control: a statement naming the caller (or
   "*") allows directly; one naming the caller's account delegates to IAM;
4. a grant for the caller, the operation and a satisfied constraint allows;
5. IAM policies count only where the key policy delegates, and across
   accounts the caller's own IAM policies must allow as well.
The root user has no implicit access to a key: it gets in only through a
key-policy statement, where the account principal names it directly.
"""
from .. import iam
from ..errors import AccessDeniedException, MalformedPolicyDocumentException
from ..policy import grammar
from ..policy.catalogue import ACTIONS, ENCRYPTION_CONTEXT_OPERATIONS
from ..policy.evaluate import PolicyTrace, Request, Values, evaluate_policy
from ..policy.explain import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Decision

EC_PREFIX = "kms:EncryptionContext:"
PRINCIPAL_TYPES = {"Root": "Account", "IAMUser": "User", "AssumedRole": "AssumedRole", "AWSService": "Service"}


# The request context.


def via_service_name(via_service, region):
    """kms:ViaService is `service.REGION.amazonaws.com` (conditions-kms, kms:ViaService)."""
    name = via_service.removesuffix(".amazonaws.com")
    return via_service if "." in name else f"{name}.{region}.amazonaws.com"


def key_aliases(world, key_id):
    return [a["AliasName"] for a in world.doc["kms"]["aliases"].values() if a.get("TargetKeyId") == key_id]


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
    "kms:resourcealiases": lambda f, meta: key_aliases(f.world, meta["KeyId"]) or None,
    "kms:viaservice": lambda f, meta: via_service_name(f.caller.via_service, f.region) if f.caller.via_service else None,
}


def request_values(world, caller, action, key, conditions, region, time, request_alias=None):
    """The request's condition keys: `conditions` (the operation's own) and, on demand, the rest."""
    return Values(RequestFacts(world, caller, action, key, region, time, request_alias).resolve, conditions)


# Policies.


def _parsed(text, kind, source, request):
    try:
        policy = grammar.parse(text, kind)
    except (MalformedPolicyDocumentException, ValueError) as exc:
        # A policy kmslab could not read never allows (and never denies).
        return PolicyTrace(source, kind, None, (), getattr(exc, "message", str(exc)))
    return evaluate_policy(policy, request, source, kind)


def _identity_traces(world, caller, request):
    return [_parsed(text, "identity", source, request) for source, text in iam.identity_policies(world, caller)]


def _first(traces, field):
    """(source, statement) of the first applying statement of a kind: deny, allow_direct, allow_delegating."""
    for trace in traces:
        t = getattr(trace, field)
        if t is not None:
            return trace.source, t.statement
    return None


def _deciding(found):
    source, statement = found
    return (source, statement.index, statement.sid)


# Grants.


def request_context(conditions):
    """The encryption context of a request, rebuilt from its kms:EncryptionContext:<k> keys."""
    return {k[len(EC_PREFIX):]: v for k, v in (conditions or {}).items() if k.startswith(EC_PREFIX)}


def constraints_hold(grant, action, context):
    """GrantConstraints (API Reference): keys compared case-insensitively, values exactly;
    only operations that take an encryption context are constrained."""
    constraints = grant.get("Constraints") or {}
    if not constraints or action not in ENCRYPTION_CONTEXT_OPERATIONS:
        return True
    have = {k.lower(): v for k, v in context.items()}
    subset = constraints.get("EncryptionContextSubset")
    if subset is not None and any(have.get(k.lower()) != v for k, v in subset.items()):
        return False
    equals = constraints.get("EncryptionContextEquals")
    if equals is not None and have != {k.lower(): v for k, v in equals.items()}:
        return False
    return True


def grantee_matches(grantee, caller, iam_allows):
    """A grant names a user, a role (any of its sessions), a session, or an account.

    An account grantee is taken like the account principal in a key policy:
    the root user directly, other principals through their IAM policies
    (inferred; the grants page only says the grantee may be an account)."""
    if grantee in (caller.arn, caller.role_arn):
        return True
    return grantee == grammar.account_principal(caller.account) and (caller.is_root or iam_allows)


def _grants(world, caller, action, key_arn, conditions, iam_allows):
    """-> (matching grant or None, [(grant, grantee ok, operation ok, constraints ok or None: not checked)])."""
    operation = action.removeprefix("kms:")
    checked = []
    found = None
    grants = world.doc["kms"]["grants"]
    # The key's own grants only (world.LISTINGS), so a call reads no other key's.
    for grant in (grants[grant_id] for _, grant_id in grants.listing.group(key_arn)):
        who = grantee_matches(grant["GranteePrincipal"], caller, iam_allows)
        op = operation in grant["Operations"]
        ok = constraints_hold(grant, action, request_context(conditions)) if who and op else None
        checked.append((grant, who, op, ok))
        if ok and found is None:
            found = grant
    return found, checked


# Decisions.


def decide(world, caller, action, key, conditions=None, region=None, time=None, request_alias=None,
           key_policy=None, use_grants=True):
    """The decision for one (caller, action, key), without raising. `key_policy`
    replaces the key's own policy (the lockout check tries a proposed one)."""
    meta = key["KeyMetadata"]
    key_arn = meta["Arn"]
    key_account = meta["AWSAccountId"]
    spec = ACTIONS.get(action)
    cross_account = caller.account != key_account
    if cross_account and (spec is None or not spec.cross_account):
        return Decision(IMPLICIT_DENY, "cross-account-operation", action, key_arn, caller.arn, caller.account,
                        key_account)
    policy_text = key["Policy"] if key_policy is None else key_policy
    sources = iam.identity_policies(world, caller)
    # A decision that no condition, policy variable or grant took part in depends only
    # on who asks for what on which key under which policies: it is remembered per
    # process (world.cache is never saved), with its explanation, for the next call.
    memo_key = (caller.kind, caller.arn, caller.role_arn, caller.account, action, key_arn, policy_text,
                tuple(sources), use_grants)
    memo = world.cache.setdefault("decisions", {})
    found = memo.get(memo_key)
    if found is not None:
        return found
    region = region or world.region
    time = world.now() if time is None else time
    decision = Decision(IMPLICIT_DENY, "", action, key_arn, caller.arn, caller.account, key_account)
    values = request_values(world, caller, action, key, conditions, region, time, request_alias)
    request = Request(action, key_arn, caller, values)
    key_trace = _parsed(policy_text, "key", "key policy", request)
    identity = [_parsed(text, "identity", source, request) for source, text in sources]
    decision.policies = [key_trace] + identity
    _decide_key(decision, world, caller, action, key_arn, conditions, key_trace, identity, cross_account, use_grants)
    consulted_grants = use_grants and decision.gate not in ("explicit-deny", "key-policy", "key-policy-and-iam")
    if consulted_grants or any(t.volatile for t in decision.policies):
        decision.request_values = values
    else:
        if len(memo) > 4096:
            memo.clear()
        memo[memo_key] = decision
    return decision


def _decide_key(decision, world, caller, action, key_arn, conditions, key_trace, identity, cross_account, use_grants):
    denied = _first(decision.policies, "deny")
    if denied:
        decision.decision, decision.gate, decision.deciding = EXPLICIT_DENY, "explicit-deny", _deciding(denied)
        return
    direct = _first((key_trace,), "allow_direct")
    delegating = _first((key_trace,), "allow_delegating")
    iam_allow = _first(identity, "allow_direct")
    # The root user is not limited by IAM policies; it has none to consult.
    caller_side = caller.is_root or iam_allow is not None
    if not cross_account and direct:
        decision.decision, decision.gate, decision.deciding = ALLOW, "key-policy", _deciding(direct)
        return
    if (direct or delegating) and caller_side:
        decision.decision, decision.gate = ALLOW, "key-policy-and-iam"
        decision.deciding = _deciding(iam_allow or direct or delegating)
        return
    if use_grants:
        grant, decision.grants = _grants(world, caller, action, key_arn, conditions, caller_side)
        if grant:
            decision.decision, decision.gate = ALLOW, "grant"
            decision.deciding = ("grant", grant["GrantId"], grant.get("Name") or None)
            return
    if direct or delegating:
        decision.gate = "no-iam-allow-cross-account" if cross_account else "no-iam-allow"
    else:
        decision.gate = "no-key-policy-allow"


def decide_account(world, caller, action, conditions=None, region=None, time=None, resource="*"):
    """An operation on no key (or the IAM side of an alias): IAM policies only."""
    region = region or world.region
    time = world.now() if time is None else time
    decision = Decision(IMPLICIT_DENY, "", action, resource, caller.arn, caller.account, None)
    values = request_values(world, caller, action, None, conditions, region, time)
    decision.request_values = values
    decision.policies = _identity_traces(world, caller, Request(action, resource, caller, values))
    denied = _first(decision.policies, "deny")
    if denied:
        decision.decision, decision.gate, decision.deciding = EXPLICIT_DENY, "explicit-deny", _deciding(denied)
    elif caller.is_root:
        decision.decision, decision.gate = ALLOW, "root"
    else:
        allowed = _first(decision.policies, "allow_direct")
        if allowed:
            decision.decision, decision.gate, decision.deciding = ALLOW, "iam", _deciding(allowed)
        else:
            decision.gate = "no-iam-allow-account"
    return decision


def simulate(world, caller, action, key=None, conditions=None, region=None, time=None, request_alias=None):
    """What the console's policy simulator shows: the Decision a call would get, without making it.
    `conditions` are the request's own condition keys; `request_alias` the alias name the
    request used as KeyId, if any (kms:RequestAlias)."""
    if key is None:
        return decide_account(world, caller, action, conditions, region, time)
    return decide(world, caller, action, key, conditions, region, time, request_alias)


def _enforce(ctx, decision):
    ctx.explanations.append(decision.to_dict())
    if not decision.allowed:
        raise AccessDeniedException(decision.error_message())
    return decision


def authorize_key(ctx, action, key, conditions=None):
    decision = decide(
        ctx.world, ctx.caller, action, key, conditions, ctx.region, ctx.time, getattr(ctx, "request_alias", None)
    )
    return _enforce(ctx, decision)


def authorize_account(ctx, action, conditions=None):
    return _enforce(ctx, decide_account(ctx.world, ctx.caller, action, conditions, ctx.region, ctx.time))


def authorize_alias(ctx, action, alias_arn):
    """Create/Update/DeleteAlias need permission on the alias itself, which only IAM
    policies can give (alias-access); the key side is authorize_key on each key."""
    decision = decide_account(ctx.world, ctx.caller, action, None, ctx.region, ctx.time, alias_arn)
    return _enforce(ctx, decision)


# Saving a key policy.


def principal_exists(world, name):
    """Principals must exist when a key policy is saved (PutKeyPolicy, "Policy")."""
    if name == "*":
        return True
    parts = name.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    account = world.account(parts[4])
    if account is None:
        return False
    resource = parts[5]
    if parts[2] == "iam" and resource == "root":
        return True
    if parts[2] == "iam" and resource.startswith(("user/", "role/")):
        kind = "users" if resource.startswith("user/") else "roles"
        name_only = resource.rsplit("/", 1)[-1]
        found = account[kind].get(name_only)
        return found is not None and found["Arn"] == name
    if parts[2] == "sts" and resource.startswith("assumed-role/"):
        pieces = resource.split("/")
        return len(pieces) == 3 and pieces[1] in account["roles"]
    return False


def _save_rules(world, policy):
    for s in policy.statements:
        where = f"Statement {s.index}" + (f' (Sid "{s.sid}")' if s.sid else "")
        for kind, name in s.principals or ():
            ok = (
                principal_exists(world, name) if kind == "AWS"
                else kind == "Service" and name.endswith((".amazonaws.com", ".amazonaws.com.cn"))
            )
            if not ok:
                raise MalformedPolicyDocumentException(
                    f"Policy contains a statement with one or more invalid principals. {where}: "
                    f"{kind} principal {name} does not exist in this sandbox."
                )
        for cond in s.conditions:
            key = cond.key_lower
            # KMS refuses these in key policies (tag-authorization; conditions-kms).
            if key.startswith("aws:resourcetag/") or key in ("kms:resourcealiases", "kms:resourcetag"):
                raise MalformedPolicyDocumentException(
                    f"Policy contains a statement with one or more invalid condition keys. {where}: "
                    f"{cond.key} cannot be used in a key policy; use it in an IAM policy."
                )
            if cond.qualifier == "ForAllValues" and key.startswith(("kms:encryptioncontext:", "aws:requesttag/")):
                raise MalformedPolicyDocumentException(
                    f"OverlyPermissiveCondition: {where}: ForAllValues with {cond.key}, a single-valued key, "
                    "lets requests without it through; use a plain operator or ForAnyValue."
                )


def check_key_policy(ctx, key_arn, policy_text, bypass_lockout_check=False):
    """Validate a key policy about to be set by CreateKey or PutKeyPolicy.

    Raises MalformedPolicyDocumentException (or LimitExceededException for
    size) when KMS would refuse it. Unless BypassPolicyLockoutSafetyCheck is
    true, the policy must let the calling principal call PutKeyPolicy later
    (CreateKey, PutKeyPolicy API Reference); the caller's IAM policies count
    through a delegation to its account (spec §5, inferred).
    """
    policy = grammar.parse(policy_text, "key")
    _save_rules(ctx.world, policy)
    if bypass_lockout_check:
        return
    key_id = key_arn.rsplit("/", 1)[-1]
    key = ctx.world.doc["kms"]["keys"].get(key_id)
    if key is None:
        key = {
            "KeyMetadata": {"Arn": key_arn, "AWSAccountId": key_arn.split(":")[4], "KeyId": key_id,
                            "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT", "Origin": "AWS_KMS"},
            "Tags": [],
        }
    decision = decide(ctx.world, ctx.caller, "kms:PutKeyPolicy", key, None, ctx.region, ctx.time,
                      key_policy=policy_text, use_grants=False)
    if not decision.allowed:
        raise MalformedPolicyDocumentException(
            "The new key policy will not allow you to update the key policy in the future."
        )
