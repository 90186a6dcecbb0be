"""Benchmark the AWS endpoint: Encrypt and Decrypt over HTTP, kmslab beside moto's server.

    .venv/bin/python scripts/bench_api.py [--seconds 5] [--count 2000] [--clients 8] [--rounds 5]

Starts kmslab (kmslab.serve, a temporary SQLite database, a fresh sandbox) on a free
port on 127.0.0.1 and, if moto[server] is installed (requirements-bench.txt),
moto's server too; then Encrypt of 4 KB and Decrypt of its ciphertext,
sequentially and from N concurrent clients. Each phase runs in --rounds
short rounds, the servers taking turns, so that on a shared machine both
meet its other load alike. Each client keeps
one HTTP connection open and sends one request signed by botocore's own
SigV4 signer (signed once: the signature stays valid 15 minutes, and the
server still checks it on every call), so the client costs little beside
the server. Prints calls/s, p50 and p99 latency and the server's CPU per
call. Every phase is bounded by --count or --seconds.
"""
import argparse
import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local_server import Kmslab, cpu_seconds, free_port, stop, wait_for_port

REGION = "us-east-1"


class Target:
    """A server under test: where it listens, the credentials to sign with, its process."""

    def __init__(self, name, host, path, access_key, secret, process, stop):
        self.name, self.host, self.path = name, host, path
        self.credentials = Credentials(access_key, secret)
        self.process = process
        self.stop = stop

    def signed(self, operation, payload):
        body = json.dumps(payload).encode()
        request = AWSRequest(
            method="POST", url=f"http://{self.host}{self.path}", data=body,
            headers={"X-Amz-Target": f"TrentService.{operation}", "Content-Type": "application/x-amz-json-1.1"},
        )
        SigV4Auth(self.credentials, "kms", REGION).add_auth(request)
        return body, dict(request.headers.items())

    def call(self, operation, payload):
        body, headers = self.signed(operation, payload)
        connection = http.client.HTTPConnection(self.host, timeout=30)
        connection.request("POST", self.path, body, headers)
        response = connection.getresponse()
        answer = json.loads(response.read())
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"{self.name} {operation}: {response.status} {answer}")
        return answer

    def cpu_seconds(self):
        return cpu_seconds(self.process)


def start_kmslab(var_dir):
    server = Kmslab(var_dir)
    principal = json.loads(server.manage("sandbox", "create", "--json"))["principals"][0]
    return Target("kmslab", server.host, "/aws/", principal["access_key_id"], principal["secret_access_key"],
                  server.process, server.stop)


def start_moto():
    try:
        import moto.server  # noqa: F401
    except ImportError:
        return None
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process)
    return Target("moto", f"127.0.0.1:{port}", "/", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                  process, lambda: stop(process))


