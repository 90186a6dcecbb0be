"""A decision and why: built cheaply during evaluation, rendered on demand.

`Decision.to_dict()` is plain JSON data, kept beside the call's CloudTrail
record; the console's templates/console/_explanation.html shows it. The
dict names the decision, the gate that decided it, and for every statement
of every policy consulted whether principal, action, resource and each
condition matched, with the request value and whether the key was missing.
An implicit deny also names what was missing and the statement that came
nearest to allowing the request, looked for only in the half that is
missing: the key policy, or the caller's IAM policies. A cross-account call
needs both halves (developer guide, key-policy-modifying-external-accounts:
the key policy in the key's account and an IAM policy in the caller's
account), so its explanation names each half and whether it allows.
"""
from dataclasses import dataclass, field

from .conditions import value_key

ALLOW = "Allow"
EXPLICIT_DENY = "ExplicitDeny"
IMPLICIT_DENY = "ImplicitDeny"

# Gates (spec §1.2): which step of the algorithm decided.
GATE_WORDS = {
    "cross-account-operation": "{action} cannot be used on a key in another account, whatever the policies say",
    "explicit-deny": "an explicit Deny in the {source} matched, and an explicit Deny always wins",
    "key-policy": "the key policy allows the caller directly",
    "key-policy-and-iam": "the key policy delegates to the caller's account and an IAM policy allows the call",
    "grant": "a grant allows the caller this operation",
    "no-key-policy-allow": "no statement of the key policy allows the caller, and no grant does",
    "no-iam-allow": "the key policy leaves the decision to IAM in the caller's account, and no IAM policy allows it",
    "no-iam-allow-cross-account": "the key's account allows it, but no IAM policy in the caller's account does",
    "iam": "an IAM policy allows the call",
    "no-iam-allow-account": "no IAM policy allows the call",
    "root": "the account's root user is not limited by IAM policies",
    "retiring-principal": "the caller is the grant's retiring principal",
    "issuing-account": "the caller is the root user of the account that created the grant",
    "not-retiring-principal": "only the retiring principal, a grantee allowed RetireGrant, the issuing account, "
    "or a principal an IAM policy allows kms:RetireGrant may retire a grant",
}
# Where the missing allow would have to be, by gate; the nearest miss is looked for there only.
# In one account a direct key-policy allow or an IAM one would do (no-iam-allow: either);
# across accounts, once the key policy allows, only the caller's IAM policies can.
IAM_GATES = ("no-iam-allow-cross-account", "no-iam-allow-account")
KEY_POLICY_GATES = ("no-key-policy-allow",)
# The gates of a cross-account call decided by the two halves (a grant or an explicit
# Deny decides alone; a same-account-only operation never reaches the policies).
TWO_HALVES_GATES = ("key-policy-and-iam", "no-key-policy-allow", "no-iam-allow-cross-account")


@dataclass(slots=True)
class Decision:
    decision: str
    gate: str
    action: str
    resource: str
    caller: str  # the caller's ARN
    caller_account: str
    resource_account: str | None
    policies: list = field(default_factory=list)  # evaluate.PolicyTrace
    grants: list = field(default_factory=list)  # (grant entry, grantee matched, operation matched, constraints hold or None)
    deciding: tuple | None = None  # (source, statement index, sid) or ("grant", GrantId, None)
    request_values: object = None  # evaluate.Values
    rendered: dict | None = None  # to_dict()'s result, once made

    @property
    def allowed(self):
        return self.decision == ALLOW

    def error_message(self):
        """AccessDeniedException's message in AWS's current form."""
        head = f"User: {self.caller} is not authorized to perform: {self.action} on resource: {self.resource}"
        if self.decision == EXPLICIT_DENY:
            where = "a resource-based policy" if self.deciding[0] == "key policy" else "an identity-based policy"
            return f"{head} with an explicit deny in {where}"
        if self.gate in ("no-iam-allow", "no-iam-allow-cross-account", "no-iam-allow-account"):
            return f"{head} because no identity-based policy allows the {self.action} action"
        return f"{head} because no resource-based policy allows the {self.action} action"

    def to_dict(self):
        """The explanation as JSON data (made once per Decision; callers must not mutate it)."""
        if self.rendered is not None:
            return self.rendered
        out = self.rendered = {
            "decision": self.decision,
            "gate": self.gate,
            "action": self.action,
            "resource": self.resource,
            "caller": self.caller,
            "callerAccount": self.caller_account,
            "resourceAccount": self.resource_account,
            "policies": [_policy_dict(p) for p in self.policies],
        }
        if self.grants:
            out["grants"] = [
                {"grantId": g["GrantId"], "grantee": g["GranteePrincipal"], "granteeMatches": who,
                 "operationMatches": op, "constraintsHold": ok}
                for g, who, op, ok in self.grants
            ]
        if self.deciding:
            out["deciding"] = {"source": self.deciding[0], "statement": self.deciding[1], "sid": self.deciding[2]}
        if self.decision == IMPLICIT_DENY:
            key_side = [p for p in self.policies if p.kind == "key"]
            identity = [p for p in self.policies if p.kind != "key"]
            scope = identity if self.gate in IAM_GATES else key_side if self.gate in KEY_POLICY_GATES else self.policies
            out["nearest"] = nearest(scope)
        if self.cross_account and self.gate in TWO_HALVES_GATES:
            out["sides"] = self._sides()
        return out

    @property
    def cross_account(self):
        return self.resource_account is not None and self.resource_account != self.caller_account

    def _sides(self):
        """The two halves of a cross-account decision: the key policy in the key's account,
        then the IAM policies in the caller's account; each says what allows it, or that
        nothing does and which of its statements came nearest."""
        key = [p for p in self.policies if p.kind == "key"]
        identity = [p for p in self.policies if p.kind != "key"]
        key_allow = next((t for p in key for t in (p.allow_direct, p.allow_delegating) if t is not None), None)
        key_side = {"side": "key policy", "account": self.resource_account, "allows": key_allow is not None,
                    "by": _by("key policy", key_allow), "nearest": None if key_allow else nearest(key)}
        # The root user has no IAM policies: the key policy alone lets it in (key-policy-default).
        root = self.caller == f"arn:aws:iam::{self.caller_account}:root"
        found = next(((p.source, p.allow_direct) for p in identity if p.allow_direct is not None), None)
        iam_side = {"side": "IAM policies", "account": self.caller_account, "allows": root or found is not None,
                    "root": root, "by": _by(*found) if found else None,
                    "nearest": None if root or found else nearest(identity)}
        return [key_side, iam_side]


