"""Operations per second for Encrypt, Decrypt and GenerateDataKey with a 4 KB plaintext.

Two layers, one process, one thread:
  core     kmslab.cloud.calls.call on an in-memory world (CloudTrail record included)
  sandbox  kmslab.sandboxes.runner.run: the same call in a transaction on a
           fresh SQLite file, world saved when changed, record appended, committed

Each figure is the best of several rounds. "ops/s" is calls per second of
wall-clock time, the target's measure; "per CPU s" is calls per second of
this process's CPU time (user + system, SQLite's writes included), which
stays honest when other work shares the machine's two cores: on an idle
machine the two agree. Targets: core Encrypt >= 20,000/s, sandbox >= 1,000/s.

    .venv/bin/python scripts/bench_core.py [--seconds 1] [--rounds 3]
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"core": 20_000, "sandbox": 1_000}
PLAINTEXT = os.urandom(4096)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    # A throwaway var/ (database, master key) so the bench never touches the real one.
    os.environ["KMSLAB_VAR_DIR"] = tempfile.mkdtemp(prefix="kmslab-bench-")
    os.environ.pop("KMSLAB_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kmslab.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    from kmslab.cloud import calls, principals, seed
    from kmslab.sandboxes import runner
    from kmslab.sandboxes.master_key import master_key

    call_command("migrate", verbosity=0)

    world, creds = seed.default_world(master_key())
    caller = principals.caller_for_access_key(world, creds[0]["access_key_id"])

    def core(operation, request):
        return calls.call(world, caller, "kms", operation, request)

    sandbox, creds = runner.create_sandbox(owner="bench", name="bench")
    access_key = creds[0]["access_key_id"]

    def who(w):
        return principals.caller_for_access_key(w, access_key)

    def through_sandbox(operation, request):
        return runner.run(sandbox.id, who, "kms", operation, request)

    print(f"{'layer':<8} {'operation':<16} {'ops/s':>9} {'per CPU s':>10}  target")
    for layer, do in (("core", core), ("sandbox", through_sandbox)):
        key_id = _ok(do("CreateKey", {}))["KeyMetadata"]["KeyId"]
        blob = _ok(do("Encrypt", {"KeyId": key_id, "Plaintext": PLAINTEXT}))["CiphertextBlob"]
        for operation, request in (
            ("Encrypt", {"KeyId": key_id, "Plaintext": PLAINTEXT}),
            ("Decrypt", {"CiphertextBlob": blob}),
            ("GenerateDataKey", {"KeyId": key_id, "KeySpec": "AES_256"}),
        ):
            outcome = do(operation, request)
            if outcome.error is not None:
                print(f"{layer:<8} {operation:<16} {'-':>9} {'-':>10}  ({outcome.error.code}: {outcome.error.message})")
                continue
            wall, cpu = _rates(lambda: do(operation, request), args.seconds, args.rounds)
            verdict = "met" if wall >= TARGETS[layer] else "MISSED"
            print(f"{layer:<8} {operation:<16} {wall:>9,.0f} {cpu:>10,.0f}  {verdict} (>= {TARGETS[layer]:,})")


def _ok(outcome):
    if outcome.error is not None:
        raise SystemExit(f"setup failed: {outcome.error.code}: {outcome.error.message}")
    return outcome.response


def _rates(fn, seconds, rounds):
    """Best calls per wall-clock second and per CPU second over `rounds` rounds of about `seconds` each."""
    for _ in range(50):
        fn()
    wall = cpu = 0.0
    for _ in range(rounds):
        count, start, start_cpu = 0, time.perf_counter(), time.process_time()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(100):
                fn()
            count += 100
        wall = max(wall, count / elapsed)
        cpu = max(cpu, count / (time.process_time() - start_cpu))
    return wall, cpu


if __name__ == "__main__":
    main()
