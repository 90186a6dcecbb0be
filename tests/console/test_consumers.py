"""The live trail: a websocket per open trail page, joined only to a sandbox the session may see."""
import asyncio
import re

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client
from .personas import A, new_learner

from kmslab.asgi import application
from kmslab.console import acting, consumers
from kmslab.sandboxes import runner

pytestmark = pytest.mark.django_db(transaction=True)


def socket(learner_or_cookie, sandbox_id, query="", origin=b"http://127.0.0.1:8000", host=b"127.0.0.1:8000",
           extra=()):
    cookie = learner_or_cookie if isinstance(learner_or_cookie, str) else learner_or_cookie.session_cookie
    headers = [(b"origin", origin), (b"host", host), (b"cookie", f"sessionid={cookie}".encode()), *extra]
    path = f"/ws/sandboxes/{sandbox_id}/trail/" + (f"?{query}" if query else "")
    return WebsocketCommunicator(application, path, headers=headers)


def admin_call(sandbox, operation, request):
    who = acting.Identity(A, "user", "admin").who()
    return runner.run(sandbox.id, who, "kms", operation, request)


async def connected(communicator):
    ok, _ = await communicator.connect()
    assert ok
    hello = await communicator.receive_from()
    assert 'id="live-state"' in hello and "connected" in hello
    return communicator


async def test_the_owner_receives_a_row_within_a_second_of_a_call():
    alice = await sync_to_async(new_learner)()
    ws = await connected(socket(alice, alice.sandbox.id))
    outcome = await sync_to_async(admin_call)(alice.sandbox, "CreateKey", {"Description": "live"})
    message = await ws.receive_from(timeout=1)
    assert 'hx-swap-oob="afterbegin:#feed-rows"' in message
    assert f'id="rec-{outcome.record["eventID"]}"' in message
    assert "<strong>CreateKey</strong>" in message
    assert "arn:aws:iam::111122223333:user/admin" in message
    assert outcome.response["KeyMetadata"]["KeyId"][:10] in message
    await ws.disconnect()


async def test_another_learners_session_cannot_join():
    alice = await sync_to_async(new_learner)()
    mallory = await sync_to_async(new_learner)()
    ok, _ = await socket(mallory, alice.sandbox.id).connect()
    assert not ok


async def test_no_session_cannot_join():
    alice = await sync_to_async(new_learner)()
    ok, _ = await socket("not-a-session", alice.sandbox.id).connect()
    assert not ok


async def test_a_foreign_origin_is_refused():
    alice = await sync_to_async(new_learner)()
    ok, _ = await socket(alice, alice.sandbox.id, origin=b"http://evil.example").connect()
    assert not ok


@pytest.mark.parametrize("origin", [b"http://127.0.0.1:9999", b"https://127.0.0.1:8000", b"http://localhost:8000"])
async def test_a_page_from_another_port_or_scheme_of_the_same_host_is_refused(origin):
    # The same-origin policy's origin is scheme, host and port: each of these is another site.
    alice = await sync_to_async(new_learner)()
    ok, _ = await socket(alice, alice.sandbox.id, origin=origin).connect()
    assert not ok


