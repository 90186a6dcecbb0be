"""Statement matching: one policy against one request, leaving a compact trace.

A statement applies when its principal (key policies only), action, resource
and every condition match. The trace keeps, for each statement, what matched
and each condition's result with the request value and whether the key was
missing, as tuples; explain.py turns it into JSON and prose only when asked.
Conditions are evaluated when the statement's action matches the request
(otherwise no condition could make it apply, and the explanation says so).
"""
from collections import namedtuple
from dataclasses import dataclass

from . import conditions, variables
from .grammar import account_principal

DIRECT = "direct"
DELEGATING = "delegating"


class Values:
    """The request's condition keys by lower-case name (key names are case-insensitive,
    condition_operators). The request's own keys come first; any other key is asked of
    `resolve(name)` the first time a condition needs it, so a call pays only for the keys
    its policies mention. Multivalued keys are held as tuples, so traces stay hashable."""

    __slots__ = ("_resolve", "_conditions", "_known")

    def __init__(self, resolve, conditions=None):
        self._resolve = resolve
        self._conditions = conditions
        self._known = None

    def get(self, key_lower):
        known = self._known
        if known is None:
            known = self._known = {
                k.lower(): tuple(v) if v.__class__ is list else v for k, v in (self._conditions or {}).items()
            }
        if key_lower in known:
            return known[key_lower]
        value = self._resolve(key_lower)
        if value.__class__ is list:
            value = tuple(value)
        known[key_lower] = value
        return value

    def signature(self, keys):
        """The values of `keys` as one dict key (typed, see conditions.value_key)."""
        value_key = conditions.value_key
        return tuple([value_key(self.get(k)) for k in keys])


@dataclass(slots=True)
class Request:
    action: str  # "kms:Encrypt"
    resource: str  # the key ARN (or alias ARN, or "*")
    caller: object  # principals.Caller
    values: Values
    chain: tuple = ()  # caller_chain(caller), for key policies
    match_key: str = ""  # what statement matches depend on, as one string (its hash is computed once)

    def __post_init__(self):
        self.chain = caller_chain(self.caller)
        self.match_key = " ".join(
            [self.caller.kind, self.action, self.resource] + [arn for arn, _ in self.chain]
        )


# One statement's outcome: a named tuple, because every call makes several of them.
# statement: grammar.Statement; principal: DIRECT, DELEGATING or None (identity policies:
# DIRECT); principal_link: the caller-chain link that matched (for NotPrincipal, the one
# not listed); conditions: ((Condition, result, request value, missing, note), ...), or None
# when not evaluated because the action does not match.
StatementTrace = namedtuple(
    "StatementTrace", "statement principal principal_link action resource conditions applies"
)
_new_trace = tuple.__new__


@dataclass(slots=True)
class PolicyTrace:
    source: str  # "key policy", "user/alice inline policy S3", "grant 4f…"
    kind: str  # "key" | "identity"
    policy: object  # grammar.Policy, or None if the document could not be parsed
    statements: tuple
    error: str | None = None
    # The first applying statements, by what they decide.
    deny: object = None
    allow_direct: object = None
    allow_delegating: object = None
    # Whether the outcome depended on the request beyond (caller, action, resource):
    # a condition was evaluated or a Resource held a policy variable.
    volatile: bool = False
    rendered: dict | None = None  # explain.py's dict for it, once made


def caller_chain(caller):
    """(ARN, match kind) links of the caller, account first (spec §2, NotPrincipal)."""
    root = account_principal(caller.account)
    if caller.kind == "Root":
        return ((root, DIRECT),)
    if caller.kind == "AssumedRole":
        return ((root, DELEGATING), (caller.role_arn, DIRECT), (caller.arn, DIRECT))
    return ((root, DELEGATING), (caller.arn, DIRECT))


def match_principal(statement, caller, chain):
    """-> (DIRECT | DELEGATING | None, link).

    The account principal (arn:aws:iam::A:root or "A") delegates to the
    account's IAM policies; for the root user itself it is a direct allow
    (key-policy-default). A role ARN matches every session of the role
    (compared with its path); a session ARN only that session.
    """
    aws = statement.aws_principals
    if caller.kind == "AWSService":
        name = caller.arn
        hit = name in statement.service_principals or "*" in aws
        if statement.not_principal:
            hit = not hit
        return (DIRECT, name) if hit else (None, None)
    if statement.not_principal:
        if "*" in aws:
            return None, None
        unlisted = [(arn, kind) for arn, kind in chain if arn not in aws]
        for arn, kind in unlisted:
            if kind == DIRECT:
                return DIRECT, arn
        return (unlisted[0][1], unlisted[0][0]) if unlisted else (None, None)
    if "*" in aws:
        return DIRECT, "*"
    for arn, kind in reversed(chain):
        if arn in aws:
            return kind, arn
    return None, None