def _by(source, trace):
    if trace is None:
        return None
    s = trace.statement
    return {"source": source, "statement": s.index, "sid": s.sid, "principal": trace.principal,
            "principalLink": trace.principal_link}


def _condition_dict(entry):
    cond, result, value, missing, note = entry
    out = {"operator": cond.operator, "key": cond.key, "policyValues": list(cond.values),
           "requestValue": _jsonable(value), "missing": missing, "matches": result}
    if note:
        out["note"] = note
    return out


def _jsonable(value):
    if isinstance(value, (bytes, bytearray)):
        return None
    if isinstance(value, tuple):
        return list(value)
    return value


def _statement_dict(trace):
    """The same outcome of the same statement recurs call after call: its dict is built
    once and shared between explanations (they are never mutated)."""
    # The trace is its own key: its statement and conditions hash by identity, its request
    # values by value (evaluate.Values holds multivalued keys as tuples), and by type too,
    # since 1 and True are equal but shown differently.
    memo = trace.statement.render_memo
    key = trace
    if trace.conditions:
        key = (trace, tuple([value_key(c[2]) for c in trace.conditions]))
    try:
        found = memo.get(key)
    except TypeError:
        return _build_statement_dict(trace)
    if found is None:
        if len(memo) > 512:
            memo.clear()
        found = memo[key] = _build_statement_dict(trace)
    return found


def _build_statement_dict(trace):
    s = trace.statement
    conditions = trace.conditions
    return {
        "index": s.index,
        "sid": s.sid,
        "effect": s.effect,
        "principal": trace.principal,
        "principalLink": trace.principal_link,
        "action": trace.action,
        "resource": trace.resource,
        "conditions": None if conditions is None else [_condition_dict(c) for c in conditions],
        "applies": trace.applies,
    }


def _policy_dict(trace):
    if trace.rendered is not None:
        return trace.rendered
    out = {"source": trace.source, "kind": trace.kind, "statements": [_statement_dict(t) for t in trace.statements]}
    if trace.error:
        out["error"] = trace.error
    trace.rendered = out
    return out


def nearest(policies):
    """The Allow statement that came nearest to applying, and what it lacked."""
    best = None
    for policy in policies:
        for t in policy.statements:
            if t.statement.effect != "Allow" or t.applies:
                continue
            # Principal, action and resource weigh most; each condition met counts, each unmet costs.
            score = 10 * ((t.principal is not None) + t.action + t.resource)
            for c in t.conditions or ():
                score += 1 if c[1] else -1
            if best is None or score > best[0]:
                best = (score, policy.source, t)
    if best is None:
        return None
    _, source, t = best
    missing = []
    if t.principal is None:
        missing.append("principal")
    if not t.action:
        missing.append("action")
    if not t.resource:
        missing.append("resource")
    for cond, result, value, was_missing, note in t.conditions or ():
        if not result:
            missing.append(f"condition {cond.operator} {cond.key}" + (" (key missing from the request)" if was_missing else ""))
    return {"source": source, "statement": t.statement.index, "sid": t.statement.sid, "unmet": missing}
