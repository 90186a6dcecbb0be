"""What a lab's setup can hold beyond users, groups and keys: roles, managed policies, imported key
material, and a clock that starts ahead."""
import base64
import json
import os

from kmslab.cloud import calls, principals
from kmslab.labs import catalog, checks, setup

LAB = '''
slug = "setup"
title = "Setup"
level = "intro"
minutes = 1

[setup]
clock = "40d"

[[setup.managed_policies]]
name = "KeyReader"
document = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}]}'

[[setup.roles]]
name = "app"
managed = ["KeyReader"]
policies = { "use" = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "{{key:alias/byok}}"}]}' }

[[setup.users]]
name = "dave"
managed = ["KeyReader"]

[[setup.keys]]
alias = "alias/byok"
origin = "EXTERNAL"
material_file = "byok-material"
delegate = true
'''


def build():
    lab = catalog.parse(LAB)
    world, made, keys, files = setup.build(lab, os.urandom(32))
    return lab, world, {p["name"]: p for p in made}, keys, files


def test_a_role_is_made_with_its_trust_policy_inline_and_managed_policies():
    lab, world, _, keys, _ = build()
    role = world.account("111122223333")["roles"]["app"]
    trust = json.loads(role["AssumeRolePolicyDocument"]) if isinstance(role["AssumeRolePolicyDocument"], str) \
        else role["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert checks.holds(world, {"kind": "can", "principal": "app", "action": ["kms:Decrypt", "kms:DescribeKey"],
                                "key": "alias/byok"}, [], {})
    assert checks.holds(world, {"kind": "cannot", "principal": "app", "action": "kms:Encrypt", "key": "alias/byok"},
                        [], {})


def test_a_managed_policy_is_attached_to_a_user():
    lab, world, _, _, _ = build()
    assert checks.holds(world, {"kind": "can", "principal": "dave", "action": "kms:DescribeKey", "key": "alias/byok"},
                        [], {})
    assert checks.holds(world, {"kind": "cannot", "principal": "dave", "action": "kms:Decrypt", "key": "alias/byok"},
                        [], {})


def test_imported_material_is_real_and_handed_over_to_import_again():
    lab, world, creds, keys, files = build()
    meta = world.doc["kms"]["keys"][keys["alias/byok"].rsplit("/", 1)[1]]["KeyMetadata"]
    assert meta["Origin"] == "EXTERNAL" and meta["KeyState"] == "Enabled"
    material = base64.b64decode(files["byok-material"])
    assert len(material) == 32 and material not in json.dumps(world.doc).encode()
    admin = principals.caller_for_access_key(world, creds["admin"]["access_key_id"])
    sealed = calls.call(world, admin, "kms", "Encrypt", {"KeyId": "alias/byok", "Plaintext": b"x"})
    assert sealed.error is None
    # DeleteImportedKeyMaterial takes a key id or ARN, not an alias, as AWS's does.
    assert calls.call(world, admin, "kms", "DeleteImportedKeyMaterial", {"KeyId": keys["alias/byok"]}).error is None
    assert calls.call(world, admin, "kms", "Decrypt",
                      {"CiphertextBlob": sealed.response["CiphertextBlob"]}).error.code == "KMSInvalidStateException"


def test_the_clock_starts_ahead_and_advanced_days_counts_from_there():
    lab, world, _, _, _ = build()
    assert world.clock.offset >= 40 * 86400
    check = {"kind": "state", "advanced_days": 1}
    assert not checks.holds(world, check, [], {})
    world.clock.advance(86400)
    assert checks.holds(world, check, [], {})


def test_problems_know_the_material_file():
    lab = catalog.parse(LAB.replace('minutes = 1', 'minutes = 1\n[[solve]]\nas = "admin"\ncall = "kms:ListKeys"\n'
                                    'request = { Marker = "{{file:byok-material}}" }', 1))
    assert not any("byok-material" in p for p in catalog.problems(lab))


def test_a_state_check_counts_an_accounts_customer_managed_keys_not_pending_deletion():
    lab, world, creds, keys, _ = build()
    assert checks.holds(world, {"kind": "state", "key_count": 1}, [], {})
    assert checks.holds(world, {"kind": "state", "key_count": 0, "account": "B"}, [], {})
    admin = principals.caller_for_access_key(world, creds["admin"]["access_key_id"])
    made = calls.call(world, admin, "kms", "CreateKey", {})
    assert checks.holds(world, {"kind": "state", "key_count": [2, 3]}, [], {})
    calls.call(world, admin, "kms", "ScheduleKeyDeletion", {"KeyId": made.response["KeyMetadata"]["KeyId"]})
    assert checks.holds(world, {"kind": "state", "key_count": 1}, [], {})
    # alias/aws/* keys (AWS managed) are not counted.
    calls.call(world, admin, "kms", "DescribeKey", {"KeyId": "alias/aws/s3"})
    assert checks.holds(world, {"kind": "state", "key_count": 1}, [], {})
