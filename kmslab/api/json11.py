"""The AWS JSON 1.1 protocol (KMS, CloudTrail): request bodies in, responses and errors out.

A request is one JSON object whose members are the operation's input shape.
AWS's front end type-checks every member before the service sees it: a value
of the wrong JSON type, or a blob that is not base64, is a
SerializationException; members the shape does not have are ignored. Blobs
travel as base64 strings and timestamps as epoch seconds, both ways.
"""
import base64
import binascii
import json

from kmslab.cloud import learner_json
from kmslab.cloud.errors import SerializationException

CONTENT_TYPE = "application/x-amz-json-1.1"

# The words Jackson (AWS's parser) uses for the token it did not expect.
_TOKEN = {str: "STRING_VALUE", bool: "BOOLEAN_VALUE", int: "NUMBER_VALUE", float: "NUMBER_VALUE", type(None): "VALUE_NULL"}
_TYPE = {
    "string": "a String",
    "integer": "an Integer",
    "long": "a Long",
    "boolean": "a Boolean",
    "blob": "a Blob",
    "timestamp": "a Timestamp",
    "float": "a Float",
    "double": "a Double",
}


def parse_request(operation_model, body):
    """The request body -> the operation's input as a dict (blobs as bytes, timestamps as floats)."""
    if not body.strip():
        return {}
    try:
        value = learner_json.loads(body, max_chars=len(body))
    except json.JSONDecodeError as exc:
        if exc.msg.startswith("The JSON is nested"):
            raise SerializationException("The request JSON is nested too deeply.") from None
        raise SerializationException("The request body is not valid JSON.") from None
    except ValueError:
        raise SerializationException("The request body is not valid JSON.") from None
    shape = operation_model.input_shape
    if not isinstance(value, dict):
        raise SerializationException(_unexpected(value, "a Structure"))
    if shape is None:
        return {}
    return _structure(shape, value)


# The ranges of Java's int and long, and of the dates AWS (and Python) can hold: years 1 to 9999.
LIMITS = {
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
    "timestamp": (-62135596800, 253402300799),
}


def _unexpected(value, expected):
    if isinstance(value, dict):
        return "Start of structure or map found where not expected."
    if isinstance(value, list):
        return "Start of list found where not expected."
    return f"{_TOKEN[type(value)]} can not be converted to {expected}"


def _structure(shape, value):
    if not isinstance(value, dict):
        raise SerializationException(_unexpected(value, "a Structure"))
    members = shape.members
    out = {}
    for name, item in value.items():
        member = members.get(name)
        # Unknown members are ignored and null means absent, as AWS's front end does.
        if member is not None and item is not None:
            out[name] = _parse(member, item)
    return out


def _parse(shape, value):
    kind = shape.type_name
    if kind == "string":
        if type(value) is not str:
            raise SerializationException(_unexpected(value, "a String"))
        return value
    if kind == "structure":
        return _structure(shape, value)
    if kind == "list":
        if not isinstance(value, list):
            raise SerializationException(_unexpected(value, "a List"))
        member = shape.member
        return [_parse(member, item) for item in value if item is not None]
    if kind == "map":
        if not isinstance(value, dict):
            raise SerializationException(_unexpected(value, "a Map"))
        key, val = shape.key, shape.value
        return {_parse(key, k): _parse(val, v) for k, v in value.items() if v is not None}
    if kind in ("integer", "long"):
        if type(value) is not int:
            raise SerializationException(_unexpected(value, _TYPE[kind]))
        low, high = LIMITS[kind]
        if not low <= value <= high:
            raise SerializationException(f"Numeric value ({value}) out of range of {_TYPE[kind].split()[1]}")
        return value
    if kind == "boolean":
        if type(value) is not bool:
            raise SerializationException(_unexpected(value, "a Boolean"))
        return value
    if kind == "blob":
        if type(value) is not str:
            raise SerializationException(_unexpected(value, "a Blob"))
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SerializationException("Base64 encoded value is not valid.") from None
    if kind in ("timestamp", "float", "double"):
        if type(value) not in (int, float):
            raise SerializationException(_unexpected(value, _TYPE[kind]))
        if kind == "timestamp" and not LIMITS["timestamp"][0] <= value <= LIMITS["timestamp"][1]:
            raise SerializationException(f"Timestamp ({value}) out of range")
        return float(value)
    raise SerializationException(_unexpected(value, "a Document"))


def _blob(value):
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def serialize_response(response):
    """The response dict -> JSON bytes. Blobs (bytes) become base64; timestamps are already epoch floats."""
    return json.dumps(response or {}, default=_blob, separators=(",", ":")).encode()


def serialize_error(error):
    """(status, body) for an AWSError: {"__type": code, "message": ...}, the shape botocore reads."""
    return error.status, json.dumps({"__type": error.code, "message": error.message}).encode()
