"""GetPublicKey: the public half of an asymmetric key, for use outside KMS.

Anyone with the public key can verify a signature, encrypt, or derive a shared
secret without calling KMS (and without a CloudTrail record): the lesson of
download-public-key.
"""
from ..errors import UnsupportedOperationException
from ..operations import operation
from . import specs
from .access import key_for
from .grants import check_grant_tokens
from .keys import private_key, require_enabled


@operation("kms", "GetPublicKey", read_only=True)
def get_public_key(ctx, request):
    check_grant_tokens(ctx.world, request.get("GrantTokens"))
    key = key_for(ctx, request["KeyId"], "kms:GetPublicKey", allow_alias=True)
    meta = key["KeyMetadata"]
    if not specs.is_asymmetric(meta["KeySpec"]):
        raise UnsupportedOperationException(f"{meta['Arn']} key spec is {meta['KeySpec']} which is not valid for GetPublicKey.")
    require_enabled(key)
    return {
        "KeyId": meta["Arn"],
        "PublicKey": specs.public_der(private_key(ctx.world, key)),
        "CustomerMasterKeySpec": meta["KeySpec"],
        "KeySpec": meta["KeySpec"],
        "KeyUsage": meta["KeyUsage"],
        **specs.algorithms(meta["KeySpec"], meta["KeyUsage"]),
    }
