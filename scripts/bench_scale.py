"""Calls per second against the number of keys in one sandbox.

Encrypt (4 KB), Decrypt, CreateKey and ListKeys (its first page, Limit 10) with 10,
1,000 and 10,000 keys in the sandbox, and CloudTrail LookupEvents (a first page of
10, and one of 10 CreateKey events, found under the newer records of the calls
measured before) with a trail holding those keys' CreateKey records, in three layers:
  core      kmslab.cloud.calls.call on an in-memory world
  sqlite    kmslab.sandboxes.runner.run on a fresh SQLite file
  postgres  the same on a fresh database of the server --postgres names
            (default KMSLAB_TEST_POSTGRES_URL; the row is left out without one)

Each layer runs in a process of its own (settings read the database once).
The world of each size is made in the core with CreateKey and stored once,
with its trail, as a lab's world is; only the calls measured go through the
runner. The core has no stored trail, so LookupEvents is measured through the
runner only. A figure is the median of --rounds rounds of about --seconds each, the sizes taking
turns; "x10" is the rate over the same row's rate at 10 keys. CreateKey runs
last, as its keys add to the world while it is measured. Rates per wall-clock
second are the target's measure; rates per CPU second of the bench's own
process are printed too, as they stay honest when other work shares the
machine (on PostgreSQL they leave out the server's CPU). Before each
operation's rounds on PostgreSQL the bench runs ANALYZE, as autovacuum would.
Target: every row >= 0.8 x10 at 10,000.

    .venv/bin/python scripts/bench_scale.py [--sizes 10,1000,10000] [--seconds 1] [--rounds 3]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# CreateKey last: each one it makes adds a key to the world the next operation would run on.
# Each row of the table: the (service, operation) it calls.
OPERATIONS = {
    "Encrypt": ("kms", "Encrypt"),
    "Decrypt": ("kms", "Decrypt"),
    "ListKeys": ("kms", "ListKeys"),
    "LookupEvents": ("cloudtrail", "LookupEvents"),
    "LookupEvents CreateKey": ("cloudtrail", "LookupEvents"),
    "CreateKey": ("kms", "CreateKey"),
}
TARGET = 0.8


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,1000,10000", help="keys in the sandbox, comma-separated")
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("KMSLAB_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL; the bench makes and drops a database of its own there")
    parser.add_argument("--layer", help=argparse.SUPPRESS)  # a child process: one layer, JSON rows out
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    if args.layer:
        return _child(args.layer, sizes, args)

    layers = ["core", "sqlite"] + (["postgres"] if args.postgres else [])
    rates = {}
    for layer in layers:
        command = [sys.executable, __file__, "--layer", layer, "--sizes", args.sizes,
                   "--seconds", str(args.seconds), "--rounds", str(args.rounds)]
        if args.postgres:
            command += ["--postgres", args.postgres]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            row = json.loads(line)
            rates[row["layer"], row["operation"], row["keys"]] = row

    for measure, title in (("wall", "calls per wall-clock second"),
                           ("cpu", "calls per CPU second of the bench's process (PostgreSQL's own CPU not counted)")):
        print(title)
        head = "".join(f"{n:>10,} keys" for n in sizes)
        print(f"{'layer':<9} {'operation':<21}{head}  x10 at {sizes[-1]:,}")
        met = total = 0
        for layer in layers:
            for operation in OPERATIONS:
                if (layer, operation, sizes[0]) not in rates:
                    continue
                row = [rates[layer, operation, n][measure] for n in sizes]
                ratio = row[-1] / row[0]
                met, total = met + (ratio >= TARGET), total + 1
                cells = "".join(f"{rate:>15,.0f}" for rate in row)
                print(f"{layer:<9} {operation:<21}{cells}  {ratio:.2f} {'met' if ratio >= TARGET else 'MISSED'}")
        print(f"target (>= {TARGET} of the rate at {sizes[0]:,} keys): {met}/{total} rows met\n")


def _child(layer, sizes, args):
    os.environ["KMSLAB_VAR_DIR"] = tempfile.mkdtemp(prefix="kmslab-bench-")
    os.environ.pop("KMSLAB_DATABASE_URL", None)
    database = None
    if layer == "postgres":
        import psycopg

        database = f"kmslab_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {database}")
        os.environ["KMSLAB_DATABASE_URL"] = urlunsplit(urlsplit(args.postgres)._replace(path=f"/{database}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kmslab.settings")
    sys.path.insert(0, str(ROOT))
    try:
        _measure(layer, sizes, args)
    finally:
        if database:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE {database} WITH (FORCE)")  # the pool still holds connections


def _measure(layer, sizes, args):
    import django

    django.setup()
    from django.core.management import call_command

    from kmslab.cloud import calls, principals, seed
    from kmslab.sandboxes import runner
    from kmslab.sandboxes.master_key import master_key

    if layer != "core":
        call_command("migrate", verbosity=0)
    plaintext = os.urandom(4096)
    setups = []
    for size in sizes:
        world, creds = seed.default_world(master_key())
        access_key = creds[0]["access_key_id"]
        caller = principals.caller_for_access_key(world, access_key)
        created = [calls.call(world, caller, "kms", "CreateKey", {}) for _ in range(size)]
        key_ids = [_ok(outcome)["KeyMetadata"]["KeyId"] for outcome in created]
        if layer == "core":
            def do(row, request, world=world, caller=caller):
                return calls.call(world, caller, *OPERATIONS[row], request)
        else:
            history = [(outcome.record, outcome.explanations) for outcome in created]
            sandbox, _ = runner.create_sandbox(owner="bench", name=f"{size} keys", seeded=(world, creds),
                                               history=history)

            def do(row, request, sandbox_id=sandbox.id, access_key=access_key):
                return runner.run(sandbox_id, lambda w: principals.caller_for_access_key(w, access_key),
                                  *OPERATIONS[row], request)

        key_id = key_ids[len(key_ids) // 2]
        blob = _ok(do("Encrypt", {"KeyId": key_id, "Plaintext": plaintext}))["CiphertextBlob"]
        requests = {
            "Encrypt": {"KeyId": key_id, "Plaintext": plaintext},
            "Decrypt": {"CiphertextBlob": blob},
            # A first page every size fills: a page of 100 entries costs more than one of 10 whatever the world holds.
            "ListKeys": {"Limit": 10},
            "LookupEvents": {"MaxResults": 10},
            "LookupEvents CreateKey": {"MaxResults": 10,
                                     "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "CreateKey"}]},
            "CreateKey": {},
        }
        measured = [row for row, (service, _) in OPERATIONS.items() if layer != "core" or service != "cloudtrail"]
        for operation in measured:
            _ok(do(operation, requests[operation]))
        setups.append((size, do, requests))
    # Rounds of the sizes in turn, so that other work on the machine weighs on each alike.
    for operation in measured:
        if layer == "postgres":
            # Autovacuum keeps a running server's statistics current; this bench adds thousands
            # of records a minute to a new database, faster than it looks, and without statistics
            # PostgreSQL reads LookupEvents' first page by sorting the sandbox's whole trail.
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        rates = {size: [] for size in sizes}
        for _ in range(args.rounds):
            for size, do, requests in setups:
                rates[size].append(_round(lambda: do(operation, requests[operation]), args.seconds))
        for size in sizes:
            wall = statistics.median(r[0] for r in rates[size])
            cpu = statistics.median(r[1] for r in rates[size])
            print(json.dumps({"layer": layer, "operation": operation, "keys": size, "wall": wall, "cpu": cpu}),
                  flush=True)


def _ok(outcome):
    if outcome.error is not None:
        raise SystemExit(f"failed: {outcome.error.code}: {outcome.error.message}")
    return outcome.response


def _round(fn, seconds):
    """(calls per wall-clock second, calls per CPU second of this process) over about `seconds`."""
    count, start, start_cpu = 0, time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed, count / max(time.process_time() - start_cpu, 1e-9)


if __name__ == "__main__":
    main()
