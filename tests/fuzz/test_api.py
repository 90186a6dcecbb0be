"""Mallory fuzzes the AWS endpoint in process: every operation kmslab implements, of KMS, IAM, STS and CloudTrail.

Each request goes through the ASGI application of /aws/ (kmslab/api/endpoint.py),
SigV4-signed by botocore with a real access key of her sandbox, its members drawn
from botocore's own service model: of the right type, of the wrong type, huge,
unicode, control characters, nested deep. Some are not signed, or badly. Every
answer is a 4xx or 2xx, well-formed (JSON for KMS and CloudTrail, XML for IAM and
STS), within the time and memory bounds of answers.py.
"""
import asyncio
import base64
import json
from urllib.parse import urlencode

import botocore.serialize
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmslab.api import endpoint
from kmslab.cloud import calls  # noqa: F401  (registers every operation)
from kmslab.cloud import shapes
from kmslab.cloud.operations import REGISTRY
from kmslab.sandboxes import runner

from ..api.signing import signed
from .answers import FUZZ, any_text, control_text, deep_json, huge_text, measure, number_text, well_formed

JSON_TARGETS = {"kms": "TrentService", "cloudtrail": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"}
QUERY_SERVICES = ("iam", "sts")
IMPLEMENTED = sorted(REGISTRY)
URL = "http://testserver/aws/"


@pytest.fixture
def mallory(transactional_db):
    """The admin of account 111122223333 in a sandbox of her own: her access key and secret."""
    _, principals = runner.create_sandbox("mallory")
    return principals[0]


def send(headers, body):
    """One request through the endpoint's ASGI application -> (status, headers, body)."""
    scope = {"type": "http", "method": "POST", "path": "/aws/", "raw_path": b"/aws/", "query_string": b"",
             "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
             "client": ("203.0.113.9", 4000), "scheme": "http"}
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def respond(message):
        sent.append(message)

    asyncio.run(endpoint.aws_endpoint(scope, receive, respond))
    start, content = sent
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, content["body"]


def check(status, headers, body, shown):
    assert status < 500, (status, body[:500], shown)
    well_formed(headers["content-type"], body)
    if headers["content-type"].startswith("text/xml"):
        assert b"<RequestId>" in body, shown
    elif status >= 400:
        assert "__type" in json.loads(body), shown


def call(principal, service, headers, body, **signing):
    sent, body = signed(service, body, headers, access_key=principal["access_key_id"],
                        secret=principal["secret_access_key"], url=URL, **signing)
    answer = measure(lambda: send(sent, body), len(body))
    check(*answer, (service, headers, body[:300]))
    return answer


# Member values from the model: of the shape's type, of another, or text no model allows.

any_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=8,
)
strings = st.one_of(any_text, control_text, huge_text, number_text)


def member(shape, depth=0):
    kind = shape.type_name
    if depth > 4:
        return any_json
    if kind == "structure":
        right = st.fixed_dictionaries({}, optional={n: member(m, depth + 1) for n, m in shape.members.items()})
    elif kind == "list":
        right = st.lists(member(shape.member, depth + 1), max_size=3)
    elif kind == "map":
        right = st.dictionaries(strings, member(shape.value, depth + 1), max_size=3)
    elif kind == "string":
        right = st.sampled_from(shape.enum) | strings if shape.enum else strings
    elif kind in ("integer", "long"):
        right = st.integers(-(2**64), 2**64) | st.sampled_from([0, -1, 2**31, -(2**31) - 1, 2**63])
    elif kind == "boolean":
        right = st.booleans()
    elif kind == "blob":
        right = st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode()) | strings
    elif kind == "timestamp":
        right = st.floats(allow_nan=False) | st.integers(-(2**70), 2**70) | st.sampled_from([1e20, -1e15, 0])
    else:
        right = any_json
    return st.one_of(right, right, right, any_json)


@st.composite
def json_body(draw, service, name):
    model = shapes.operation_model(service, name)
    if model is None or model.input_shape is None or draw(st.integers(0, 5)) == 0:
        return draw(st.one_of(st.binary(max_size=200), deep_json.map(str.encode), huge_text.map(str.encode),
                              any_json.map(lambda v: json.dumps(v).encode())))
    return json.dumps(draw(member(model.input_shape))).encode()


def plain(value):
    """What can be sent as UTF-8 in a query body: everything but lone surrogates (control characters
    included: the XML errors that echo them must stay well-formed)."""
    if isinstance(value, str):
        return "".join(c for c in value if not "\ud800" <= c <= "\udfff")
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@st.composite
def query_body(draw, service, name):
    model = shapes.operation_model(service, name)
    serializer = botocore.serialize.create_serializer("query", include_validation=False)
    try:
        params = serializer.serialize_to_request(plain(draw(member(model.input_shape))), model)["body"]
    except Exception:  # botocore cannot serialise a value of the wrong type: send the action alone
        params = {"Action": model.name, "Version": model.metadata["apiVersion"]}
    if draw(st.integers(0, 5)) == 0:
        return draw(st.binary(max_size=200))
    params = {str(k): str(v) for k, v in params.items()}
    # Names of her own too: dotted deep or odd (Tags.member.1.Key.x, Tags.member.1.., a.b.c… thousands deep).
    for _ in range(draw(st.integers(0, 3))):
        parts = draw(st.lists(st.sampled_from(["Tags", "member", "1", "0", "99999999", "Key", "", "x"]),
                              min_size=1, max_size=12))
        depth = draw(st.sampled_from([1, 1, 50, 5000]))
        params[".".join(parts * depth)[:120000]] = draw(st.text(max_size=20).map(plain))
    return urlencode(params).encode()


