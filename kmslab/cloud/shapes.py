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

from .errors import ValidationException

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
    """Raise ValidationException listing every constraint the request breaks."""
    op = operation_model(service, operation)
    if op is None or op.input_shape is None:
        return
    problems = []
    _check_structure(op.input_shape, request, "", problems)
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        raise ValidationException(f"{count} validation {noun} detected: " + "; ".join(problems))


def _field(prefix, name):
    name = name[0].lower() + name[1:]
    return f"{prefix}.{name}" if prefix else name


def _check_structure(shape, value, prefix, problems):
    if not isinstance(value, dict):
        return
    for name in shape.required_members:
        if value.get(name) is None:
            problems.append(f"Value null at '{_field(prefix, name)}' failed to satisfy constraint: Member must not be null")
    for name, member in shape.members.items():
        if value.get(name) is not None:
            _check(member, value[name], _field(prefix, name), problems)


def _shown(shape, value, path):
    if shape.serialization.get("sensitive") or getattr(shape, "metadata", {}).get("sensitive"):
        return f"Value at '{path}'"
    return f"Value '{value}' at '{path}'"


def _check(shape, value, path, problems):
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        _check_structure(shape, value, path, problems)
        return
    if kind in ("string", "blob", "list", "map"):
        try:
            size = len(value)
        except TypeError:
            return
        where = _shown(shape, value, path) if kind == "string" else f"Value at '{path}'"
        if "min" in meta and size < meta["min"]:
            problems.append(f"{where} failed to satisfy constraint: Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and size > meta["max"]:
            problems.append(f"{where} failed to satisfy constraint: Member must have length less than or equal to {meta['max']}")
    if kind == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            problems.append(f"{_shown(shape, value, path)} failed to satisfy constraint: Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        pattern = meta.get("pattern")
        if pattern and not _pattern(pattern).fullmatch(value):
            problems.append(f"{_shown(shape, value, path)} failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}")
    elif kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        if "min" in meta and value < meta["min"]:
            problems.append(f"{_shown(shape, value, path)} failed to satisfy constraint: Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{_shown(shape, value, path)} failed to satisfy constraint: Member must have value less than or equal to {meta['max']}")
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value, 1):
            _check(shape.member, item, f"{path}.{i}.member", problems)
    elif kind == "map" and isinstance(value, dict):
        for k, v in value.items():
            _check(shape.key, k, f"{path}.key", problems)
            _check(shape.value, v, f"{path}.value", problems)


@lru_cache(maxsize=None)
def _pattern(pattern):
    # AWS patterns are Java regexes; the ones in these models use only syntax
    # Python reads the same way, bar possessive or \p classes, which we relax.
    return re.compile(pattern.replace("\\p{L}", "\\w").replace("\\p{Z}", "\\s").replace("\\p{N}", "\\d"), re.S)
