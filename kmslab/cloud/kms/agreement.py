"""DeriveSharedSecret: ECDH between a KEY_AGREEMENT key's private key and a peer's public key.

The result is the raw ECDH shared secret (the x-coordinate of the shared point), which
the peer computes too from its own private key and GetPublicKey's public key: the
private key never leaves KMS, the secret does (DeriveSharedSecret API reference).
"""
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..errors import ValidationException
from ..operations import operation
from .cryptography import require_no_recipient, usable_key
from .grants import check_grant_tokens
from .keys import note_use, private_key, refuse_dry_run
from .specs import CURVES


def peer_public_key(der, spec):
    """The peer's public key: DER SubjectPublicKeyInfo on the key's own curve (ValidationException
    otherwise, as the PublicKey parameter's documentation names it; the messages are kmslab's)."""
    try:
        public_key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        raise ValidationException("PublicKey must be a DER-encoded X.509 public key (SubjectPublicKeyInfo).") from None
    curve = CURVES[spec]
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != curve.name:
        raise ValidationException(f"PublicKey must be an elliptic curve public key on the curve of {spec} ({curve.name}).")
    return public_key


@operation("kms", "DeriveSharedSecret", read_only=True)
def derive_shared_secret(ctx, request):
    check_grant_tokens(ctx.world, request.get("GrantTokens"))
    require_no_recipient(request)
    algorithm = request["KeyAgreementAlgorithm"]
    key = usable_key(
        ctx, request["KeyId"], "kms:DeriveSharedSecret", {"kms:KeyAgreementAlgorithm": algorithm},
        "DeriveSharedSecret", algorithm, usage="KEY_AGREEMENT",
    )
    meta = key["KeyMetadata"]
    # A malformed public key fails the request, so DryRun must not say it would succeed.
    peer = peer_public_key(request["PublicKey"], meta["KeySpec"])
    refuse_dry_run(request)
    shared_secret = private_key(ctx.world, key).exchange(ec.ECDH(), peer)
    note_use(ctx, key)
    return {
        "KeyId": meta["Arn"],
        "SharedSecret": shared_secret,
        "KeyAgreementAlgorithm": algorithm,
        "KeyOrigin": meta["Origin"],
    }
