"""The policy language: parse and validate a document into an immutable form.

`parse(text, kind)` is cached by the document text, so evaluating the same
key policy on every call never parses it twice. `kind` is "key" for a key
policy (statements need a Principal; Sids may hold spaces) or "identity" for
an IAM policy (no Principal; Resource required; Sids alphanumeric).

Grammar: IAM user guide, reference_policies_grammar and
reference_policies_elements_*; key-policy rules: KMS developer guide,
key-policy-overview, and the PutKeyPolicy "Policy" parameter.
Failures raise MalformedPolicyDocumentException saying which statement and
what is wrong; an over-long key policy raises LimitExceededException.
"""
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .. import learner_json
from ..errors import LimitExceededException, MalformedPolicyDocumentException
from . import conditions, variables

VERSIONS = ("2012-10-17", "2008-10-17")
KEY_POLICY_MAX_BYTES = 32768
# Printable ASCII, printable Latin-1 supplement, tab, LF, CR (PutKeyPolicy "Policy").
_KEY_POLICY_CHARS = re.compile(r"[^\t\n\r\x20-\x7e\xa0-\xff]")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
# What a deleted principal turns into in a saved policy (AIDA… user, AROA… role).
UNIQUE_ID = re.compile(r"^(AIDA|AROA)[A-Z0-9]{12,}$")
_IAM_SID = re.compile(r"^[A-Za-z0-9]*$")
_STATEMENT_FIELDS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)

# Condition operators (reference_policies_elements_condition_operators).
# base name -> (family, negated, takes policy variables)
OPERATORS = {
    "StringEquals": ("string", False, True),
    "StringNotEquals": ("string", True, True),
    "StringEqualsIgnoreCase": ("string_ic", False, True),
    "StringNotEqualsIgnoreCase": ("string_ic", True, True),
    "StringLike": ("like", False, True),
    "StringNotLike": ("like", True, True),
    "NumericEquals": ("numeric_eq", False, False),
    "NumericNotEquals": ("numeric_eq", True, False),
    "NumericLessThan": ("numeric_lt", False, False),
    "NumericLessThanEquals": ("numeric_le", False, False),
    "NumericGreaterThan": ("numeric_gt", False, False),
    "NumericGreaterThanEquals": ("numeric_ge", False, False),
    "DateEquals": ("date_eq", False, False),
    "DateNotEquals": ("date_eq", True, False),
    "DateLessThan": ("date_lt", False, False),
    "DateLessThanEquals": ("date_le", False, False),
    "DateGreaterThan": ("date_gt", False, False),
    "DateGreaterThanEquals": ("date_ge", False, False),
    "Bool": ("bool", False, True),
    "BinaryEquals": ("binary", False, False),
    "IpAddress": ("ip", False, False),
    "NotIpAddress": ("ip", True, False),
    "ArnEquals": ("arn", False, True),
    "ArnLike": ("arn", False, True),
    "ArnNotEquals": ("arn", True, True),
    "ArnNotLike": ("arn", True, True),
    "Null": ("null", False, False),
}
OPERATORS_LOWER = {name.lower(): name for name in OPERATORS}
QUALIFIERS = {"forallvalues": "ForAllValues", "foranyvalue": "ForAnyValue"}


@dataclass(frozen=True, eq=False)
class Condition:
    operator: str  # as written: "ForAnyValue:StringLikeIfExists"
    base: str  # "StringLike"
    family: str
    negated: bool
    qualifier: str | None  # "ForAnyValue" | "ForAllValues" | None
    if_exists: bool
    key: str  # as written
    key_lower: str
    values: tuple  # policy values as text ("true" for JSON true)
    tokens: tuple  # per value: variables.tokens(...) for operators that take variables, else None
    prepared: tuple | None  # the values parsed for the operator; None while a variable awaits the request
    results: dict = field(default_factory=dict, repr=False)  # conditions.py: request value -> trace entry


@dataclass(frozen=True, eq=False)
class Statement:
    index: int  # 1-based, as an explanation shows it
    sid: str | None
    effect: str
    principals: tuple | None  # (("AWS", "arn:..."), ("Service", "..."), ...) or None
    not_principal: bool
    actions: tuple | None  # as written
    not_action: bool
    resources: tuple | None
    not_resource: bool
    conditions: tuple  # of Condition
    action_regex: object  # compiled, case-insensitive
    aws_principals: frozenset  # normalised AWS principals ("*" kept)
    service_principals: frozenset
    action_memo: dict  # action -> bool, filled as requests come
    resource_memo: dict  # resource ARN -> bool, for resources without policy variables
    render_memo: dict  # explain.py: outcome -> the statement's explanation dict, shared
    resource_keys: tuple  # request keys read by policy variables in Resource: its match depends on them
    condition_keys: tuple  # request keys the conditions read (their keys and their values' variables)
    match_memo: dict  # evaluate.py: (caller chain, action, resource) -> principal, action, resource matches


