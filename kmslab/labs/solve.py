"""Running a lab's solve script: each step one call as a named principal, with its expected outcome.

`run(lab, keys, files, call, advance)` is the same whatever the front door:
`call(principal, service, operation, request, mfa)` -> error code or "" is
given by the caller (the sandboxes runner for `labs validate`, boto3 against
a live server in the tests). Blob members arrive as base64 text in the lab
file and are decoded from botocore's model of the operation (setup.decode_blobs).
"""
import base64

from kmslab.cloud.clock import parse_duration

from .catalog import placeholders, substitute
from .setup import decode_blobs, import_material


class SolveFailed(AssertionError):
    pass


def run(lab, keys, files, call, advance):
    files = dict(files)
    lookup = placeholders(keys, files)
    for i, step in enumerate(lab.solve, 1):
        if step.get("advance"):
            advance(parse_duration(step["advance"]))
            continue
        if step.get("import_material"):
            # GetParametersForImport, the material wrapped locally, ImportKeyMaterial: as the learner's own code does.
            operation, spec = "ImportKeyMaterial", substitute(step["import_material"], lookup)
            code, response = import_material(
                lambda op, request: call(step["as"], "kms", op, request, step.get("mfa", False)),
                spec["key"], base64.b64decode(spec["material"]))
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
