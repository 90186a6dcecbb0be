"""The policy simulator page: a request in the URL, the engine's decision and why, live over htmx."""
import html
import json
import re
from urllib.parse import urlencode

from kmslab.console import simulator
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import TrailRecord

from .personas import A, B, is_fragment


def simulate(learner, htmx=False, **query):
    query = {"principal": f"arn:aws:iam::{A}:user/admin", "action": "kms:Decrypt", "context": "{}", **query}
    return learner.get(learner.home + "simulator/?" + urlencode(query), htmx=htmx)


def key_of(learner):
    key_id = learner.create_key().rstrip("/").rsplit("/", 1)[1]
    return runner.load_world(learner.sandbox.id).doc["kms"]["keys"][key_id]["KeyMetadata"]


def put_policy(learner, meta, statements):
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
    response = learner.post(f"{learner.home}policies/key/{meta['KeyId']}/", {"document": policy,
                            "BypassPolicyLockoutSafetyCheck": "on"}, htmx=True)
    assert "Succeeded" in response.content.decode()


def test_the_page_opens_on_the_acting_principal_and_the_first_key(alice):
    meta = key_of(alice)
    page = alice.get(alice.home + "simulator/").content.decode()
    assert f'value="{meta["Arn"]}"' in page
    assert f'<option value="{A}/user/admin" selected>' in page
    assert "Change any input: the decision follows." in page


def test_an_allowed_call_names_the_gate_and_the_statement(alice):
    meta = key_of(alice)
    page = simulate(alice, key=meta["Arn"]).content.decode()
    assert "Allowed" in page
    assert "the key policy delegates to the caller" in page
    assert "Enable IAM User Permissions" in page


def test_live_updates_are_the_decision_fragment_alone(alice):
    meta = key_of(alice)
    response = simulate(alice, htmx=True, key=meta["Arn"], principal=f"arn:aws:iam::{B}:user/admin")
    page = response.content.decode()
    assert is_fragment(response) and page.lstrip().startswith('<section class="panel" id="decision"')
    assert "Implicitly denied" in page
    assert "The call would get <span class=\"code\">AccessDeniedException</span>" in page
    assert "Nearest miss there: statement 1" in page and "lacked: principal" in page


def test_the_key_resolves_as_kms_would_by_alias_name_in_the_callers_account(alice):
    meta = key_of(alice)
    alice.post(alice.home + f"keys/{meta['KeyId']}/CreateAlias/", {"AliasName": "alias/payroll"})
    assert "Allowed" in simulate(alice, key="alias/payroll").content.decode()
    page = simulate(alice, key="alias/payroll", principal=f"arn:aws:iam::{B}:user/admin").content.decode()
    assert "NotFoundException" in page and f"arn:aws:kms:us-east-1:{B}:alias/payroll" in page


def test_mfa_and_the_encryption_context_reach_the_conditions(alice):
    meta = key_of(alice)
    put_policy(alice, meta, [
        {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}, "StringEquals": {"kms:EncryptionContext:tenant": "acme"}}},
    ])
    without_mfa = simulate(alice, key=meta["Arn"], context='{"tenant": "acme"}').content.decode()
    assert "Implicitly denied" in without_mfa and "missing from the request" in without_mfa
    wrong_tenant = simulate(alice, key=meta["Arn"], mfa="on", context='{"tenant": "globex"}').content.decode()
    assert "Implicitly denied" in wrong_tenant and "<code>globex</code>" in wrong_tenant
    assert "Allowed" in simulate(alice, key=meta["Arn"], mfa="on", context='{"tenant": "acme"}').content.decode()


def test_via_service_sets_kms_via_service(alice):
    meta = key_of(alice)
    put_policy(alice, meta, [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}},
    ])
    assert "Implicitly denied" in simulate(alice, key=meta["Arn"]).content.decode()
    assert "Allowed" in simulate(alice, key=meta["Arn"], via_service="s3").content.decode()


