"""Sign and Verify: digital signatures with the private key of an asymmetric SIGN_VERIFY key.

The rules are the Sign and Verify API references' (MessageType, SigningAlgorithm):
- RAW messages are hashed by KMS with the hash the algorithm names (SHA_256/384/512, SHAKE_256);
  DIGEST messages are that hash already, so their length must be the hash's; EXTERNAL_MU is the
  64-byte message representative mu of ML-DSA (FIPS 204, section 6.2).
- ED25519_SHA_512 takes RAW only and ED25519_PH_SHA_512 DIGEST only; ML_DSA_SHAKE_256 takes RAW
  or EXTERNAL_MU (mldsa: "messages up to 4 KB using the RAW message type", larger ones as mu).
- RSASSA-PSS uses MGF1 with the same hash and a salt as long as the hash (symm-asymm-choose-key-spec,
  RSA key specs: "... SHA-256 for both the message digest and the MGF1 mask generation function
  along with a 256-bit salt"). RSA signatures are PKCS #1 (RFC 8017), ECDSA ones DER-encoded
  (X9.62, RFC 3279 section 2.2.3): Sign API reference, Signature.
- ML-DSA: KMS takes no context string, so it signs with FIPS 204's empty one.
- Verify fails with KMSInvalidSignatureException when the signature does not verify; it never
  answers SignatureValid false.

Messages of more than 4096 bytes, of any type, are refused by botocore's model (Message: max 4096)
with AWS's "1 validation error detected" wording, before the operation runs.
"""
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

from ..errors import KMSInvalidSignatureException, UnsupportedOperationException, ValidationException
from ..operations import operation
from .cryptography import usable_key
from .grants import check_grant_tokens
from .keys import private_key, public_key, refuse_dry_run

HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
# The message types each algorithm takes (Sign API reference, MessageType); the others take RAW and DIGEST.
MESSAGE_TYPES = {
    "ED25519_SHA_512": ("RAW",),
    "ED25519_PH_SHA_512": ("DIGEST",),
    "ML_DSA_SHAKE_256": ("RAW", "EXTERNAL_MU"),
}
MU_BYTES = 64


def check_message(algorithm, message_type, message):
    """ValidationException for a message type the algorithm does not take, or a digest (or mu) of
    the wrong length. "Digest is invalid length for algorithm ECDSA_SHA_256." is KMS's as its users
    quote it (local-kms; aws-sdk-rust discussion 571). For the message type, floci-io/floci#2924
    quotes AWS (ap-northeast-1) as far as "Message type RAW is incompatible"; the rest of the
    sentence is floci's, and the same sentence serves DIGEST with ML-DSA and EXTERNAL_MU with any
    other algorithm, for which no AWS wording was found. The length of a mu uses the digest's words."""
    if message_type not in MESSAGE_TYPES.get(algorithm, ("RAW", "DIGEST")):
        raise ValidationException(f"Message type {message_type} is incompatible with algorithm {algorithm}.")
    if message_type == "RAW":
        return
    expected = MU_BYTES if message_type == "EXTERNAL_MU" else HASHES[algorithm[-3:]].digest_size
    if len(message) != expected:
        raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")


def scheme(algorithm, message_type):
    """cryptography's arguments after the data, for an RSA or ECDSA algorithm."""
    digest = HASHES[algorithm[-3:]]()
    hashing = utils.Prehashed(digest) if message_type == "DIGEST" else digest
    if algorithm.startswith("ECDSA_"):
        return (ec.ECDSA(hashing),)
    if algorithm.startswith("RSASSA_PSS_"):
        return padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), hashing
    return padding.PKCS1v15(), hashing


def sign_message(private, algorithm, message_type, message):
    if algorithm == "ML_DSA_SHAKE_256":
        return private.sign_mu(message) if message_type == "EXTERNAL_MU" else private.sign(message)
    if algorithm == "ED25519_SHA_512":
        return private.sign(message)
    return private.sign(message, *scheme(algorithm, message_type))


def verifies(public, algorithm, message_type, message, signature):
    try:
        if algorithm == "ML_DSA_SHAKE_256" and message_type == "EXTERNAL_MU":
            public.verify_mu(signature, message)
        elif algorithm in ("ML_DSA_SHAKE_256", "ED25519_SHA_512"):
            public.verify(signature, message)
        else:
            public.verify(signature, message, *scheme(algorithm, message_type))
    except InvalidSignature:
        return False
    return True


def signing_key(ctx, request, action, operation_name):
    """Resolve, authorize and check the key and the message of a Sign or Verify request, in the order
    of the other cryptographic operations: (key, algorithm, message type)."""
    check_grant_tokens(ctx.world, request.get("GrantTokens"))
    algorithm = request["SigningAlgorithm"]
    message_type = request.get("MessageType") or "RAW"
    # ct-sign, ct-verify: the record names the message type beside the key and the algorithm.
    ctx.logged_request = {"MessageType": message_type, **request}
    conditions = {"kms:SigningAlgorithm": algorithm, "kms:MessageType": message_type}
    key = usable_key(ctx, request["KeyId"], action, conditions, operation_name, algorithm, usage="SIGN_VERIFY")
    check_message(algorithm, message_type, request["Message"])
    if algorithm == "ED25519_PH_SHA_512":
        # Refused before DryRun: a dry run must not promise what the call cannot do.
        raise UnsupportedOperationException(
            "ED25519_PH_SHA_512 is not available in this sandbox: its cryptography library cannot make "
            "Ed25519ph signatures. Use ED25519_SHA_512 with MessageType RAW."
        )
    refuse_dry_run(request)
    return key, algorithm, message_type


@operation("kms", "Sign", read_only=True)
def sign(ctx, request):
    key, algorithm, message_type = signing_key(ctx, request, "kms:Sign", "Sign")
    signature = sign_message(private_key(ctx.world, key), algorithm, message_type, request["Message"])
    return {"KeyId": key["KeyMetadata"]["Arn"], "Signature": signature, "SigningAlgorithm": algorithm}


@operation("kms", "Verify", read_only=True)
def verify(ctx, request):
    key, algorithm, message_type = signing_key(ctx, request, "kms:Verify", "Verify")
    if not verifies(public_key(ctx.world, key), algorithm, message_type, request["Message"], request["Signature"]):
        raise KMSInvalidSignatureException("")
    return {"KeyId": key["KeyMetadata"]["Arn"], "SignatureValid": True, "SigningAlgorithm": algorithm}
