"""One call in one transaction: what is committed, what is recorded, what is retried."""
import asyncio
import json
import sqlite3
import threading
import time
from contextlib import closing

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.db.models import F

from kmslab.cloud import calls, iam, principals
from kmslab.cloud.clock import LATEST, ClockLimitError
from kmslab.cloud.errors import InvalidClientTokenId, UnrecognizedClientException
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import Sandbox, TrailRecord, WorldEntity

pytestmark = pytest.mark.django_db(transaction=True)


def alice_sandbox():
    """alice's sandbox and a `who` for its admin in account 111122223333."""
    sandbox, creds = runner.create_sandbox("alice-token", "alice's sandbox")
    return sandbox, as_principal(creds[0])


def as_principal(cred):
    return lambda world: principals.caller_for_access_key(world, cred["access_key_id"])


def stored(sandbox):
    return Sandbox.objects.get(pk=sandbox.pk)


def stored_rows(sandbox):
    """{(section, name): (row id, JSON text)} of the stored world."""
    rows = WorldEntity.objects.filter(sandbox=sandbox).values_list("id", "section", "name", "body")
    return {(section, name): (row_id, body) for row_id, section, name, body in rows}


def commit_elsewhere(sandbox, world):
    """What another process's commit of `world` leaves behind: its rows, and a newer version."""
    WorldEntity.objects.filter(sandbox=sandbox).delete()
    WorldEntity.objects.bulk_create(WorldEntity(sandbox=sandbox, section=s, name=n, body=b) for s, n, b in world.rows())
    Sandbox.objects.filter(pk=sandbox.pk).update(version=F("version") + 1)


def create_key(sandbox, who, **request):
    outcome = runner.run(sandbox.id, who, "kms", "CreateKey", request)
    assert outcome.error is None
    return outcome.response["KeyMetadata"]


def test_a_call_commits_the_world_and_appends_its_record_with_explanations():
    sandbox, alice = alice_sandbox()

    key = create_key(sandbox, alice, Description="orders")

    assert key["KeyId"] in runner.load_world(sandbox.id).doc["kms"]["keys"]
    record = TrailRecord.objects.get(sandbox=sandbox)
    assert (record.sequence, record.event_name, record.error_code) == (1, "CreateKey", "")
    assert (record.username, record.account, record.region) == ("admin", "111122223333", "us-east-1")
    assert record.resource_names == f"\n{key['Arn']}\n"
    assert record.record["eventID"] == record.event_id
    assert record.explanations[0]["decision"] == "Allow"
    assert stored(sandbox).version == 1


def test_a_failed_call_is_recorded_with_its_error_and_changes_nothing():
    sandbox, alice = alice_sandbox()
    before = stored_rows(sandbox)

    outcome = runner.run(sandbox.id, alice, "kms", "DescribeKey", {"KeyId": "alias/missing"})

    assert outcome.error.code == "NotFoundException"
    record = TrailRecord.objects.get(sandbox=sandbox)
    assert (record.event_name, record.error_code) == ("DescribeKey", "NotFoundException")
    assert record.record["errorCode"] == "NotFoundException"
    assert stored_rows(sandbox) == before


def test_encrypt_appends_a_record_but_does_not_rewrite_the_world():
    sandbox, alice = alice_sandbox()
    key = create_key(sandbox, alice)
    before, rows = stored(sandbox), stored_rows(sandbox)

    outcome = runner.run(sandbox.id, alice, "kms", "Encrypt", {"KeyId": key["KeyId"], "Plaintext": b"x" * 4096})

    assert outcome.error is None
    after = stored(sandbox)
    assert stored_rows(sandbox) == rows
    assert (after.version, after.last_sequence) == (before.version + 1, before.last_sequence + 1)
    assert TrailRecord.objects.filter(sandbox=sandbox, event_name="Encrypt").count() == 1


def test_a_call_writes_only_the_entities_it_changed():
    sandbox, alice = alice_sandbox()
    for _ in range(3):
        create_key(sandbox, alice)
    before = stored_rows(sandbox)

    key = create_key(sandbox, alice, Description="new")
    runner.run(sandbox.id, alice, "kms", "DisableKey", {"KeyId": before_key(before)})

    after = stored_rows(sandbox)
    changed = {place for place in after if after[place] != before.get(place)}
    assert changed == {("kms.keys", key["KeyId"]), ("kms.keys", before_key(before))}
    # A changed entity keeps its row, so a world loads in the order its entities were made.
    assert after[("kms.keys", before_key(before))][0] == before[("kms.keys", before_key(before))][0]
    assert list(runner.load_world(sandbox.id).doc["kms"]["keys"])[-1] == key["KeyId"]