def test_a_trail_event_opens_the_simulator_with_its_inputs(alice):
    meta = key_of(alice)
    alice.act_as(f"{B}/user/admin")
    alice.post(alice.home + "envelope/direct/", {"KeyId": meta["Arn"], "EncryptionContext": '{"tenant": "acme"}',
                                                 "message": "hello"}, htmx=True)
    record = TrailRecord.objects.filter(sandbox=alice.sandbox, event_name="Encrypt").get().record
    assert record["errorCode"] == "AccessDeniedException"
    detail = alice.get(f"{alice.home}trail/{record['eventID']}/").content.decode()
    link = html.unescape(re.search(r'href="([^"]*/simulator/\?[^"]*)"', detail).group(1))
    assert link == f"{alice.home}simulator/?{simulator.query_from_record(record)}"
    page = alice.get(link).content.decode()
    assert f'<option value="{B}/user/admin" selected>' in page
    assert f'value="{meta["Arn"]}"' in page and "tenant" in page
    assert "Implicitly denied" in page and "kms:Encrypt" in page


def test_identity_from_arn_reads_users_roles_sessions_and_root():
    assert simulator.identity_from_arn(f"arn:aws:iam::{A}:user/team/alice") == f"{A}/user/alice"
    assert simulator.identity_from_arn(f"arn:aws:iam::{A}:role/app") == f"{A}/role/app"
    assert simulator.identity_from_arn(f"arn:aws:sts::{A}:assumed-role/app/session-1") == f"{A}/role/app"
    assert simulator.identity_from_arn(f"arn:aws:iam::{A}:root") == f"{A}/root/root"
    assert simulator.identity_from_arn("kms.amazonaws.com") is None


def test_a_bad_input_is_shown_on_its_field(alice):
    page = simulate(alice, htmx=True, context="[1]").content.decode()
    assert "Encryption context: An encryption context is an object whose values are strings." in page


def test_another_learner_cannot_simulate_in_the_sandbox(alice, mallory):
    assert simulate(mallory, **{}).status_code == 200  # their own sandbox
    assert mallory.get(alice.home + "simulator/").status_code == 404


def test_an_operation_on_no_key_is_decided_by_iam_policies_alone(alice):
    page = simulate(alice, action="kms:CreateKey", key="").content.decode()
    assert "Allowed" in page and "an IAM policy allows the call" in page
    page = simulate(alice, action="kms:CreateKey", key="", principal=f"arn:aws:iam::{A}:root").content.decode()
    assert "not limited by IAM policies" in page


def test_an_aws_managed_alias_in_a_new_sandbox_resolves_to_its_key_as_kms_would(alice):
    response = simulate(alice, key="alias/aws/s3", via_service="s3")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Allowed" in page and "Allow access through S3" in page
    # A snapshot was simulated on: the sandbox itself has no such key until a call uses the alias.
    assert not runner.load_world(alice.sandbox.id).doc["kms"]["aliases"]


def test_every_simulator_input_gives_a_decision_or_a_clear_error(alice):
    import random

    meta = key_of(alice)
    alice.post(alice.home + f"keys/{meta['KeyId']}/CreateAlias/", {"AliasName": "alias/payroll"})
    world = runner.load_world(alice.sandbox.id)
    from kmslab.console import acting
    principals = [value for _, options in acting.choices(world) for value, _ in options]
    principals += [f"arn:aws:iam::{A}:user/admin", f"arn:aws:sts::{B}:assumed-role/x/y", f"arn:aws:iam::{A}:root",
                   "arn:aws:iam::999999999999:user/nobody", "arn:", "", "x/y/z", f"{A}/user/nobody"]
    keys = ["", meta["KeyId"], meta["Arn"], "alias/payroll", f"arn:aws:kms:us-east-1:{A}:alias/payroll",
            "alias/aws/s3", "alias/aws/ebs", "alias/aws/nosuchservice", "alias/aws/", "alias/", "alias",
            f"arn:aws:kms:eu-west-1:{A}:key/{meta['KeyId']}", f"arn:aws:kms:us-east-1:{B}:key/{meta['KeyId']}",
            "arn:aws:kms:", "arn:aws:kms:us-east-1::key/", "00000000-0000-0000-0000-000000000000",
            "mrk-0123456789abcdef0123456789abcdef", "k" * 3000, " ", "\x00", "alias/aws/s3/../x", "key/" + meta["KeyId"]]
    contexts = ["{}", '{"tenant": "acme"}', "[1]", "not json", '{"a": 1}', '{"a": {"b": "c"}}', "", "null", '"x"']
    ips = ["127.0.0.1", "", "::1", "10.0.0.300", "not an ip"]
    vias = ["", "s3", "ec2", "nosuch"]
    actions = list(simulator.ACTIONS) + ["kms:NoSuchAction", "", "iam:CreateUser"]
    rng = random.Random(9)
    cases = [{"key": key, "action": rng.choice(actions), "principal": rng.choice(principals)} for key in keys]
    cases += [{"action": action, "key": rng.choice(keys), "principal": rng.choice(principals)} for action in actions]
    cases += [{"principal": principal, "key": rng.choice(keys), "action": rng.choice(actions)} for principal in principals]
    for case in cases + [{} for _ in range(40)]:
        query = {"principal": case.get("principal", rng.choice(principals)), "action": case.get("action", rng.choice(actions)),
                 "key": case.get("key", rng.choice(keys)), "context": rng.choice(contexts),
                 "source_ip": rng.choice(ips), "via_service": rng.choice(vias)}
        if rng.random() < 0.5:
            query["mfa"] = "on"
        response = alice.get(alice.home + "simulator/?" + urlencode(query), htmx=True)
        assert response.status_code == 200, query
        page = response.content.decode()
        assert "Allowed" in page or "denied" in page or 'class="code"' in page or 'result bad" role="alert"' in page, query