def run_client(target, body, headers, stop_at, limit, latencies):
    connection = http.client.HTTPConnection(target.host, timeout=30)
    errors = 0
    while len(latencies) < limit and time.monotonic() < stop_at:
        started = time.perf_counter()
        connection.request("POST", target.path, body, headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        errors += response.status != 200
    connection.close()
    return errors


def run_round(target, body, headers, clients, seconds, count):
    """(latencies, seconds taken, server CPU seconds, non-200 answers) of `clients` clients at once."""
    per_client = [[] for _ in range(clients)]
    failures = [0] * clients
    cpu_before, started = target.cpu_seconds(), time.monotonic()
    stop_at = started + seconds

    def client(i):
        failures[i] = run_client(target, body, headers, stop_at, count // clients, per_client[i])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    cpu = target.cpu_seconds() - cpu_before
    return [x for each in per_client for x in each], elapsed, cpu, sum(failures)


def phases(targets, payloads, operation, clients, args):
    """One row per server: `args.rounds` rounds of the phase, taking the servers in turn,
    so that each sees the machine's other load about as much as the other does."""
    requests = [target.signed(operation, payload[operation]) for target, payload in zip(targets, payloads)]
    for target, (body, headers) in zip(targets, requests):
        run_client(target, body, headers, time.monotonic() + 1, 50, [])  # warm-up
    totals = [([], 0.0, 0.0, 0) for _ in targets]
    for _ in range(args.rounds):
        for i, (target, (body, headers)) in enumerate(zip(targets, requests)):
            latencies, elapsed, cpu, failures = run_round(target, body, headers, clients, args.seconds / args.rounds,
                                                          args.count * clients // args.rounds)
            total = totals[i]
            totals[i] = (total[0] + latencies, total[1] + elapsed, total[2] + cpu, total[3] + failures)
    rows = []
    for target, (latencies, elapsed, cpu, failures) in zip(targets, totals):
        latencies.sort()
        calls = len(latencies)
        rows.append({
            "server": target.name, "operation": operation, "clients": clients, "calls": calls,
            "rps": calls / elapsed, "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(calls - 1, int(calls * 0.99))],
            "cpu_ms_per_call": 1000 * cpu / calls, "non_200": failures,
        })
    return rows


def prepare(target):
    """A key and the two requests to repeat: Encrypt of 4 KB and Decrypt of its ciphertext."""
    key_id = target.call("CreateKey", {"Description": "bench"})["KeyMetadata"]["KeyId"]
    plaintext = base64.b64encode(os.urandom(4096)).decode()
    ciphertext = target.call("Encrypt", {"KeyId": key_id, "Plaintext": plaintext})["CiphertextBlob"]
    return {"Encrypt": {"KeyId": key_id, "Plaintext": plaintext}, "Decrypt": {"CiphertextBlob": ciphertext}}


def bench(targets, args):
    payloads = [prepare(target) for target in targets]
    rows = []
    for clients in (1, args.clients):
        for operation in ("Encrypt", "Decrypt"):
            rows += phases(targets, payloads, operation, clients, args)
    return sorted(rows, key=lambda r: (r["server"] != "kmslab", r["clients"], r["operation"] != "Encrypt"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="upper bound on each phase (default 5)")
    parser.add_argument("--count", type=int, default=2000, help="upper bound on calls per client in a phase")
    parser.add_argument("--rounds", type=int, default=5,
                        help="each phase in this many rounds, the servers in turn (default 5)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kmslab-bench-") as var_dir:
        targets = [start_kmslab(var_dir)]
        try:
            moto = start_moto()
            if moto is None:
                print("moto[server] is not installed: benchmarking kmslab only", file=sys.stderr)
            else:
                targets.append(moto)
            rows = bench(targets, args)
        finally:
            for target in targets:
                target.stop()

    if args.json:
        print(json.dumps(rows, indent=2))
        return
    # Client and servers share this machine's cores: anything else running skews calls/s
    # (CPU ms per call much less so).
    print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs")
    print(f"{'server':8} {'operation':10} {'clients':>7} {'calls':>6} {'calls/s':>8} {'p50 ms':>7} {'p99 ms':>7}"
          f" {'CPU ms/call':>11} {'non-200':>7}")
    for r in rows:
        print(f"{r['server']:8} {r['operation'] + ' 4 KB':10} {r['clients']:>7} {r['calls']:>6} {r['rps']:>8.0f}"
              f" {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} {r['cpu_ms_per_call']:>11.2f} {r['non_200']:>7}")
    by = {(r["server"], r["operation"], r["clients"]): r for r in rows}
    for operation in ("Encrypt", "Decrypt"):
        moto = by.get(("moto", operation, args.clients))
        if moto:
            kmslab = by[("kmslab", operation, args.clients)]
            # On a shared machine calls/s follow whatever else runs; CPU per call hardly does.
            print(f"{operation} 4 KB, {args.clients} clients: kmslab / moto = {kmslab['rps'] / moto['rps']:.2f}x "
                  f"calls/s; moto's CPU per call / kmslab's = {moto['cpu_ms_per_call'] / kmslab['cpu_ms_per_call']:.2f}x")


if __name__ == "__main__":
    main()
