"""Access preview: the matrix of who can do what, before and after an edit, from the policy engine."""
import json

from kmslab.cloud import calls, iam
from kmslab.console import access_preview

A, B = "111122223333", "444455556666"


def make_key(world, caller, policy=None):
    request = {"Policy": json.dumps(policy)} if policy else {}
    key_id = calls.call(world, caller, "kms", "CreateKey", request).response["KeyMetadata"]["KeyId"]
    return world.doc["kms"]["keys"][key_id]


def make_user(world, account, name, policy=None):
    user = iam.add_user(world, account, name)
    if policy:
        user["InlinePolicies"]["kms"] = json.dumps(policy)
    return user


def allow(actions, resource="*"):
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}


def grid(matrix):
    """{row label: {action: (before, after)}}"""
    return {row.label: {a: (c.before, c.after) for a, c in zip(matrix.columns, row.cells)} for row in matrix.rows}


def test_removing_root_delegation_shows_who_loses_and_who_gains(world, admin):
    make_user(world, A, "bob", allow("kms:Decrypt"))
    key = make_key(world, admin)
    proposed = json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Bob uses the key", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:user/bob"},
             "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"},
            {"Sid": "Admin administers it", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:user/admin"},
             "Action": ["kms:PutKeyPolicy", "kms:DescribeKey"], "Resource": "*"},
        ],
    })
    matrix = access_preview.for_key_policy(world, key, proposed)
    cells = grid(matrix)
    assert cells[f"bob ({A})"]["kms:Decrypt"] == (True, True)  # IAM allow via root delegation, then directly
    assert cells[f"bob ({A})"]["kms:Encrypt"] == (False, True)
    assert cells[f"admin ({A})"]["kms:PutKeyPolicy"] == (True, True)
    assert cells[f"admin ({A})"]["kms:Decrypt"] == (True, False)
    assert cells[f"root ({A})"]["kms:DescribeKey"] == (True, False)
    assert cells[f"admin ({B})"]["kms:Decrypt"] == (False, False)  # another account, never delegated to
    assert cells[f"admin ({B})"]["kms:PutKeyPolicy"] == (False, False)
    changes = matrix.changes()
    assert (f"bob ({A})", "kms:Encrypt", "gains") in changes
    assert (f"admin ({A})", "kms:ScheduleKeyDeletion", "loses") in changes
    assert all(cell.changed == (cell.before != cell.after) for row in matrix.rows for cell in row.cells)


def test_a_proposed_policy_that_does_not_parse_allows_nobody(world, admin):
    key = make_key(world, admin)
    matrix = access_preview.for_key_policy(world, key, '{"Statement": [')
    assert all(not cell.after for row in matrix.rows for cell in row.cells)
    assert any(cell.before for row in matrix.rows for cell in row.cells)


def test_the_why_of_each_cell_is_the_deciding_gate_in_words(world, admin):
    key = make_key(world, admin)
    matrix = access_preview.for_key_policy(world, key, key["Policy"], actions=("kms:Decrypt",))
    why = {row.label: row.cells[0].why for row in matrix.rows}
    assert why[f"admin ({A})"] == "the key policy delegates to the caller's account and an IAM policy allows the call"
    assert why[f"admin ({B})"] == "no statement of the key policy allows the caller, and no grant does"


def test_an_iam_policy_edit_is_previewed_per_key_and_the_snapshot_is_left_as_it_was(world, admin):
    bob = make_user(world, A, "bob", allow("kms:Decrypt"))
    make_key(world, admin)
    key_b = make_key(world, admin)
    calls.call(world, admin, "kms", "CreateAlias", {"AliasName": "alias/payroll", "TargetKeyId": key_b["KeyMetadata"]["KeyId"]})
    before = dict(bob["InlinePolicies"])
    caller = access_preview.principals(world)[1][1]
    assert caller.arn.endswith(":user/bob")
    proposed = json.dumps(allow(["kms:Decrypt", "kms:Encrypt"], key_b["KeyMetadata"]["Arn"]))
    matrix = access_preview.for_identity_policy(world, bob, "kms", proposed, caller)
    cells = grid(matrix)
    assert len(cells) == 2 and "alias/payroll" in cells
    assert cells["alias/payroll"]["kms:Encrypt"] == (False, True)
    first = next(label for label in cells if label != "alias/payroll")
    assert cells[first]["kms:Decrypt"] == (True, False)
    assert bob["InlinePolicies"] == before


