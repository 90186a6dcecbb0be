"""Many threads calling one sandbox at once: the no-lost-update check.

Each thread tags its own key 50 times (KMS's limit per key), every call a
change to the one world document the threads share. Afterwards every key
must hold all 50 tags and the trail every call. Run in-process on SQLite by
test_concurrency.py, and as a script against a throwaway PostgreSQL
database (`python hammer.py`, Django configured by the environment) by
test_workshop_scale.py.
"""
import json
import os
import sys
import threading
from pathlib import Path


def hammer(threads=8, calls=50):
    from django.db import connection

    from kmslab.cloud import principals
    from kmslab.sandboxes import runner
    from kmslab.sandboxes.models import Sandbox

    sandbox, creds = runner.create_sandbox("hammer")
    access_key = creds[0]["access_key_id"]

    def who(world):
        return principals.caller_for_access_key(world, access_key)

    key_ids = [runner.run(sandbox.id, who, "kms", "CreateKey", {}).response["KeyMetadata"]["KeyId"] for _ in range(threads)]
    errors = []
    conflicts = []
    real_attempt = runner._attempt

    def counting_attempt(*args, **kwargs):
        try:
            return real_attempt(*args, **kwargs)
        except runner.Conflict:
            conflicts.append(1)
            raise

    def tag(key_id):
        try:
            for i in range(calls):
                outcome = runner.run(sandbox.id, who, "kms", "TagResource",
                                     {"KeyId": key_id, "Tags": [{"TagKey": f"t{i}", "TagValue": key_id}]})
                if outcome.error is not None:
                    errors.append(outcome.error.code)
        except Exception as exc:  # a thread's failure must reach the test, not vanish
            errors.append(repr(exc))
        finally:
            connection.close()

    runner._attempt = counting_attempt
    try:
        workers = [threading.Thread(target=tag, args=(key_id,)) for key_id in key_ids]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        runner._attempt = real_attempt

    world = runner.load_world(sandbox.id)
    sandbox = Sandbox.objects.get(pk=sandbox.id)
    return {
        "errors": errors,
        "conflicts": len(conflicts),
        "tags": sorted(len(world.doc["kms"]["keys"][key_id]["Tags"]) for key_id in key_ids),
        "tag_records": sandbox.trail.filter(event_name="TagResource", error_code="").count(),
        "sequences": list(sandbox.trail.order_by("sequence").values_list("sequence", flat=True)),
        "version": sandbox.version,
    }


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kmslab.settings")
    import django

    django.setup()
    print(json.dumps(hammer()))
