"""The AWS query protocol (IAM, STS): form-encoded requests in, XML responses and errors out.

A request is `Action=<Operation>&Version=<api version>&<members>`, with nested
members flattened into dotted names: `Tags.member.1.Key`, a map's
`Attributes.entry.1.key`. A response is
`<OpResponse xmlns=...><OpResult>...</OpResult><ResponseMetadata>...` and an
error is an `<ErrorResponse>`, both in the service's XML namespace.
"""
import base64
import binascii
import re
from datetime import datetime, timezone
from urllib.parse import quote, unquote_to_bytes
from xml.sax.saxutils import escape

from kmslab.cloud.errors import AWSError, InvalidParameterValue

CONTENT_TYPE = "text/xml"

# No IAM or STS input nests deeper than 7 dotted parts
# (ContextEntries.member.1.ContextKeyValues.member.1 is 6), and no list of
# theirs may hold more than 50 members (tags) where the model bounds it at
# all. A name or a list past these bounds cannot be a well-formed request, and
# refusing it keeps the parser's work proportional to the body's size.
MAX_NAME_PARTS = 10
MAX_LIST_MEMBERS = 1000
MALFORMED = "The AWS query string is malformed or does not adhere to AWS standards."


class InvalidQueryParameter(AWSError):
    """IAM's and STS's common error for a query string they cannot read (IAM API reference, Common Errors)."""

# The JSON services' names for authentication and protocol failures, and
# the codes IAM and STS give the same failures (with their HTTP status).
ERROR_CODES = {
    "MissingAuthenticationTokenException": ("MissingAuthenticationToken", 403),
    "IncompleteSignatureException": ("IncompleteSignature", 400),
    "InvalidSignatureException": ("SignatureDoesNotMatch", 403),
    "UnrecognizedClientException": ("InvalidClientTokenId", 403),
    "ExpiredTokenException": ("ExpiredToken", 400),
    "UnknownOperationException": ("InvalidAction", 400),
    "SerializationException": ("InvalidParameterValue", 400),
    "AccessDeniedException": ("AccessDenied", 403),
}


def parse_form(body):
    """The form-encoded body -> {name: value}; the first of repeated names wins."""
    params = {}
    try:
        for name, value in form_pairs(body):
            params.setdefault(name, value)
    except UnicodeDecodeError:
        raise InvalidParameterValue("The request body is not a valid UTF-8 form-encoded query string.") from None
    return params


def form_pairs(body, errors="strict"):
    """The (name, value) pairs of a form-encoded body, in order.

    Read as urllib's parse_qsl reads it (& between pairs, + for a space, %XX
    escapes, malformed escapes kept as they are), but unescaped a slice at a
    time: unquote makes an object of every escape it finds, and a 1 MB body of
    escapes took some 75 MB to parse whole."""
    for pair in body.split(b"&"):
        if pair:
            name, _, value = pair.partition(b"=")
            yield _unquote_plus(name, errors), _unquote_plus(value, errors)


_SLICE = 16384


def _unquote_plus(raw, errors="strict"):
    raw = raw.replace(b"+", b" ")
    pieces, start = [], 0
    while start < len(raw):
        end = start + _SLICE
        # Never between a % and its two hex digits.
        percent = raw.rfind(b"%", end - 2, end)
        if percent > start:
            end = percent
        pieces.append(unquote_to_bytes(raw[start:end]))
        start = end
    return b"".join(pieces).decode("utf-8", errors)


def parse_request(operation_model, params):
    """The flat {dotted name: value} parameters -> the operation's input as a dict."""
    shape = operation_model.input_shape
    if shape is None:
        return {}
    # Every dotted prefix that occurs, so "is anything under X.member.3?" is one
    # lookup; a name has at most MAX_NAME_PARTS of them.
    present = set()
    for name in params:
        if name.count(".") >= MAX_NAME_PARTS:
            raise InvalidQueryParameter(
                f"{MALFORMED} kmslab note: the parameter name {_shown(name)} has {name.count('.') + 1} dotted "
                f"parts; kmslab reads at most {MAX_NAME_PARTS}, more than any IAM or STS input needs."
            )
        while True:
            present.add(name)
            name, dot, _ = name.rpartition(".")
            if not dot:
                break
    return _structure(shape, params, present, "")


def _shown(name):
    return repr(name) if len(name) <= 80 else f"{name[:80]!r}... ({len(name)} characters)"


def _too_many(base):
    return InvalidQueryParameter(
        f"{MALFORMED} kmslab note: {base} has more than {MAX_LIST_MEMBERS} members; kmslab reads at most "
        f"{MAX_LIST_MEMBERS}, more than any IAM or STS list allows."
    )


def _name(shape, default):
    return shape.serialization.get("name", default)


def _structure(shape, params, present, prefix):
    out = {}
    for name, member in shape.members.items():
        key = prefix + _name(member, name)
        if key in present:
            out[name] = _parse(member, params, present, key)
    return out


