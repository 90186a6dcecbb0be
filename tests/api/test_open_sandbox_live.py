"""The open sandbox's reset API over real HTTP: another project's test suite empties it between its tests."""
import http.client
import json

import boto3
import pytest
from botocore.config import Config

pytestmark = pytest.mark.live


def open_client(server, service):
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 0}))


def request(server, method, headers=None, path="/kmslab-api/reset"):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_a_test_suite_resets_the_open_sandbox_between_its_tests(open_server):
    kms = open_client(open_server, "kms")
    key_id = kms.create_key(Description="left by the previous test")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/previous", TargetKeyId=key_id)

    status, body = request(open_server, "POST")

    assert status == 200 and json.loads(body)["status"] == "ok"
    assert open_client(open_server, "cloudtrail").lookup_events()["Events"] == []
    assert kms.list_keys()["Keys"] == []
    assert [a for a in kms.list_aliases()["Aliases"] if not a["AliasName"].startswith("alias/aws/")] == []
    # The next test's calls are served as before: the admin of 123456789012, in the same sandbox.
    assert open_client(open_server, "sts").get_caller_identity()["Arn"] == "arn:aws:iam::123456789012:user/admin"
    assert kms.create_key()["KeyMetadata"]["Arn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")


def test_without_allow_any_credentials_there_is_no_reset_api(server, open_server):
    kms = open_client(open_server, "kms")
    key_id = kms.create_key(Description="kept")["KeyMetadata"]["KeyId"]

    status, _ = request(server, "POST")  # the same database, the setting off

    assert status == 404
    assert key_id in [k["KeyId"] for k in kms.list_keys()["Keys"]]


def test_the_reset_api_takes_only_a_post_and_not_from_a_web_page(open_server):
    kms = open_client(open_server, "kms")
    key_id = kms.create_key(Description="kept")["KeyMetadata"]["KeyId"]

    assert request(open_server, "GET")[0] == 405
    assert request(open_server, "POST", {"Origin": "https://somewhere.example"})[0] == 403
    assert key_id in [k["KeyId"] for k in kms.list_keys()["Keys"]]


def test_a_suite_written_for_moto_s_server_resets_kmslab_as_it_resets_moto(open_server):
    # mock_aws in server mode posts <TEST_SERVER_MODE_ENDPOINT>/moto-api/reset; the endpoint is kmslab's /aws.
    kms = open_client(open_server, "kms")
    kms.create_key(Description="left by the previous test")

    status, body = request(open_server, "POST", path="/aws/moto-api/reset")

    assert status == 200 and json.loads(body)["status"] == "ok"
    assert kms.list_keys()["Keys"] == []


def test_without_allow_any_credentials_moto_s_reset_path_is_the_aws_endpoint_s(server, open_server):
    kms = open_client(open_server, "kms")
    key_id = kms.create_key(Description="kept")["KeyMetadata"]["KeyId"]

    status, _ = request(server, "POST", path="/aws/moto-api/reset")

    assert status >= 400
    assert key_id in [k["KeyId"] for k in kms.list_keys()["Keys"]]
