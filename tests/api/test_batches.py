"""Requests that wait together are answered together: their calls commit at once (endpoint.handle_all)."""
import asyncio
import base64
import json

import pytest
from kmslab.api import endpoint
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import TrailRecord

from ..sandboxes.test_run_all import commits_failing
from .signing import kms_request

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def alice():
    sandbox, principals = runner.create_sandbox("alice")
    return sandbox, principals[0]


def request(principal, operation, payload, secret=None):
    headers, body = kms_request(operation, json.dumps(payload).encode(), access_key=principal["access_key_id"],
                                secret=secret or principal["secret_access_key"])
    return endpoint.Request(method="POST", path="/aws/", query_string="", headers=headers, body=body,
                            source_ip="203.0.113.9", secure=False)


def answer(status_headers_body):
    status, headers, body = status_headers_body
    return status, json.loads(body)


def create_key(principal):
    [(status, headers, body)] = endpoint.handle_all([request(principal, "CreateKey", {})])
    return json.loads(body)["KeyMetadata"]["KeyId"]


def test_each_request_of_a_batch_gets_its_own_answer_in_order_from_one_commit(alice, monkeypatch):
    sandbox, principal = alice
    key_id = create_key(principal)
    batches = []
    real = runner._commit_batch
    monkeypatch.setattr(runner, "_commit_batch", lambda db, batch: batches.append(len(batch)) or real(db, batch))
    plaintext = base64.b64encode(b"hello").decode()

    answers = [answer(a) for a in endpoint.handle_all([
        request(principal, "Encrypt", {"KeyId": key_id, "Plaintext": plaintext}),
        request(principal, "Encrypt", {"KeyId": key_id, "Plaintext": plaintext}, secret="wrong"),
        request(principal, "NoSuchOperation", {}),
        request(principal, "TagResource", {"KeyId": key_id, "Tags": [{"TagKey": "t", "TagValue": "v"}]}),
    ])]

    assert batches == [3]  # the unknown operation never reached the runner
    assert answers[0][0] == 200 and answers[0][1]["KeyId"].endswith(key_id)
    assert answers[1] == (400, {"__type": "InvalidSignatureException", "message": answers[1][1]["message"]})
    assert answers[2][0] == 400 and answers[2][1]["__type"] == "UnknownOperationException"
    assert answers[3] == (200, {})
    names = TrailRecord.objects.filter(sandbox=sandbox).order_by("sequence").values_list("event_name", flat=True)
    assert list(names) == ["CreateKey", "Encrypt", "TagResource"]


def test_no_request_is_answered_as_done_when_the_commit_failed(alice):
    sandbox, principal = alice
    key_id = create_key(principal)
    plaintext = base64.b64encode(b"hello").decode()
    with commits_failing():
        answers = [answer(a) for a in endpoint.handle_all([
            request(principal, "Encrypt", {"KeyId": key_id, "Plaintext": plaintext}),
            request(principal, "TagResource", {"KeyId": key_id, "Tags": [{"TagKey": "t", "TagValue": "v"}]}),
        ])]

    assert answers == [(500, {"__type": "InternalFailure", "message": "We encountered an internal error. Please try again."})] * 2
    assert TrailRecord.objects.filter(sandbox=sandbox).count() == 1


def test_requests_sent_at_once_through_the_asgi_application_are_all_answered(alice):
    sandbox, principal = alice
    key_id = create_key(principal)

    async def send(n):
        r = request(principal, "TagResource", {"KeyId": key_id, "Tags": [{"TagKey": f"t{n}", "TagValue": "v"}]})
        scope = {"type": "http", "method": "POST", "path": "/aws/", "raw_path": b"/aws/", "query_string": b"",
                 "headers": [(k.encode(), v.encode()) for k, v in r.headers.items()],
                 "client": ("203.0.113.9", 4000), "scheme": "http"}
        sent = []

        async def receive():
            return {"type": "http.request", "body": r.body, "more_body": False}

        async def respond(message):
            sent.append(message)

        await endpoint.aws_endpoint(scope, receive, respond)
        return sent[0]["status"]

    async def all_at_once():
        return await asyncio.gather(*(send(n) for n in range(20)))

    assert asyncio.run(all_at_once()) == [200] * 20
    [(status, tags)] = [answer(a) for a in endpoint.handle_all([request(principal, "ListResourceTags", {"KeyId": key_id})])]
    assert sorted(tag["TagKey"] for tag in tags["Tags"]) == sorted(f"t{n}" for n in range(20))
