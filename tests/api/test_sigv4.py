"""SigV4 verification against requests botocore signed."""
import hashlib
import json
import time

import pytest
from .signing import kms_request

from kmslab.api import sigv4
from kmslab.cloud.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
)

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def check(headers, body, secret=SECRET, now=None, path="/aws/", query=""):
    auth = sigv4.parse_authorization(headers.get("authorization"))
    stamp = sigv4.request_time(auth, headers, now)
    canonical = sigv4.canonical_request("POST", path, query, headers, auth.signed_headers, body)
    sigv4.verify(auth, secret, stamp, canonical)
    return auth


def test_a_request_botocore_signed_verifies_and_names_its_key_region_and_service():
    headers, body = kms_request("Encrypt", b'{"KeyId": "alias/x"}', secret=SECRET, region="eu-west-1")
    auth = check(headers, body)
    assert (auth.access_key_id, auth.region, auth.service) == ("AKIAEXAMPLE000000001", "eu-west-1", "kms")


def test_a_session_token_is_part_of_what_is_signed():
    headers, body = kms_request("Encrypt", b"{}", secret=SECRET, token="the-token")
    check(headers, body)
    headers["x-amz-security-token"] = "another-token"
    with pytest.raises(InvalidSignatureException):
        check(headers, body)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b'{"KeyId": "alias/y"}'),
        lambda h, b: ({**h, "x-amz-target": "TrentService.Decrypt"}, b),
        lambda h, b: ({**h, "host": "evil.example:8000"}, b),
    ],
    ids=["body", "signed header", "host"],
)
def test_mallory_cannot_change_a_signed_request(tamper):
    headers, body = kms_request("Encrypt", b'{"KeyId": "alias/x"}', secret=SECRET)
    headers, body = tamper(headers, body)
    with pytest.raises(InvalidSignatureException) as raised:
        check(headers, body)
    assert raised.value.message.startswith("The request signature we calculated does not match")


def test_the_wrong_secret_is_refused():
    headers, body = kms_request("Encrypt", b"{}", secret="not-the-secret")
    with pytest.raises(InvalidSignatureException):
        check(headers, body)


def test_a_signature_older_than_fifteen_minutes_has_expired():
    headers, body = kms_request("Encrypt", b"{}", secret=SECRET)
    with pytest.raises(InvalidSignatureException, match="^Signature expired: .* - 15 min.\\)$"):
        check(headers, body, now=time.time() + 16 * 60)
    check(headers, body, now=time.time() + 14 * 60)


def test_a_signature_from_the_future_is_not_yet_current():
    headers, body = kms_request("Encrypt", b"{}", secret=SECRET)
    with pytest.raises(InvalidSignatureException, match="^Signature not yet current"):
        check(headers, body, now=time.time() - 16 * 60)


def test_no_authorization_header_is_a_missing_token():
    with pytest.raises(MissingAuthenticationTokenException):
        sigv4.parse_authorization(None)


@pytest.mark.parametrize(
    "header, fragment",
    [
        ("AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/kms/aws4_request", "requires 'SignedHeaders'"),
        ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=ab", "requires 'Credential'"),
        ("AWS4-HMAC-SHA256 Credential=AKIA/20260101/kms/aws4_request, SignedHeaders=host, Signature=ab", "scoped"),
        ("AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/kms/x, SignedHeaders=host, Signature=ab", "terminator"),
        ("AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/kms/aws4_request, SignedHeaders=x-amz-date, Signature=ab",
         "'Host'"),
        ("AWS AKIA:abc", "Unsupported AWS 'algorithm'"),
    ],
)
def test_a_malformed_authorization_header_is_an_incomplete_signature(header, fragment):
    with pytest.raises(IncompleteSignatureException, match=fragment):
        sigv4.parse_authorization(header)


def test_a_request_without_a_date_is_an_incomplete_signature():
    headers, body = kms_request("Encrypt", b"{}", secret=SECRET)
    del headers["x-amz-date"]
    auth = sigv4.parse_authorization(headers["authorization"])
    with pytest.raises(IncompleteSignatureException, match="X-Amz-Date"):
        sigv4.request_time(auth, headers)


def test_a_signature_with_non_ascii_characters_is_refused_not_crashed():
    headers, body = kms_request("Encrypt", json.dumps({"KeyId": "é"}).encode(), secret=SECRET)
    headers["authorization"] = headers["authorization"][:-2] + "éé"
    with pytest.raises(InvalidSignatureException):
        check(headers, body)


def test_the_canonical_path_collapses_dot_segments_and_double_slashes_as_botocore_does():
    headers, body = kms_request("Encrypt", b"{}", secret=SECRET, url="http://127.0.0.1:8000/aws//x/../")
    check(headers, body, path="/aws//x/../")


def test_a_claimed_payload_hash_does_not_stand_in_for_the_body():
    headers, body = kms_request("Encrypt", b'{"KeyId": "alias/x"}', secret=SECRET)
    check(headers, body)
    headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    with pytest.raises(InvalidSignatureException):
        check(headers, b'{"KeyId": "alias/mallory"}')