def _parse(shape, params, present, key):
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, params, present, key + ".")
    if kind == "list":
        if params.get(key) == "":
            return []  # botocore sends an empty list as "Name="
        base = key if shape.serialization.get("flattened") else f"{key}.{_name(shape.member, 'member')}"
        items = []
        while f"{base}.{len(items) + 1}" in present:
            if len(items) == MAX_LIST_MEMBERS:
                raise _too_many(base)
            items.append(_parse(shape.member, params, present, f"{base}.{len(items) + 1}"))
        return items
    if kind == "map":
        base = key if shape.serialization.get("flattened") else f"{key}.entry"
        key_name, value_name = _name(shape.key, "key"), _name(shape.value, "value")
        out = {}
        i = 1
        while f"{base}.{i}" in present:
            if i > MAX_LIST_MEMBERS:
                raise _too_many(base)
            k = _parse(shape.key, params, present, f"{base}.{i}.{key_name}")
            out[k] = _parse(shape.value, params, present, f"{base}.{i}.{value_name}")
            i += 1
        return out
    value = params.get(key)
    if value is None:
        raise InvalidParameterValue(f"Parameter {key} must have a value.")
    if kind == "string":
        return value
    if kind in ("integer", "long"):
        # Digits only: Python's int() would also take "1_000" and " 12 ".
        digits = value[1:] if value.startswith("-") else value
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
            raise InvalidParameterValue(f"Value ({value}) for parameter {key} is invalid. Expected an integer.")
        return int(value)
    if kind == "boolean":
        if value.lower() not in ("true", "false"):
            raise InvalidParameterValue(f"Value ({value}) for parameter {key} is invalid. Expected true or false.")
        return value.lower() == "true"
    if kind == "timestamp":
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidParameterValue(
                f"Value ({value}) for parameter {key} is invalid. Expected an ISO 8601 timestamp."
            ) from None
        return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
    if kind == "blob":
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParameterValue(f"Value for parameter {key} is not valid base64.") from None
    if kind in ("float", "double"):
        try:
            return float(value)
        except ValueError:
            raise InvalidParameterValue(f"Value ({value}) for parameter {key} is invalid. Expected a number.") from None
    return value


def serialize_response(operation_model, response, request_id):
    name = operation_model.name
    namespace = operation_model.metadata["xmlNamespace"]
    parts = [f'<{name}Response xmlns="{namespace}">']
    shape = operation_model.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
        parts.append(f"<{wrapper}>")
        _xml_structure(shape, response or {}, parts)
        parts.append(f"</{wrapper}>")
    parts.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{name}Response>")
    return "".join(parts).encode()


def _xml_structure(shape, value, parts):
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            continue
        tag = _name(member, name)
        if member.type_name == "list" and member.serialization.get("flattened"):
            for element in item:
                parts.append(f"<{tag}>")
                _xml(member.member, element, parts)
                parts.append(f"</{tag}>")
            continue
        parts.append(f"<{tag}>")
        _xml(member, item, parts)
        parts.append(f"</{tag}>")


def _xml(shape, value, parts):
    kind = shape.type_name
    if kind == "structure":
        _xml_structure(shape, value, parts)
    elif kind == "list":
        tag = _name(shape.member, "member")
        for element in value:
            parts.append(f"<{tag}>")
            _xml(shape.member, element, parts)
            parts.append(f"</{tag}>")
    elif kind == "map":
        key_tag, value_tag = _name(shape.key, "key"), _name(shape.value, "value")
        for k, v in value.items():
            parts.append(f"<entry><{key_tag}>{_text(str(k))}</{key_tag}><{value_tag}>")
            _xml(shape.value, v, parts)
            parts.append(f"</{value_tag}></entry>")
    elif kind == "timestamp" and isinstance(value, (int, float)):
        parts.append(datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    elif kind == "boolean":
        parts.append("true" if value else "false")
    elif kind == "blob":
        parts.append(base64.b64encode(value).decode())
    elif shape.name == "policyDocumentType":
        # IAM returns policy documents URL-encoded; botocore decodes them back.
        parts.append(_text(quote(value, safe="")))
    else:
        parts.append(_text(str(value)))


# XML 1.0 has no way to write these characters, not even as &#1;: a parser
# (botocore's among them) refuses the whole document. They become U+FFFD, the
# replacement character, wherever a response echoes them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value):
    """A string as XML character data: markup escaped, characters XML 1.0 forbids replaced."""
    return _NOT_XML.sub("\ufffd", escape(value))


def query_error(error):
    """The AWSError as IAM and STS name it: (code, status)."""
    return ERROR_CODES.get(error.code, (error.code, error.status))


def serialize_error(namespace, error, request_id):
    """(status, body) for an AWSError as an XML ErrorResponse."""
    code, status = query_error(error)
    fault = "Sender" if error.sender_fault else "Receiver"
    body = (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{fault}</Type><Code>{_text(code)}</Code>'
        f"<Message>{_text(error.message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return status, body.encode()
