"""A workshop on PostgreSQL and Redis with two kmslab.serve workers: learners on one, the dashboard on the other.

As the README's workshop deployment runs it: a call served by one worker
turns a cell on a dashboard whose websocket is held by the other (the lab's
evaluation and the dashboard's message cross through Redis), and the join
rate limit counts across workers (the Redis cache).
"""
import asyncio
import json
import uuid

import boto3
import pytest
import websockets
from botocore.config import Config

from tests.api.live import Server
from tests.sandboxes.test_workshop_scale import REDIS, needs_postgres, needs_redis, postgres_url  # noqa: F401

from .web import Browser

pytestmark = [pytest.mark.live, pytest.mark.postgres, pytest.mark.redis, needs_postgres, needs_redis]

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def workers(postgres_url, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("workshop")
    # A Redis database of its own, and a prefix: no other test's groups or counters.
    redis = REDIS.rsplit("/", 1)[0] + "/5"
    import redis as redis_client

    redis_client.Redis.from_url(redis).flushdb()  # counters and groups an earlier run left
    env = {"KMSLAB_DATABASE_URL": postgres_url, "KMSLAB_REDIS_URL": redis, "KMSLAB_GUESS_RATE": "4",
           "KMSLAB_CREATE_RATE": "1000"}
    running = [Server(var_dir, **env), Server(var_dir, **env)]
    yield [server.wait_until_ready() for server in running]
    for server in running:
        server.stop()


def site(server):
    return server.url.removesuffix("/aws/")


def iam_as(server, keys):
    return boto3.client("iam", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id=keys[0], aws_secret_access_key=keys[1],
                        config=Config(retries={"max_attempts": 1}))


def test_a_call_on_one_worker_turns_the_cell_on_a_dashboard_held_by_the_other(workers):
    first, second = workers
    first.manage("instructor", "create", "iris", "--password", PASSWORD)
    made = json.loads(first.manage("workshop", "create", "--instructor", "iris", "--title", "Two workers",
                                   "--labs", "encryption-context", "--json"))
    alice = Browser(site(first))
    alice.join(made["join_code"], "alice")
    _, keys = alice.start(made["id"], "encryption-context")
    iris = Browser(site(second))
    iris.login("iris", PASSWORD)

    async def watch():
        url = site(second).replace("http", "ws") + f"/ws/workshops/{made['id']}/dashboard/"
        async with websockets.connect(url, origin=site(second),
                                      additional_headers={"Cookie": iris.cookie_header()}) as ws:
            assert "dashboard-live" in await asyncio.wait_for(ws.recv(), 5)
            policy = {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}}]}
            await asyncio.to_thread(iam_as(first, keys["admin"]).put_user_policy, UserName="bob",
                                    PolicyName="tenant-app", PolicyDocument=json.dumps(policy))
            seen = ""
            while 'data-objective="bob-acme-only" data-done="true"' not in seen:
                seen += await asyncio.wait_for(ws.recv(), 5)
            assert 'data-learner="alice"' in seen

    asyncio.run(watch())


def test_a_dashboard_socket_outlives_an_idle_spell_longer_than_the_layers_blocking_read(workers):
    # channels-redis blocks 5 s per read; redis-py 8's default 5 s socket timeout
    # used to close every quiet socket with code 1011 (redis/redis-py#4091).
    first, second = workers
    made = json.loads(first.manage("workshop", "create", "--instructor", "iris", "--title", "Quiet room",
                                   "--labs", "encryption-context", "--json"))
    iris = Browser(site(second))
    iris.login("iris", PASSWORD)
    carol = Browser(site(first))
    carol.join(made["join_code"], "carol")

    async def watch():
        url = site(second).replace("http", "ws") + f"/ws/workshops/{made['id']}/dashboard/"
        async with websockets.connect(url, origin=site(second),
                                      additional_headers={"Cookie": iris.cookie_header()}) as ws:
            assert "dashboard-live" in await asyncio.wait_for(ws.recv(), 5)
            await asyncio.sleep(7)
            await asyncio.to_thread(carol.start, made["id"], "encryption-context")
            seen = ""
            while "Encryption context" not in seen:  # carol's "where" piece: she has started the lab
                seen += await asyncio.wait_for(ws.recv(), 5)

    asyncio.run(watch())


def test_wrong_join_codes_count_across_workers(workers):
    first, second = workers
    guesser = [Browser(site(first)), Browser(site(second))]
    for i in range(4):
        wrong = guesser[i % 2].post("/join/", {"code": "KMS-" + uuid.uuid4().hex[:6].upper(), "display_name": "x"})
        assert wrong.status_code == 422
    assert guesser[0].post("/join/", {"code": "KMS-ZZZZZZ", "display_name": "x"}).status_code == 429
    assert guesser[1].post("/join/", {"code": "KMS-ZZZZZZ", "display_name": "x"}).status_code == 429
