"""A world stored one row per entity: what a process keeps is what is stored, and old sandboxes carry over."""
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kmslab.cloud import calls, iam, mfa, principals, seed
from kmslab.labs import catalog, runs, solve
from kmslab.sandboxes import runner
from kmslab.sandboxes.master_key import master_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def every_commit_compared(monkeypatch):
    """After every commit, the world this process keeps for the next call is compared
    with the world read afresh from the database: a change the world did not note
    would be missing from the second."""
    compared, differences = [], []

    def compare(sandbox_id, changed, records):
        kept = runner._cache.get(sandbox_id)
        if kept is None:
            return
        stored = runner.load_world(sandbox_id)
        compared.append(sandbox_id)
        if stored.doc != kept[2].doc or stored.clock.offset != kept[2].clock.offset:
            differences.append([r["eventName"] for r in records])

    monkeypatch.setattr(runner, "committed_hooks", runner.committed_hooks + [compare])
    yield compared, differences


def solve_through_the_runner(slug):
    """A lab's solve script, each call through runner.run as a learner's would go."""
    lab = catalog.get(slug)
    run, made, keys, files = runs.start(lab)
    creds = {p["name"]: p["access_key_id"] for p in made}
    sessions = {}

    def as_key(key_id):
        return lambda world: principals.caller_for_access_key(world, key_id)

    def call(name, service, operation, request, with_mfa):
        key_id = creds[name]
        if with_mfa:
            if name not in sessions:
                code = mfa.totp(files[f"{name}-mfa-seed"], runner.load_world(run.sandbox_id).clock.real())
                started = runner.run(run.sandbox_id, as_key(key_id), "sts", "GetSessionToken",
                                     {"SerialNumber": files[f"{name}-mfa-serial"], "TokenCode": code})
                sessions[name] = started.response["Credentials"]["AccessKeyId"]
            key_id = sessions[name]
        outcome = runner.run(run.sandbox_id, as_key(key_id), service, operation, request)
        return (outcome.error.code if outcome.error else ""), outcome.response

    solve.run(lab, keys, files, call, lambda seconds: runner.advance_clock(run.sandbox_id, seconds))


@pytest.mark.parametrize("slug", sorted(catalog.load()))
def test_a_lab_solved_through_the_runner_stores_exactly_the_world_it_keeps(every_commit_compared, slug):
    compared, differences = every_commit_compared

    solve_through_the_runner(slug)

    assert compared
    assert differences == []


def test_iam_sts_and_grant_calls_store_exactly_the_world_they_keep(every_commit_compared):
    compared, differences = every_commit_compared
    sandbox, creds = runner.create_sandbox("alice-token")

    def admin(world):
        return principals.caller_for_access_key(world, creds[0]["access_key_id"])

    def call(service, operation, who=admin, **request):
        outcome = runner.run(sandbox.id, who, service, operation, request)
        assert outcome.error is None, outcome.error
        return outcome.response

    call("iam", "CreateUser", UserName="bob")
    call("iam", "CreateGroup", GroupName="ops")
    call("iam", "AddUserToGroup", GroupName="ops", UserName="bob")
    call("iam", "PutUserPolicy", UserName="bob", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    call("iam", "TagUser", UserName="bob", Tags=[{"Key": "team", "Value": "blue"}])
    bob_key = call("iam", "CreateAccessKey", UserName="bob")["AccessKey"]
    call("iam", "DeleteAccessKey", UserName="bob", AccessKeyId=bob_key["AccessKeyId"])
    role = call("iam", "CreateRole", RoleName="reader", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}]}))["Role"]
    policy = call("iam", "CreatePolicy", PolicyName="read", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Describe*", "Resource": "*"}]}))
    call("iam", "AttachRolePolicy", RoleName="reader", PolicyArn=policy["Policy"]["Arn"])
    call("iam", "CreatePolicyVersion", PolicyArn=policy["Policy"]["Arn"], SetAsDefault=True, PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}))
    session = call("sts", "AssumeRole", RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    key_id = call("kms", "CreateKey")["KeyMetadata"]["KeyId"]
    call("kms", "CreateAlias", AliasName="alias/orders", TargetKeyId=key_id)
    grant = call("kms", "CreateGrant", KeyId=key_id, GranteePrincipal="arn:aws:iam::111122223333:user/bob",
                 Operations=["Encrypt"])
    call("kms", "ListGrants", KeyId=key_id)
    call("kms", "RevokeGrant", KeyId=key_id, GrantId=grant["GrantId"])
    call("kms", "EnableKeyRotation", KeyId=key_id)
    call("kms", "TagResource", KeyId=key_id, Tags=[{"TagKey": "class", "TagValue": "secret"}])
    call("kms", "DescribeKey", KeyId=key_id, who=lambda w: principals.caller_for_access_key(w, session["AccessKeyId"]))
    call("kms", "DescribeKey", KeyId="alias/aws/s3")  # the AWS managed key is made
    call("kms", "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    runner.advance_clock(sandbox.id, 8 * 86400)
    call("kms", "ListAliases")
    call("iam", "RemoveUserFromGroup", GroupName="ops", UserName="bob")
    call("iam", "DeleteUserPolicy", UserName="bob", PolicyName="all")
    call("iam", "DeleteUser", UserName="bob")

    assert len(compared) >= 25
    assert differences == []
    assert key_id not in runner.load_world(sandbox.id).doc["kms"]["keys"]


@pytest.fixture
def migrated_back():
    """The database as it was before migration 0005, migrated forward again after the test."""
    executor = MigrationExecutor(connection)
    before = [("sandboxes", "0004_workshop_controls")]
    executor.migrate(before)
    yield executor.loader.project_state(before).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_a_sandbox_saved_as_one_document_loads_after_migrating(migrated_back):
    old = migrated_back.get_model("sandboxes", "Sandbox")
    world, creds = seed.default_world(master_key())
    caller = principals.caller_for_access_key(world, creds[0]["access_key_id"])
    outcome = calls.call(world, caller, "kms", "CreateKey", {})
    key_id = outcome.response["KeyMetadata"]["KeyId"]
    blob = calls.call(world, caller, "kms", "Encrypt", {"KeyId": key_id, "Plaintext": b"kept"}).response["CiphertextBlob"]
    iam.add_user(world, "444455556666", "carol")
    world.doc["lab"] = {"slug": "demo", "keys": {"alias/orders": key_id}}
    world.clock.advance(3600)
    # The document exactly as the runner stored it before this migration.
    document = json.dumps(world.doc | {"clock_offset": world.clock.offset}, separators=(",", ":"))
    sandbox = old.objects.create(owner="alice-token", world=document)

    executor = MigrationExecutor(connection)
    executor.migrate([("sandboxes", "0005_world_entities")])

    loaded = runner.load_world(sandbox.id)
    assert json.loads(json.dumps(loaded.doc | {"clock_offset": loaded.clock.offset})) == json.loads(document)
    outcome = runner.run(sandbox.id, lambda w: principals.caller_for_access_key(w, creds[0]["access_key_id"]),
                         "kms", "Decrypt", {"CiphertextBlob": blob})
    assert outcome.response["Plaintext"] == b"kept"
