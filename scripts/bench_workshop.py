"""Benchmark an instructor-run workshop: N learners solving a lab while the instructor's dashboard watches.

    .venv/bin/python scripts/bench_workshop.py [--learners 50,200] [--configs sqlite,postgres] [--seconds 60]
                                               [--dashboards 1]

Per configuration (sqlite: one kmslab.serve process, SQLite, the in-memory channel
layer; postgres: two kmslab.serve workers on two ports over a fresh PostgreSQL
database and Redis) and per N: `manage.py instructor create` and `workshop
create` (encryption-context, explicit-deny), then N learners, each a browser
session (httpx): GET and POST /join/ with the code, POST the lab's start, GET
the lab run's page and scrape the principals' keys, the keys and the files
(templates/labs/_credentials.html). Each learner then makes one boto3 call
every 1-2 s (random), the lab's [[solve]] steps interleaved with filler calls
(admin DescribeKey, bob Encrypt with tenant=acme, bob's denied DescribeKey),
so objectives complete over the --seconds. In the postgres configuration
learners alternate between the two workers, and so do dashboards.

--dashboards websockets log in as the instructor and open
/ws/workshops/<id>/dashboard/, recording when each (learner, objective) cell
arrives as data-done="true". Which solve step meets which objective comes from
running the solve script once in the core alone (kmslab.labs.trial).

Prints per configuration and N: calls/s served, errors (a call answered
otherwise than expected, or an exception), the dashboard delay p50/p99/max
(the completing call answered -> its cell on the socket), and missed cells per
dashboard (met but never arrived by the end plus --grace seconds). Targets at
N=200: 0 errors, 0 missed, p99 < 1 s.
"""
import argparse
import asyncio
import html
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import boto3
import botocore
import httpx
from botocore.config import Config
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kmslab.labs import catalog, trial  # noqa: E402
from kmslab.labs.catalog import placeholders, substitute  # noqa: E402
from kmslab.labs.setup import decode_blobs  # noqa: E402
from tests.api.live import Server  # noqa: E402

LAB = "encryption-context"
LABS = "encryption-context,explicit-deny"
POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/{}"
PASSWORD = "bench-workshop-Pw-41!"
SERVER_ENV = {"KMSLAB_CREATE_RATE": "1000000", "KMSLAB_GUESS_RATE": "1000000", "KMSLAB_LOG_LEVEL": "ERROR"}

PRINCIPAL = re.compile(r'<tr data-principal="([^"]+)".*?data-access-key-id>([^<]+)<.*?data-secret-access-key>([^<]+)<',
                       re.S)
KEY = re.compile(r'<tr data-key="([^"]+)"><th scope="row"><code>[^<]*</code></th><td><code>([^<]+)</code>')
FILE = re.compile(r'<tr data-file="([^"]+)"><th scope="row">[^<]*</th><td><code class="file">([^<]*)</code>')
SESSION, SESSION_LOCK = boto3.session.Session(), threading.Lock()
TD = re.compile(r"<td\b[^>]*>")
ATTR = re.compile(r'(data-[a-z-]+)="([^"]*)"')


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# Which solve step meets which objective -----------------------------------------------------------

def objective_steps(slug):
    """{objective id: index of the solve step after which the core alone has it met}."""
    run = trial.Trial(slug)
    met, steps = {}, 0

    def call(name, service, operation, request, with_mfa):
        nonlocal steps
        outcome = run.call(name, operation, service, with_mfa, **request)
        for objective in run.done:
            met.setdefault(objective, steps)
        steps += 1
        return (outcome.error.code if outcome.error else ""), outcome.response

    from kmslab.labs import solve
    solve.run(run.lab, run.keys, run.files, call, run.advance)
    return met


def solve_calls(lab, keys, files):
    """The solve script's calls, as (principal, service, operation, request, expected error or "")."""
    lookup = placeholders(keys, files)
    found = []
    for step in lab.solve:
        if step.get("advance") or step.get("import_material") or step.get("mfa") or step.get("save"):
            raise SystemExit(f"{lab.slug}: this benchmark runs plain solve steps only")
        service, _, operation = step["call"].partition(":")
        request = decode_blobs(service, operation, substitute(step.get("request", {}), lookup))
        expected = step.get("expect", "ok")
        found.append((step["as"], service, operation, request, "" if expected == "ok" else expected))
    return found


# Servers ------------------------------------------------------------------------------------------

