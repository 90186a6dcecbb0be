"""A workshop's setup: PostgreSQL, Redis, several ASGI workers.

They run on the servers KMSLAB_TEST_POSTGRES_URL / KMSLAB_TEST_REDIS_URL name
(.ci/run starts both and sets them), or else on a PostgreSQL and a Redis that
answer on this machine's default ports, and skip when there are none. Each PostgreSQL test
gets a throwaway database. Processes are real OS processes: settings are
per process, and crossing processes is the point.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import boto3
import pytest
from botocore.config import Config

from kmslab.cloud import principals
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import TrailRecord

ROOT = Path(__file__).resolve().parents[2]
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def postgres_answers(url):
    """Whether a PostgreSQL at url lets us in: a refused port says no at once, a silent one in 2 s (libpq's least)."""
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


def redis_answers(url):
    """Whether a Redis at url answers PING (RESP, over a bare socket: nothing to configure, a second at most)."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# `make test` on a machine with both services finds them by itself; the variables name others.
POSTGRES = os.environ.get("KMSLAB_TEST_POSTGRES_URL") or (LOCAL_POSTGRES if postgres_answers(LOCAL_POSTGRES) else None)
REDIS = os.environ.get("KMSLAB_TEST_REDIS_URL") or (LOCAL_REDIS if redis_answers(LOCAL_REDIS) else None)

needs_postgres = pytest.mark.skipif(
    not POSTGRES, reason=f"KMSLAB_TEST_POSTGRES_URL is not set and no PostgreSQL lets user postgres in at {LOCAL_POSTGRES}"
)
needs_redis = pytest.mark.skipif(
    not REDIS, reason=f"KMSLAB_TEST_REDIS_URL is not set and no Redis answers at {LOCAL_REDIS}"
)


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    """The URL of a new PostgreSQL database, migrated, shared by this module's tests and dropped afterwards."""
    import psycopg

    name = f"kmslab_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(POSTGRES)._replace(path=f"/{name}"))
    try:
        python(environment(tmp_path_factory.mktemp("migrate"), KMSLAB_DATABASE_URL=url), "manage.py", "migrate", "-v", "0")
        yield url
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def environment(tmp_path, **settings):
    """The environment of a kmslab process with its own var/ (master key, secret key)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KMSLAB_")}
    return {**env, "DJANGO_SETTINGS_MODULE": "kmslab.settings", "KMSLAB_VAR_DIR": str(tmp_path), **settings}


def python(env, *args, timeout=120):
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.postgres
@needs_postgres
def test_eight_threads_of_fifty_calls_lose_nothing_on_postgresql(postgres_url, tmp_path):
    env = environment(tmp_path, KMSLAB_DATABASE_URL=postgres_url)

    result = json.loads(python(env, "tests/sandboxes/hammer.py"))

    assert result["errors"] == []
    assert result["tags"] == [50] * 8
    assert result["tag_records"] == 400
    assert result["sequences"] == list(range(1, 409))
    assert result["version"] == 408
    # Unlike SQLite, PostgreSQL lets calls race: the losers were run again, not lost.
    assert result["conflicts"] > 0


LISTENER = """
import asyncio, json, sys
import django
django.setup()
from channels.layers import get_channel_layer

async def listen():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(sys.argv[1], channel)
    print("listening", flush=True)
    print(json.dumps(await asyncio.wait_for(layer.receive(channel), 30)), flush=True)

asyncio.run(listen())
"""


@pytest.mark.redis
@needs_redis
@pytest.mark.django_db(transaction=True)
def test_a_committed_call_is_heard_by_another_process_through_redis(settings, tmp_path):
    # This process speaks to Redis as a worker does; the listener is configured by its environment.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS]}}}
    sandbox, creds = runner.create_sandbox("alice-token")
    listener = subprocess.Popen(
        [sys.executable, "-c", LISTENER, runner.group_name(sandbox.id)],
        cwd=ROOT, env=environment(tmp_path, KMSLAB_REDIS_URL=REDIS),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert listener.stdout.readline().strip() == "listening", listener.stderr.read()
        key = creds[0]["access_key_id"]
        runner.run(sandbox.id, lambda world: principals.caller_for_access_key(world, key), "sts", "GetCallerIdentity", {})
        heard = json.loads(listener.stdout.readline())
    finally:
        listener.kill()
        listener.wait()

    record = TrailRecord.objects.get(sandbox=sandbox)
    assert heard == {"type": "trail.record", "sandbox": sandbox.id.hex, "ids": [record.pk]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.live
@needs_postgres
@needs_redis
def test_two_asgi_workers_on_one_database_and_one_redis_serve_the_same_sandbox(postgres_url, tmp_path):
    env = environment(tmp_path, KMSLAB_DATABASE_URL=postgres_url, KMSLAB_REDIS_URL=REDIS)
    ports = [free_port(), free_port()]
    log = open(tmp_path / "workers.log", "wb")
    workers = [
        subprocess.Popen([sys.executable, "-m", "kmslab.serve", "-b", "127.0.0.1", "-p", str(port)],
                         cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for port in ports
    ]
    try:
        created = json.loads(python(env, "manage.py", "sandbox", "create", "--json"))  # while the workers start
        for port in ports:
            assert wait_for_health(f"http://127.0.0.1:{port}/healthz", workers) == {"status": "ok"}, (
                (tmp_path / "workers.log").read_text()
            )
        first, second = (kms_client(port, created["principals"][0]) for port in ports)

        key = first.create_key(Description="made on the first worker")["KeyMetadata"]
        seen = second.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        # The first worker still holds the world it committed; the second has moved it on.
        second.update_key_description(KeyId=key["KeyId"], Description="renamed on the second")
        seen_again = first.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=10)
        log.close()

    assert (seen["Arn"], seen["Description"]) == (key["Arn"], "made on the first worker")
    assert seen_again["Description"] == "renamed on the second"


def wait_for_health(url, workers, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return get_json(url)
        except OSError:
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                return None
            time.sleep(0.1)


def kms_client(port, principal):
    return boto3.client(
        "kms",
        endpoint_url=f"http://127.0.0.1:{port}/aws/",
        region_name="us-east-1",
        aws_access_key_id=principal["access_key_id"],
        aws_secret_access_key=principal["secret_access_key"],
        config=Config(retries={"max_attempts": 0}, connect_timeout=5, read_timeout=30),
    )


def test_looking_for_local_servers_is_quick_and_finds_none_where_nothing_answers():
    closed = free_port()
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        quiet = silent.getsockname()[1]
        started = time.monotonic()
        for port in (closed, quiet):
            assert not postgres_answers(f"postgres://postgres@127.0.0.1:{port}/postgres")
            assert not redis_answers(f"redis://127.0.0.1:{port}/0")
    assert time.monotonic() - started < 5