@dataclass(frozen=True, eq=False)
class Policy:
    text: str
    kind: str
    version: str | None
    id: str | None
    statements: tuple
    keys_read: dict = field(default_factory=dict, repr=False)  # evaluate.py: action -> request keys a trace reads
    traces: dict = field(default_factory=dict, repr=False)  # evaluate.py: request and those keys' values -> trace

    @property
    def variables(self):
        return self.version == "2012-10-17"


def _fail(where, message):
    raise MalformedPolicyDocumentException(f"{where}: {message}" if where else message)


def _strings(value, where, element):
    """An element that is a string or a list of strings -> tuple of strings."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    _fail(where, f"{element} must be a string or a non-empty list of strings.")


def account_principal(account):
    return f"arn:aws:iam::{account}:root"


def _principals(value, where):
    if value == "*":
        return (("AWS", "*"),)
    if not isinstance(value, dict) or not value:
        _fail(where, 'Principal must be "*" or an object such as {"AWS": "arn:aws:iam::111122223333:root"}.')
    found = []
    for kind, names in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            _fail(where, f'Principal type "{kind}" is not one of AWS, Service, Federated, CanonicalUser.')
        for name in _strings(names, where, f"Principal {kind}"):
            if kind == "AWS":
                name = name.strip()
                if _ACCOUNT_ID.match(name):
                    name = account_principal(name)
                elif name != "*" and not name.startswith("arn:") and not UNIQUE_ID.match(name):
                    _fail(where, f'"{name}" is not a valid AWS principal: use an ARN, a 12-digit account id or "*".')
                elif "*" in name[4:] and name != "*" or "?" in name:
                    # Principals take no partial wildcards (reference_policies_elements_principal).
                    _fail(where, f'"{name}": a principal cannot hold a partial wildcard; '
                          "use Principal \"*\" with an ArnLike condition on aws:PrincipalArn.")
            found.append((kind, name))
    return tuple(found)


def _action_regex(actions):
    parts = []
    for action in actions:
        toks = variables.tokens(action, False)
        regex = variables.regex(toks, {}, arn=False, ignore_case=True)
        parts.append(regex.pattern)
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


def _condition_values(value, where, operator, key):
    items = value if isinstance(value, list) else [value]
    if not items:
        _fail(where, f"condition {operator} on {key} has no values.")
    out = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, (int, float, str)):
            out.append(str(item))
        else:
            _fail(where, f"condition {operator} on {key}: values must be strings, numbers or booleans.")
    return tuple(out)


def _conditions(block, where, version_variables):
    if not isinstance(block, dict):
        _fail(where, "Condition must be an object of operators.")
    out = []
    for operator, keys in block.items():
        name = operator
        qualifier = None
        if ":" in name:
            prefix, _, name = name.partition(":")
            qualifier = QUALIFIERS.get(prefix.lower())
            if qualifier is None:
                _fail(where, f'"{operator}": the only qualifiers are ForAnyValue: and ForAllValues:.')
        if_exists = name.lower().endswith("ifexists")
        base = OPERATORS_LOWER.get((name[:-8] if if_exists else name).lower())
        if base is None:
            _fail(where, f'"{operator}" is not a condition operator.')
        if base == "Null" and if_exists:
            _fail(where, "NullIfExists is not a condition operator: Null already tests whether the key exists.")
        if not isinstance(keys, dict) or not keys:
            _fail(where, f'"{operator}" must map condition keys to values.')
        family, negated, takes_variables = OPERATORS[base]
        for key, value in keys.items():
            values = _condition_values(value, where, operator, key)
            toks = (
                tuple(variables.tokens(v, version_variables) for v in values)
                if takes_variables or family == "like"
                else None
            )
            prepared = conditions.prepare(family, values, toks, None)
            out.append(
                Condition(
                    operator, base, family, negated, qualifier, if_exists, key, key.lower(), values, toks, prepared
                )
            )
    return tuple(out)


def _resource_keys(resources, version_variables):
    """The request keys the policy variables of a Resource read."""
    keys = []
    for resource in resources or ():
        keys += variables.variable_keys(variables.tokens(resource, version_variables))
    return tuple(dict.fromkeys(keys))


def _condition_keys(parsed_conditions):
    """The request keys conditions read: each one's key and the variables in its values."""
    keys = []
    for cond in parsed_conditions:
        keys.append(cond.key_lower)
        for toks in cond.tokens or ():
            keys += variables.variable_keys(toks)
    return tuple(dict.fromkeys(keys))


