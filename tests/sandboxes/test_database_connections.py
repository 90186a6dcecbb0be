"""A worker on PostgreSQL holds at most its pool's connections, however many requests come at once.

Under ASGI every request runs on a thread of its own; with persistent
connections each thread kept one open until PostgreSQL refused more ("too many
clients already"), a 500 for the learners who came next.
"""
import asyncio
import threading

import httpx
import psycopg
import pytest

from tests.api.live import Server

from .test_workshop_scale import needs_postgres, postgres_url  # noqa: F401

pytestmark = [pytest.mark.live, pytest.mark.postgres, needs_postgres]

POOL = 6


def connections_to(url):
    """Connections to the database now, the watcher's own (this one and any still closing) left out."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url, application_name="watcher") as db:
        return db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name <> 'watcher'",
                          [name]).fetchone()[0]


def test_a_burst_of_requests_waits_for_the_pool_instead_of_failing(postgres_url, tmp_path):
    server = Server(tmp_path, KMSLAB_DATABASE_URL=postgres_url, KMSLAB_DB_POOL=str(POOL)).wait_until_ready()
    site = server.url.removesuffix("/aws/")
    counts, done = [], threading.Event()

    def watch():
        while not done.is_set():
            counts.append(connections_to(postgres_url))

    async def burst():
        async with httpx.AsyncClient(base_url=site, timeout=60, limits=httpx.Limits(max_connections=80)) as client:
            # An unknown resume link: a query per request, answered 404.
            return await asyncio.gather(*(client.get(f"/resume/{i:040x}/") for i in range(300)))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        statuses = {answer.status_code for answer in asyncio.run(burst())}
    finally:
        done.set()
        watcher.join()
        server.stop()
    assert statuses == {404}, statuses
    assert 0 < max(counts) <= POOL, counts