def test_a_cross_account_denial_names_both_halves_and_which_is_missing(alice):
    meta, private = key_of(alice), key_of(alice)
    # B's admin has allow-all IAM, but the key policy names only account A.
    page = simulate(alice, key=meta["Arn"], principal=f"arn:aws:iam::{B}:user/admin").content.decode()
    assert "Cross-account: two halves must both allow" in page
    assert f'<strong>Key policy</strong> (account {A}):\n        <span class="badge bad">missing</span>' in page
    assert f'<strong>IAM policies</strong> (account {B}):\n        <span class="badge ok">allows</span>' in page
    # Now the key policy shares the key with account B, and bob in B has no IAM policy.
    put_policy(alice, meta, [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "ShareWithB", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
         "Action": "kms:Decrypt", "Resource": "*"}])
    alice.act_as(f"{B}/user/admin")
    alice.post(alice.home + "iam/call/CreateUser/", {"UserName": "bob"})
    page = html.unescape(simulate(alice, key=meta["Arn"], principal=f"arn:aws:iam::{B}:user/bob").content.decode())
    assert "the key's account allows it, but no IAM policy in the caller's account does" in page
    assert f"key policy, statement 2 (Sid “ShareWithB”), naming <code>arn:aws:iam::{B}:root</code>" in page
    assert f"no IAM policy in account {B} allows <code>kms:Decrypt</code> on this key." in page
    assert "lacked: principal" not in page
    # Both: B's admin on the shared key; neither: bob on a key shared with nobody.
    page = simulate(alice, key=meta["Arn"], principal=f"arn:aws:iam::{B}:user/admin").content.decode()
    assert "Allowed</span>" in page and page.count('<span class="badge ok">allows</span>') == 2
    page = html.unescape(simulate(alice, key=private["Arn"], principal=f"arn:aws:iam::{B}:user/bob").content.decode())
    assert page.count('<span class="badge bad">missing</span>') == 2
    words = " ".join(page.split())
    assert (f"no statement allows the caller or its account {B}. Nearest miss there: statement 1 "
            "(Sid “Enable IAM User Permissions”) of key policy, which lacked: principal.") in words
    assert f"no IAM policy in account {B} allows <code>kms:Decrypt</code> on this key. </li>" in words


def test_a_key_named_by_its_alias_is_decided_with_that_alias_as_kms_request_alias(alice):
    meta = key_of(alice)
    alice.post(alice.home + f"keys/{meta['KeyId']}/CreateAlias/", {"AliasName": "alias/payroll"})
    put_policy(alice, meta, [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:RequestAlias": "alias/payroll"}}},
    ])
    assert "Explicitly denied" in simulate(alice, key="alias/payroll").content.decode()
    assert "Allowed" in simulate(alice, key=meta["Arn"]).content.decode()


def test_a_multi_region_replica_is_simulated_in_its_own_region_by_its_arn(alice):
    key_page = alice.create_key(MultiRegion="on")
    key_id = key_page.rstrip("/").rsplit("/", 1)[1]
    alice.post(key_page + "ReplicateKey/", {"ReplicaRegion": "eu-west-1"})
    replica = f"arn:aws:kms:eu-west-1:{A}:key/{key_id}"

    page = simulate(alice, key=replica).content.decode()

    assert "Allowed" in page and "NotFoundException" not in page
