"""Running a lab's solve script: each step one call as a named principal, with its expected outcome.

`run(lab, keys, files, call, advance)` is the same whatever the front door:
`call(principal, service, operation, request, mfa)` -> error code or "" is
given by the caller (the sandboxes runner for `labs validate`, boto3 against
a live server in the tests). Blob members arrive as base64 text in the lab
file and are decoded here, from botocore's model of the operation.
"""
import base64

from botocore.loaders import Loader
from botocore.model import ServiceModel

from kmslab.cloud.clock import parse_duration

from .catalog import placeholders, substitute
from .setup import WRAPPING, wrap_material

class SolveFailed(AssertionError):
    pass


_models = {}


def _model(service):
    if service not in _models:
        _models[service] = ServiceModel(Loader().load_service_model(service, "service-2"), service)
    return _models[service]


def decode_blobs(service, operation, request):
    """Base64 text -> bytes for the operation's blob members (top-level ones: all KMS needs)."""
    shape = _model(service).operation_model(operation).input_shape
    out = dict(request)
    for name, member in shape.members.items():
        if name in out and member.type_name == "blob" and isinstance(out[name], str):
            out[name] = base64.b64decode(out[name])
    return out


def _import_material(step, spec, call):
    """An `import_material = {key, material}` step: GetParametersForImport, the material wrapped locally with
    its public key, then ImportKeyMaterial, both as the step's principal. -> ImportKeyMaterial's outcome."""
    who, with_mfa = step["as"], step.get("mfa", False)
    code, params = call(who, "kms", "GetParametersForImport", {"KeyId": spec["key"], **WRAPPING}, with_mfa)
    if code:
        return code, None
    wrapped = wrap_material(params["PublicKey"], base64.b64decode(spec["material"]))
    return call(who, "kms", "ImportKeyMaterial", {
        "KeyId": spec["key"], "ImportToken": params["ImportToken"], "EncryptedKeyMaterial": wrapped,
        "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}, with_mfa)


def run(lab, keys, files, call, advance):
    files = dict(files)
    lookup = placeholders(keys, files)
    for i, step in enumerate(lab.solve, 1):
        if step.get("advance"):
            advance(parse_duration(step["advance"]))
            continue
        if step.get("import_material"):
            operation = "ImportKeyMaterial"
            code, response = _import_material(step, substitute(step["import_material"], lookup), call)
        else:
            service, _, operation = step["call"].partition(":")
            request = decode_blobs(service, operation, substitute(step.get("request", {}), lookup))
            code, response = call(step["as"], service, operation, request, step.get("mfa", False))
        expected = step.get("expect", "ok")
        if (code or "ok") != expected:
            raise SolveFailed(f"{lab.slug} solve step {i} ({step['as']} {operation}): expected {expected}, got "
                              f"{code or 'ok'}")
        if step.get("save") and response:
            # A blob is kept as the base64 text a lab file holds; a string (a grant token, a key id) as it is.
            value = response[step.get("field", "CiphertextBlob")]
            files[step["save"]] = value if isinstance(value, str) else base64.b64encode(value).decode()
