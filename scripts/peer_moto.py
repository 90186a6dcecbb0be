"""Run moto's own KMS tests against moto's server and against kmslab: both servers' counts, and kmslab's work list.

    .venv/bin/python scripts/peer_moto.py [-k EXPRESSION]

Gets moto 5.2.5's sdist (`pip download`, kept under var/peer_moto/) and runs
six of its tests/test_kms/ files (below) with pytest in moto's server mode:
TEST_SERVER_MODE=true makes moto's `mock_aws` point every boto3 client at
TEST_SERVER_MODE_ENDPOINT and POST `<endpoint>/moto-api/reset` when a mock
starts and ends, so each test starts from an empty cloud. First against
moto's own server (`python -m moto.server`, as `moto_server` runs it), then
against kmslab (kmslab.serve, its own SQLite database,
KMSLAB_ALLOW_ANY_CREDENTIALS=1 so that moto's fake credentials land in the
open sandbox of account 123456789012, the account moto's tests expect).

kmslab does not answer moto's reset path, so its run goes through a small
proxy in this script that passes every request through unchanged and answers
`/moto-api/reset` itself: with kmslab's `POST /kmslab-api/reset` when that
server answers it, otherwise by moving on to a fresh kmslab server (a new
database, started while the previous test ran) whenever the previous one has
served anything. Either way a test sees what moto's reset gives it.

Prints passed / failed / errors / skipped per file and in total for both
servers, then every test that passes on moto's server and not on kmslab with
its one-line reason, grouped by reason. Failures to reach the server
(connection errors) are the harness's, listed apart. -k is pytest's, for
running a few tests while working on them.
"""
import argparse
import collections
import http.client
import http.server
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

from local_server import ROOT, free_port, stop, wait_for_port

sys.path.insert(0, str(ROOT))
from tests.api.live import Server  # noqa: E402

MOTO_VERSION = "5.2.5"
TEST_FILES = ["test_kms.py", "test_kms_encrypt.py", "test_kms_grants.py", "test_kms_key_rotation.py",
              "test_kms_mac.py", "test_kms_policy_enforcement.py"]
# What those files import from the sdist beside themselves (`from tests import aws_verified`, the
# account_id fixture), and moto's own pytest settings (its markers).
SUPPORT_FILES = ["pyproject.toml", "tests/__init__.py", "tests/conftest.py", "tests/test_kms/__init__.py"]
CACHE = ROOT / "var" / "peer_moto"
RESET_PATH = "/moto-api/reset"
KMSLAB_RESET_PATH = "/kmslab-api/reset"
# The client could not talk to the server at all: the harness's failure, not the server's answer.
HARNESS_ERRORS = {"EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError", "ConnectTimeoutError",
                  "ConnectionError", "ConnectionRefusedError"}
OUTCOMES = ("passed", "failed", "error", "skipped")


def moto_tests(workdir):
    """The sdist's test files under workdir (downloaded once into var/peer_moto/)."""
    sdist = CACHE / f"moto-{MOTO_VERSION}.tar.gz"
    if not sdist.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        f"moto=={MOTO_VERSION}", "-d", str(CACHE)], check=True)
    prefix = f"moto-{MOTO_VERSION}/"
    wanted = {prefix + name for name in SUPPORT_FILES + [f"tests/test_kms/{f}" for f in TEST_FILES]}
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.name in wanted]
        missing = wanted - {m.name for m in members}
        if missing:
            raise SystemExit(f"not in {sdist.name}: {', '.join(sorted(missing))}")
        tar.extractall(workdir, members=members, filter="data")
    return Path(workdir) / prefix


def run_tests(tests_dir, endpoint, junit, log, keyword):
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("KMSLAB_", "AWS_", "MOTO_")) and name != "DJANGO_SETTINGS_MODULE"}
    env.update(TEST_SERVER_MODE="true", TEST_SERVER_MODE_ENDPOINT=endpoint, AWS_DEFAULT_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:django", "--color=no",
               "--timeout=300", f"--junitxml={junit}", *[f"tests/test_kms/{f}" for f in TEST_FILES]]
    if keyword:
        command += ["-k", keyword]
    with open(log, "wb") as out:
        subprocess.run(command, cwd=tests_dir, env=env, stdout=out, stderr=subprocess.STDOUT)
    return results(junit)


