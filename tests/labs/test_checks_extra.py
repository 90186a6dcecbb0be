"""The lab engine's setup grants and probes, and the check options added with them (core only)."""
import base64
import os

import pytest

from kmslab.cloud import calls, principals
from kmslab.labs import catalog, checks, setup

from .labrun import arn

LAB = '''
slug = "engine"
title = "Engine"
level = "intro"
minutes = 1

[[setup.users]]
name = "bob"
policies = { "use" = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"}]}' }

[[setup.users]]
name = "mallory"
access_key_file = true

[[setup.keys]]
alias = "alias/k"
delegate = true

[[setup.keys]]
alias = "alias/other"

[[setup.grants]]
key = "alias/k"
grantee = "carol@B"
operations = ["Decrypt"]
constraints = { EncryptionContextSubset = { tenant = "acme" } }
retiring = "alice"
name = "partner"
file = "partner-grant-id"

[[setup.ciphertexts]]
name = "acme"
key = "alias/k"
plaintext = "acme data"
context = { tenant = "acme" }

[[setup.probes]]
as = "mallory"
call = "kms:Decrypt"
request = { CiphertextBlob = "{{file:acme}}", EncryptionContext = { tenant = "acme" } }
expect = "AccessDeniedException"

[[setup.probes]]
as = "bob"
call = "kms:Decrypt"
request = { CiphertextBlob = "{{file:acme}}", EncryptionContext = { tenant = "acme" } }
'''


def build(text=LAB):
    lab = catalog.parse(text)
    world, made, keys, files = setup.build(lab, os.urandom(32))
    return lab, world, {p["name"]: p for p in made}, keys, files


def call(world, creds, name, operation, service="kms", **request):
    caller = principals.caller_for_access_key(world, creds[name]["access_key_id"])
    return calls.call(world, caller, service, operation, request)


def holds(world, check, records=()):
    """A check on the setup's own records (its probes, which a run's trail starts with), then `records`."""
    return checks.holds(world, check, setup.seeded_records(world) + list(records), {})


@pytest.fixture(scope="module")
def built():
    return build()


def test_setup_grants_are_real_grants_and_ids_are_handed_over_only_when_asked(built):
    lab, world, creds, keys, files = built
    (grant,) = world.doc["kms"]["grants"].values()
    assert grant["GranteePrincipal"] == "arn:aws:iam::444455556666:user/carol"
    assert grant["RetiringPrincipal"] == arn("A", "alice") and grant["Name"] == "partner"
    assert files["partner-grant-id"] == grant["GrantId"]
    assert files["mallory-access-key-id"] == creds["mallory"]["access_key_id"]
    assert "bob-access-key-id" not in files and not any(creds["mallory"]["secret_access_key"] in v for v in files.values())
    assert catalog.problems(catalog.parse(LAB + '''
[[solve]]
as = "alice"
call = "kms:RetireGrant"
request = { KeyId = "{{key:alias/k}}", GrantId = "{{file:partner-grant-id}}", Other = "{{file:mallory-access-key-id}}" }
''')) == ["the debrief has no 'why'", "the debrief has no 'mistake'", "the debrief has no 'recommendation'"]


def test_probes_keep_their_records_and_decisions_in_the_world(built):
    lab, world, creds, keys, files = built
    trail = world.doc["lab"]["trail"]
    assert [(e["record"]["userIdentity"]["userName"], e["record"].get("errorCode")) for e in trail] == [
        ("mallory", "AccessDeniedException"), ("bob", None)]
    assert trail[0]["explanations"][0]["gate"] == "no-iam-allow"
    assert setup.seeded_records(world) == [e["record"] for e in trail]
    assert [r for r, _ in setup.seeded_trail(world)] == setup.seeded_records(world)


def test_a_probe_with_another_outcome_than_expected_fails_the_setup():
    with pytest.raises(setup.SetupError, match="probe 2 .*expected ok, got AccessDeniedException"):
        build(LAB.replace('as = "bob"', 'as = "dave"'))


