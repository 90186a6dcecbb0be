"""The endpoint over real HTTP: authentication, protocols and bad input, as AWS answers them."""
import http.client
import json
import time
from datetime import datetime, timezone
from unittest import mock
from urllib.parse import urlencode

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from .live import client_factory
from .signing import kms_request, signed

pytestmark = pytest.mark.live


def post(server, body, headers):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("POST", "/aws/", body, headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


def signed_kms(server, principal, operation, payload, **kwargs):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers, body = kms_request(operation, body, access_key=principal["access_key_id"],
                                secret=principal["secret_access_key"], url=server.url, **kwargs)
    return post(server, body, headers)


def signed_query(server, principal, service, params, **kwargs):
    headers, body = signed(service, urlencode(params).encode(),
                           {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                           access_key=principal["access_key_id"], secret=principal["secret_access_key"],
                           url=server.url, **kwargs)
    return post(server, body, headers)


def error_code(client_error):
    return client_error.value.response["Error"]["Code"]


# Authentication


def test_alice_is_who_her_keys_say_she_is(alice, sandbox):
    identity = alice("sts").get_caller_identity()
    assert identity["Arn"] == sandbox["principals"][0]["arn"] == "arn:aws:iam::111122223333:user/admin"
    assert identity["Account"] == "111122223333"


@pytest.mark.parametrize("service, operation, code", [
    ("kms", "list_keys", "UnrecognizedClientException"),
    ("cloudtrail", "lookup_events", "UnrecognizedClientException"),
    ("sts", "get_caller_identity", "InvalidClientTokenId"),
    ("iam", "list_users", "InvalidClientTokenId"),
])
def test_an_access_key_no_sandbox_knows_is_unrecognized(server, service, operation, code):
    client = client_factory(server.url, None)(service, aws_access_key_id="AKIAUNKNOWN0000000000",
                                              aws_secret_access_key="whatever")
    with pytest.raises(ClientError) as raised:
        getattr(client, operation)()
    assert error_code(raised) == code
    assert raised.value.response["Error"]["Message"] == "The security token included in the request is invalid."


@pytest.mark.parametrize("service, operation, code", [
    ("kms", "list_keys", "InvalidSignatureException"),
    ("cloudtrail", "lookup_events", "InvalidSignatureException"),
    ("sts", "get_caller_identity", "SignatureDoesNotMatch"),
    ("iam", "list_users", "SignatureDoesNotMatch"),
])
def test_mallory_with_alices_key_id_but_not_her_secret_is_refused(server, sandbox, service, operation, code):
    client = client_factory(server.url, None)(service, aws_access_key_id=sandbox["principals"][0]["access_key_id"],
                                              aws_secret_access_key="not-alices-secret")
    with pytest.raises(ClientError) as raised:
        getattr(client, operation)()
    assert error_code(raised) == code
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)


def test_a_request_signed_twenty_minutes_ago_has_expired(server, sandbox):
    past = datetime.fromtimestamp(time.time() - 20 * 60, timezone.utc)
    with mock.patch("botocore.auth.get_current_datetime", return_value=past):
        status, _, body = signed_kms(server, sandbox["principals"][0], "ListKeys", {})
    assert status == 400
    assert json.loads(body)["__type"] == "InvalidSignatureException"
    assert json.loads(body)["message"].startswith("Signature expired:")


def test_a_request_without_authorization_is_missing_its_token(server):
    status, _, body = post(server, b"{}", {"X-Amz-Target": "TrentService.ListKeys",
                                           "Content-Type": "application/x-amz-json-1.1"})
    assert (status, json.loads(body)["__type"]) == (403, "MissingAuthenticationTokenException")
    status, _, body = post(server, b"Action=GetCallerIdentity&Version=2011-06-15",
                           {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403 and b"<Code>MissingAuthenticationToken</Code>" in body


def test_an_incomplete_authorization_header_is_an_incomplete_signature(server):
    headers = {"X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1",
               "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAX/20260101/us-east-1/kms/aws4_request"}
    status, _, body = post(server, b"{}", headers)
    assert (status, json.loads(body)["__type"]) == (400, "IncompleteSignatureException")


def test_a_request_signed_for_another_service_is_refused(server, sandbox):
    principal = sandbox["principals"][0]
    headers, body = signed("sts", b"{}", {"X-Amz-Target": "TrentService.ListKeys",
                                          "Content-Type": "application/x-amz-json-1.1"},
                           access_key=principal["access_key_id"], secret=principal["secret_access_key"],
                           url=server.url)
    status, _, payload = post(server, body, headers)
    assert (status, json.loads(payload)["__type"]) == (400, "InvalidSignatureException")


def test_session_credentials_need_their_token(server, alice, sandbox):
    credentials = alice("sts").get_session_token()["Credentials"]
    session = {"access_key_id": credentials["AccessKeyId"], "secret_access_key": credentials["SecretAccessKey"]}
    status, _, body = signed_kms(server, session, "ListKeys", {}, token=credentials["SessionToken"])
    assert status == 200 and "Keys" in json.loads(body)
    status, _, body = signed_kms(server, session, "ListKeys", {})
    assert (status, json.loads(body)["__type"]) == (400, "UnrecognizedClientException")
    status, _, body = signed_kms(server, session, "ListKeys", {}, token="not-the-token")
    assert (status, json.loads(body)["__type"]) == (400, "UnrecognizedClientException")


def test_a_long_term_key_with_a_session_token_is_refused(server, sandbox):
    status, _, body = signed_kms(server, sandbox["principals"][0], "ListKeys", {}, token="invented")
    assert (status, json.loads(body)["__type"]) == (400, "UnrecognizedClientException")


def test_session_credentials_expire_on_the_sandbox_clock(server, sandboxes):
    sandbox = sandboxes["clock"]
    carol = client_factory(server.url, sandbox["principals"][0])
    credentials = carol("sts").get_session_token(DurationSeconds=900)["Credentials"]
    session_kms = carol("kms", aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])
    session_kms.list_keys()
    server.manage("sandbox", "clock", sandbox["id"], "--advance", "1h")
    with pytest.raises(ClientError) as raised:
        session_kms.list_keys()
    assert error_code(raised) == "ExpiredTokenException"
    assert raised.value.response["Error"]["Message"] == "The security token included in the request is expired"


# Protocols and bad input


def test_an_unknown_operation_is_answered_in_each_protocol(server, sandbox):
    principal = sandbox["principals"][0]
    status, _, body = signed_kms(server, principal, "MakeCoffee", {})
    assert (status, json.loads(body)["__type"]) == (400, "UnknownOperationException")
    status, _, body = signed_query(server, principal, "sts", {"Action": "MakeCoffee", "Version": "2011-06-15"})
    assert status == 400 and b"<Code>InvalidAction</Code>" in body


@pytest.mark.parametrize("body, code", [
    (b'{"KeyId": ', "SerializationException"),
    (b'{"KeyId": 7, "Plaintext": "aGk="}', "SerializationException"),
    (b'{"KeyId": "alias/x", "Plaintext": "###"}', "SerializationException"),
    (b"[" * 50_000 + b"]" * 50_000, "SerializationException"),
    (b'{"KeyId": "alias/x"}', "ValidationException"),
    (json.dumps({"KeyId": "k" * 300_000, "Plaintext": "aGk="}).encode(), "ValidationException"),
])
def test_malformed_kms_requests_get_the_aws_error_and_a_4xx(server, sandbox, body, code):
    status, headers, payload = signed_kms(server, sandbox["principals"][0], "Encrypt", body)
    error = json.loads(payload)
    assert (status, error["__type"]) == (400, code)
    assert headers["content-type"] == "application/x-amz-json-1.1"


def test_a_missing_parameter_is_named_in_aws_words(server, sandbox):
    principal = sandbox["principals"][0]
    kms = boto3.client("kms", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id=principal["access_key_id"],
                       aws_secret_access_key=principal["secret_access_key"],
                       config=Config(parameter_validation=False, retries={"max_attempts": 0}))
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId="alias/x")
    assert error_code(raised) == "ValidationException"
    assert raised.value.response["Error"]["Message"] == (
        "1 validation error detected: Value null at 'plaintext' failed to satisfy constraint: Member must not be null"
    )


def test_an_invalid_query_parameter_is_an_invalid_parameter_value(server, sandbox):
    status, _, body = signed_query(server, sandbox["principals"][0], "sts",
                                   {"Action": "GetSessionToken", "Version": "2011-06-15", "DurationSeconds": "soon"})
    assert status == 400 and b"<Code>InvalidParameterValue</Code>" in body


def test_a_body_over_one_megabyte_is_refused_before_it_is_read(server, sandbox):
    body = json.dumps({"KeyId": "alias/x", "Plaintext": "a" * (1024 * 1024)}).encode()
    status, _, payload = signed_kms(server, sandbox["principals"][0], "Encrypt", body)
    assert status == 413 and json.loads(payload)["__type"] == "RequestEntityTooLarge"


def test_a_chunked_body_is_cut_off_at_one_megabyte(server):
    chunks = (b"x" * 65536 for _ in range(20))
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("POST", "/aws/", chunks, {"X-Amz-Target": "TrentService.Encrypt",
                                                 "Content-Type": "application/x-amz-json-1.1"}, encode_chunked=True)
    response = connection.getresponse()
    assert response.status == 413 and json.loads(response.read())["__type"] == "RequestEntityTooLarge"


def test_a_get_is_refused_with_a_4xx(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", "/aws/")
    response = connection.getresponse()
    response.read()
    assert 400 <= response.status < 500


# KMSLAB_ALLOW_ANY_CREDENTIALS


def test_with_allow_any_credentials_any_key_is_the_admin_of_123456789012(open_server):
    kms = boto3.client("kms", endpoint_url=open_server.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing",
                       config=Config(retries={"max_attempts": 0}))
    key = kms.create_key()["KeyMetadata"]
    assert key["Arn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    ciphertext = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"from an integration test")["CiphertextBlob"]
    other = boto3.client("kms", endpoint_url=open_server.url, region_name="us-east-1",
                         aws_access_key_id="another", aws_secret_access_key="anything")
    assert other.decrypt(CiphertextBlob=ciphertext)["Plaintext"] == b"from an integration test"
    identity = boto3.client("sts", endpoint_url=open_server.url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="x").get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/admin"


def test_with_allow_any_credentials_a_sandbox_key_still_needs_its_secret(open_server, sandbox):
    principal = sandbox["principals"][0]
    client = client_factory(open_server.url, None)("sts", aws_access_key_id=principal["access_key_id"],
                                                   aws_secret_access_key="wrong")
    with pytest.raises(ClientError) as raised:
        client.get_caller_identity()
    assert error_code(raised) == "SignatureDoesNotMatch"


def test_a_bad_signature_is_answered_before_bad_input(server, sandbox):
    principal = {**sandbox["principals"][0], "secret_access_key": "not-the-secret"}
    status, _, body = signed_kms(server, principal, "Encrypt", b'{"KeyId": 7}')
    assert (status, json.loads(body)["__type"]) == (400, "InvalidSignatureException")
    status, _, body = signed_query(server, principal, "sts",
                                   {"Action": "GetSessionToken", "Version": "2011-06-15", "DurationSeconds": "soon"})
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body
