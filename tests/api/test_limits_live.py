"""What an outside probe sent the server, over real HTTP: every request answered, none of them costly."""
import http.client
import json
import time
from urllib.parse import urlencode

import pytest
from botocore.exceptions import ClientError

from .signing import signed

pytestmark = pytest.mark.live

BIG = "x" * 17_000  # past the 16 KB of request line and headers that kmslab.serve reads


def with_header(client, name, value):
    """The boto3 client, adding one header to every request it signs."""
    client.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__(name, value))
    return client


def query(server, principal, service, params):
    headers, body = signed(service, urlencode(params).encode(),
                           {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                           access_key=principal["access_key_id"], secret=principal["secret_access_key"], url=server.url)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    started = time.perf_counter()
    connection.request("POST", "/aws/", body, headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, payload, time.perf_counter() - started


def get(server, path, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    return response.status, response.read().decode()


# Dotted names (issue 10, item 2)


def test_mallory_s_sixty_thousand_dots_are_refused_at_once_whatever_the_secret(server, sandbox):
    principal = sandbox["principals"][0]
    params = {"Action": "CreateUser", "Version": "2010-05-08", "UserName": "mallory", "Tags" + "." * 60_000: "x"}
    status, body, seconds = query(server, {**principal, "secret_access_key": "wrong"}, "iam", params)
    assert (status, b"<Code>SignatureDoesNotMatch</Code>" in body) == (403, True) and seconds < 0.5
    status, body, seconds = query(server, principal, "iam", params)
    assert (status, b"<Code>InvalidQueryParameter</Code>" in body) == (400, True) and seconds < 0.5


# Control characters echoed back (issue 10, item 3)


def test_alice_sees_the_error_for_a_max_items_of_control_character(alice):
    with pytest.raises(ClientError) as raised:
        alice("iam", validate=False).list_users(MaxItems="\x01")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "for parameter MaxItems is invalid" in raised.value.response["Error"]["Message"]


def test_alice_sees_the_error_for_a_duration_of_escape(alice):
    with pytest.raises(ClientError) as raised:
        alice("sts", validate=False).get_session_token(DurationSeconds="\x1b")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"


# Requests too big for the HTTP parser (issue 10, item 9)


@pytest.mark.parametrize("service, call", [("kms", lambda c: c.list_keys()),
                                           ("sts", lambda c: c.get_caller_identity())])
def test_a_header_over_16_kb_is_answered_in_the_service_s_protocol(alice, service, call):
    with pytest.raises(ClientError) as raised:
        call(with_header(alice(service), "X-Padding", BIG))
    error = raised.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (400, "RequestHeaderSectionTooLarge")


def test_headers_over_16_kb_together_are_answered_even_while_the_body_is_still_coming(server):
    headers = {f"X-Padding-{i}": "y" * 1000 for i in range(20)}
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("POST", "/aws/", b"Action=GetCallerIdentity&" * 40_000, headers)
    response = connection.getresponse()
    assert response.status == 400 and b"<Code>RequestHeaderSectionTooLarge</Code>" in response.read()


@pytest.mark.parametrize("page", ["simulator/", "trail/"])
def test_a_console_address_over_16_kb_gets_the_console_s_error_page(server, sandbox, page):
    status, html = get(server, f"/s/{sandbox['id']}/{page}?q={BIG}")
    assert status == 400 and "kmslab could not read this request" in html


def test_a_console_header_over_16_kb_gets_the_console_s_error_page(server):
    status, html = get(server, "/labs/", {"Cookie": BIG})
    assert status == 400 and "kmslab could not read this request" in html


def test_an_x_amz_date_in_other_scripts_digits_is_an_incomplete_signature(server, sandbox):
    principal = sandbox["principals"][0]
    headers, body = signed("kms", b"{}", {"X-Amz-Target": "TrentService.ListKeys",
                                          "Content-Type": "application/x-amz-json-1.1"},
                           access_key=principal["access_key_id"], secret=principal["secret_access_key"], url=server.url)
    headers["x-amz-date"] = "٢٠٢٦١٢٠٢T١٦٢٠٠٠Z".encode().decode("latin-1")  # Arabic-Indic digits, as UTF-8 bytes
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("POST", "/aws/", body, headers)
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())["__type"]) == (400, "IncompleteSignatureException")