def test_can_with_a_gate_and_the_root_principal(built):
    lab, world, creds, keys, files = built
    carol = {"kind": "can", "principal": "carol@B", "action": "kms:Decrypt", "key": "alias/k", "context": {"tenant": "acme"}}
    assert holds(world, dict(carol, gate="grant"))
    assert not holds(world, dict(carol, gate="key-policy"))
    assert not holds(world, dict(carol, context={"tenant": "globex"}))
    bob = {"kind": "can", "principal": "bob", "action": "kms:Decrypt", "key": "alias/k"}
    assert holds(world, dict(bob, gate="key-policy-and-iam")) and not holds(world, dict(bob, gate="grant"))
    # The root user gets in through the root statement, and has no way into a key without one.
    assert holds(world, {"kind": "can", "principal": "root", "action": "kms:PutKeyPolicy", "key": "alias/k"})
    assert holds(world, {"kind": "cannot", "principal": "root", "action": "kms:PutKeyPolicy", "key": "alias/other"})
    assert holds(world, {"kind": "cannot", "principal": "root@B", "action": "kms:Decrypt", "key": "alias/k"})


def test_state_grants_count_and_match_operations_constraint_and_context(built):
    lab, world, creds, keys, files = built
    state = {"kind": "state", "key": "alias/k"}
    assert holds(world, dict(state, grants={"grantee": "carol@B", "operations": ["Decrypt"],
                                            "constraint": "EncryptionContextSubset", "context": {"tenant": "acme"},
                                            "retiring": "alice"}))
    assert holds(world, dict(state, grants={"grantee": "carol@B", "count": 1}))
    assert holds(world, dict(state, grants={"grantee": "bob", "count": 0}))
    assert not holds(world, dict(state, grants={"grantee": "carol@B", "operations": ["Decrypt", "Encrypt"]}))
    assert holds(world, dict(state, grants={"includes": ["Decrypt"]}))
    assert not holds(world, dict(state, grants={"constraint": ["none", "EncryptionContextEquals"]}))
    assert not holds(world, dict(state, grants={"context": {"tenant": "globex"}}))
    assert holds(world, {"kind": "state", "key": "alias/other", "grants": {"count": 0}})


def test_state_rotation_reads_the_keys_rotation_and_its_period():
    lab, world, creds, keys, files = build()
    state = {"kind": "state", "key": "alias/k"}
    assert holds(world, dict(state, rotation=False)) and not holds(world, dict(state, rotation=True))
    assert not holds(world, dict(state, rotation_period=[90, 180]))
    assert call(world, creds, "admin", "EnableKeyRotation", KeyId=keys["alias/k"], RotationPeriodInDays=120).error is None
    assert holds(world, dict(state, rotation=True, rotation_period=[90, 180]))
    assert holds(world, dict(state, rotation_period=120)) and not holds(world, dict(state, rotation_period=365))


def test_state_of_a_users_access_keys_and_untagged_keys():
    lab, world, creds, keys, files = build()
    assert holds(world, {"kind": "state", "user": "mallory", "access_keys": 1})
    assert not holds(world, {"kind": "state", "user": "mallory", "access_keys": 0})
    assert call(world, creds, "admin", "DeleteAccessKey", service="iam", UserName="mallory",
                AccessKeyId=creds["mallory"]["access_key_id"]).error is None
    assert holds(world, {"kind": "state", "user": "mallory", "access_keys": 0})
    assert holds(world, {"kind": "state", "user": "carol@B", "access_keys": 1})
    untagged = {"kind": "state", "key": "alias/k", "untagged": ["Investigated"]}
    assert holds(world, untagged)
    call(world, creds, "admin", "TagResource", KeyId=keys["alias/k"], Tags=[{"TagKey": "Investigated", "TagValue": "x"}])
    assert not holds(world, untagged)


def test_trail_material_tells_the_original_material_from_rotated_ones():
    lab, world, creds, keys, files = build()
    blob = base64.b64decode(files["acme"])
    before = call(world, creds, "bob", "Decrypt", CiphertextBlob=blob, EncryptionContext={"tenant": "acme"})
    call(world, creds, "admin", "RotateKeyOnDemand", KeyId=keys["alias/k"])
    after = call(world, creds, "bob", "Decrypt", CiphertextBlob=blob, EncryptionContext={"tenant": "acme"})
    new = call(world, creds, "bob", "Encrypt", KeyId=keys["alias/k"], Plaintext=b"new")
    spec = {"kind": "trail", "event": "Decrypt", "principal": "bob"}
    assert holds(world, dict(spec, material="original"), [before.record])
    assert holds(world, dict(spec, material="noncurrent"), [after.record])
    assert not holds(world, dict(spec, material="current"), [after.record])
    encrypt = {"kind": "trail", "event": "Encrypt"}
    assert holds(world, dict(encrypt, material="rotated"), [new.record])
    assert holds(world, dict(encrypt, material="current"), [new.record])
    assert not holds(world, dict(encrypt, material="original"), [new.record])


