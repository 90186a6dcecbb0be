"""Operations per second for Encrypt, Decrypt and GenerateDataKey with a 4 KB plaintext,
Sign and Verify of a 4 KB message with RSA_2048 (RSASSA_PSS_SHA_256), ECC_NIST_P256
(ECDSA_SHA_256) and ML_DSA_65 (ML_DSA_SHAKE_256), and GenerateMac of it with HMAC_256.

Two layers, one process, one thread:
  core     kmslab.cloud.calls.call on an in-memory world (CloudTrail record included)
  sandbox  kmslab.sandboxes.runner.run: the same call in a transaction on a
           fresh SQLite file, world saved when changed, record appended, committed

Each figure is the best of several rounds. "ops/s" is calls per second of
wall-clock time, the target's measure; "per CPU s" is calls per second of
this process's CPU time (user + system, SQLite's writes included), which
stays honest when other work shares the machine's two cores: on an idle
machine the two agree. Targets: core Encrypt >= 20,000/s, sandbox >= 1,000/s.

For Sign, Verify and GenerateMac the primitive is most of a call, so a second table
sets each core call beside the same primitive called alone with `cryptography`
(same key, message and parameters), in CPU microseconds per call, and their
difference: the core's overhead, which must stay under 0.1 ms (issue 13).

    .venv/bin/python scripts/bench_core.py [--seconds 1] [--rounds 3]
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec, padding

TARGETS = {"core": 20_000, "sandbox": 1_000}
PLAINTEXT = os.urandom(4096)
SIGNING = (("RSA_2048", "RSASSA_PSS_SHA_256"), ("ECC_NIST_P256", "ECDSA_SHA_256"), ("ML_DSA_65", "ML_DSA_SHAKE_256"))
OVERHEAD_LIMIT_US = 100
TARGETED = ("Encrypt", "Decrypt", "GenerateDataKey")  # the rest: the overhead table


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
    from kmslab.cloud.kms import keys
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

    print(f"{'layer':<8} {'operation':<22} {'ops/s':>9} {'per CPU s':>10}  target")
    beside = []  # (label, operation, request, the primitive alone) for the second table
    for layer, do in (("core", core), ("sandbox", through_sandbox)):
        key_id = _ok(do("CreateKey", {}))["KeyMetadata"]["KeyId"]
        blob = _ok(do("Encrypt", {"KeyId": key_id, "Plaintext": PLAINTEXT}))["CiphertextBlob"]
        rows = [
            ("Encrypt", "Encrypt", {"KeyId": key_id, "Plaintext": PLAINTEXT}),
            ("Decrypt", "Decrypt", {"CiphertextBlob": blob}),
            ("GenerateDataKey", "GenerateDataKey", {"KeyId": key_id, "KeySpec": "AES_256"}),
        ]
        for spec, algorithm in SIGNING:
            signing_id = _ok(do("CreateKey", {"KeySpec": spec, "KeyUsage": "SIGN_VERIFY"}))["KeyMetadata"]["KeyId"]
            request = {"KeyId": signing_id, "Message": PLAINTEXT, "SigningAlgorithm": algorithm}
            signature = _ok(do("Sign", request))["Signature"]
            verify = {**request, "Signature": signature}
            rows += [(f"Sign {spec}", "Sign", request), (f"Verify {spec}", "Verify", verify)]
            if layer == "core":
                sign_alone, verify_alone = primitives(algorithm, keys.private_key(world, keys.find(world, signing_id, world.region)), signature)
                beside += [(f"Sign {spec}", "Sign", request, sign_alone), (f"Verify {spec}", "Verify", verify, verify_alone)]
        mac_id = _ok(do("CreateKey", {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}))["KeyMetadata"]["KeyId"]
        mac = {"KeyId": mac_id, "Message": PLAINTEXT, "MacAlgorithm": "HMAC_SHA_256"}
        rows.append(("GenerateMac HMAC_256", "GenerateMac", mac))
        if layer == "core":
            beside.append(("GenerateMac HMAC_256", "GenerateMac", mac,
                           mac_alone(keys.hmac_key(world, keys.find(world, mac_id, world.region)))))
        for label, operation, request in rows:
            outcome = do(operation, request)
            if outcome.error is not None:
                print(f"{layer:<8} {label:<22} {'-':>9} {'-':>10}  ({outcome.error.code}: {outcome.error.message})")
                continue
            wall, cpu = _rates(lambda: do(operation, request), args.seconds, args.rounds)
            if operation not in TARGETED:
                print(f"{layer:<8} {label:<22} {wall:>9,.0f} {cpu:>10,.0f}  (overhead: in the table below)")
                continue
            verdict = "met" if wall >= TARGETS[layer] else "MISSED"
            print(f"{layer:<8} {label:<22} {wall:>9,.0f} {cpu:>10,.0f}  {verdict} (>= {TARGETS[layer]:,})")

    print(f"\n{'operation':<22} {'core µs':>9} {'primitive µs':>13} {'overhead µs':>12}  target (CPU µs per call)")
    for label, operation, request, alone in beside:
        _, core_rate = _rates(lambda: _ok(core(operation, request)), args.seconds, args.rounds)
        _, alone_rate = _rates(alone, args.seconds, args.rounds)
        core_us, alone_us = 1e6 / core_rate, 1e6 / alone_rate
        overhead = core_us - alone_us
        verdict = "met" if overhead < OVERHEAD_LIMIT_US else "MISSED"
        print(f"{label:<22} {core_us:>9,.1f} {alone_us:>13,.1f} {overhead:>12,.1f}  {verdict} (< {OVERHEAD_LIMIT_US})")


def mac_alone(key):
    """The core's GenerateMac of PLAINTEXT (HMAC_SHA_256) done with `cryptography` alone."""
    def generate():
        mac = hmac.HMAC(key, hashes.SHA256())
        mac.update(PLAINTEXT)
        return mac.finalize()
    return generate


def primitives(algorithm, private, signature):
    """(sign, verify): the core's Sign and Verify of PLAINTEXT done with `cryptography` alone, with
    the parameters AWS documents for `algorithm` (PSS: MGF1 and a salt as long as the hash)."""
    public = private.public_key()
    if algorithm == "RSASSA_PSS_SHA_256":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return (lambda: private.sign(PLAINTEXT, pss, hashes.SHA256()),
                lambda: public.verify(signature, PLAINTEXT, pss, hashes.SHA256()))
    if algorithm == "ECDSA_SHA_256":
        ecdsa = ec.ECDSA(hashes.SHA256())
        return lambda: private.sign(PLAINTEXT, ecdsa), lambda: public.verify(signature, PLAINTEXT, ecdsa)
    return lambda: private.sign(PLAINTEXT), lambda: public.verify(signature, PLAINTEXT)


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
