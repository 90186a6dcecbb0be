"""A lab run's live objectives: a websocket per lab page or side panel, only for the run's own learner."""
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from kmslab.asgi import application
from kmslab.labs import runs, setup
from kmslab.sandboxes import runner

from .test_views import call_as, start

pytestmark = pytest.mark.django_db(transaction=True)


def socket(client, sandbox_id, origin=b"http://127.0.0.1:8000"):
    cookie = client.cookies["sessionid"].value if "sessionid" in client.cookies else "none"
    headers = [(b"origin", origin), (b"host", b"127.0.0.1:8000"), (b"cookie", f"sessionid={cookie}".encode())]
    return WebsocketCommunicator(application, f"/ws/sandboxes/{sandbox_id}/lab/", headers=headers)


def learner_with_run():
    client = Client()
    run, _ = start(client)
    return client, run


def fix_bob(run):
    key = setup.lab_keys(runner.load_world(run.sandbox_id))["alias/tenant-data"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"],
              "Resource": key, "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}}]}
    return call_as(run, "admin", "PutUserPolicy", "iam", UserName="bob", PolicyName="tenant-app",
                   PolicyDocument=json.dumps(policy))


async def test_the_page_gets_the_objectives_on_connect_and_a_tick_when_a_call_meets_one():
    client, run = await sync_to_async(learner_with_run)()
    ws = socket(client, run.sandbox_id)
    ok, _ = await ws.connect()
    assert ok
    hello = await ws.receive_from(timeout=2)
    assert 'id="lab-progress" hx-swap-oob="true"' in hello and 'id="lab-live"' in hello
    assert 'data-objective="bob-acme-only" data-done="false"' in hello
    assert (await sync_to_async(fix_bob)(run)).error is None
    tick = await ws.receive_from(timeout=2)
    assert 'data-objective="bob-acme-only" data-done="true"' in tick
    assert 'data-objective="bob-decrypts-acme" data-done="false"' in tick
    await ws.disconnect()


@pytest.mark.parametrize("origin", [b"http://127.0.0.1:9999", b"https://127.0.0.1:8000"])
async def test_a_page_from_another_port_or_scheme_of_the_same_host_cannot_watch_a_run(origin):
    client, run = await sync_to_async(learner_with_run)()
    ok, _ = await socket(client, run.sandbox_id, origin=origin).connect()
    assert not ok


async def test_a_call_that_meets_nothing_sends_nothing():
    client, run = await sync_to_async(learner_with_run)()
    ws = socket(client, run.sandbox_id)
    await ws.connect()
    await ws.receive_from(timeout=2)
    await sync_to_async(call_as)(run, "bob", "ListKeys")
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


async def test_another_learner_and_no_session_cannot_join():
    _, run = await sync_to_async(learner_with_run)()
    other = Client()
    await sync_to_async(other.get)("/labs/")
    await sync_to_async(other.post)("/", {"name": "mine"})
    ok, _ = await socket(other, run.sandbox_id).connect()
    assert not ok
    ok, _ = await socket(Client(), run.sandbox_id).connect()
    assert not ok


async def test_a_plain_sandbox_has_no_lab_socket():
    client = Client()
    response = await sync_to_async(client.post)("/", {"name": "plain"})
    sandbox_id = response["Location"].split("/")[2]
    ok, _ = await socket(client, sandbox_id).connect()
    assert not ok


async def test_a_reset_run_ticks_again():
    client, run = await sync_to_async(learner_with_run)()
    await sync_to_async(fix_bob)(run)
    await sync_to_async(runs.reset)(run)
    ws = socket(client, run.sandbox_id)
    await ws.connect()
    hello = await ws.receive_from(timeout=2)
    assert 'data-objective="bob-acme-only" data-done="false"' in hello
    await sync_to_async(fix_bob)(run)
    assert 'data-objective="bob-acme-only" data-done="true"' in await ws.receive_from(timeout=2)
    await ws.disconnect()
