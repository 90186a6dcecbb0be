"""A few hundred malformed requests, drawn from botocore's own service models: never a 5xx, never a hang."""
import base64
import http.client
import json
import time
from urllib.parse import urlencode

import botocore.serialize
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from .signing import signed

from kmslab.cloud import shapes

pytestmark = pytest.mark.live

JSON_SERVICES = {"kms": "TrentService", "cloudtrail": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"}
QUERY_SERVICES = ("sts", "iam")

any_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def right_or_wrong(shape, depth=0):
    """Values for a shape: mostly of its type (sizes and patterns unchecked), sometimes any JSON at all."""
    kind = shape.type_name
    if depth > 3:
        return any_json
    if kind == "structure":
        right = st.fixed_dictionaries({}, optional={n: right_or_wrong(m, depth + 1) for n, m in shape.members.items()})
    elif kind == "list":
        right = st.lists(right_or_wrong(shape.member, depth + 1), max_size=3)
    elif kind == "map":
        right = st.dictionaries(st.text(max_size=10), right_or_wrong(shape.value, depth + 1), max_size=3)
    elif kind == "string":
        right = st.sampled_from(shape.enum) | st.text(max_size=20) if shape.enum else st.text(max_size=300)
    elif kind in ("integer", "long"):
        right = st.integers(-(2**64), 2**64) | st.sampled_from([0, -1, 2**31, -(2**31) - 1, 2**63])
    elif kind == "boolean":
        right = st.booleans()
    elif kind == "blob":
        right = st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode()) | st.text(max_size=30)
    elif kind == "timestamp":
        right = st.floats(allow_nan=False) | st.integers(-(2**70), 2**70) | st.sampled_from([1e20, -1e15, 0])
    else:
        right = any_json
    return st.one_of(right, right, right, any_json)


@st.composite
def json_requests(draw):
    service = draw(st.sampled_from(sorted(JSON_SERVICES)))
    names = shapes.service_model(service).operation_names
    operation = draw(st.sampled_from(names) | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.", max_size=20))
    model = shapes.operation_model(service, operation)
    if model is None or model.input_shape is None or draw(st.integers(0, 9)) == 0:
        body = draw(st.binary(max_size=500) | any_json.map(lambda v: json.dumps(v).encode()))
    else:
        body = json.dumps(draw(right_or_wrong(model.input_shape))).encode()
    headers = {"X-Amz-Target": f"{JSON_SERVICES[service]}.{operation}", "Content-Type": "application/x-amz-json-1.1"}
    return service, body, headers


@st.composite
def query_requests(draw):
    service = draw(st.sampled_from(QUERY_SERVICES))
    names = shapes.service_model(service).operation_names
    model = shapes.operation_model(service, draw(st.sampled_from(names)))
    serializer = botocore.serialize.create_serializer("query", include_validation=False)
    try:
        params = serializer.serialize_to_request(draw(right_or_wrong(model.input_shape)), model)["body"]
    except Exception:  # botocore cannot serialise a wrong-typed value; send only the action
        params = {"Action": model.name, "Version": model.metadata["apiVersion"]}
    params.update(draw(st.dictionaries(st.text(max_size=30), st.text(max_size=50), max_size=4)))
    if draw(st.integers(0, 9)) == 0:
        body = draw(st.binary(max_size=500))
    else:
        body = urlencode({str(k): str(v) for k, v in params.items()}).encode()
    return service, body, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


@pytest.fixture(scope="module")
def fuzz_sandbox(sandboxes):
    """Its own sandbox, so what the fuzz creates or breaks touches no other test."""
    return sandboxes["fuzz"]["principals"][0]


def send(server, principal, service, body, headers):
    headers, body = signed(service, body, headers, access_key=principal["access_key_id"],
                           secret=principal["secret_access_key"], url=server.url)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        connection.request("POST", "/aws/", body, headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(request=st.one_of(json_requests(), query_requests()))
def test_malformed_requests_never_get_a_server_error(server, fuzz_sandbox, request):
    service, body, headers = request
    status, payload = send(server, fuzz_sandbox, service, body, headers)
    assert status < 500, (service, body[:300], status, payload[:500])


def test_after_the_fuzz_the_server_still_answers_quickly(server, fuzz_sandbox):
    started = time.monotonic()
    status, payload = send(server, fuzz_sandbox, "sts", b"Action=GetCallerIdentity&Version=2011-06-15",
                           {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert status == 200 and b"<Arn>" in payload
    assert time.monotonic() - started < 5
