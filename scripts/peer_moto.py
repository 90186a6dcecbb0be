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
open sandbox of account 123456789012, the account moto's tests expect), with
the endpoint set to kmslab's /aws: kmslab answers `/aws/moto-api/reset` as
moto does, so the tests run against it unchanged.

Prints passed / failed / errors / skipped per file and in total for both
servers, then every test that passes on moto's server and not on kmslab with
its one-line reason, grouped by reason. Failures to reach the server
(connection errors) are the harness's, listed apart. -k is pytest's, for
running a few tests while working on them.
"""
import argparse
import collections
import importlib.metadata
import os
import re
import subprocess
import sys
import tarfile
import tempfile
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
    var_dir = workdir / "kmslab"
    var_dir.mkdir()
    Server.migrate_database(var_dir)
    server = Server(var_dir, KMSLAB_ALLOW_ANY_CREDENTIALS="1", KMSLAB_LOG_LEVEL="ERROR")
    try:
        try:
            server.wait_until_ready()
        except RuntimeError as error:  # its log is in a directory about to go: show it
            raise RuntimeError(f"{error}\n{Path(server.log.name).read_text()[-2000:]}") from None
        # No trailing slash: mock_aws appends "/moto-api/reset" to the endpoint.
        endpoint = f"http://127.0.0.1:{server.port}/aws"
        return run_tests(tests_dir, endpoint, workdir / "kmslab.xml", workdir / "kmslab.log", keyword)
    finally:
        server.stop()


def counts(found, file=None):
    tally = collections.Counter(outcome for (f, _), (outcome, _, _) in found.items() if file in (None, f))
    return [tally[outcome] for outcome in OUTCOMES]


def report(moto, kmslab):
    print(f"moto {MOTO_VERSION}'s tests/test_kms/ in server mode, against moto's server and kmslab's /aws")
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
        kmslab = against_kmslab(tests_dir, workdir, args.keyword)
        report(moto, kmslab)


if __name__ == "__main__":
    main()