def test_a_trail_check_on_an_alias_matches_the_record_that_moved_the_alias_away():
    lab, world, creds, keys, files = build()
    # ct-updatealias: the record names the alias and the new key, not the key the alias left.
    moved = call(world, creds, "admin", "UpdateAlias", AliasName="alias/k", TargetKeyId=keys["alias/other"])
    assert keys["alias/k"] not in {r["ARN"] for r in moved.record["resources"]}
    spec = {"kind": "trail", "event": "UpdateAlias", "principal": "admin", "error": ""}
    assert holds(world, dict(spec, key="alias/k"), [moved.record])
    assert not holds(world, dict(spec, key="alias/k@B"), [moved.record])


def test_trail_grant_reads_the_grant_a_create_grant_asked_for_and_all_needs_every_check():
    lab, world, creds, keys, files = build()
    made = call(world, creds, "admin", "CreateGrant", KeyId=keys["alias/k"], GranteePrincipal=arn("A", "bob"),
                Operations=["Decrypt"], Constraints={"EncryptionContextEquals": {"tenant": "acme"}})
    assert made.error is None
    spec = {"kind": "trail", "event": "CreateGrant", "error": "", "grant": {
        "grantee": "bob", "operations": ["Decrypt"], "constraint": "EncryptionContextEquals", "context": {"tenant": "acme"}}}
    assert holds(world, spec, [made.record])
    assert not holds(world, dict(spec, grant=dict(spec["grant"], constraint="EncryptionContextSubset")), [made.record])
    assert not holds(world, dict(spec, grant=dict(spec["grant"], grantee="dave")), [made.record])
    both = {"kind": "all", "checks": [spec, {"kind": "state", "key": "alias/k", "grants": {"grantee": "bob"}}]}
    assert holds(world, both, [made.record])
    assert not holds(world, {"kind": "all", "checks": [spec, {"kind": "state", "key": "alias/k", "rotation": True}]},
                     [made.record])


def test_problems_name_bad_grants_probes_and_users():
    lab = catalog.parse(LAB.replace('grantee = "carol@B"', 'grantee = "zed"').replace(
        'as = "bob"', 'as = "root"').replace("{{file:acme}}", "{{file:nope}}") + '''
[[objectives]]
id = "o"
title = "O"
failure = "f"
hints = ["a", "b", "c"]
check = { kind = "all", checks = [{ kind = "state", user = "yan", access_keys = 0 }, { kind = "cannot", principal = "root", action = "kms:Decrypt", key = "alias/k" }] }
''')
    found = " | ".join(catalog.problems(lab))
    assert "setup grant 1: principal zed is not in the lab" in found
    assert "setup probe 2: principal root is not in the lab" in found
    assert "setup probe 1: file nope is not in the lab" in found
    assert "objective o: principal yan is not in the lab" in found
    assert "principal root is not" not in found.replace("setup probe 2: principal root is not", "")
    assert "unknown check kind" not in found


def test_principal_arn_names_users_roots_and_arns(built):
    lab, world, creds, keys, files = built
    assert setup.principal_arn(world, "bob") == arn("A", "bob")
    assert setup.principal_arn(world, "root@B") == "arn:aws:iam::444455556666:root"
    assert setup.principal_arn(world, "arn:aws:iam::111122223333:role/x") == "arn:aws:iam::111122223333:role/x"


def test_a_probe_can_move_the_clock_first():
    text = LAB.replace('[[setup.probes]]\nas = "bob"', '[[setup.probes]]\nadvance = "2h"\nas = "bob"')
    lab, world, creds, keys, files = build(text)
    first, second = setup.seeded_records(world)
    assert first["eventTime"] < second["eventTime"] and world.clock.offset == 2 * 3600