class Config_:
    """The servers of one configuration, with what `manage.py` needs to reach their database."""

    def __init__(self, name, var_dir, redis_db):
        self.name, self.var_dir, self.database = name, var_dir, None
        env = dict(SERVER_ENV)
        if name == "postgres":
            import psycopg
            import redis

            self.database = f"kmslab_bench_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(POSTGRES, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self.database}"')
            env["KMSLAB_DATABASE_URL"] = urlunsplit(urlsplit(POSTGRES)._replace(path=f"/{self.database}"))
            env["KMSLAB_REDIS_URL"] = REDIS.format(redis_db)
            redis.Redis.from_url(env["KMSLAB_REDIS_URL"]).flushdb()
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True,
                           env={**os.environ, "KMSLAB_VAR_DIR": str(var_dir), **env}, timeout=300)
            self.servers = [Server(var_dir, **env), Server(var_dir, **env)]
        else:
            Server.migrate_database(var_dir)
            self.servers = [Server(var_dir, **env)]
        for server in self.servers:
            server.wait_until_ready()

    def manage(self, *args):
        return self.servers[0].manage(*args)

    def stop(self):
        for server in self.servers:
            server.stop()
        if self.database:
            import psycopg

            with psycopg.connect(POSTGRES, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


# Learners -----------------------------------------------------------------------------------------

class Learner:
    def __init__(self, base, workshop, name):
        self.base, self.name = base, name
        self.browser = httpx.Client(base_url=base, timeout=60)
        self.browser.get("/join/")
        csrf = self.browser.cookies["csrftoken"]
        joined = self.browser.post("/join/", data={"code": workshop["join_code"], "display_name": name,
                                                   "csrfmiddlewaretoken": csrf})
        if joined.status_code != 302:
            raise RuntimeError(f"{name} join: HTTP {joined.status_code} {joined.text[:300]}")
        started = self.browser.post(f"/workshops/{workshop['id']}/labs/{LAB}/start/",
                                    headers={"X-CSRFToken": self.browser.cookies["csrftoken"]})
        if started.status_code != 302:
            raise RuntimeError(f"{name} start: HTTP {started.status_code} {started.text[:300]}")
        page = self.browser.get(started.headers["location"])
        if page.status_code != 200:
            raise RuntimeError(f"{name} run page: HTTP {page.status_code}")
        self.principals = {n: (html.unescape(a), html.unescape(s)) for n, a, s in PRINCIPAL.findall(page.text)}
        self.keys = {a: html.unescape(k) for a, k in KEY.findall(page.text)}
        self.files = {f: html.unescape(v) for f, v in FILE.findall(page.text)}
        self.browser.close()
        self.clients = {}
        for principal, service in (("admin", "kms"), ("admin", "iam"), ("bob", "kms")):
            self.client(principal, service)  # made before the clock starts: a boto3 client costs ~0.1 s of CPU
        self.answered = []  # (step index or None for a filler, monotonic time answered, ok)

    def client(self, principal, service):
        if (principal, service) not in self.clients:
            access, secret = self.principals[principal]
            with SESSION_LOCK:  # one session (its loaded models) for every client; clients are thread-safe
                self.clients[principal, service] = SESSION.client(
                    service, endpoint_url=f"{self.base}/aws/", region_name="us-east-1",
                    aws_access_key_id=access, aws_secret_access_key=secret,
                    config=Config(retries={"max_attempts": 0}, connect_timeout=10, read_timeout=60,
                                  max_pool_connections=1))
        return self.clients[principal, service]

    def call(self, principal, service, operation, request):
        """The error code, "" for success."""
        client = self.client(principal, service)
        try:
            getattr(client, botocore.xform_name(operation))(**request)
            return ""
        except client.exceptions.ClientError as error:
            return error.response["Error"]["Code"]

    def plan(self, lab, rng):
        key = self.keys["alias/tenant-data"]
        fillers = [("admin", "kms", "DescribeKey", {"KeyId": key}, ""),
                   ("bob", "kms", "Encrypt", {"KeyId": key, "Plaintext": b"x", "EncryptionContext": {"tenant": "acme"}},
                    ""),
                   ("bob", "kms", "DescribeKey", {"KeyId": key}, "AccessDeniedException")]
        calls = []
        for i, step in enumerate(solve_calls(lab, self.keys, self.files)):
            calls += [(None, rng.choice(fillers)) for _ in range(rng.randint(0, 6))]
            calls.append((i, step))
        return calls, fillers

    def work(self, lab, stop_at, seed, stats):
        rng = random.Random(seed)
        calls, fillers = self.plan(lab, rng)
        time.sleep(rng.uniform(0, 2))
        while time.monotonic() < stop_at:
            step, (principal, service, operation, request, expected) = calls.pop(0) if calls else \
                (None, rng.choice(fillers))
            sent = time.monotonic()
            try:
                code = self.call(principal, service, operation, request)
                ok = code == expected
                if not ok:
                    stats["unexpected"].append(f"{self.name} {principal} {operation}: {code or 'ok'}, "
                                               f"expected {expected or 'ok'}")
            except Exception as e:  # noqa: BLE001
                ok = False
                stats["exceptions"].append(f"{self.name} {principal} {operation}: {e!r}")
            answered = time.monotonic()
            stats["latency"].append(answered - sent)
            self.answered.append((step, answered, ok))
            time.sleep(max(0.0, sent + rng.uniform(1, 2) - time.monotonic()))


# Dashboards ---------------------------------------------------------------------------------------

async def dashboard(base, workshop, arrivals, ready, stop):
    with httpx.Client(base_url=base, timeout=30) as browser:
        browser.get("/login/")
        logged = browser.post("/login/", data={"username": "bench", "password": PASSWORD,
                                               "csrfmiddlewaretoken": browser.cookies["csrftoken"]})
        if logged.status_code != 302:
            raise RuntimeError(f"instructor login: HTTP {logged.status_code}")
        cookie = browser.cookies["sessionid"]
    at = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    host = urlsplit(base).netloc
    url = f"ws://{host}/ws/workshops/{workshop['id']}/dashboard/?since=0&at={at}"
    arrivals.update({"_messages": 0, "_bytes": 0, "_disconnects": []})
    while not stop.is_set():
        try:
            async with connect(url, additional_headers={"Cookie": f"sessionid={cookie}"}, origin=base,
                               max_size=2**26, open_timeout=30) as ws:
                ready.set()
                while not stop.is_set():
                    try:
                        message = await asyncio.wait_for(ws.recv(), 0.5)
                    except asyncio.TimeoutError:
                        continue
                    now = time.monotonic()
                    for tag in TD.findall(message):
                        attrs = dict(ATTR.findall(tag))
                        if attrs.get("data-done") == "true" and "data-objective" in attrs:
                            arrivals.setdefault((html.unescape(attrs["data-learner"]), attrs["data-lab"],
                                                 attrs["data-objective"]), now)
                    arrivals["_messages"] += 1
                    arrivals["_bytes"] += len(message)
        except ConnectionClosed as closed:
            # As the page's websocket does, open it again; the first message then catches up (since=0, the
            # original `at`), so a cell can still arrive, late. Each is counted.
            arrivals["_disconnects"].append(f"{closed!r}")
            await asyncio.sleep(0.5)


def dashboards_thread(bases, workshop, count, ready_event, stop):
    """Runs `count` dashboards in one event loop in a thread; -> (thread, [arrivals per dashboard], errors)."""
    arrivals = [{} for _ in range(count)]
    errors = []
    stop_async = None

    async def main():
        nonlocal stop_async
        stop_async = asyncio.Event()
        readies = [asyncio.Event() for _ in range(count)]

        async def watch_stop():
            while not stop.is_set():
                await asyncio.sleep(0.1)
            stop_async.set()

        async def one(i):
            try:
                await dashboard(bases[i % len(bases)], workshop, arrivals[i], readies[i], stop_async)
            except Exception as e:  # noqa: BLE001
                errors.append(f"dashboard {i}: {e!r}")
                readies[i].set()

        async def all_ready():
            for r in readies:
                await r.wait()
            ready_event.set()

        await asyncio.gather(watch_stop(), all_ready(), *(one(i) for i in range(count)))

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    return thread, arrivals, errors


# One workshop -------------------------------------------------------------------------------------

def bench(config, n, args, lab, met_by_step, index):
    title = f"Bench {index}"
    workshop = json.loads(config.manage("workshop", "create", "--instructor", "bench", "--title", title,
                                        "--labs", LABS, "--json"))
    bases = [f"http://127.0.0.1:{s.port}" for s in config.servers]
    began = time.monotonic()
    names = [f"w{index}-learner-{i:03d}" for i in range(n)]
    with ThreadPoolExecutor(args.parallel) as pool:
        learners = list(pool.map(lambda i: Learner(bases[i % len(bases)], workshop, names[i]), range(n)))
    setup_seconds = time.monotonic() - began

    stop, ready = threading.Event(), threading.Event()
    thread, arrivals, dash_errors = dashboards_thread(bases, workshop, args.dashboards, ready, stop)
    if not ready.wait(60):
        raise RuntimeError("the dashboards did not connect")
    stats = {"unexpected": [], "exceptions": [], "latency": []}
    started = time.monotonic()
    stop_at = started + args.seconds
    threads = [threading.Thread(target=learner.work, args=(lab, stop_at, i, stats), daemon=True)
               for i, learner in enumerate(learners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.seconds + 120)
    ended = time.monotonic()
    time.sleep(args.grace)
    stop.set()
    thread.join(30)

    calls = sum(len(learner.answered) for learner in learners)
    # Expected cells: an objective met (per the trial) by a solve step answered as expected.
    expected = {}
    for learner in learners:
        answered = {step: at for step, at, ok in learner.answered if step is not None and ok}
        for objective, step in met_by_step.items():
            if step in answered:
                expected[(learner.name, LAB, objective)] = answered[step]
    latency = stats["latency"]
    errors = len(stats["unexpected"]) + len(stats["exceptions"])
    print(f"  N={n:<4} {config.name:8}  setup {setup_seconds:5.1f} s (join + start + run page)  "
          f"{calls} calls in {ended - started:.1f} s = {calls / (ended - started):6.1f} calls/s "
          f"(paced for ~{n / 1.5:.0f})  "
          f"call p50 {1000 * statistics.median(latency):.0f} ms p99 {1000 * percentile(latency, 99):.0f} ms  "
          f"errors {errors}")
    for problem in (stats["unexpected"] + stats["exceptions"] + dash_errors)[:8]:
        print(f"    ! {problem}")
    if dash_errors or stats["exceptions"] or any(seen.get("_disconnects") for seen in arrivals):
        for server in config.servers:
            log = Path(server.log.name)
            print(f"    last lines of {log.name}:", *log.read_text(errors="replace").splitlines()[-25:],
                  sep="\n      ")
    worst_p99 = 0
    all_missed = disconnects = 0
    for d, seen in enumerate(arrivals):
        delays = [seen[k] - at for k, at in expected.items() if k in seen]
        missed = [k for k in expected if k not in seen]
        all_missed += len(missed)
        if delays:
            p99 = percentile(delays, 99)
            worst_p99 = max(worst_p99, p99)
            print(f"    dashboard {d} (port {config.servers[d % len(config.servers)].port}): "
                  f"{len(delays)}/{len(expected)} cells  delay p50 {1000 * statistics.median(delays):.0f} ms  "
                  f"p99 {1000 * p99:.0f} ms  max {1000 * max(delays):.0f} ms  missed {len(missed)}  "
                  f"({seen.get('_messages', 0)} messages, {seen.get('_bytes', 0) / 1e6:.1f} MB)  "
                  f"disconnects {len(seen.get('_disconnects', []))}")
            disconnects += len(seen.get("_disconnects", []))  # a target too: the socket must stay open
            for reason in seen.get("_disconnects", [])[:2]:
                print(f"      disconnected: {reason}")
        else:
            print(f"    dashboard {d}: no cells arrived; missed {len(missed)}")
        for k in missed[:3]:
            print(f"      missed {k}")
    if n >= 200:
        met = errors == 0 and all_missed == 0 and worst_p99 < 1 and not disconnects
        print(f"    targets at N=200 (0 errors, 0 missed, p99 < 1 s, no dashboard disconnect): {'met' if met else 'NOT met'}")
    return {"config": config.name, "n": n, "calls_per_s": calls / (ended - started), "errors": errors,
            "missed": all_missed, "p99": worst_p99}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", default="50,200", help="comma-separated N (default 50,200)")
    parser.add_argument("--configs", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each run of calls")
    parser.add_argument("--dashboards", type=int, default=1)
    parser.add_argument("--grace", type=float, default=5.0, help="seconds the dashboards wait after the calls")
    parser.add_argument("--parallel", type=int, default=16, help="learners joining at a time")
    parser.add_argument("--redis-db", type=int, default=13, help="Redis database number (flushed) for postgres")
    args = parser.parse_args()
    counts = [int(x) for x in args.learners.split(",") if x]
    configs = [x.strip() for x in args.configs.split(",") if x.strip()]
    if any(c not in ("sqlite", "postgres") for c in configs) or max(counts) > 1000 or args.seconds > 600:
        parser.error("configs are sqlite and postgres; at most 1000 learners, 600 s")

    lab = catalog.get(LAB)
    met_by_step = objective_steps(LAB)
    print(f"kmslab workshop bench: lab {LAB}, solve steps meeting objectives {met_by_step}; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {args.seconds:g} s of calls, "
          f"one every 1-2 s per learner, {args.dashboards} dashboard(s)")
    results = []
    for name in configs:
        with tempfile.TemporaryDirectory(prefix=f"kmslab-bench-workshop-{name}-") as tmp:
            config = Config_(name, Path(tmp), args.redis_db)
            try:
                config.manage("instructor", "create", "bench", "--password", PASSWORD)
                for index, n in enumerate(counts):
                    results.append(bench(config, n, args, lab, met_by_step, index))
            except Exception:
                for server in config.servers:
                    log = Path(server.log.name)
                    print(f"  last lines of {log}:", *log.read_text(errors="replace").splitlines()[-30:],
                          sep="\n    ")
                raise
            finally:
                config.stop()
    print(f"load average {os.getloadavg()[0]:.1f} after")
    return results


if __name__ == "__main__":
    main()
