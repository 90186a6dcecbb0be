"""GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: asymmetric data key pairs.

KMS makes a key pair for use outside KMS and returns its private key encrypted
under a symmetric encryption KMS key, with the request's encryption context,
exactly as Encrypt would encrypt it: Decrypt with that context gives back the
PKCS #8 private key. The public key is DER SubjectPublicKeyInfo, as GetPublicKey
returns it (GenerateDataKeyPair API reference).
"""
from ..errors import UnsupportedOperationException
from ..operations import operation
from . import specs
from .cryptography import context_conditions, encrypt_with, require_no_recipient, usable_key
from .grants import check_grant_tokens
from .keys import note_use, refuse_dry_run


def new_data_key_pair(ctx, request, action, operation_name):
    """(the private key as PKCS #8 DER, the response both operations return)."""
    check_grant_tokens(ctx.world, request.get("GrantTokens"))
    pair_spec = request["KeyPairSpec"]
    if pair_spec in specs.UNAVAILABLE:
        raise UnsupportedOperationException(specs.UNAVAILABLE[pair_spec])
    conditions = {**context_conditions(request), "kms:DataKeyPairSpec": pair_spec}
    context = request.get("EncryptionContext")
    key = usable_key(ctx, request["KeyId"], action, conditions, operation_name, context=context)
    refuse_dry_run(request)
    private = specs.new_private_key(pair_spec)
    private_der = specs.private_bytes(private)
    blob, material_id = encrypt_with(ctx, key, private_der, context)
    note_use(ctx, key)
    return private_der, {
        "PrivateKeyCiphertextBlob": blob,
        "PublicKey": specs.public_der(private),
        "KeyId": key["KeyMetadata"]["Arn"],
        "KeyPairSpec": pair_spec,
        "KeyMaterialId": material_id,
    }


@operation("kms", "GenerateDataKeyPair", read_only=True)
def generate_data_key_pair(ctx, request):
    require_no_recipient(request)
    private_der, response = new_data_key_pair(ctx, request, "kms:GenerateDataKeyPair", "GenerateDataKeyPair")
    return {**response, "PrivateKeyPlaintext": private_der}


@operation("kms", "GenerateDataKeyPairWithoutPlaintext", read_only=True)
def generate_data_key_pair_without_plaintext(ctx, request):
    _, response = new_data_key_pair(
        ctx, request, "kms:GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyPairWithoutPlaintext"
    )
    return response