def before_key(rows):
    return next(name for section, name in rows if section == "kms.keys")


def test_unknown_credentials_are_refused_with_no_record():
    sandbox, _ = alice_sandbox()
    nobody = lambda world: None  # noqa: E731

    with pytest.raises(UnrecognizedClientException):
        runner.run(sandbox.id, nobody, "kms", "ListKeys", {})
    with pytest.raises(InvalidClientTokenId):
        runner.run(sandbox.id, nobody, "iam", "ListUsers", {})

    assert TrailRecord.objects.filter(sandbox=sandbox).count() == 0
    assert stored(sandbox).version == 0


def test_a_call_that_crashes_leaves_nothing_behind_for_the_next(monkeypatch):
    sandbox, alice = alice_sandbox()
    create_key(sandbox, alice)  # the world is now cached in this process
    real_call = calls.call

    def crash_halfway(world, *args, **kwargs):
        world.doc["accounts"]["999999999999"] = {}
        raise RuntimeError("a bug in an operation")

    monkeypatch.setattr(calls, "call", crash_halfway)
    with pytest.raises(RuntimeError):
        runner.run(sandbox.id, alice, "kms", "CreateKey", {})
    monkeypatch.setattr(calls, "call", real_call)
    create_key(sandbox, alice)

    assert "999999999999" not in runner.load_world(sandbox.id).doc["accounts"]
    assert list(TrailRecord.objects.filter(sandbox=sandbox).order_by("sequence").values_list("sequence", flat=True)) == [1, 2]


def test_a_call_that_lost_the_race_runs_again_on_the_saved_world(monkeypatch):
    sandbox, alice = alice_sandbox()
    create_key(sandbox, alice)
    real_attempt = runner._attempt
    attempts = []

    def lose_first_race(db, cursor, sandbox_id, work, retry, worlds):
        attempts.append(retry)
        result = real_attempt(db, cursor, sandbox_id, work, retry, worlds)
        if len(attempts) == 1:
            raise runner.Conflict  # as if another call had committed between our read and our UPDATE
        return result

    monkeypatch.setattr(runner, "_attempt", lose_first_race)
    second = create_key(sandbox, alice, Description="second")

    # The retry locked the row, and the first attempt's key and record were rolled back with it.
    assert attempts == [False, True]
    keys = runner.load_world(sandbox.id).doc["kms"]["keys"]
    assert [k["KeyMetadata"]["Description"] for k in keys.values()] == ["", "second"]
    assert second["KeyId"] in keys
    assert list(TrailRecord.objects.filter(sandbox=sandbox).order_by("sequence").values_list("sequence", flat=True)) == [1, 2]


def test_a_world_saved_by_another_process_is_read_again():
    sandbox, alice = alice_sandbox()
    create_key(sandbox, alice)  # cached here at version 1
    elsewhere = runner.load_world(sandbox.id)
    elsewhere.doc["accounts"]["111122223333"]["users"]["admin"]["Tags"] = [{"Key": "team", "Value": "blue"}]
    commit_elsewhere(sandbox, elsewhere)

    outcome = runner.run(sandbox.id, alice, "iam", "GetUser", {})

    assert outcome.response["User"]["Tags"] == [{"Key": "team", "Value": "blue"}]


def test_an_access_key_another_process_made_works_at_its_first_call():
    sandbox, alice = alice_sandbox()
    create_key(sandbox, alice)  # cached here at version 1
    elsewhere = runner.load_world(sandbox.id)  # another worker, or `manage.py sandbox reset`, commits a new key
    key, _ = iam.add_access_key(elsewhere, "111122223333", "admin")
    commit_elsewhere(sandbox, elsewhere)

    outcome = runner.run(sandbox.id, as_principal({"access_key_id": key["AccessKeyId"]}), "sts", "GetCallerIdentity", {})

    assert outcome.error is None
    assert outcome.response["Arn"] == "arn:aws:iam::111122223333:user/admin"
    assert stored(sandbox).version == 3


