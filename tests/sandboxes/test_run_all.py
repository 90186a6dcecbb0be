"""Calls committed together (runner.run_all): SQLite's batches, each call still all or nothing."""
import sqlite3
from contextlib import closing, contextmanager

import pytest
from django.db import connection, connections

from kmslab.cloud.errors import AccessDeniedException, UnrecognizedClientException
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import Sandbox, TrailRecord

from .test_runner import alice_sandbox, commit_elsewhere, create_key, stored

pytestmark = pytest.mark.django_db(transaction=True)


def encrypt(sandbox, who, key_id, text=b"hello"):
    return (sandbox.id, who, "kms", "Encrypt", {"KeyId": key_id, "Plaintext": text}, None)


def tag(sandbox, who, key_id, value):
    return (sandbox.id, who, "kms", "TagResource", {"KeyId": key_id, "Tags": [{"TagKey": "t", "TagValue": value}]}, None)


@contextmanager
def commits_failing():
    """Within it, this thread's database connection fails every COMMIT, as a full disk would."""
    db = connections["default"]
    db.ensure_connection()
    real = db.connection

    class FailingCommit:
        def __getattr__(self, name):
            return getattr(real, name)

        def commit(self):
            raise sqlite3.OperationalError("disk I/O error")

    db.connection = FailingCommit()
    try:
        yield
    finally:
        db.connection = real


def sequences(sandbox):
    return list(TrailRecord.objects.filter(sandbox=sandbox).order_by("sequence").values_list("sequence", "event_name"))


def test_the_calls_of_a_batch_commit_in_order_with_one_commit(monkeypatch):
    sandbox, alice = alice_sandbox()
    key_id = create_key(sandbox, alice)["KeyId"]
    bob_sandbox, bob = alice_sandbox()
    bob_key = create_key(bob_sandbox, bob)["KeyId"]
    commits = []
    real_commit_all = runner._commit_batch

    def counting(db, batch):
        commits.append(len(batch))
        return real_commit_all(db, batch)

    monkeypatch.setattr(runner, "_commit_batch", counting)
    results = runner.run_all([tag(sandbox, alice, key_id, "one"), encrypt(bob_sandbox, bob, bob_key),
                              tag(sandbox, alice, key_id, "two")])

    assert commits == [3]
    assert [error for _, error in results] == [None, None, None]
    assert sequences(sandbox) == [(1, "CreateKey"), (2, "TagResource"), (3, "TagResource")]
    assert sequences(bob_sandbox) == [(1, "CreateKey"), (2, "Encrypt")]
    assert stored(sandbox).version == 3 and stored(sandbox).last_sequence == 3
    # The second TagResource ran on the world the first one left, so its value is the one kept.
    world = runner.load_world(sandbox.id)
    assert world.doc["kms"]["keys"][key_id]["Tags"] == [{"TagKey": "t", "TagValue": "two"}]


def test_a_call_that_fails_is_rolled_back_alone_and_the_next_one_sees_the_world_without_it():
    sandbox, alice = alice_sandbox()
    key_id = create_key(sandbox, alice)["KeyId"]

    def meddler(world):
        # Changes the world, then fails: as a call that raises half-way through would.
        world.doc["kms"]["keys"][key_id]["Tags"] = [{"TagKey": "t", "TagValue": "meddled"}]
        raise UnrecognizedClientException("The security token included in the request is invalid.")

    results = runner.run_all([tag(sandbox, alice, key_id, "one"), tag(sandbox, meddler, key_id, "x"),
                              encrypt(sandbox, alice, key_id)])

    assert [type(error) for _, error in results] == [type(None), UnrecognizedClientException, type(None)]
    assert sequences(sandbox) == [(1, "CreateKey"), (2, "TagResource"), (3, "Encrypt")]
    for world in (runner.load_world(sandbox.id), runner._take(sandbox.id)[2]):  # as stored, and as cached
        assert world.doc["kms"]["keys"][key_id]["Tags"] == [{"TagKey": "t", "TagValue": "one"}]