def results(junit):
    """{(file, test): (outcome, reason, detail)} from pytest's JUnit XML."""
    found = {}
    for case in ET.parse(junit).iter("testcase"):
        _, _, rest = case.get("classname").partition(".test_kms.")
        file, _, cls = rest.partition(".")
        test = f"{cls}::{case.get('name')}" if cls else case.get("name")
        for outcome in ("failure", "error", "skipped"):
            element = case.find(outcome)
            if element is not None:
                reason, detail = reason_of(element.get("message") or element.text or "")
                found[(file + ".py", test)] = ({"failure": "failed"}.get(outcome, outcome), reason, detail)
                break
        else:
            found[(file + ".py", test)] = ("passed", "", "")
    return found


def reason_of(message):
    """(reason to group by, one line to show): the AWS error code for a ClientError, else the exception's type."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    aws = re.search(r"An error occurred \((\w+)\) when calling the (\w+) operation: ?(.*)", first)
    if aws:
        return f"ClientError {aws.group(1)}", f"{aws.group(2)}: {aws.group(3)}"[:160]
    kind = re.match(r"([\w.]+):", first)
    if kind and kind.group(1) == "Failed":  # pytest.fail's own, e.g. "DID NOT RAISE ClientError"
        return first[len(kind.group(0)):].strip()[:60], ""
    if kind:
        return kind.group(1).rsplit(".", 1)[-1], first[len(kind.group(0)):].strip()[:160]
    if first.startswith("assert "):  # pytest's rewritten assertions leave the type out
        return "AssertionError", first[:160]
    return first[:60] or "(no message)", first[:160]


class Kmslab:
    """kmslab started by tests/api/live.py's Server, on a copy of a migrated database, open to any credentials."""

    def __init__(self, template, var_dir):
        shutil.copytree(template, var_dir)
        self.server = Server(var_dir, KMSLAB_ALLOW_ANY_CREDENTIALS="1", KMSLAB_LOG_LEVEL="ERROR")
        self.port = self.server.port

    def ready(self):
        try:
            self.server.wait_until_ready()
        except RuntimeError as error:  # its log is in a directory about to go: show it
            raise RuntimeError(f"{error}\n{Path(self.server.log.name).read_text()[-2000:]}") from None
        return self

    def request(self, method, path, body=b"", headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            connection.request(method, path, body, headers or {})
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def stop(self):
        self.server.stop()


class ResettingProxy(http.server.ThreadingHTTPServer):
    """Passes requests to a kmslab server, and answers moto's reset path as moto does: an empty cloud after it."""

    daemon_threads = True

    def __init__(self, var_dir):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.var_dir = Path(var_dir)
        self.template = self.var_dir / "template"
        self.template.mkdir(parents=True)
        Server.migrate_database(self.template)
        self.started = 0
        self.backend = self.start_backend().ready()
        status = self.backend.request("POST", KMSLAB_RESET_PATH)[0]
        self.kmslab_resets = status == 200
        self.spare = None if self.kmslab_resets else self.start_backend()
        self.used = False
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def start_backend(self):
        self.started += 1
        return Kmslab(self.template, self.var_dir / f"kmslab-{self.started}")

    def reset(self):
        with self.lock:
            if not self.used:
                return
            if self.kmslab_resets:
                status = self.backend.request("POST", KMSLAB_RESET_PATH)[0]
                if status != 200:
                    raise RuntimeError(f"POST {KMSLAB_RESET_PATH} answered {status}")
            else:
                old, self.backend = self.backend, self.spare.ready()
                self.spare = self.start_backend()
                old.stop()
            self.used = False

    def forward(self, method, path, body, headers):
        with self.lock:
            self.used = True
            backend = self.backend
        return backend.request(method, path, body, headers)

    def close(self):
        self.shutdown()
        self.server_close()
        for backend in (self.backend, self.spare):
            if backend is not None:
                backend.stop()


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hop_by_hop = {"connection", "keep-alive", "transfer-encoding", "content-length"}

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith(RESET_PATH):
            self.server.reset()
            self.answer(200, [("Content-Type", "application/json")], b'{"status": "ok"}')
            return
        headers = {name: value for name, value in self.headers.items() if name.lower() not in self.hop_by_hop}
        self.answer(*self.server.forward(self.command, self.path, body, headers))

    def answer(self, status, headers, body):
        self.send_response_only(status)
        for name, value in headers:
            if name.lower() not in self.hop_by_hop:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def against_moto(tests_dir, workdir, keyword):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        return run_tests(tests_dir, f"http://127.0.0.1:{port}", workdir / "moto.xml", workdir / "moto.log", keyword)
    finally:
        stop(process)


def against_kmslab(tests_dir, workdir, keyword):
    proxy = ResettingProxy(workdir / "kmslab")
    try:
        endpoint = f"http://127.0.0.1:{proxy.server_address[1]}/aws/"
        found = run_tests(tests_dir, endpoint, workdir / "kmslab.xml", workdir / "kmslab.log", keyword)
        how = f"POST {KMSLAB_RESET_PATH}" if proxy.kmslab_resets else f"a fresh server ({proxy.started} started)"
        return found, how
    finally:
        proxy.close()


def counts(found, file=None):
    tally = collections.Counter(outcome for (f, _), (outcome, _, _) in found.items() if file in (None, f))
    return [tally[outcome] for outcome in OUTCOMES]


def report(moto, kmslab, how):
    print(f"moto {MOTO_VERSION}'s tests/test_kms/ in server mode; kmslab reset between tests by {how}")
    print(f"{'file':34} {'moto: passed failed errors skipped':>36}   {'kmslab: passed failed errors skipped':>38}")
    for file in TEST_FILES + [None]:
        m, k = counts(moto, file), counts(kmslab, file)
        print(f"{file or 'total':34} {'':8}" + "".join(f"{n:>7}" for n in m) + f"   {'':10}"
              + "".join(f"{n:>7}" for n in k))

    short = {test: kmslab.get(test, ("not run", "", "")) for test, (outcome, _, _) in moto.items()
             if outcome == "passed" and kmslab.get(test, ("not run",))[0] != "passed"}
    harness = {t: r for t, r in short.items() if r[1] in HARNESS_ERRORS}
    work = {t: r for t, r in short.items() if t not in harness}
    print(f"\nPass on moto, not on kmslab: {len(work)} (and {len(harness)} the harness's)")
    groups = collections.defaultdict(list)
    for test, (outcome, reason, detail) in work.items():
        groups[reason or outcome].append((test, detail))
    for reason, tests in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
        print(f"\n{reason} ({len(tests)})")
        for (file, test), detail in sorted(tests):
            print(f"  {file}::{test}  {detail}")
    if harness:
        print("\nThe harness's (the client could not reach kmslab):")
        for (file, test), (_, reason, detail) in sorted(harness.items()):
            print(f"  {file}::{test}  {reason}: {detail}")
    not_on_moto = sorted(t for t, (outcome, _, _) in moto.items() if outcome in ("failed", "error"))
    if not_on_moto:
        print("\nFail on moto's own server:")
        for file, test in not_on_moto:
            print(f"  {file}::{test}  {moto[(file, test)][1]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-k", dest="keyword", help="only the tests pytest's -k expression selects")
    args = parser.parse_args()
    installed = importlib.metadata.version("moto")
    if installed != MOTO_VERSION:
        raise SystemExit(f"moto {installed} is installed; the tests are moto {MOTO_VERSION}'s: "
                         "pip install -r requirements-bench.txt")
    with tempfile.TemporaryDirectory(prefix="kmslab-peer-moto-") as workdir:
        workdir = Path(workdir)
        tests_dir = moto_tests(workdir)
        moto = against_moto(tests_dir, workdir, args.keyword)
        kmslab, how = against_kmslab(tests_dir, workdir, args.keyword)
        report(moto, kmslab, how)


if __name__ == "__main__":
    main()