def test_credentials_a_current_world_does_not_know_are_still_refused_after_a_second_look(monkeypatch):
    sandbox, alice = alice_sandbox()
    create_key(sandbox, alice)  # cached here
    reads = []
    real_load = runner.World.from_rows
    monkeypatch.setattr(runner.World, "from_rows", lambda rows, key: reads.append(key) or real_load(rows, key))

    with pytest.raises(UnrecognizedClientException):
        runner.run(sandbox.id, lambda world: None, "kms", "ListKeys", {})

    # Refused on the world read afresh, once; nothing recorded.
    assert len(reads) == 1
    assert stored(sandbox).version == 1
    assert TrailRecord.objects.filter(sandbox=sandbox).count() == 1


def test_an_unknown_sandbox_does_not_exist():
    with pytest.raises(Sandbox.DoesNotExist):
        runner.run("00000000-0000-4000-8000-000000000000", lambda world: None, "kms", "ListKeys", {})


def test_the_console_hears_of_a_record_only_after_commit(monkeypatch):
    monkeypatch.setattr(runner, "_serving_loop", None)  # as in a management command: no server loop
    sandbox, alice = alice_sandbox()
    layer = get_channel_layer()
    async_to_sync(layer.group_add)(runner.group_name(sandbox.id), "console-tab")
    real_send = runner.send_to_group
    seen_by_others = []

    def send(group, message):
        # What another connection (another worker, the console) finds when the message goes out.
        ids = message["ids"]
        with closing(sqlite3.connect(connection.settings_dict["NAME"])) as other:
            query = f"SELECT id FROM {TrailRecord._meta.db_table} WHERE id IN ({', '.join('?' * len(ids))})"
            seen_by_others.append([pk for (pk,) in other.execute(query, ids)])
        real_send(group, message)

    monkeypatch.setattr(runner, "send_to_group", send)
    runner.run(sandbox.id, alice, "sts", "GetCallerIdentity", {})

    record = TrailRecord.objects.get(sandbox=sandbox)
    assert seen_by_others == [[record.pk]]
    assert receive_soon(layer, "console-tab") == {"type": "trail.record", "sandbox": sandbox.id.hex, "ids": [record.pk]}
    async_to_sync(layer.group_discard)(runner.group_name(sandbox.id), "console-tab")


