"""GenerateMac and VerifyMac: HMAC under an HMAC key (GENERATE_VERIFY_MAC), per RFC 2104.

An HMAC key's material never leaves KMS, so a MAC it makes can be checked only by
VerifyMac (or by whoever holds the same material, when it was imported: hmac).
Each HMAC key spec takes its own MacAlgorithm only (specs.USAGES).
"""
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac

from ..errors import KMSInvalidMacException
from ..operations import operation
from .cryptography import usable_key
from .grants import check_grant_tokens
from .keys import hmac_key, note_use, refuse_dry_run

HASHES = {
    "HMAC_SHA_224": hashes.SHA224,
    "HMAC_SHA_256": hashes.SHA256,
    "HMAC_SHA_384": hashes.SHA384,
    "HMAC_SHA_512": hashes.SHA512,
}


def _hmac(ctx, request, action, operation_name):
    """(key, an HMAC object that has read the message) once every check passed."""
    check_grant_tokens(ctx.world, request.get("GrantTokens"))
    algorithm = request["MacAlgorithm"]
    key = usable_key(
        ctx, request["KeyId"], action, {"kms:MacAlgorithm": algorithm}, operation_name, algorithm,
        usage="GENERATE_VERIFY_MAC",
    )
    refuse_dry_run(request)
    mac = hmac.HMAC(hmac_key(ctx.world, key), HASHES[algorithm]())
    mac.update(request["Message"])
    return key, mac


@operation("kms", "GenerateMac", read_only=True)
def generate_mac(ctx, request):
    key, mac = _hmac(ctx, request, "kms:GenerateMac", "GenerateMac")
    note_use(ctx, key)
    return {"Mac": mac.finalize(), "MacAlgorithm": request["MacAlgorithm"], "KeyId": key["KeyMetadata"]["Arn"]}


@operation("kms", "VerifyMac", read_only=True)
def verify_mac(ctx, request):
    key, mac = _hmac(ctx, request, "kms:VerifyMac", "VerifyMac")
    try:
        mac.verify(request["Mac"])
    except InvalidSignature:
        # VerifyMac API reference: an invalid MAC is this exception, never MacValid false.
        raise KMSInvalidMacException("") from None
    note_use(ctx, key)
    return {"KeyId": key["KeyMetadata"]["Arn"], "MacValid": True, "MacAlgorithm": request["MacAlgorithm"]}
