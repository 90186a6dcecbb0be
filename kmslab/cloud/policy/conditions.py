"""Condition operators: one Condition entry (operator, key, values) against a request.

Rules (IAM user guide, reference_policies_elements_condition_operators and
reference_policies_condition-single-vs-multi-valued-context-keys):
- several values for one key are ORed; for a negated operator (StringNotEquals,
  NotIpAddress, ...) the request value must match none of them;
- a missing key fails a positive operator and satisfies a negated one;
  …IfExists is satisfied by a missing key; Null:true means "absent";
- ForAnyValue: some request value satisfies the operator (absent or empty: false);
  ForAllValues: every request value does (absent or empty: true);
- a bare operator on a multivalued key compares the one value it holds, and
  does not match a request with several (undocumented; the spec's §3 choice);
- ForAllValues:Null is always true, ForAnyValue:Null always false (Access
  Analyzer's reading, spec §3).
"""
import base64
import binascii
import ipaddress
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from . import variables


def _number(text):
    try:
        return Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None


def _date(value):
    """ISO 8601 or epoch seconds -> epoch seconds (float), or None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _binary(value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        return None


def _network(text):
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _text(value):
    if value is True or value is False:
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def prepare(family, values, toks, request):
    """Policy values parsed for the operator family. With `request` None (at parse time),
    returns None if a value holds a policy variable; with a request, fills the
    variables in and returns None if one is unresolved."""
    if toks is not None and request is None and any(variables.has_variables(t) for t in toks):
        return None
    if family in ("string", "string_ic", "bool"):
        if toks is None:
            texts = values
        else:
            texts = tuple(variables.literal(t, request or {}) for t in toks)
            if None in texts:
                return None
        if family == "string_ic":
            return tuple(t.casefold() for t in texts)
        if family == "bool":
            return tuple(t.lower() for t in texts)
        return texts
    if family in ("like", "arn"):
        regexes = tuple(variables.regex(t, request or {}, arn=family == "arn") for t in toks)
        return None if None in regexes else regexes
    if family.startswith("numeric"):
        return tuple(_number(v) for v in values)
    if family.startswith("date"):
        return tuple(_date(v) for v in values)
    if family == "binary":
        return tuple(_binary(v) for v in values)
    if family == "ip":
        return tuple(_network(v) for v in values)
    if family == "null":
        return tuple(v.lower() == "true" for v in values)
    raise ValueError(family)


def _numeric(compare):
    def match(value, policy):
        n = _number(value)
        return n is not None and any(p is not None and compare(n, p) for p in policy)

    return match


def _dated(compare):
    def match(value, policy):
        d = _date(value)
        return d is not None and any(p is not None and compare(d, p) for p in policy)

    return match


def _ip(value, policy):
    try:
        address = ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return any(n is not None and n.version == address.version and address in n for n in policy)


MATCH = {
    "string": lambda v, policy: _text(v) in policy,
    "string_ic": lambda v, policy: _text(v).casefold() in policy,
    "like": lambda v, policy: any(r.fullmatch(_text(v)) for r in policy),
    "arn": lambda v, policy: any(r.fullmatch(_text(v)) for r in policy),
    "bool": lambda v, policy: _text(v).lower() in policy,
    "binary": lambda v, policy: (b := _binary(v)) is not None and b in policy,
    "ip": _ip,
    "numeric_eq": _numeric(lambda a, b: a == b),
    "numeric_lt": _numeric(lambda a, b: a < b),
    "numeric_le": _numeric(lambda a, b: a <= b),
    "numeric_gt": _numeric(lambda a, b: a > b),
    "numeric_ge": _numeric(lambda a, b: a >= b),
    "date_eq": _dated(lambda a, b: a == b),
    "date_lt": _dated(lambda a, b: a < b),
    "date_le": _dated(lambda a, b: a <= b),
    "date_gt": _dated(lambda a, b: a > b),
    "date_ge": _dated(lambda a, b: a >= b),
}


def value_key(raw):
    """A request value as a dict key that keeps its type, also within a multivalued key:
    1 and True are equal, yet a condition reads them as "1" and "true"."""
    if raw.__class__ is tuple:
        return tuple([(v.__class__, v) for v in raw])
    return raw.__class__, raw


def evaluate(cond, values):
    """-> (cond, result, request value, key missing, note). `values` maps lower-case key names.

    Without policy variables the entry depends only on the request value, so it is
    remembered per condition and per value (typed, see value_key)."""
    raw = values.get(cond.key_lower)
    if cond.prepared is None:
        return _evaluate(cond, values, raw)
    key = value_key(raw)
    results = cond.results
    try:
        found = results.get(key)
    except TypeError:  # an unhashable request value (a list from a plain dict)
        return _evaluate(cond, values, raw)
    if found is None:
        if len(results) > 256:
            results.clear()
        found = results[key] = _evaluate(cond, values, raw)
    return found


def _evaluate(cond, values, raw):
    missing = raw is None or (isinstance(raw, (list, tuple)) and not raw)
    if cond.family == "null":
        if cond.qualifier == "ForAllValues":
            return cond, True, raw, missing, "ForAllValues:Null is always true"
        if cond.qualifier == "ForAnyValue":
            return cond, False, raw, missing, "ForAnyValue:Null is always false"
        return cond, missing in cond.prepared, raw, missing, None
    if missing:
        if cond.if_exists:
            return cond, True, raw, True, None
        if cond.qualifier == "ForAllValues":
            return cond, True, raw, True, "ForAllValues over no values is true"
        if cond.qualifier == "ForAnyValue":
            return cond, False, raw, True, None
        return cond, cond.negated, raw, True, None
    policy = cond.prepared
    if policy is None:
        policy = prepare(cond.family, cond.values, cond.tokens, values)
        if policy is None:
            return cond, False, raw, False, "a policy variable has no value in this request"
    match = MATCH[cond.family]
    negated = cond.negated
    many = isinstance(raw, (list, tuple))
    if cond.qualifier is None:
        if many:
            if len(raw) != 1:
                return cond, False, raw, False, "a bare operator on a key with several values does not match"
            raw_value = raw[0]
        else:
            raw_value = raw
        return cond, match(raw_value, policy) != negated, raw, False, None
    items = raw if many else (raw,)
    if cond.qualifier == "ForAnyValue":
        return cond, any(match(v, policy) != negated for v in items), raw, False, None
    return cond, all(match(v, policy) != negated for v in items), raw, False, None
