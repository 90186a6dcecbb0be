"""Policy variables and wildcards in one pass: a pattern becomes tokens once.

`${aws:username}` is replaced by the request's value of that key, `${key,
'default'}` falls back to the default, and `${*}` `${?}` `${$}` stand for the
literal characters (IAM user guide, reference_policies_variables). Variables
only exist in policies of Version 2012-10-17; in older ones `${...}` is text.
A variable whose key is absent and has no default leaves the comparison
unresolved, and an unresolved comparison fails.
"""
import re
from functools import lru_cache

_TOKEN = re.compile(r"\$\{([^}]*)\}|([*?])")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@lru_cache(maxsize=8192)
def tokens(pattern, variables):
    """pattern -> tuple of ("lit", text) | ("glob", "*"|"?") | ("var", key_lower, default|None)."""
    out = []
    pos = 0
    for m in _TOKEN.finditer(pattern):
        if m.group(1) is not None and not variables:
            continue
        if m.start() > pos:
            out.append(("lit", pattern[pos:m.start()]))
        pos = m.end()
        if m.group(2):
            out.append(("glob", m.group(2)))
            continue
        inner = m.group(1).strip()
        if inner in _ESCAPES:
            out.append(("lit", _ESCAPES[inner]))
            continue
        key, default = inner, None
        if "," in inner:
            key, _, rest = inner.partition(",")
            key, rest = key.strip(), rest.strip()
            if len(rest) >= 2 and rest[0] == rest[-1] == "'":
                default = rest[1:-1]
        out.append(("var", key.lower(), default))
    if pos < len(pattern):
        out.append(("lit", pattern[pos:]))
    return tuple(out)


def has_variables(toks):
    return any(t[0] == "var" for t in toks)


def variable_keys(toks):
    """The request keys (lower-case) the pattern's variables read."""
    return tuple(t[1] for t in toks if t[0] == "var")


def variable_value(values, key_lower, default):
    """A single-valued request value as text, the default, or None (unresolved)."""
    value = values.get(key_lower)
    if value is None or isinstance(value, (list, tuple)):
        return default
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def literal(toks, values):
    """The pattern as plain text with variables filled in (wildcards stay as text), or None."""
    parts = []
    for t in toks:
        if t[0] == "var":
            v = variable_value(values, t[1], t[2])
            if v is None:
                return None
            parts.append(v)
        else:
            parts.append(t[1])
    return "".join(parts)


def regex(toks, values, arn, ignore_case=False):
    """A compiled regex for the glob, variables filled in, or None if one is unresolved.

    In ARN mode (Resource, ArnLike) a wildcard stays within one colon-separated
    segment, except in the sixth, the resource part, which may itself hold
    colons (IAM user guide, reference_policies_elements_resource).
    """
    parts = []
    segment = 0
    for t in toks:
        kind = t[0]
        if kind == "glob":
            wide = not arn or segment >= 5
            parts.append((".*" if wide else "[^:]*") if t[1] == "*" else ("." if wide else "[^:]"))
            continue
        text = t[1] if kind == "lit" else variable_value(values, t[1], t[2])
        if text is None:
            return None
        if arn:
            segment += text.count(":")
        parts.append(re.escape(text))
    return _compile("".join(parts), ignore_case)


@lru_cache(maxsize=8192)
def _compile(source, ignore_case):
    return re.compile(source, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)
