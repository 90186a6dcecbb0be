"""manage.py sandbox: the contract instructors' tools and the other test suites rely on."""
import json
import os
from io import StringIO

import pytest
from cryptography.exceptions import InvalidTag
from django.core.management import CommandError, call_command

from kmslab.api import open_sandbox
from kmslab.cloud import principals
from kmslab.cloud.kms.keys import MATERIAL_PURPOSE
from kmslab.cloud.world import World
from kmslab.console.learner import claimable
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import AccessKeyIndex, Sandbox, TrailRecord, WorldEntity

pytestmark = pytest.mark.django_db(transaction=True)


def sandbox_command(*args):
    out = StringIO()
    call_command("sandbox", *args, stdout=out)
    return out.getvalue()


def as_principal(cred):
    return lambda world: principals.caller_for_access_key(world, cred["access_key_id"])


def test_create_json_gives_the_default_world_and_a_console_link():
    created = json.loads(sandbox_command("create", "--json"))

    assert set(created) == {"id", "accounts", "principals", "console_url"}
    assert created["accounts"] == ["111122223333", "444455556666"]
    assert [p["arn"] for p in created["principals"]] == [
        "arn:aws:iam::111122223333:user/admin",
        "arn:aws:iam::444455556666:user/admin",
    ]
    world = runner.load_world(created["id"])
    for p in created["principals"]:
        assert set(p) == {"arn", "access_key_id", "secret_access_key"}
        secret, _ = principals.secret_for_access_key(world, p["access_key_id"])
        assert secret.decode() == p["secret_access_key"]
    prefix = "http://127.0.0.1:8000/claim/"
    assert created["console_url"].startswith(prefix)
    token = created["console_url"][len(prefix):].rstrip("/")
    assert str(claimable(token).id) == created["id"]


def test_create_takes_an_owner_and_where_the_console_is_served():
    created = json.loads(sandbox_command("create", "--json", "--owner", "alice-token", "--base-url", "http://lab:9000/"))

    assert Sandbox.objects.get(pk=created["id"]).owner == "alice-token"
    assert created["console_url"].startswith("http://lab:9000/claim/")


def test_the_admin_of_a_new_sandbox_may_do_anything():
    created = json.loads(sandbox_command("create", "--json"))

    outcome = runner.run(created["id"], as_principal(created["principals"][1]), "kms", "CreateKey", {})

    assert outcome.error is None
    assert outcome.response["KeyMetadata"]["AWSAccountId"] == "444455556666"


def test_secrets_are_sealed_in_the_stored_world():
    created = json.loads(sandbox_command("create", "--json"))
    runner.run(created["id"], as_principal(created["principals"][0]), "kms", "CreateKey", {})

    rows = list(WorldEntity.objects.filter(sandbox_id=created["id"]).order_by("id").values_list("section", "name", "body"))
    for p in created["principals"]:
        assert not any(p["secret_access_key"] in body for _, _, body in rows)
    sealed = next(json.loads(body) for section, _, body in rows if section == "kms.keys")["Materials"][0]["Sealed"]
    # Only the server's master key opens it.
    with pytest.raises(InvalidTag):
        World.from_rows(rows, os.urandom(32)).unseal(MATERIAL_PURPOSE, sealed)
    assert len(runner.load_world(created["id"]).unseal(MATERIAL_PURPOSE, sealed)) == 32


def test_list_shows_each_sandbox_with_its_trail_size():
    created = json.loads(sandbox_command("create", "--json"))
    runner.run(created["id"], as_principal(created["principals"][0]), "sts", "GetCallerIdentity", {})

    listed = {row["id"]: row for row in json.loads(sandbox_command("list", "--json"))}

    assert listed[created["id"]]["records"] == 1
    assert created["id"] in sandbox_command("list")


def test_reset_starts_over_with_new_credentials_and_an_empty_trail():
    created = json.loads(sandbox_command("create", "--json"))
    runner.run(created["id"], as_principal(created["principals"][0]), "kms", "CreateKey", {})

    again = json.loads(sandbox_command("reset", created["id"], "--json"))

    assert again["id"] == created["id"]
    old_keys = {p["access_key_id"] for p in created["principals"]}
    new_keys = {p["access_key_id"] for p in again["principals"]}
    assert not old_keys & new_keys
    assert set(AccessKeyIndex.objects.filter(sandbox_id=created["id"]).values_list("pk", flat=True)) == new_keys
    assert runner.load_world(created["id"]).doc["kms"]["keys"] == {}
    assert not TrailRecord.objects.filter(sandbox_id=created["id"]).exists()