async def test_a_page_of_the_site_behind_its_tls_proxy_is_let_in(settings):
    settings.KMSLAB_ORIGIN = "https://kms.example.edu"
    settings.ALLOWED_HOSTS = ["kms.example.edu", "testserver"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    alice = await sync_to_async(new_learner)()
    proxied = socket(alice, alice.sandbox.id, origin=b"https://kms.example.edu", host=b"kms.example.edu",
                     extra=[(b"x-forwarded-proto", b"https")])
    await connected(proxied)
    await proxied.disconnect()
    plain = socket(alice, alice.sandbox.id, origin=b"http://kms.example.edu", host=b"kms.example.edu",
                   extra=[(b"x-forwarded-proto", b"https")])
    assert not (await plain.connect())[0]


async def test_no_origin_is_refused():
    alice = await sync_to_async(new_learner)()
    headers = [(b"host", b"127.0.0.1:8000"), (b"cookie", f"sessionid={alice.session_cookie}".encode())]
    ok, _ = await WebsocketCommunicator(application, f"/ws/sandboxes/{alice.sandbox.id}/trail/", headers=headers).connect()
    assert not ok


async def test_a_live_row_is_the_row_a_reload_of_the_page_shows():
    alice = await sync_to_async(new_learner)()
    ws = await connected(socket(alice, alice.sandbox.id))
    failed = await sync_to_async(admin_call)(alice.sandbox, "DescribeKey", {"KeyId": "alias/none"})
    message = await ws.receive_from(timeout=1)
    await ws.disconnect()

    def page():
        browser = Client()
        browser.cookies["sessionid"] = alice.session_cookie
        return browser.get(f"/s/{alice.sandbox.id}/trail/").content.decode()

    row = re.compile(f'<tr id="rec-{failed.record["eventID"]}".*?</tr>', re.DOTALL)
    assert row.search(message).group() == row.search(await sync_to_async(page)()).group()


async def test_filters_apply_to_the_live_stream():
    alice = await sync_to_async(new_learner)()
    errors_only = await connected(socket(alice, alice.sandbox.id, "errors=on"))
    decrypts = await connected(socket(alice, alice.sandbox.id, "event_name=Decrypt"))
    await sync_to_async(admin_call)(alice.sandbox, "CreateKey", {})
    failed = await sync_to_async(admin_call)(alice.sandbox, "DisableKey", {"KeyId": "alias/none"})
    message = await errors_only.receive_from(timeout=1)
    assert f'rec-{failed.record["eventID"]}' in message and "NotFoundException" in message
    assert "<strong>CreateKey</strong>" not in message
    assert await errors_only.receive_nothing(timeout=0.2)
    assert await decrypts.receive_nothing(timeout=0.2)
    await errors_only.disconnect()
    await decrypts.disconnect()


async def test_many_sockets_on_one_sandbox_each_get_the_row():
    alice = await sync_to_async(new_learner)()
    sockets = [await connected(socket(alice, alice.sandbox.id)) for _ in range(20)]
    outcome = await sync_to_async(admin_call)(alice.sandbox, "CreateKey", {})
    messages = await asyncio.gather(*(ws.receive_from(timeout=2) for ws in sockets))
    assert all(outcome.record["eventID"] in m for m in messages)
    for ws in sockets:
        await ws.disconnect()


def listeners():
    return [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "Feed.listen"]


async def no_listeners_left():
    # Cancelling ends the in-memory layer's receive at once; channels-redis's may take its 5 s BZPOPMIN.
    if listeners():
        await asyncio.wait(listeners(), timeout=6)
    return listeners() == []


async def members(group):
    """The group's channels, in the in-memory layer or (KMSLAB_REDIS_URL set) channels-redis's sorted set."""
    layer = get_channel_layer()
    if hasattr(layer, "groups"):
        return set(layer.groups.get(group, ()))
    connection = layer.connection(layer.consistent_hash(group))
    return set(await connection.zrange(layer._group_key(group), 0, -1))


async def test_when_the_first_socket_leaves_the_others_get_each_row_exactly_once():
    # A per-process listener, not the first socket, is in the group: nothing to hand over.
    alice = await sync_to_async(new_learner)()
    first, second, third = [await connected(socket(alice, alice.sandbox.id)) for _ in range(3)]
    await first.disconnect()
    outcome = await sync_to_async(admin_call)(alice.sandbox, "CreateKey", {})
    for ws in (second, third):
        assert outcome.record["eventID"] in await ws.receive_from(timeout=1)
    # A call whose event is on its way while the first socket leaves still arrives, once.
    fourth = await connected(socket(alice, alice.sandbox.id))
    outcome = await sync_to_async(admin_call)(alice.sandbox, "CreateKey", {})
    await second.disconnect()
    for ws in (third, fourth):
        assert outcome.record["eventID"] in await ws.receive_from(timeout=1)
    for ws in (third, fourth):
        assert await ws.receive_nothing(timeout=0.3)
    await third.disconnect()
    await fourth.disconnect()


async def test_when_every_socket_leaves_the_group_is_empty_and_no_listener_remains():
    alice = await sync_to_async(new_learner)()
    group = runner.group_name(alice.sandbox.id)
    sockets = [await connected(socket(alice, alice.sandbox.id)) for _ in range(3)]
    assert len(await members(group)) == 1 and len(listeners()) == 1
    for ws in sockets:
        await ws.disconnect()
    assert await members(group) == set()
    assert group not in consumers._feeds
    assert await no_listeners_left()
    # A page opened afterwards starts a new listener, and the feed works again.
    again = await connected(socket(alice, alice.sandbox.id))
    outcome = await sync_to_async(admin_call)(alice.sandbox, "CreateKey", {})
    assert outcome.record["eventID"] in await again.receive_from(timeout=1)
    await again.disconnect()
    assert await no_listeners_left()


async def test_a_socket_whose_send_fails_does_not_stop_the_others():
    alice = await sync_to_async(new_learner)()
    sockets = [await connected(socket(alice, alice.sandbox.id)) for _ in range(3)]

    async def broken(*args, **kwargs):
        raise ConnectionResetError("gone")

    consumers._feeds[runner.group_name(alice.sandbox.id)].sockets[0].send = broken
    for _ in range(2):
        outcome = await sync_to_async(admin_call)(alice.sandbox, "CreateKey", {})
        for ws in sockets[1:]:
            assert outcome.record["eventID"] in await ws.receive_from(timeout=1)
    assert await sockets[0].receive_nothing(timeout=0.2)
    for ws in sockets:
        await ws.disconnect()


async def test_two_sandboxes_feeds_stay_apart():
    alice = await sync_to_async(new_learner)()
    bob = await sync_to_async(new_learner)()
    alices = await connected(socket(alice, alice.sandbox.id))
    bobs = await connected(socket(bob, bob.sandbox.id))
    await sync_to_async(admin_call)(bob.sandbox, "CreateKey", {})
    assert "CreateKey" in await bobs.receive_from(timeout=1)
    assert await alices.receive_nothing(timeout=0.2)
    await alices.disconnect()
    await bobs.disconnect()
