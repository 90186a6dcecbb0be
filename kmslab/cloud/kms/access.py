"""KMS authorization on a key: who may do what to which key, and why.

`key_for(ctx, key_id, action, conditions)` starts every operation on a key:
it resolves the KeyId, lists the key in the call's CloudTrail resources and
authorizes, before anything changes; it raises AccessDeniedException with
AWS's message or returns the key. `authorize_key` is the last step alone, for
an operation that finds its key otherwise (Decrypt, from the ciphertext) or
checks its request between the steps (CreateGrant). Operations on no key (CreateKey, ListKeys, ListAliases,
GenerateRandom, ListRetirableGrants) and the IAM side of an alias operation
(aliases have no policy of their own) use policy/authorize.py
`authorize_account`: IAM policies only.

`conditions` holds the request-specific condition keys the operation sets
(kms:EncryptionContext:<k>, kms:EncryptionAlgorithm, ...); the global ones
(aws:*) and the key's properties (kms:KeySpec, kms:ResourceAliases, ...) are
added by policy/authorize.py. Each decision, with its explanation, is
appended to ctx.explanations as plain JSON data (policy/authorize.py enforce).

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
from ..errors import MalformedPolicyDocumentException
from ..policy import grammar
from ..policy.authorize import (
    decide_account,
    deciding,
    enforce,
    first_applying,
    identity_policies,
    request_values,
    trace_policy,
)
from ..policy.catalogue import ACTIONS, ENCRYPTION_CONTEXT_OPERATIONS
from ..policy.evaluate import Request
from ..policy.explain import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Decision
from .keys import find, resolve

EC_PREFIX = "kms:EncryptionContext:"


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
    sources = identity_policies(world, caller)
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
    key_trace = trace_policy(policy_text, "key", "key policy", request)
    identity = [trace_policy(text, "identity", source, request) for source, text in sources]
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
    denied = first_applying(decision.policies, "deny")
    if denied:
        decision.decision, decision.gate, decision.deciding = EXPLICIT_DENY, "explicit-deny", deciding(denied)
        return
    direct = first_applying((key_trace,), "allow_direct")
    delegating = first_applying((key_trace,), "allow_delegating")
    iam_allow = first_applying(identity, "allow_direct")
    # The root user is not limited by IAM policies; it has none to consult.
    caller_side = caller.is_root or iam_allow is not None
    if not cross_account and direct:
        decision.decision, decision.gate, decision.deciding = ALLOW, "key-policy", deciding(direct)
        return
    if (direct or delegating) and caller_side:
        decision.decision, decision.gate = ALLOW, "key-policy-and-iam"
        decision.deciding = deciding(iam_allow or direct or delegating)
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


def simulate(world, caller, action, key=None, conditions=None, request_alias=None):
    """What the console's policy simulator shows: the Decision a call would get now, without
    making it. `conditions` are the request's own condition keys; `request_alias` the alias
    name the request used as KeyId, if any (kms:RequestAlias)."""
    if key is None:
        return decide_account(world, caller, action, conditions)
    return decide(world, caller, action, key, conditions, request_alias=request_alias)


def authorize_key(ctx, action, key, conditions=None, request_alias=None):
    """Decide on the key (`request_alias`: the alias name that named it in the request, for
    kms:RequestAlias) and enforce it."""
    return enforce(ctx, decide(ctx.world, ctx.caller, action, key, conditions, ctx.region, ctx.time, request_alias))


def key_for(ctx, key_id, action, conditions=None, allow_alias=False):
    """The start of every operation on one key: resolve the KeyId (keys.resolve), list the
    key in the call's CloudTrail resources, authorize. -> the key record."""
    key, request_alias = resolve(ctx.world, key_id, ctx.caller.account, ctx.region, ctx.time, allow_alias)
    ctx.add_resource(key["KeyMetadata"]["Arn"])
    authorize_key(ctx, action, key, conditions, request_alias)
    return key


# Saving a key policy.


def _save_rules(world, policy):
    for s in policy.statements:
        where = f"Statement {s.index}" + (f' (Sid "{s.sid}")' if s.sid else "")
        for kind, name in s.principals or ():
            ok = (
                iam.principal_exists(world, name) if kind == "AWS"
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
    key = find(ctx.world, key_id, key_arn.split(":")[3])
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
