"""Benchmark lab runs: what live objectives cost the AWS endpoint, and how fast a tick reaches the page.

    .venv/bin/python scripts/bench_labs.py [--seconds 5] [--count 5000] [--clients 8] [--rounds 3] [--fresh-lab] [--runs 50]

Starts kmslab (kmslab.serve, a temporary SQLite database) on a free port on
127.0.0.1, then measures two things.

Throughput: Encrypt of 4 KB through /aws/ from --clients threads, each with
its own boto3 client, (a) as the admin of a plain sandbox from `manage.py
sandbox create` with a key it creates and (b) as bob in a lab run of
iam-vs-key-policy from `manage.py labs start`, with alias/orders, once its
key policy lets bob Encrypt and also PutKeyPolicy (so the run never completes
and stays evaluated). In (b) every Encrypt is a record of bob's, which the
lab's trail checks read, so each one triggers a (coalesced, background)
evaluation of the run's objectives: that is the cost measured. The two phases
alternate for --rounds rounds, since the machine is noisy; prints each
round (with the lab run's trail size: each evaluation reads all of it), the
medians of calls/s and server CPU per call, and lab / plain (target >= 0.85).
--fresh-lab starts a new lab run, with an empty trail, for each round.

Tick latency: --runs fresh lab runs of iam-vs-key-policy (started --parallel
at a time, each a Django start-up). For each, claims it with its console URL
to get a session cookie, opens the lab websocket with that cookie and a
same-host Origin, reads the initial state, then as admin puts a key policy
naming bob for kms:Encrypt and kms:Decrypt and, --pause later, as bob
encrypts with alias/orders. Latency = from just before bob's Encrypt is sent
to the socket receiving the bob-encrypts objective as done. Prints p50, p99
and max (target p99 < 500 ms), and delivered/runs. Everything is bounded:
phases by --seconds and --count, each wait by a timeout.
"""
import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import boto3
import httpx
from botocore.config import Config
from websockets.asyncio.client import connect

from local_server import ROOT, Kmslab

LAB = "iam-vs-key-policy"
KEY = "alias/orders"
TICK = 'data-objective="bob-encrypts" data-done="true"'
PLAINTEXT = os.urandom(4096)


def kms_client(server, principal):
    return boto3.session.Session().client(
        "kms", region_name="us-east-1", endpoint_url=f"{server.base}/aws/",
        aws_access_key_id=principal["access_key_id"], aws_secret_access_key=principal["secret_access_key"],
        config=Config(retries={"max_attempts": 0}, connect_timeout=5, read_timeout=30,
                      max_pool_connections=2),
    )


def principal(created, name):
    return next(p for p in created["principals"]
                if p.get("name") == name or p["arn"].endswith(f":user/{name}"))