def _statement(raw, index, kind, version_variables):
    where = f"Statement {index}"
    if not isinstance(raw, dict):
        _fail(where, "a statement must be an object.")
    sid = raw.get("Sid")
    if sid is not None:
        if not isinstance(sid, str):
            _fail(where, "Sid must be a string.")
        where = f'Statement {index} (Sid "{sid}")'
        if kind == "identity" and not _IAM_SID.match(sid):
            _fail(where, "an IAM policy Sid may hold only letters and digits.")
    unknown = set(raw) - _STATEMENT_FIELDS
    if unknown:
        _fail(where, f"unknown element {sorted(unknown)[0]}.")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        _fail(where, 'Effect must be "Allow" or "Deny".')
    for a, b in (("Principal", "NotPrincipal"), ("Action", "NotAction"), ("Resource", "NotResource")):
        if a in raw and b in raw:
            _fail(where, f"a statement cannot have both {a} and {b}.")
    principal_field = "Principal" if "Principal" in raw else "NotPrincipal" if "NotPrincipal" in raw else None
    if kind == "key" and principal_field is None:
        # PutKeyPolicy: every key-policy statement needs a principal.
        _fail(where, "a key policy statement must have a Principal (or NotPrincipal).")
    if kind == "identity" and principal_field is not None:
        _fail(where, f"an identity-based policy cannot have {principal_field}; the principal is whoever holds it.")
    principals = _principals(raw[principal_field], where) if principal_field else None
    action_field = "Action" if "Action" in raw else "NotAction" if "NotAction" in raw else None
    actions = _strings(raw[action_field], where, action_field) if action_field else None
    for action in actions or ():
        if action != "*" and (":" not in action or not action.split(":", 1)[0]):
            _fail(where, f'"{action}" is not an action: write service:Name, such as kms:Encrypt.')
    resource_field = "Resource" if "Resource" in raw else "NotResource" if "NotResource" in raw else None
    if kind == "identity" and (action_field is None or resource_field is None):
        _fail(where, "an IAM policy statement needs an Action (or NotAction) and a Resource (or NotResource).")
    resources = _strings(raw[resource_field], where, resource_field) if resource_field else None
    for resource in resources or ():
        if resource != "*" and not resource.startswith("arn:"):
            _fail(where, f'"{resource}" is not a resource: write "*" or an ARN.')
    parsed_conditions = _conditions(raw["Condition"], where, version_variables) if "Condition" in raw else ()
    aws = frozenset(name for k, name in principals or () if k == "AWS")
    services = frozenset(name for k, name in principals or () if k == "Service")
    return Statement(
        index=index,
        sid=sid,
        effect=effect,
        principals=principals,
        not_principal=principal_field == "NotPrincipal",
        actions=actions,
        not_action=action_field == "NotAction",
        resources=resources,
        not_resource=resource_field == "NotResource",
        conditions=parsed_conditions,
        action_regex=_action_regex(actions) if actions else None,
        aws_principals=aws,
        service_principals=services,
        action_memo={},
        resource_memo={},
        render_memo={},
        resource_keys=_resource_keys(resources, version_variables),
        condition_keys=_condition_keys(parsed_conditions),
        match_memo={},
    )


def parse(text, kind):
    """Document text -> Policy; raises MalformedPolicyDocumentException (cached by text)."""
    return _parse(text, kind)


@lru_cache(maxsize=4096)
def _parse(text, kind):
    if kind == "key":
        if len(text.encode("utf-8")) > KEY_POLICY_MAX_BYTES:
            raise LimitExceededException(
                f"The key policy is {len(text.encode('utf-8'))} bytes; a key policy can be at most 32768 bytes."
            )
        bad = _KEY_POLICY_CHARS.search(text)
        if bad:
            _fail("", f"The key policy holds a character KMS does not accept ({bad.group()!r} at position "
                  f"{bad.start()}); use printable ASCII or Latin-1, tab, line feed or carriage return.")
    try:
        doc = learner_json.loads(text)
    except ValueError as exc:
        _fail("", f"The policy is not valid JSON: {exc}.")
    if not isinstance(doc, dict):
        _fail("", "A policy must be a JSON object.")
    version = doc.get("Version")
    if version is not None and version not in VERSIONS:
        _fail("", f'Version "{version}" is not one of 2012-10-17, 2008-10-17.')
    unknown = set(doc) - {"Version", "Id", "Statement"}
    if unknown:
        _fail("", f"unknown top-level element {sorted(unknown)[0]}.")
    raw = doc.get("Statement")
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        _fail("", "Statement must be a statement object or a non-empty list of them.")
    statements = tuple(_statement(s, i, kind, version == "2012-10-17") for i, s in enumerate(raw, 1))
    sids = [s.sid for s in statements if s.sid]
    if len(sids) != len(set(sids)):
        _fail("", f'Sid "{next(s for s in sids if sids.count(s) > 1)}" is used by more than one statement.')
    policy_id = doc.get("Id")
    return Policy(text, kind, version, policy_id if isinstance(policy_id, str) else None, statements)