def request_for(service, name):
    if service in JSON_TARGETS:
        headers = {"X-Amz-Target": f"{JSON_TARGETS[service]}.{name}", "Content-Type": "application/x-amz-json-1.1"}
        return st.tuples(st.just(headers), json_body(service, name))
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    return st.tuples(st.just(headers), query_body(service, name))


@pytest.mark.parametrize("service,name", IMPLEMENTED, ids=[f"{s}:{n}" for s, n in IMPLEMENTED])
@settings(FUZZ, max_examples=4)
@given(data=st.data())
def test_every_operation_answers_any_input_with_a_well_formed_4xx_or_2xx(mallory, service, name, data):
    headers, body = data.draw(request_for(service, name))
    call(mallory, service, headers, body)


UNIMPLEMENTED = sorted((s, n) for s in (*JSON_TARGETS, *QUERY_SERVICES)
                       for n in shapes.service_model(s).operation_names if (s, n) not in REGISTRY)


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_operations_kmslab_does_not_implement_and_names_no_model_has(mallory, data):
    service, name = data.draw(st.sampled_from(UNIMPLEMENTED) | st.tuples(
        st.sampled_from([*JSON_TARGETS, *QUERY_SERVICES]), any_text.filter(bool)))
    if service in JSON_TARGETS:
        # As it arrives: a header's UTF-8 bytes, read as Latin-1 (ASGI servers do).
        target = f"{JSON_TARGETS[service]}.{name}".encode().decode("latin-1")
        headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"}
        body = b"{}"
    else:
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        version = shapes.service_model(service).api_version
        body = urlencode({"Action": plain(name), "Version": version}).encode()
    status, _, _ = call(mallory, service, headers, body)
    assert status >= 400


# Unsigned, and badly signed: answered before any operation runs, never a 5xx.

header_values = st.one_of(any_text.map(plain), st.sampled_from([
    "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=", "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, "
    "Signature=00", "AWS4-HMAC-SHA256 Credential=AKIA/20990101/us-east-1/kms/aws4_request, SignedHeaders=, Signature=",
    "Basic dXNlcjpwYXNz", "20990101T000000Z", "19700101T000000Z", "Mon, 01 Jan 2001 00:00:00 GMT", "",
])).map(lambda s: s.encode("utf-8").decode("latin-1"))


@settings(FUZZ, max_examples=60)
@given(service=st.sampled_from([*JSON_TARGETS, *QUERY_SERVICES]), data=st.data())
def test_unsigned_and_badly_signed_requests_are_refused_as_aws_refuses_them(mallory, service, data):
    headers, body = data.draw(request_for(service, "ListAliases" if service == "kms" else {
        "cloudtrail": "LookupEvents", "iam": "ListUsers", "sts": "GetCallerIdentity"}[service]))
    sent, body = signed(service, body, headers, access_key=mallory["access_key_id"],
                        secret=mallory["secret_access_key"], url=URL)
    how = data.draw(st.sampled_from(["unsigned", "wrong secret", "wrong service", "unknown key", "session token",
                                     "tampered body", "mangled header"]))
    if how == "unsigned":
        sent = {k: v for k, v in sent.items() if k not in ("authorization", "x-amz-date")}
    elif how == "wrong secret":
        sent, body = signed(service, body, headers, access_key=mallory["access_key_id"], secret="not-hers", url=URL)
    elif how == "wrong service":
        other = "sts" if service == "kms" else "kms"
        sent, body = signed(other, body, headers, access_key=mallory["access_key_id"],
                            secret=mallory["secret_access_key"], url=URL)
    elif how == "unknown key":
        sent, body = signed(service, body, headers, access_key="AKIA" + "Z" * 16, secret="x", url=URL)
    elif how == "session token":
        sent, body = signed(service, body, headers, access_key=mallory["access_key_id"],
                            secret=mallory["secret_access_key"], token=data.draw(header_values.filter(bool)), url=URL)
    elif how == "tampered body":
        body = body + b" "
    else:
        # A signed header (or the signature itself); a header not signed may say anything.
        name = data.draw(st.sampled_from(["authorization", "x-amz-date", "host", "x-amz-security-token"]))
        sent = {**sent, name: data.draw(header_values)}
    answer = measure(lambda: send(sent, body), len(body))
    check(*answer, (service, how, sent, body[:200]))
    assert answer[0] >= 400, (how, answer)


def test_a_body_over_the_limit_is_refused_unread():
    body = b"{" * (endpoint.MAX_BODY + 1)
    status, headers, answer = measure(lambda: send({"x-amz-target": "TrentService.ListKeys",
                                                    "content-type": "application/x-amz-json-1.1"}, body), len(body))
    assert status == 413
    well_formed(headers["content-type"], answer)
