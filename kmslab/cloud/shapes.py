"""Request validation against the services' own models, as AWS does it.

botocore ships AWS's service models (every operation's input shape with its
lengths, ranges, patterns and enums). Checking requests against them gives the
learner AWS's exact `1 validation error detected: ...` wording for every
operation, instead of a hand-written check per field that could drift.
"""
import re
from functools import lru_cache

import botocore.loaders
from botocore.model import ServiceModel

from .errors import ValidationError, ValidationException

MODEL_NAMES = {"kms": "kms", "sts": "sts", "iam": "iam", "cloudtrail": "cloudtrail"}


@lru_cache(maxsize=None)
def service_model(service):
    loader = botocore.loaders.Loader()
    return ServiceModel(loader.load_service_model(MODEL_NAMES[service], "service-2"), service)


@lru_cache(maxsize=None)
def operation_model(service, operation):
    """The botocore OperationModel, or None when the service has no such operation."""
    model = service_model(service)
    if operation not in model.operation_names:
        return None
    return model.operation_model(operation)


def validate(service, operation, request):
    """Raise the service's validation error listing every constraint the request breaks."""
    check = _checker(service, operation)
    if check is None:
        return
    problems = []
    check(request, "", problems)
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise validation_error_class(service)(f"{count} validation {noun} detected: " + "; ".join(problems))


def validation_error_class(service):
    """IAM and STS (the query protocol) name a broken constraint ValidationError, the JSON services
    ValidationException; raising the service's own name here keeps the CloudTrail record's
    errorCode and the code on the wire the same."""
    return ValidationError if service_model(service).protocol == "query" else ValidationException


# Each operation's input shape is compiled once into nested closures that hold
# only the constraints that exist, so a call pays for the checks its request
# can break and nothing else (validation runs on every call, the hot path).


@lru_cache(maxsize=None)
def _checker(service, operation):
    op = operation_model(service, operation)
    if op is None or op.input_shape is None:
        return None
    return _compile(op.input_shape, {})


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _where(shown, value, path):
    return f"Value '{value}' at '{path}'" if shown else f"Value at '{path}'"


def _sensitive(shape):
    return bool(shape.serialization.get("sensitive") or getattr(shape, "metadata", {}).get("sensitive"))


_COMPILING = object()


def _compile(shape, memo):
    """A function (value, path, problems) checking one shape, or None when it has no constraint."""
    if shape.name in memo:
        check = memo[shape.name]
        if check is _COMPILING:
            # A recursive shape: look its checker up when it runs, once it is compiled.
            return lambda value, path, problems: memo[shape.name] and memo[shape.name](value, path, problems)
        return check
    memo[shape.name] = _COMPILING
    kind = shape.type_name
    if kind == "structure":
        check = _compile_structure(shape, memo)
    elif kind in ("string", "blob", "list", "map"):
        check = _compile_sized(shape, memo)
    elif kind in ("integer", "long"):
        check = _compile_number(shape)
    else:
        check = None
    memo[shape.name] = check
    return check


def _compile_structure(shape, memo):
    required = [(name, name[0].lower() + name[1:]) for name in shape.required_members]
    members = []
    for name, member in shape.members.items():
        check = _compile(member, memo)
        if check is not None:
            members.append((name, name[0].lower() + name[1:], check))
    if not required and not members:
        return None

    def check_structure(value, prefix, problems):
        if not isinstance(value, dict):
            return
        for name, field in required:
            if value.get(name) is None:
                problems.append(f"Value null at '{_join(prefix, field)}' failed to satisfy constraint: Member must not be null")
        for name, field, check in members:
            item = value.get(name)
            if item is not None:
                check(item, _join(prefix, field), problems)

    return check_structure


def _compile_sized(shape, memo):
    kind = shape.type_name
    meta = shape.metadata
    low, high = meta.get("min"), meta.get("max")
    shown = kind == "string" and not _sensitive(shape)
    enum = shape.enum if kind == "string" else None
    allowed = frozenset(enum or ())
    pattern = meta.get("pattern") if kind == "string" else None
    regex = _pattern(pattern) if pattern else None
    item = _compile(shape.member, memo) if kind == "list" else None
    key = _compile(shape.key, memo) if kind == "map" else None
    value_check = _compile(shape.value, memo) if kind == "map" else None
    if low is None and high is None and not enum and not regex and not item and not key and not value_check:
        return None

    def check_sized(value, path, problems):
        try:
            size = len(value)
        except TypeError:
            return
        if low is not None and size < low:
            problems.append(f"{_where(shown, value, path)} failed to satisfy constraint: Member must have length greater than or equal to {low}")
        if high is not None and size > high:
            problems.append(f"{_where(shown, value, path)} failed to satisfy constraint: Member must have length less than or equal to {high}")
        if kind == "string":
            if isinstance(value, str):
                if enum and value not in allowed:
                    problems.append(
                        f"{_where(shown, value, path)} failed to satisfy constraint: Member must satisfy enum value set: [{', '.join(enum)}]"
                    )
                if regex and not regex.fullmatch(value):
                    problems.append(
                        f"{_where(shown, value, path)} failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
                    )
        elif item and isinstance(value, list):
            for i, element in enumerate(value, 1):
                item(element, f"{path}.{i}.member", problems)
        elif (key or value_check) and isinstance(value, dict):
            for k, v in value.items():
                if key:
                    key(k, f"{path}.key", problems)
                if value_check:
                    value_check(v, f"{path}.value", problems)

    return check_sized


def _compile_number(shape):
    meta = shape.metadata
    low, high = meta.get("min"), meta.get("max")
    if low is None and high is None:
        return None
    shown = not _sensitive(shape)

    def check_number(value, path, problems):
        if not isinstance(value, int) or isinstance(value, bool):
            return
        if low is not None and value < low:
            problems.append(f"{_where(shown, value, path)} failed to satisfy constraint: Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            problems.append(f"{_where(shown, value, path)} failed to satisfy constraint: Member must have value less than or equal to {high}")

    return check_number


@lru_cache(maxsize=None)
def _pattern(pattern):
    # AWS patterns are Java regexes; the ones in these models use only syntax
    # Python reads the same way, bar possessive or \p classes, which we relax.
    return re.compile(pattern.replace("\\p{L}", "\\w").replace("\\p{Z}", "\\s").replace("\\p{N}", "\\d"), re.S)


def require(request, field):
    """A member the model leaves optional but the operation cannot do without
    (CiphertextBlob is optional only for Recipient requests; ListRetirableGrants
    needs its RetiringPrincipal): refused with AWS's not-null wording."""
    value = request.get(field)
    if value is None:
        name = field[0].lower() + field[1:]
        raise ValidationException(
            f"1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
        )
    return value
