"""The access key index: how the AWS endpoint finds a sandbox from a signed request."""
import pytest

from kmslab.cloud import principals
from kmslab.sandboxes import runner

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_sandbox_indexes_both_admins_keys():
    sandbox, creds = runner.create_sandbox("alice-token")

    assert [runner.sandbox_for_access_key(c["access_key_id"]) for c in creds] == [sandbox.id, sandbox.id]
    assert runner.sandbox_for_access_key("AKIANOTAKEYATALL0000") is None


def test_keys_and_sessions_made_by_calls_are_indexed_and_deleted_keys_are_not():
    sandbox, creds = runner.create_sandbox("alice-token")
    key = creds[0]["access_key_id"]
    alice = lambda world: principals.caller_for_access_key(world, key)  # noqa: E731

    created = runner.run(sandbox.id, alice, "iam", "CreateAccessKey", {"UserName": "admin"}).response["AccessKey"]
    session = runner.run(sandbox.id, alice, "sts", "GetSessionToken", {}).response["Credentials"]

    assert runner.sandbox_for_access_key(created["AccessKeyId"]) == sandbox.id
    assert runner.sandbox_for_access_key(session["AccessKeyId"]) == sandbox.id

    runner.run(sandbox.id, alice, "iam", "DeleteAccessKey", {"UserName": "admin", "AccessKeyId": created["AccessKeyId"]})

    assert runner.sandbox_for_access_key(created["AccessKeyId"]) is None
    assert runner.sandbox_for_access_key(key) == sandbox.id
