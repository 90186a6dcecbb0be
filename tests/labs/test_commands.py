"""manage.py labs: the contracts outside tools rely on (issue: labs)."""
import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)


def labs(*args):
    out = StringIO()
    call_command("labs", *args, stdout=out)
    return out.getvalue()


def test_list_names_every_lab_with_its_objectives():
    listed = {lab["slug"]: lab for lab in json.loads(labs("list", "--json"))}
    lab = listed["iam-vs-key-policy"]
    assert set(lab) == {"slug", "title", "level", "minutes", "objectives"}
    assert [o["id"] for o in lab["objectives"]] == ["bob-encrypts", "bob-not-admin"]


def test_start_hands_over_a_run_and_status_checks_it_on_its_current_world():
    started = json.loads(labs("start", "iam-vs-key-policy", "--json"))
    assert {"sandbox", "lab", "console_url", "accounts", "principals", "keys", "files"} <= set(started)
    bob = next(p for p in started["principals"] if p["name"] == "bob")
    assert bob["arn"] == "arn:aws:iam::111122223333:user/bob" and bob["secret_access_key"]
    assert started["keys"]["alias/orders"].startswith("arn:aws:kms:us-east-1:111122223333:key/")
    assert "/claim/" in started["console_url"]
    status = json.loads(labs("status", started["sandbox"], "--json"))
    assert status == {"lab": "iam-vs-key-policy", "complete": False, "objectives": [
        {"id": "bob-encrypts", "title": "Bob encrypts with alias/orders", "done": False},
        {"id": "bob-not-admin", "title": "Bob still cannot change the key policy or schedule the key's deletion",
         "done": False}]}


def test_status_of_a_sandbox_that_is_no_lab_run_is_an_error():
    with pytest.raises(Exception, match="no lab run"):
        labs("status", "00000000-0000-0000-0000-000000000000")


def test_validate_passes_the_catalogue():
    out = labs("validate")
    assert "iam-vs-key-policy: ok" in out


def test_status_counts_a_call_made_in_the_run_after_it_started():
    from kmslab.cloud import principals
    from kmslab.labs import setup
    from kmslab.sandboxes import runner

    started = json.loads(labs("start", "iam-vs-key-policy", "--json"))
    keys = {p["name"]: p["access_key_id"] for p in started["principals"]}

    def as_(name):
        return lambda world: principals.caller_for_access_key(world, keys[name])

    policy = json.dumps({"Version": "2012-10-17", "Statement": setup.base_statements("111122223333", True)})
    assert runner.run(started["sandbox"], as_("admin"), "kms", "PutKeyPolicy", {
        "KeyId": started["keys"]["alias/orders"], "PolicyName": "default", "Policy": policy}).error is None
    assert runner.run(started["sandbox"], as_("bob"), "kms", "Encrypt",
                      {"KeyId": "alias/orders", "Plaintext": b"order 42"}).error is None
    status = json.loads(labs("status", started["sandbox"], "--json"))
    assert status["complete"] is True
    assert all(o["done"] for o in status["objectives"])
