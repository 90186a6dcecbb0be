"""Custom key stores, as AWS answers an account that has none (a sandbox has no CloudHSM
cluster and reaches no external key store proxy)."""
import pytest

from ..factories import call, deny, fails, make_user, ok

STORE_ID = "cks-1234567890abcdef0"
XKS = {
    "CustomKeyStoreName": "external",
    "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
    "XksProxyUriEndpoint": "https://xks.example.com",
    "XksProxyUriPath": "/example/kms/xks/v1",
    "XksProxyAuthenticationCredential": {"AccessKeyId": "ABCDE23456745EXAMPLE", "RawSecretAccessKey": "A" * 43 + "="},
}


def test_an_account_has_no_custom_key_stores(world, admin):
    assert ok(world, admin, "DescribeCustomKeyStores") == {"CustomKeyStores": [], "Truncated": False}


@pytest.mark.parametrize("request_", [{"CustomKeyStoreId": STORE_ID}, {"CustomKeyStoreName": "ExampleKeyStore"}])
def test_describing_a_named_custom_key_store_is_not_found(world, admin, request_):
    error = fails(world, admin, "DescribeCustomKeyStores", "CustomKeyStoreNotFoundException", **request_)

    assert next(iter(request_.values())) in error.message


@pytest.mark.parametrize("operation, extra", [
    ("ConnectCustomKeyStore", {}),
    ("DisconnectCustomKeyStore", {}),
    ("DeleteCustomKeyStore", {}),
    ("UpdateCustomKeyStore", {"NewCustomKeyStoreName": "renamed"}),
])
def test_operations_on_a_custom_key_store_find_none(world, admin, operation, extra):
    outcome = call(world, admin, operation, CustomKeyStoreId=STORE_ID, **extra)

    assert outcome.error.code == "CustomKeyStoreNotFoundException"
    assert outcome.record["eventName"] == operation
    assert outcome.record["errorCode"] == "CustomKeyStoreNotFoundException"
    assert outcome.record["requestParameters"]["customKeyStoreId"] == STORE_ID


def test_a_cloudhsm_key_store_needs_a_cluster_that_exists(world, admin):
    outcome = call(world, admin, "CreateCustomKeyStore", CustomKeyStoreName="hsm", CloudHsmClusterId="cluster-234abcdefgh",
                   TrustAnchorCertificate="-----BEGIN CERTIFICATE-----", KeyStorePassword="kmsPswd1")

    assert outcome.error.code == "CloudHsmClusterNotFoundException"
    assert "cluster-234abcdefgh" in outcome.error.message
    # The password is a secret: CloudTrail never shows it.
    assert "kmsPswd1" not in str(outcome.record)


def test_a_cloudhsm_key_store_needs_its_cluster_certificate_and_password(world, admin):
    error = fails(world, admin, "CreateCustomKeyStore", "ValidationException", CustomKeyStoreName="hsm",
                  CloudHsmClusterId="cluster-234abcdefgh")

    assert "trustAnchorCertificate" in error.message


def test_an_external_key_store_needs_a_proxy_kms_can_reach(world, admin):
    outcome = call(world, admin, "CreateCustomKeyStore", XksProxyConnectivity="PUBLIC_ENDPOINT", **XKS)

    assert outcome.error.code == "XksProxyUriUnreachableException"
    assert XKS["XksProxyAuthenticationCredential"]["RawSecretAccessKey"] not in str(outcome.record)


def test_an_external_key_store_through_a_vpc_needs_an_endpoint_service_that_exists(world, admin):
    error = fails(world, admin, "CreateCustomKeyStore", "XksProxyVpcEndpointServiceNotFoundException",
                  XksProxyConnectivity="VPC_ENDPOINT_SERVICE",
                  XksProxyVpcEndpointServiceName="com.amazonaws.vpce.us-east-1.vpce-svc-example", **XKS)

    assert "vpce-svc-example" in error.message


def test_an_external_key_store_needs_its_connectivity(world, admin):
    fails(world, admin, "CreateCustomKeyStore", "ValidationException", **XKS)


@pytest.mark.parametrize("operation, request_", [
    ("DescribeCustomKeyStores", {}),
    ("ConnectCustomKeyStore", {"CustomKeyStoreId": STORE_ID}),
    ("CreateCustomKeyStore", {"CustomKeyStoreName": "hsm", "CloudHsmClusterId": "cluster-234abcdefgh",
                              "TrustAnchorCertificate": "cert", "KeyStorePassword": "kmsPswd1"}),
])
def test_custom_key_store_permissions_come_from_iam_policies(world, admin, operation, request_):
    nobody = make_user(world, admin, "nobody")
    denied = make_user(world, admin, "denied", {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                       deny(f"kms:{operation}"))

    for caller in (nobody, denied):
        outcome = call(world, caller, operation, **request_)
        assert outcome.error.code == "AccessDeniedException"
        assert f"kms:{operation}" in outcome.error.message


def test_create_key_in_a_custom_key_store_finds_none(world, admin):
    error = fails(world, admin, "CreateKey", "CustomKeyStoreNotFoundException", CustomKeyStoreId=STORE_ID,
                  Origin="AWS_CLOUDHSM")

    assert STORE_ID in error.message
    assert list(world.doc["kms"]["keys"]) == []


def test_generate_random_from_a_custom_key_store_finds_none(world, admin):
    error = fails(world, admin, "GenerateRandom", "CustomKeyStoreNotFoundException", NumberOfBytes=16,
                  CustomKeyStoreId=STORE_ID)

    assert STORE_ID in error.message