def start_labs(server, count, parallel):
    """`manage.py labs start --json`, `parallel` at a time (each is a Django start-up)."""
    command = [sys.executable, "manage.py", "labs", "start", LAB, "--json", "--base-url", server.base]
    started = []
    while len(started) < count:
        running = [subprocess.Popen(command, cwd=ROOT, env=server.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
                   for _ in range(min(parallel, count - len(started)))]
        for p in running:
            out, err = p.communicate(timeout=180)
            if p.returncode:
                raise RuntimeError(f"labs start failed ({p.returncode}): {err.strip()[-2000:]}")
            started.append(json.loads(out))
    return started


# Throughput ---------------------------------------------------------------------------------------

def encrypt_phase(server, clients, key_id, seconds, count):
    """(calls/s, server CPU ms per call, errors, calls) for Encrypt 4 KB from the given boto3 clients."""
    for kms in clients:  # warm-up: open each client's connection
        kms.encrypt(KeyId=key_id, Plaintext=PLAINTEXT)
    done = [0] * len(clients)
    errors = [0] * len(clients)
    per_client = count // len(clients)
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    stop_at = started + seconds

    def work(i):
        kms = clients[i]
        while done[i] < per_client and time.monotonic() < stop_at:
            try:
                kms.encrypt(KeyId=key_id, Plaintext=PLAINTEXT)
            except Exception:
                errors[i] += 1
            done[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    elapsed = time.monotonic() - started
    cpu = server.cpu_seconds() - cpu_before
    calls = sum(done)
    return calls / elapsed, 1000 * cpu / max(calls, 1), sum(errors), calls


def throughput(server, args):
    plain = json.loads(server.manage("sandbox", "create", "--json", "--base-url", server.base))
    plain_admin = principal(plain, "admin")
    plain_clients = [kms_client(server, plain_admin) for _ in range(args.clients)]
    plain_key = plain_clients[0].create_key(Description="bench")["KeyMetadata"]["Arn"]

    def new_lab():
        lab = start_labs(server, 1, 1)[0]
        bob = principal(lab, "bob")
        kms_client(server, principal(lab, "admin")).put_key_policy(
            KeyId=lab["keys"][KEY], PolicyName="default",
            Policy=key_policy(bob["arn"], ["kms:Encrypt", "kms:PutKeyPolicy"]))
        return lab, [kms_client(server, bob) for _ in range(args.clients)], lab["keys"][KEY]

    lab, lab_clients, lab_key = new_lab()
    print(f"Throughput: Encrypt 4 KB through /aws/, {args.clients} boto3 clients, "
          f"each phase up to {args.seconds:g} s or {args.count} calls"
          f"{'; a fresh lab run each round' if args.fresh_lab else ''}")
    rates = {"plain": [], "lab": []}
    cpus = {"plain": [], "lab": []}
    in_trail = 0  # Encrypt records already in the lab run's trail, which every evaluation reads
    for n in range(1, args.rounds + 1):
        if args.fresh_lab and n > 1:
            lab, lab_clients, lab_key = new_lab()
            in_trail = 0
        for name, clients, key_id in (("plain", plain_clients, plain_key), ("lab", lab_clients, lab_key)):
            before = in_trail
            rps, cpu, errors, calls = encrypt_phase(server, clients, key_id, args.seconds, args.count)
            rates[name].append(rps)
            cpus[name].append(cpu)
            trail = ""
            if name == "lab":
                in_trail += calls + len(clients)  # and the warm-up calls
                trail = f"  lab trail {before} -> {in_trail} Encrypt records"
            print(f"  round {n}  {name:5}  {calls:6d} calls  {rps:7.1f} calls/s  "
                  f"server CPU {cpu:5.2f} ms/call  errors {errors}{trail}")
    status = json.loads(server.manage("labs", "status", lab["sandbox"], "--json"))
    left = [o["id"] for o in status["objectives"] if not o["done"]]
    plain_rps, lab_rps = statistics.median(rates["plain"]), statistics.median(rates["lab"])
    print(f"  median  plain {plain_rps:7.1f} calls/s ({statistics.median(cpus['plain']):5.2f} ms CPU/call)   "
          f"lab {lab_rps:7.1f} calls/s ({statistics.median(cpus['lab']):5.2f} ms CPU/call)")
    ratio = lab_rps / plain_rps
    print(f"  lab / plain = {ratio:.2f}  (target >= 0.85: {'met' if ratio >= 0.85 else 'NOT met'})"
          f"   the lab run still evaluated (objectives not met: {', '.join(left) or 'none'})")
    return ratio


# Tick latency -------------------------------------------------------------------------------------

def key_policy(bob_arn, actions=("kms:Encrypt", "kms:Decrypt")):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "LabAdmin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/admin"},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": bob_arn}, "Action": list(actions), "Resource": "*"}]})


async def drain(ws, seconds):
    """Read and discard messages for `seconds`; returns them."""
    seen, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            seen.append(await asyncio.wait_for(ws.recv(), left))
        except asyncio.TimeoutError:
            break
    return seen


async def one_tick(server, run, pause, timeout):
    """(latency ms or None, bob's Encrypt round trip ms, what went wrong or None)."""
    with httpx.Client(base_url=server.base, timeout=30) as browser:
        link = urlparse(run["console_url"]).path
        browser.get(link)  # the confirmation page, which sets the CSRF cookie its Open sandbox form posts
        claimed = browser.post(link, data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]})
        if claimed.status_code != 302:
            return None, None, f"claim: HTTP {claimed.status_code}"
        cookie = browser.cookies["sessionid"]
    admin = kms_client(server, principal(run, "admin"))
    bob_principal = principal(run, "bob")
    bob = kms_client(server, bob_principal)
    key_id = run["keys"][KEY]
    url = f"ws://{server.host}/ws/sandboxes/{run['sandbox']}/lab/"
    ws = await asyncio.wait_for(connect(url, additional_headers={"Cookie": f"sessionid={cookie}"},
                                        origin=server.base, max_size=2**22, open_timeout=10), 15)
    try:
        hello = await asyncio.wait_for(ws.recv(), 10)
        if 'id="lab-progress"' not in hello or 'id="lab-live"' not in hello:
            return None, None, f"unexpected first message: {hello[:200]!r}"
        if TICK in hello:
            return None, None, "bob-encrypts already done before the calls"
        await asyncio.to_thread(admin.put_key_policy, KeyId=key_id, PolicyName="default",
                                Policy=key_policy(bob_principal["arn"]))
        early = await drain(ws, pause)  # a learner takes a moment between the two calls
        if any(TICK in m for m in early):
            return None, None, "bob-encrypts ticked before bob's Encrypt"

        def encrypt_as_bob():
            bob.encrypt(KeyId=key_id, Plaintext=b"x")
            return time.perf_counter()

        started = time.perf_counter()
        call = asyncio.create_task(asyncio.to_thread(encrypt_as_bob))
        latency, problem = None, None
        deadline = time.monotonic() + timeout
        try:
            while latency is None:
                message = await asyncio.wait_for(ws.recv(), max(0.001, deadline - time.monotonic()))
                if TICK in message:
                    latency = (time.perf_counter() - started) * 1000
        except asyncio.TimeoutError:
            problem = f"no bob-encrypts tick within {timeout:g} s"
        try:
            call_ms = (await asyncio.wait_for(call, 30) - started) * 1000
        except Exception as e:  # noqa: BLE001
            return None, None, f"bob's Encrypt failed: {e!r}"
        return latency, call_ms, problem
    finally:
        await ws.close()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def tick_latency(server, args, log_path):
    began = time.monotonic()
    runs = start_labs(server, args.runs, args.parallel)
    print(f"Tick latency: {args.runs} lab runs of {LAB} started in {time.monotonic() - began:.1f} s "
          f"({args.parallel} at a time); bob's Encrypt sent -> bob-encrypts done on the lab websocket, "
          f"{args.pause * 1000:.0f} ms after admin's PutKeyPolicy")
    latencies, calls, problems = [], [], []
    for run in runs:
        latency, call_ms, problem = asyncio.run(one_tick(server, run, args.pause, args.timeout))
        if latency is not None:
            latencies.append(latency)
        if call_ms is not None:
            calls.append(call_ms)
        if problem:
            problems.append(f"{run['sandbox']}: {problem}")
    print(f"  delivered {len(latencies)}/{len(runs)}")
    for problem in problems[:10]:
        print(f"  ! {problem}")
    if latencies:
        p99 = percentile(latencies, 99)
        print(f"  p50 {statistics.median(latencies):6.1f} ms  p99 {p99:6.1f} ms  max {max(latencies):6.1f} ms"
              f"  (target p99 < 500 ms: {'met' if p99 < 500 and not problems else 'NOT met'})")
    if calls:
        print(f"  bob's Encrypt round trip alone: p50 {statistics.median(calls):6.1f} ms  "
              f"max {max(calls):6.1f} ms")
    if problems:
        tail = Path(log_path).read_text(errors="replace").splitlines()[-40:]
        print(f"  last lines of the server log ({log_path}):", *tail, sep="\n    ")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="upper bound on each throughput phase")
    parser.add_argument("--count", type=int, default=5000, help="upper bound on calls in a throughput phase")
    parser.add_argument("--clients", type=int, default=8, help="concurrent boto3 clients (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="plain/lab rounds, alternating (default 3)")
    parser.add_argument("--fresh-lab", action="store_true", help="a new lab run (empty trail) for each round")
    parser.add_argument("--runs", type=int, default=50, help="lab runs for the tick latency (default 50)")
    parser.add_argument("--parallel", type=int, default=10, help="`labs start` commands at a time")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between PutKeyPolicy and bob's Encrypt")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each tick")
    parser.add_argument("--skip", choices=["throughput", "ticks"], help="leave one of the two out")
    args = parser.parse_args()
    if args.clients > 64 or args.runs > 500 or args.rounds > 20 or args.seconds > 120 or args.parallel > 50:
        parser.error("at most 64 clients, 500 runs, 20 rounds, 120 s a phase, 50 starts at a time")

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kmslab-bench-labs-") as tmp:
        server = Kmslab(tmp)
        try:
            print(f"kmslab on {server.host}, {os.cpu_count()} CPUs, load average {load_before:.1f}")
            if args.skip != "throughput":
                throughput(server, args)
            if args.skip != "ticks":
                tick_latency(server, args, Path(tmp) / "server.log")
        finally:
            server.stop()
    print(f"load average {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