def test_a_call_on_a_sandbox_that_is_gone_or_read_only_fails_alone():
    sandbox, alice = alice_sandbox()
    key_id = create_key(sandbox, alice)["KeyId"]
    closed, carol = alice_sandbox()
    Sandbox.objects.filter(pk=closed.pk).update(read_only_from="2000-01-01T00:00:00Z")
    runner._forget(closed.id)
    gone = Sandbox(id="00000000-0000-4000-8000-000000000000")

    results = runner.run_all([encrypt(gone, alice, key_id), (closed.id, carol, "kms", "ListKeys", {}, None),
                              encrypt(sandbox, alice, key_id)])

    assert isinstance(results[0][1], Sandbox.DoesNotExist)
    assert isinstance(results[1][1], AccessDeniedException)
    assert results[2][1] is None and results[2][0].response["KeyId"].endswith(key_id)
    assert sequences(sandbox)[-1] == (2, "Encrypt")


def test_a_commit_that_fails_fails_every_call_of_the_batch_and_keeps_nothing(monkeypatch):
    sandbox, alice = alice_sandbox()
    key_id = create_key(sandbox, alice)["KeyId"]
    heard = []
    monkeypatch.setattr(runner, "committed_hooks", [lambda *args: heard.append(args)])
    with commits_failing():
        results = runner.run_all([tag(sandbox, alice, key_id, "one"), tag(sandbox, alice, key_id, "two")])

    assert [outcome for outcome, _ in results] == [None, None]
    assert all("disk I/O error" in str(error) for _, error in results)
    assert heard == []
    assert sequences(sandbox) == [(1, "CreateKey")]
    assert runner._take(sandbox.id) is None  # no world the database never saw is cached
    assert runner.run(sandbox.id, alice, "kms", "ListResourceTags", {"KeyId": key_id}).response["Tags"] == []


def test_every_call_is_heard_of_only_after_the_batch_committed(monkeypatch):
    sandbox, alice = alice_sandbox()
    key_id = create_key(sandbox, alice)["KeyId"]
    seen_by_others = []

    def hook(sandbox_id, changed, records):
        # What another connection (another worker, the console) finds when the hook runs.
        with closing(sqlite3.connect(connection.settings_dict["NAME"])) as other:
            query = f"SELECT event_name FROM {TrailRecord._meta.db_table} WHERE sandbox_id = ? ORDER BY sequence"
            seen_by_others.append((records[0]["eventName"], changed,
                                   [name for (name,) in other.execute(query, [sandbox_id.hex])]))

    monkeypatch.setattr(runner, "committed_hooks", [hook])
    runner.run_all([tag(sandbox, alice, key_id, "one"), encrypt(sandbox, alice, key_id)])

    everything = ["CreateKey", "TagResource", "Encrypt"]
    assert seen_by_others == [("TagResource", True, everything), ("Encrypt", False, everything)]


def test_a_call_on_a_world_another_process_moved_past_reruns_in_its_savepoint(monkeypatch):
    sandbox, alice = alice_sandbox()
    key_id = create_key(sandbox, alice)["KeyId"]  # this process now caches the world at that version
    elsewhere = runner.load_world(sandbox.id)
    elsewhere.doc["kms"]["keys"][key_id]["Tags"] = [{"TagKey": "from", "TagValue": "elsewhere"}]
    commit_elsewhere(sandbox, elsewhere)
    real_attempt = runner._attempt
    retries = []
    monkeypatch.setattr(runner, "_attempt", lambda db, cursor, sandbox_id, work, retry, worlds:
                        retries.append(retry) or real_attempt(db, cursor, sandbox_id, work, retry, worlds))

    results = runner.run_all([tag(sandbox, alice, key_id, "one"), encrypt(sandbox, alice, key_id)])

    assert [error for _, error in results] == [None, None]
    assert retries == [False, True, False]  # the first call lost to the other process once, then ran on its world
    tags = runner.load_world(sandbox.id).doc["kms"]["keys"][key_id]["Tags"]
    assert tags == [{"TagKey": "from", "TagValue": "elsewhere"}, {"TagKey": "t", "TagValue": "one"}]
    assert sequences(sandbox) == [(1, "CreateKey"), (2, "TagResource"), (3, "Encrypt")]
