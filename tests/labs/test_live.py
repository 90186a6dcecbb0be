"""live.call_committed: which calls get a lab run evaluated, and how the server's evaluations coalesce."""
import threading
import time
import uuid

import pytest
from django.test import Client

from kmslab.labs import catalog, live
from kmslab.sandboxes import runner

LAB = catalog.get("encryption-context")  # its checks read bob's Decrypt records only


def record(event, user):
    return {"eventName": event, "userIdentity": {"type": "IAMUser", "userName": user, "accountId": "111122223333"}}


def test_a_call_that_changes_neither_the_world_nor_a_record_the_checks_read_is_passed_over(monkeypatch):
    evaluated = []
    monkeypatch.setattr(live, "_lab_of", lambda sandbox_id: LAB)
    monkeypatch.setattr(live, "evaluate", evaluated.append)
    monkeypatch.setattr(runner, "serving", lambda: False)
    sandbox = uuid.uuid4()
    live.call_committed(sandbox, False, [record("Encrypt", "bob"), record("ListKeys", "bob")])
    live.call_committed(sandbox, False, [record("Decrypt", "admin")])  # the lab's Decrypt checks are bob's
    assert evaluated == []
    live.call_committed(sandbox, False, [record("Decrypt", "bob")])
    live.call_committed(sandbox, True, [record("PutUserPolicy", "admin")])
    assert evaluated == [sandbox, sandbox]


def test_a_plain_sandbox_is_never_evaluated(monkeypatch):
    evaluated = []
    monkeypatch.setattr(live, "_lab_of", lambda sandbox_id: None)
    monkeypatch.setattr(live, "evaluate", evaluated.append)
    live.call_committed(uuid.uuid4(), True, [record("Decrypt", "bob")])
    assert evaluated == []


def test_in_the_server_calls_during_an_evaluation_are_covered_by_one_more_after_it(monkeypatch):
    sandbox = uuid.uuid4()
    gate, runs, done = threading.Event(), [], threading.Event()

    def slow_evaluate(sandbox_id):
        runs.append(time.monotonic())
        gate.wait(5)
        if len(runs) == 2:
            done.set()

    monkeypatch.setattr(live, "_lab_of", lambda sandbox_id: LAB)
    monkeypatch.setattr(live, "evaluate", slow_evaluate)
    monkeypatch.setattr(runner, "serving", lambda: True)
    monkeypatch.setattr(live, "close_old_connections", lambda: None)
    started = time.monotonic()
    for _ in range(50):
        live.call_committed(sandbox, True, [])
    assert time.monotonic() - started < 0.5  # the calls never wait for an evaluation
    time.sleep(0.1)
    assert len(runs) == 1  # one evaluation running, the other 49 calls coalesced behind it
    gate.set()
    assert done.wait(5)
    time.sleep(0.2)
    assert len(runs) == 2
    assert sandbox not in live._busy and sandbox not in live._dirty


@pytest.mark.django_db(transaction=True)
def test_each_evaluation_reads_only_the_records_after_those_it_has(monkeypatch):
    from kmslab.labs import runs

    from .test_views import call_as, start

    run, _ = start(Client())
    asked = []
    real_records = runs.records
    monkeypatch.setattr(runs, "records", lambda sandbox_id, lab, after=0: asked.append(after) or
                        real_records(sandbox_id, lab, after))
    for _ in range(3):
        call_as(run, "bob", "Decrypt", CiphertextBlob=b"not a ciphertext")
    assert asked[0] == 0 and asked[1:] == sorted(asked[1:]) and asked[-1] > 0
    runs.reset(run)
    run.refresh_from_db()
    asked.clear()
    call_as(run, "bob", "Decrypt", CiphertextBlob=b"not a ciphertext")
    assert asked == [0]  # a reset run is read from its start again


def test_reads_judges_a_record_by_the_event_and_principal_of_the_labs_trail_checks():
    from kmslab.labs import checks

    cross = catalog.get("cross-account-principal")  # trail checks on carol (of account B) and on any PutKeyPolicy
    carol = {"eventName": "Decrypt", "userIdentity": {"type": "IAMUser", "userName": "carol", "accountId": "444455556666"}}
    assert checks.reads(cross, carol)
    assert not checks.reads(cross, dict(carol, userIdentity=dict(carol["userIdentity"], userName="admin")))
    assert checks.reads(cross, dict(carol, eventName="PutKeyPolicy",
                                    userIdentity=dict(carol["userIdentity"], userName="anyone")))
    assert not checks.reads(cross, dict(carol, eventName="ListKeys"))
