"""Custom key stores: CreateCustomKeyStore, DescribeCustomKeyStores, ConnectCustomKeyStore,
DisconnectCustomKeyStore, UpdateCustomKeyStore, DeleteCustomKeyStore.

A sandbox has no CloudHSM cluster and reaches no external key store proxy, so
every account has no custom key store, and the operations answer as AWS answers
such an account: DescribeCustomKeyStores lists none, a named key store is
CustomKeyStoreNotFoundException, and CreateCustomKeyStore fails where AWS
would check what it was given (the cluster must exist; the proxy must answer).
Each is authorized by IAM policies alone (kms-api-permissions-reference:
"IAM policy" for every custom key store permission).
"""
from .. import shapes
from ..errors import (
    CloudHsmClusterNotFoundException,
    CustomKeyStoreNotFoundException,
    XksProxyUriUnreachableException,
    XksProxyVpcEndpointServiceNotFoundException,
)
from ..operations import operation
from ..policy.authorize import authorize_account
from .keys import page


def require_custom_key_store(custom_key_store_id):
    """The custom key store a request names (CreateKey, GenerateRandom, the operations here):
    none exists in a sandbox."""
    raise CustomKeyStoreNotFoundException(f"Custom key store {custom_key_store_id} does not exist.")


@operation("kms", "CreateCustomKeyStore")
def create_custom_key_store(ctx, request):
    authorize_account(ctx, "kms:CreateCustomKeyStore")
    if request.get("CustomKeyStoreType", "AWS_CLOUDHSM") == "AWS_CLOUDHSM":
        # CreateCustomKeyStore API reference: a CloudHSM key store needs all three.
        cluster = shapes.require(request, "CloudHsmClusterId")
        shapes.require(request, "TrustAnchorCertificate")
        shapes.require(request, "KeyStorePassword")
        raise CloudHsmClusterNotFoundException(f"CloudHSM cluster {cluster} was not found.")
    for field in ("XksProxyUriEndpoint", "XksProxyUriPath", "XksProxyAuthenticationCredential", "XksProxyConnectivity"):
        shapes.require(request, field)
    if request["XksProxyConnectivity"] == "VPC_ENDPOINT_SERVICE":
        service = shapes.require(request, "XksProxyVpcEndpointServiceName")
        raise XksProxyVpcEndpointServiceNotFoundException(f"VPC endpoint service {service} was not found.")
    # XksProxyUriUnreachableException: "The path must be reachable before you create the
    # external key store"; a sandbox makes no connection outside itself.
    raise XksProxyUriUnreachableException(
        f"KMS cannot reach the external key store proxy at {request['XksProxyUriEndpoint']}{request['XksProxyUriPath']}."
    )


@operation("kms", "DescribeCustomKeyStores", read_only=True)
def describe_custom_key_stores(ctx, request):
    authorize_account(ctx, "kms:DescribeCustomKeyStores")
    if request.get("CustomKeyStoreId"):
        require_custom_key_store(request["CustomKeyStoreId"])
    if request.get("CustomKeyStoreName"):
        require_custom_key_store(request["CustomKeyStoreName"])
    stores, tail = page([], request, 1000, 1000)
    return {"CustomKeyStores": stores, **tail}


def named_store(ctx, request):
    """Connect-, Disconnect-, Update- and DeleteCustomKeyStore: each names a store, which an
    account with none does not have (their permissions are kms:<the operation>, IAM only)."""
    authorize_account(ctx, f"kms:{ctx.operation}")
    require_custom_key_store(request["CustomKeyStoreId"])


for _name in ("ConnectCustomKeyStore", "DisconnectCustomKeyStore", "UpdateCustomKeyStore", "DeleteCustomKeyStore"):
    operation("kms", _name)(named_store)