def test_delete_removes_the_sandbox_its_trail_and_its_keys():
    created = json.loads(sandbox_command("create", "--json"))

    sandbox_command("delete", created["id"])

    assert not Sandbox.objects.filter(pk=created["id"]).exists()
    assert runner.sandbox_for_access_key(created["principals"][0]["access_key_id"]) is None
    with pytest.raises(CommandError, match="No sandbox"):
        sandbox_command("delete", created["id"])


def test_clock_advance_runs_a_deletion_that_falls_due():
    created = json.loads(sandbox_command("create", "--json"))
    alice = as_principal(created["principals"][0])
    key_id = runner.run(created["id"], alice, "kms", "CreateKey", {}).response["KeyMetadata"]["KeyId"]
    runner.run(created["id"], alice, "kms", "ScheduleKeyDeletion", {"KeyId": key_id, "PendingWindowInDays": 7})

    out = sandbox_command("clock", created["id"], "--advance", "8d")

    assert "DeleteKey" in out
    assert key_id not in runner.load_world(created["id"]).doc["kms"]["keys"]
    assert TrailRecord.objects.filter(sandbox_id=created["id"], event_name="DeleteKey", event_type="AwsServiceEvent").count() == 1


@pytest.mark.parametrize("duration, seconds", [("30d", 30 * 86400), ("12h", 12 * 3600), ("90m", 90 * 60)])
def test_clock_advance_takes_days_hours_and_minutes(duration, seconds):
    created = json.loads(sandbox_command("create", "--json"))

    sandbox_command("clock", created["id"], "--advance", duration)

    assert runner.load_world(created["id"]).clock.offset == seconds


def test_clock_refuses_what_is_not_a_duration():
    created = json.loads(sandbox_command("create", "--json"))

    with pytest.raises(CommandError, match="not a duration"):
        sandbox_command("clock", created["id"], "--advance", "2w")


def test_clock_refuses_to_pass_the_latest_time_kmslab_can_represent():
    created = json.loads(sandbox_command("create", "--json"))

    with pytest.raises(CommandError, match="cannot pass 9990-01-01T00:00:00Z, the latest time kmslab can represent"):
        sandbox_command("clock", created["id"], "--advance", "3000000d")

    assert runner.load_world(created["id"]).clock.offset == 0
    admin = as_principal(created["principals"][0])
    assert runner.run(created["id"], admin, "sts", "GetCallerIdentity", {}).error is None


def test_demo_makes_one_demo_sandbox_and_prints_both_accounts_admin_keys():
    first = sandbox_command("demo", "--base-url", "http://127.0.0.1:8123")
    second = sandbox_command("demo", "--base-url", "http://127.0.0.1:8123")

    demo = Sandbox.objects.get(name="demo")
    world = runner.load_world(demo.id)
    for out in (first, second):
        assert "http://127.0.0.1:8123/claim/" in out
        assert "--endpoint-url http://127.0.0.1:8123/aws/" in out
        for account in ("111122223333", "444455556666"):
            access_key = next(k for k, v in world.doc["access_keys"].items() if v["Account"] == account)
            secret, _ = principals.secret_for_access_key(world, access_key)
            assert f"# arn:aws:iam::{account}:user/admin" in out
            assert f"AWS_ACCESS_KEY_ID={access_key}" in out
            assert f"AWS_SECRET_ACCESS_KEY={secret.decode()}" in out
        # The server says it serves once it listens (kmslab/serve.py), not this command, which runs before it.
        assert "serving" not in out


def test_reset_open_empties_the_shared_sandbox_of_allow_any_credentials():
    assert "no open sandbox yet" in sandbox_command("reset", "open")
    assert not Sandbox.objects.filter(owner=open_sandbox.OWNER).exists()
    sandbox_id = open_sandbox.sandbox_id()
    admin = next(iter(runner.load_world(sandbox_id).doc["access_keys"]))
    runner.run(sandbox_id, lambda world: principals.caller_for_access_key(world, admin), "kms", "CreateKey", {})

    reset = json.loads(sandbox_command("reset", "open", "--json"))

    assert reset == {"id": str(sandbox_id)} and open_sandbox.sandbox_id() == sandbox_id
    assert runner.load_world(sandbox_id).doc["kms"]["keys"] == {}
    assert not TrailRecord.objects.filter(sandbox_id=sandbox_id).exists()
