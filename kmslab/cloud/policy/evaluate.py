"""Statement matching: one policy against one request, leaving a compact trace.

A statement applies when its principal (key policies only), action, resource
and every condition match. The trace keeps, for each statement, what matched
and each condition's result with the request value and whether the key was
missing, as tuples; explain.py turns it into JSON and prose only when asked.
Conditions are evaluated when the statement's action matches the request
(otherwise no condition could make it apply, and the explanation says so).
"""
from dataclasses import dataclass

from . import conditions, variables
from .grammar import account_principal

DIRECT = "direct"
DELEGATING = "delegating"


class Values:
    """The request's condition keys, lower-cased on first use: most statements have no conditions."""

    __slots__ = ("_build", "_original", "_lower")

    def __init__(self, build):
        self._build = build
        self._original = None
        self._lower = None

    def get(self, key_lower):
        lower = self._lower
        if lower is None:
            lower = self._lower = {k.lower(): v for k, v in self.original().items()}
        return lower.get(key_lower)

    def original(self):
        if self._original is None:
            self._original = self._build()
        return self._original


@dataclass(slots=True)
class Request:
    action: str  # "kms:Encrypt"
    resource: str  # the key ARN (or alias ARN, or "*")
    caller: object  # principals.Caller
    values: Values
    chain: tuple = ()  # caller_chain(caller), for key policies

    def __post_init__(self):
        self.chain = caller_chain(self.caller)


@dataclass(slots=True)
class StatementTrace:
    statement: object  # grammar.Statement
    principal: str | None  # DIRECT, DELEGATING, None (no match); identity policies: DIRECT
    principal_link: str | None  # the caller-chain link that matched (or, for NotPrincipal, was unlisted)
    action: bool
    resource: bool
    conditions: tuple | None  # ((Condition, result, request value, missing, note), ...) or None: not evaluated
    applies: bool


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
    memo = statement.action_memo
    hit = memo.get(action)
    if hit is None:
        hit = memo[action] = statement.action_regex.fullmatch(action) is not None
    return hit != statement.not_action


def match_resource(statement, resource, values, use_variables):
    if statement.resources is None:
        return False
    memo = statement.resource_memo
    hit = memo.get(resource)
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
            memo[resource] = hit
    return hit != statement.not_resource


def evaluate_policy(policy, request, source, kind):
    """-> PolicyTrace with one StatementTrace per statement."""
    trace = PolicyTrace(source, kind, policy, ())
    traces = []
    caller = request.caller
    values = request.values
    for statement in policy.statements:
        if kind == "key":
            principal, link = match_principal(statement, caller, request.chain)
        else:
            principal, link = DIRECT, None
        action = match_action(statement, request.action)
        resource = match_resource(statement, request.resource, values, policy.variables)
        results = None
        passed = True
        if action:
            if statement.conditions:
                results = []
                for cond in statement.conditions:
                    result = conditions.evaluate(cond, values)
                    results.append((cond,) + result)
                    passed = passed and result[0]
                results = tuple(results)
            else:
                results = ()
        applies = principal is not None and action and resource and passed
        t = StatementTrace(statement, principal, link, action, resource, results, applies)
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