def test_a_condition_on_the_context_or_mfa_shows_only_when_the_request_carries_it(world, admin):
    key = make_key(world, admin)
    proposed = json.loads(key["Policy"])
    proposed["Statement"].append({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:user/admin"}, "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}, "Bool": {"aws:MultiFactorAuthPresent": "true"}},
    })
    proposed = json.dumps(proposed)
    make_user(world, B, "reader", allow("kms:Decrypt"))
    world.account(B)["users"]["admin"]["InlinePolicies"]["AdministratorAccess"] = json.dumps(allow("*"))

    def b_admin_decrypt(request):
        matrix = access_preview.for_key_policy(world, key, proposed, ("kms:Decrypt",), request)
        return grid(matrix)[f"admin ({B})"]["kms:Decrypt"]

    assert b_admin_decrypt(access_preview.PLAIN) == (False, False)
    assert b_admin_decrypt(access_preview.Request({"tenant": "acme"})) == (False, False)
    assert b_admin_decrypt(access_preview.Request({"tenant": "acme"}, mfa=True)) == (False, True)
    assert b_admin_decrypt(access_preview.Request({"tenant": "globex"}, mfa=True)) == (False, False)


def test_a_group_policy_edit_is_previewed_for_each_member_on_every_key(world, admin):
    group = iam.add_group(world, A, "readers")
    make_user(world, A, "bob")
    make_user(world, A, "carol")
    iam.add_user_to_group(world, A, "bob", "readers")
    key = make_key(world, admin)
    key_id = key["KeyMetadata"]["KeyId"]
    matrix = access_preview.for_group_policy(world, A, group, "read", json.dumps(allow("kms:Decrypt")))
    cells = grid(matrix)
    assert list(cells) == [f"user bob · {key_id}"]  # carol is no member; the group itself is no principal
    assert cells[f"user bob · {key_id}"]["kms:Decrypt"] == (False, True)
    assert cells[f"user bob · {key_id}"]["kms:Encrypt"] == (False, False)
    assert matrix.head == "Principal · key"
    assert group["InlinePolicies"] == {}  # put in place for "after" and taken out again


def test_a_group_without_members_previews_nobody_and_says_so(world, admin):
    group = iam.add_group(world, A, "empty")
    make_key(world, admin)
    matrix = access_preview.for_group_policy(world, A, group, "read", json.dumps(allow("kms:*")))
    assert matrix.rows == [] and matrix.empty == "Group empty has no members: its policies apply to nobody yet."


def test_a_managed_policy_edit_is_previewed_for_everyone_it_is_attached_to(world, admin):
    policy = iam.add_managed_policy(world, A, "kms-read", json.dumps(allow("kms:DescribeKey")))
    arn = policy["Arn"]
    make_user(world, A, "bob")["AttachedPolicies"].append(arn)
    make_user(world, A, "carol")
    make_user(world, A, "dave")
    iam.add_group(world, A, "readers")["AttachedPolicies"].append(arn)
    iam.add_user_to_group(world, A, "carol", "readers")
    iam.add_role(world, A, "app", "{}")["AttachedPolicies"].append(arn)
    key = make_key(world, admin)
    key_id = key["KeyMetadata"]["KeyId"]
    proposed = json.dumps(allow(["kms:DescribeKey", "kms:Decrypt"]))
    matrix = access_preview.for_managed_policy(world, A, policy, proposed)
    cells = grid(matrix)
    assert list(cells) == [f"user bob · {key_id}", f"user carol · {key_id}", f"role app · {key_id}"]  # not dave
    for label in cells:
        assert cells[label]["kms:DescribeKey"] == (True, True)
        assert cells[label]["kms:Decrypt"] == (False, True)
    assert policy["Versions"]["v1"]["Document"] == json.dumps(allow("kms:DescribeKey"))