def test_a_call_from_a_worker_thread_is_heard_on_the_loop_that_serves_websockets(monkeypatch):
    # The AWS endpoint runs calls in an executor thread; the consumers wait on the server's loop.
    sandbox, alice = alice_sandbox()
    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    server = threading.Thread(target=loop.run_forever)
    server.start()
    monkeypatch.setattr(runner, "_serving_loop", None)

    async def open_feed():
        runner.serve_broadcasts_from_this_loop()
        await layer.group_add(runner.group_name(sandbox.id), "feed-socket")

    try:
        asyncio.run_coroutine_threadsafe(open_feed(), loop).result(5)
        # The socket is already waiting when the call commits, as a console tab would be.
        waiting = asyncio.run_coroutine_threadsafe(asyncio.wait_for(layer.receive("feed-socket"), 10), loop)
        runner.run(sandbox.id, alice, "sts", "GetCallerIdentity", {})
        committed = time.monotonic()
        heard = waiting.result(11)
        # Handed to the loop, not put into its queue from another loop: that would
        # wait until something else woke the loop (here, wait_for's 10 s timer).
        assert time.monotonic() - committed < 2
    finally:
        asyncio.run_coroutine_threadsafe(layer.group_discard(runner.group_name(sandbox.id), "feed-socket"), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        server.join()
        loop.close()

    assert heard["ids"] == [TrailRecord.objects.get(sandbox=sandbox).pk]


def receive_soon(layer, channel):
    async def receive():
        try:
            return await asyncio.wait_for(layer.receive(channel), 0.2)
        except asyncio.TimeoutError:
            return None

    return async_to_sync(receive)()


def test_advancing_the_clock_runs_a_due_deletion_and_records_it():
    sandbox, alice = alice_sandbox()
    key = create_key(sandbox, alice)
    runner.run(sandbox.id, alice, "kms", "ScheduleKeyDeletion", {"KeyId": key["KeyId"], "PendingWindowInDays": 7})

    assert runner.advance_clock(sandbox.id, 6 * 86400) == []
    records = runner.advance_clock(sandbox.id, 86400 + 60)

    assert [(r["eventType"], r["eventName"]) for r in records] == [("AwsServiceEvent", "DeleteKey")]
    assert key["KeyId"] not in runner.load_world(sandbox.id).doc["kms"]["keys"]
    deleted = TrailRecord.objects.get(sandbox=sandbox, event_name="DeleteKey")
    assert (deleted.event_type, deleted.resource_names) == ("AwsServiceEvent", f"\n{key['Arn']}\n")


def test_advancing_the_clock_past_the_latest_time_is_refused_and_changes_nothing():
    sandbox, alice = alice_sandbox()
    create_key(sandbox, alice)

    with pytest.raises(ClockLimitError):
        runner.advance_clock(sandbox.id, 3_000_000 * 86400)

    assert stored(sandbox).version == 1
    assert runner.load_world(sandbox.id).clock.offset == 0


def test_a_sandbox_whose_stored_clock_is_past_the_latest_time_still_answers_calls():
    sandbox, alice = alice_sandbox()
    create_key(sandbox, alice)  # cached here
    # What `sandbox clock --advance 3000000d` committed before the clock had a limit: the year 10240.
    rest = WorldEntity.objects.get(sandbox=sandbox, section="")
    far = json.loads(rest.body) | {"clock_offset": 3_000_000 * 86400.0}
    WorldEntity.objects.filter(pk=rest.pk).update(body=json.dumps(far))
    Sandbox.objects.filter(pk=sandbox.pk).update(version=F("version") + 1)

    outcome = runner.run(sandbox.id, alice, "kms", "ListKeys", {})

    assert outcome.error is None
    assert outcome.record["eventTime"].startswith("9990-01-01T00:0")
    assert runner.load_world(sandbox.id).now() < LATEST + 3600


def test_lookup_events_reads_the_stored_trail_of_its_own_account():
    sandbox, creds = runner.create_sandbox("alice-token")
    alice, bob = as_principal(creds[0]), as_principal(creds[1])
    key = create_key(sandbox, alice)
    create_key(sandbox, bob)
    runner.run(sandbox.id, alice, "kms", "Encrypt", {"KeyId": key["KeyId"], "Plaintext": b"hello"})

    outcome = runner.run(sandbox.id, alice, "cloudtrail", "LookupEvents", {})

    names = [event["EventName"] for event in outcome.response["Events"]]
    assert names == ["Encrypt", "CreateKey"]  # newest first, account 444455556666's CreateKey not among them


def test_the_trail_source_filters_pages_and_orders_newest_first():
    sandbox, alice = alice_sandbox()
    first = create_key(sandbox, alice)
    second = create_key(sandbox, alice)
    runner.run(sandbox.id, alice, "kms", "DescribeKey", {"KeyId": first["KeyId"]})
    source = runner.TrailSource(sandbox.id)

    def names(**query):
        return [json.loads(row["record_json"])["eventName"] for row in source.lookup(**query)]

    assert names() == ["DescribeKey", "CreateKey", "CreateKey"]
    assert names(attribute="ResourceName", value=first["Arn"]) == ["DescribeKey", "CreateKey"]
    assert names(attribute="ReadOnly", value="true") == ["DescribeKey"]
    assert names(attribute="EventName", value="CreateKey", limit=1) == ["CreateKey"]
    assert [row["sequence"] for row in source.lookup(before=3)] == [2, 1]
    assert names(account="444455556666") == []
    assert second["Arn"] not in json.dumps(source.lookup(attribute="ResourceName", value=first["Arn"]))


def test_a_call_refuses_to_run_inside_someone_elses_transaction():
    # Its answer must mean "committed"; inside an outer atomic() it would mean "maybe, later".
    sandbox, alice = alice_sandbox()
    with transaction.atomic(), pytest.raises(RuntimeError, match="outside transaction.atomic"):
        runner.run(sandbox.id, alice, "sts", "GetCallerIdentity", {})
    assert not TrailRecord.objects.filter(sandbox=sandbox).exists()


def test_a_broadcast_that_fails_is_logged_and_the_committed_call_still_answers(monkeypatch, caplog):
    monkeypatch.setattr(runner, "_serving_loop", None)
    sandbox, alice = alice_sandbox()
    layer = get_channel_layer()
    async_to_sync(layer.group_add)(runner.group_name(sandbox.id), "console-tab")

    async def layer_down(group, message):
        raise ConnectionError("the channel layer is unreachable")

    monkeypatch.setattr(layer, "group_send", layer_down)
    outcome = runner.run(sandbox.id, alice, "sts", "GetCallerIdentity", {})

    assert outcome.error is None
    assert TrailRecord.objects.filter(sandbox=sandbox).count() == 1
    assert f"broadcast to {runner.group_name(sandbox.id)} failed" in caplog.text
    async_to_sync(layer.group_discard)(runner.group_name(sandbox.id), "console-tab")
