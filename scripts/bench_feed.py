"""Benchmark the live CloudTrail feed: how fast a call reaches every open trail page.

    .venv/bin/python scripts/bench_feed.py [--clients 50 200] [--calls 40] [--interval 0.1]

Starts kmslab (kmslab.serve, a temporary SQLite database, a fresh sandbox from
`manage.py sandbox create`) on a free port on 127.0.0.1, claims the sandbox
with its console URL to get a session cookie, and opens N websockets to the
sandbox's feed with that cookie and a same-host Origin, as N browser tabs
would. Then it makes --calls KMS calls through the AWS endpoint with boto3
(CreateKey and Encrypt, one at a time, --interval apart) and, for every row
that reaches every socket, the latency from just before the call was sent to
the moment the socket received the row. Prints p50, p99 and max latency and
delivered/expected for each N. Everything is bounded: connections and calls
by the arguments, each wait by a timeout.
"""
import argparse
import asyncio
import json
import re
import statistics
import tempfile
import time
from urllib.parse import urlparse

import boto3
import httpx
from botocore.config import Config
from websockets.asyncio.client import connect

from local_server import Kmslab

ROW = re.compile(r'id="rec-([0-9a-f-]{36})"')


def new_sandbox(server):
    """(sandbox id, session cookie, boto3 KMS client for the admin of the first account)."""
    created = json.loads(server.manage("sandbox", "create", "--json", "--base-url", server.base))
    with httpx.Client(base_url=server.base) as browser:
        link = urlparse(created["console_url"]).path
        browser.get(link)  # the confirmation page, which sets the CSRF cookie its Open sandbox form posts
        claimed = browser.post(link, data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]})
        assert claimed.status_code == 302, claimed.status_code
        cookie = browser.cookies["sessionid"]
    admin = created["principals"][0]
    kms = boto3.client(
        "kms", region_name="us-east-1", endpoint_url=f"{server.base}/aws/",
        aws_access_key_id=admin["access_key_id"], aws_secret_access_key=admin["secret_access_key"],
        config=Config(retries={"max_attempts": 1}),
    )
    return created["id"], cookie, kms


async def listen(ws, received):
    """Record (event id, receipt time) for every row this socket gets."""
    async for message in ws:
        now = time.perf_counter()
        for event_id in ROW.findall(message):
            received.append((event_id, now))


async def run(server, clients, calls, interval):
    sandbox_id, cookie, kms = new_sandbox(server)
    url = f"ws://127.0.0.1:{server.port}/ws/sandboxes/{sandbox_id}/trail/"
    headers = {"Cookie": f"sessionid={cookie}"}
    sockets, inboxes, tasks = [], [], []
    for _ in range(clients):
        ws = await asyncio.wait_for(
            connect(url, additional_headers=headers, origin=server.base, max_size=2**20, open_timeout=10), 15)
        hello = await asyncio.wait_for(ws.recv(), 5)
        assert "connected" in hello, hello
        inbox = []
        sockets.append(ws)
        inboxes.append(inbox)
        tasks.append(asyncio.create_task(listen(ws, inbox)))

    # Calls go out from a worker thread, so this loop keeps reading the sockets meanwhile.
    sent = []  # send times, in call order
    key_id = (await asyncio.to_thread(kms.create_key))["KeyMetadata"]["KeyId"]
    first = await asyncio.to_thread(lambda: trail_ids(server, sandbox_id, cookie))
    cpu = server.cpu_seconds()
    for n in range(calls):
        start = time.perf_counter()
        await asyncio.to_thread(kms.encrypt, KeyId=key_id, Plaintext=b"x" * 64)
        sent.append(start)
        await asyncio.sleep(interval)
    await asyncio.sleep(1.0)  # the last rows' grace period; anything later counts as lost
    cpu = server.cpu_seconds() - cpu
    for ws in sockets:
        await ws.close()
    for task in tasks:
        task.cancel()

    ids = (await asyncio.to_thread(lambda: trail_ids(server, sandbox_id, cookie)))[len(first):]
    assert len(ids) == calls, (len(ids), calls)
    sent_at = dict(zip(ids, sent))
    latencies = [(at - sent_at[event_id]) * 1000
                 for inbox in inboxes for event_id, at in inbox if event_id in sent_at]
    return latencies, calls * clients, cpu / calls


def trail_ids(server, sandbox_id, cookie):
    """The sandbox's event ids in order, from the console's CloudTrail log file download."""
    response = httpx.get(f"{server.base}/s/{sandbox_id}/trail.json", cookies={"sessionid": cookie}, timeout=30)
    return [r["eventID"] for r in response.json()["Records"]]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between calls")
    args = parser.parse_args()
    if max(args.clients) > 1000 or args.calls > 1000:
        parser.error("at most 1000 clients and 1000 calls")
    with tempfile.TemporaryDirectory(prefix="kmslab-bench-feed-") as tmp:
        server = Kmslab(tmp)
        try:
            print(f"kmslab on 127.0.0.1:{server.port}; {args.calls} Encrypt calls through /aws/, "
                  f"{args.interval * 1000:.0f} ms apart; latency = call sent -> row received")
            for clients in args.clients:
                latencies, expected, cpu = asyncio.run(run(server, clients, args.calls, args.interval))
                print(f"N={clients:4d}  delivered {len(latencies)}/{expected}  "
                      f"p50 {statistics.median(latencies):6.1f} ms  p99 {percentile(latencies, 99):6.1f} ms  "
                      f"max {max(latencies):6.1f} ms  server CPU {cpu * 1000:5.1f} ms/call")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