def match_action(statement, action):
    if statement.actions is None:
        return False
    hit = statement.action_memo.get(action)
    if hit is None:
        hit = statement.action_memo[action] = statement.action_regex.fullmatch(action) is not None
    return hit != statement.not_action


def match_resource(statement, resource, values, use_variables):
    if statement.resources is None:
        return False
    hit = statement.resource_memo.get(resource)
    if hit is None:
        hit = False
        cacheable = True
        for pattern in statement.resources:
            if pattern == "*":
                hit = True
                break
            toks = variables.tokens(pattern, use_variables)
            if variables.has_variables(toks):
                cacheable = False
            regex = variables.regex(toks, values, arn=True)
            if regex is not None and regex.fullmatch(resource):
                hit = True
                break
        if cacheable:
            statement.resource_memo[resource] = hit
    return hit != statement.not_resource


def evaluate_policy(policy, request, source, kind):
    """-> PolicyTrace with one StatementTrace per statement (the hot path of every call).

    A trace depends on (caller chain, action, resource) and on the request values it
    reads: those of the conditions of the statements whose action matches (no other
    condition runs) and those of policy variables in a Resource. Conditions are pure
    functions of those values, so a trace is remembered per (source, caller chain,
    action, resource) and the values of those keys, and shared (it is never changed
    once made)."""
    keys = policy.keys_read.get(request.action)
    if keys is None:
        keys = policy.keys_read[request.action] = _keys_read(policy, request.action)
    match_key = kind + " " + request.match_key
    memo_key = (source, match_key, request.values.signature(keys))
    traces = policy.traces
    try:
        trace = traces.get(memo_key)
    except TypeError:  # an unhashable request value (a list inside a multivalued key)
        return _trace(policy, request, source, kind, match_key)
    if trace is None:
        if len(traces) > 1024:
            traces.clear()
        trace = traces[memo_key] = _trace(policy, request, source, kind, match_key)
    return trace


def _keys_read(policy, action):
    """The request keys a trace of `policy` for `action` reads (see evaluate_policy)."""
    keys = []
    for statement in policy.statements:
        keys += statement.resource_keys
        if match_action(statement, action):
            keys += statement.condition_keys
    return tuple(dict.fromkeys(keys))


def _trace(policy, request, source, kind, match_key):
    """Principal, action and resource matches depend only on (caller chain, action,
    resource) unless a Resource holds a policy variable, so they are memoized per statement."""
    trace = PolicyTrace(source, kind, policy, ())
    traces = []
    values = request.values
    use_variables = policy.variables
    evaluate = conditions.evaluate
    for statement in policy.statements:
        memo = statement.match_memo
        found = memo.get(match_key)
        if found is None:
            found = _match(statement, request, kind, use_variables)
            if not statement.resource_keys:
                if len(memo) > 1024:
                    memo.clear()
                memo[match_key] = found
        principal, link, action, resource = found
        if statement.resource_keys:
            trace.volatile = True
        passed = True
        if not statement.conditions:
            results = ()
        elif action:
            trace.volatile = True
            results = tuple([evaluate(cond, values) for cond in statement.conditions])
            for result in results:
                if not result[1]:
                    passed = False
                    break
        else:
            results = None
        applies = principal is not None and action and resource and passed
        t = _new_trace(StatementTrace, (statement, principal, link, action, resource, results, applies))
        traces.append(t)
        if applies:
            if statement.effect == "Deny":
                if trace.deny is None:
                    trace.deny = t
            elif principal == DIRECT:
                if trace.allow_direct is None:
                    trace.allow_direct = t
            elif trace.allow_delegating is None:
                trace.allow_delegating = t
    trace.statements = tuple(traces)
    return trace


def _match(statement, request, kind, use_variables):
    if kind == "key":
        principal, link = match_principal(statement, request.caller, request.chain)
    else:
        principal, link = DIRECT, None
    return (principal, link, match_action(statement, request.action),
            match_resource(statement, request.resource, request.values, use_variables))
