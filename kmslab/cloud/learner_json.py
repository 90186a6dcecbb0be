"""JSON a learner wrote (a policy, an encryption context, a request body): one parser, with limits.

Python's parser recurses once per bracket, so text nested a few thousand deep
raises RecursionError, and text nested a few hundred deep parses but breaks
whatever walks it next (json.dumps, deepcopy, the policy grammar). No AWS
document needs more than a handful of levels (a policy's Condition values sit
five deep), so text is refused before it is parsed when it is nested deeper
than MAX_DEPTH or longer than the caller's size limit.
"""
import json
import re

MAX_DEPTH = 32
# The longest policy document any IAM or KMS API takes (botocore's
# policyDocumentType is 131072 characters); callers pass their own for other text.
MAX_CHARS = 131072

# Strings are skipped whole (brackets inside them do not count); what is left
# that matters is the brackets themselves. The quantifiers are possessive: a
# plain (?:[^"\\]|\\.)* keeps a backtracking state per character, 20 MB for a 150 KB string.
_TOKENS = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[\[\]{}]', re.DOTALL)
_OPEN = frozenset("[{")


def loads(text, max_chars=MAX_CHARS, max_depth=MAX_DEPTH):
    """JSON text -> value; raises json.JSONDecodeError (a ValueError) for text that is
    not JSON, nested deeper than max_depth or longer than max_chars, at the place it fails."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    if len(text) > max_chars:
        raise json.JSONDecodeError(f"The JSON text is longer than {max_chars} characters", text, max_chars)
    # Text with no more brackets than max_depth cannot nest deeper: most requests
    # (an Encrypt's 4 KB of base64 has one) skip the scan, a third of their parse.
    if text.count("{") + text.count("[") <= max_depth:
        return json.loads(text, parse_constant=_no_constant)
    depth = 0
    for token in _TOKENS.finditer(text):
        bracket = token.group()
        if bracket in _OPEN:
            depth += 1
            if depth > max_depth:
                raise json.JSONDecodeError(f"The JSON is nested more than {max_depth} levels deep",
                                           text, token.start())
        elif bracket in "]}":
            depth -= 1
    return json.loads(text, parse_constant=_no_constant)


def _no_constant(name):
    # NaN and Infinity are not JSON; Python's parser would take them.
    raise json.JSONDecodeError(f"{name} is not a JSON value", name, 0)
