"""Grants end to end: CreateGrant, the grant in use, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.

alice (account A) owns the key; bob (account B) and carol (A) are grantees;
mallory (A) tries to ride on grants that are not hers.
"""
import json

import pytest

from kmslab.cloud import iam, principals

from ..factories import allow, call, deny, import_material, key_in_state, make_key, make_user, ok

A, B = "111122223333", "444455556666"


def fails(world, caller, operation, code, **request):
    outcome = call(world, caller, operation, **request)
    assert outcome.error is not None, f"{operation} succeeded: {outcome.response}"
    assert outcome.error.code == code, (outcome.error.code, outcome.error.message)
    return outcome


def user(world, account, name):
    return principals.user_caller(account, iam.add_user(world, account, name))


def new_key(world, admin):
    return ok(world, admin, "CreateKey")["KeyMetadata"]


def test_a_grant_lets_the_grantee_use_the_key_until_it_is_revoked(world, admin):
    key = new_key(world, admin)
    carol = user(world, A, "carol")
    fails(world, carol, "Encrypt", "AccessDeniedException", KeyId=key["KeyId"], Plaintext=b"x")
    grant = ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=carol.arn, Operations=["Encrypt", "Decrypt"])
    outcome = call(world, carol, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
    assert outcome.error is None
    assert outcome.explanations[-1]["gate"] == "grant"
    assert outcome.explanations[-1]["deciding"]["statement"] == grant["GrantId"]
    fails(world, carol, "DescribeKey", "AccessDeniedException", KeyId=key["KeyId"])
    ok(world, admin, "RevokeGrant", KeyId=key["KeyId"], GrantId=grant["GrantId"])
    fails(world, carol, "Encrypt", "AccessDeniedException", KeyId=key["KeyId"], Plaintext=b"x")


def test_constraints_subset_and_equals(world, admin):
    key = new_key(world, admin)
    carol = user(world, A, "carol")
    ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=carol.arn, Operations=["Encrypt"],
       Constraints={"EncryptionContextSubset": {"dept": "hr"}})
    fails(world, carol, "Encrypt", "AccessDeniedException", KeyId=key["KeyId"], Plaintext=b"x")
    fails(world, carol, "Encrypt", "AccessDeniedException", KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"dept": "HR"})
    ok(world, carol, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"Dept": "hr", "app": "payroll"})
    ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=carol.arn, Operations=["Decrypt"],
       Constraints={"EncryptionContextEquals": {"dept": "hr"}})
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"dept": "hr", "app": "a"})["CiphertextBlob"]
    fails(world, carol, "Decrypt", "AccessDeniedException", CiphertextBlob=blob, EncryptionContext={"dept": "hr", "app": "a"})
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"y", EncryptionContext={"dept": "hr"})["CiphertextBlob"]
    assert ok(world, carol, "Decrypt", CiphertextBlob=blob, EncryptionContext={"dept": "hr"})["Plaintext"] == b"y"


def test_a_grantee_in_another_account_uses_the_key_arn_without_iam_policies(world, admin):
    key = new_key(world, admin)
    bob = user(world, B, "bob")
    fails(world, bob, "Encrypt", "AccessDeniedException", KeyId=key["Arn"], Plaintext=b"x")
    ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=bob.arn, Operations=["Encrypt", "RetireGrant"])
    ok(world, bob, "Encrypt", KeyId=key["Arn"], Plaintext=b"x")
    listed = ok(world, admin, "ListGrants", KeyId=key["KeyId"])["Grants"]
    assert [g["GranteePrincipal"] for g in listed] == [bob.arn]
    assert listed[0]["IssuingAccount"] == f"arn:aws:iam::{A}:root" and "GrantToken" not in listed[0]
    ok(world, bob, "RetireGrant", KeyId=key["Arn"], GrantId=listed[0]["GrantId"])
    assert ok(world, admin, "ListGrants", KeyId=key["KeyId"])["Grants"] == []


def test_a_role_grantee_covers_every_session_of_the_role(world, admin):
    key = new_key(world, admin)
    role = iam.add_role(world, A, "app", "{}")
    ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=role["Arn"], Operations=["GenerateDataKey"])
    session = principals.role_session_caller(A, role, "i-123", mfa_authenticated=False, session_created=world.now())
    assert len(ok(world, session, "GenerateDataKey", KeyId=key["KeyId"], KeySpec="AES_256")["Plaintext"]) == 32


def test_name_makes_create_grant_idempotent(world, admin):
    key = new_key(world, admin)
    carol = user(world, A, "carol")
    request = dict(KeyId=key["KeyId"], GranteePrincipal=carol.arn, Operations=["Encrypt"], Name="nightly")
    first = ok(world, admin, "CreateGrant", **request)
    again = ok(world, admin, "CreateGrant", **request)
    assert again["GrantId"] == first["GrantId"]
    other = ok(world, admin, "CreateGrant", **{**request, "Operations": ["Decrypt"]})
    assert other["GrantId"] != first["GrantId"]


def test_a_grant_with_create_grant_can_only_make_narrower_grants(world, admin):
    key = new_key(world, admin)
    carol, mallory = user(world, A, "carol"), user(world, A, "mallory")
    ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=carol.arn, Operations=["CreateGrant", "Decrypt"])
    fails(world, carol, "CreateGrant", "AccessDeniedException", KeyId=key["KeyId"], GranteePrincipal=mallory.arn,
          Operations=["Decrypt", "Encrypt"])
    ok(world, carol, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=mallory.arn, Operations=["Decrypt"])


def test_who_may_retire_a_grant(world, admin):
    key = new_key(world, admin)
    carol, mallory = user(world, A, "carol"), user(world, A, "mallory")
    grant = ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=carol.arn, Operations=["Encrypt"],
               RetiringPrincipal=admin.arn)
    outcome = fails(world, mallory, "RetireGrant", "AccessDeniedException", GrantToken=grant["GrantToken"])
    assert outcome.explanations[-1]["gate"] == "not-retiring-principal"
    fails(world, carol, "RetireGrant", "AccessDeniedException", GrantToken=grant["GrantToken"])
    retirable = ok(world, admin, "ListRetirableGrants", RetiringPrincipal=admin.arn)["Grants"]
    assert [g["GrantId"] for g in retirable] == [grant["GrantId"]]
    ok(world, admin, "RetireGrant", GrantToken=grant["GrantToken"])
    assert world.doc["kms"]["grants"] == {}


def test_grant_errors(world, admin):
    key = new_key(world, admin)
    fails(world, admin, "CreateGrant", "ValidationException", KeyId=key["KeyId"],
          GranteePrincipal=f"arn:aws:iam::{A}:user/ghost", Operations=["Encrypt"])
    fails(world, admin, "RetireGrant", "InvalidGrantTokenException", GrantToken="not-a-token")
    fails(world, admin, "RevokeGrant", "NotFoundException", KeyId=key["KeyId"], GrantId="0" * 64)
    fails(world, admin, "RevokeGrant", "InvalidGrantIdException", KeyId=key["KeyId"], GrantId="nope")


def test_create_grant_conditions_can_limit_what_may_be_granted(world, admin):
    key_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "kms:CreateGrant", "Resource": "*",
         "Condition": {"ForAnyValue:StringNotEquals": {"kms:GrantOperations": ["Encrypt", "Decrypt"]}}}]}
    key = ok(world, admin, "CreateKey", Policy=json.dumps(key_policy))["KeyMetadata"]
    carol = user(world, A, "carol")
    outcome = fails(world, admin, "CreateGrant", "AccessDeniedException", KeyId=key["KeyId"],
                    GranteePrincipal=carol.arn, Operations=["Encrypt", "CreateGrant"])
    assert outcome.explanations[-1]["decision"] == "ExplicitDeny"
    ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=carol.arn, Operations=["Encrypt"])


GRANT_TOKEN_OPERATIONS = [
    ("Encrypt", lambda key, blob: {"KeyId": key, "Plaintext": b"x"}),
    ("Decrypt", lambda key, blob: {"CiphertextBlob": blob}),
    ("ReEncrypt", lambda key, blob: {"CiphertextBlob": blob, "DestinationKeyId": key}),
    ("GenerateDataKey", lambda key, blob: {"KeyId": key, "KeySpec": "AES_256"}),
    ("GenerateDataKeyWithoutPlaintext", lambda key, blob: {"KeyId": key, "NumberOfBytes": 32}),
]


@pytest.mark.parametrize("operation, request_for", GRANT_TOKEN_OPERATIONS, ids=[op for op, _ in GRANT_TOKEN_OPERATIONS])
def test_the_cryptographic_operations_refuse_a_grant_token_that_is_not_one(world, admin, operation, request_for):
    key = new_key(world, admin)
    blob = ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    carol = user(world, A, "carol")
    grant = ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=carol.arn,
               Operations=["Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKey",
                           "GenerateDataKeyWithoutPlaintext"])
    request = request_for(key["KeyId"], blob)

    outcome = fails(world, admin, operation, "InvalidGrantTokenException", GrantTokens=["not-a-token"], **request)

    assert outcome.error.message == "The grant token is not valid."
    assert outcome.record["errorCode"] == "InvalidGrantTokenException"
    ok(world, carol, operation, GrantTokens=[grant["GrantToken"]], **request)



def test_list_retirable_grants_without_a_retiring_principal_is_a_validation_error(world, admin):
    # botocore's model leaves RetiringPrincipal optional; KMS cannot list without one.
    outcome = call(world, admin, "ListRetirableGrants")
    assert outcome.error.code == "ValidationException"
    assert "Value null at 'retiringPrincipal'" in outcome.error.message


# The key-state table (key-state.html): CreateGrant needs an Enabled key; ListGrants,
# RetireGrant and RevokeGrant work in every state.


@pytest.mark.parametrize("state, code, words", [
    ("Disabled", "DisabledException", "is disabled."),
    ("PendingImport", "KMSInvalidStateException", "is pending import."),
    ("PendingDeletion", "KMSInvalidStateException", "is pending deletion."),
])
def test_create_grant_refuses_a_key_that_is_not_enabled(world, admin, state, code, words):
    key_id, _ = key_in_state(world, admin, state)
    carol = user(world, A, "carol")

    outcome = fails(world, admin, "CreateGrant", code, KeyId=key_id, GranteePrincipal=carol.arn, Operations=["Decrypt"])

    arn = f"arn:aws:kms:us-east-1:{A}:key/{key_id}"
    assert outcome.error.message == f"{arn} {words}"
    assert world.doc["kms"]["grants"] == {}
    assert outcome.record["errorCode"] == code and outcome.record["resources"][0]["ARN"] == arn


@pytest.mark.parametrize("state", ["Disabled", "PendingImport", "PendingDeletion"])
def test_grants_are_listed_retired_and_revoked_in_every_key_state(world, admin, state):
    if state == "PendingImport":
        key_id = make_key(world, admin, Origin="EXTERNAL")["KeyId"]
        import_material(world, admin, key_id, b"\x01" * 32)
    else:
        key_id = make_key(world, admin)["KeyId"]
    carol = user(world, A, "carol")
    first = ok(world, admin, "CreateGrant", KeyId=key_id, GranteePrincipal=carol.arn, Operations=["Decrypt"])
    second = ok(world, admin, "CreateGrant", KeyId=key_id, GranteePrincipal=carol.arn, Operations=["Encrypt"],
                RetiringPrincipal=admin.arn)
    {"Disabled": lambda: ok(world, admin, "DisableKey", KeyId=key_id),
     "PendingImport": lambda: ok(world, admin, "DeleteImportedKeyMaterial", KeyId=key_id),
     "PendingDeletion": lambda: ok(world, admin, "ScheduleKeyDeletion", KeyId=key_id)}[state]()

    assert len(ok(world, admin, "ListGrants", KeyId=key_id)["Grants"]) == 2
    ok(world, admin, "RevokeGrant", KeyId=key_id, GrantId=first["GrantId"])
    ok(world, admin, "RetireGrant", GrantToken=second["GrantToken"])
    assert ok(world, admin, "ListGrants", KeyId=key_id)["Grants"] == []


# Who may retire a grant (grant-delete, "RetireGrant").


def test_the_keys_account_can_delegate_retiring_to_an_iam_principal(world, admin):
    key = new_key(world, admin)
    carol = user(world, A, "carol")
    grant = ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=carol.arn, Operations=["Encrypt"])
    janitor = make_user(world, admin, "janitor", allow("kms:RetireGrant", key["Arn"]))
    stranger = make_user(world, admin, "stranger", allow("kms:RetireGrant", f"arn:aws:kms:us-east-1:{A}:key/other"))

    refused = fails(world, stranger, "RetireGrant", "AccessDeniedException", KeyId=key["Arn"], GrantId=grant["GrantId"])
    outcome = call(world, janitor, "RetireGrant", KeyId=key["Arn"], GrantId=grant["GrantId"])

    assert refused.explanations[-1]["gate"] == "not-retiring-principal"
    assert outcome.error is None and outcome.explanations[-1]["gate"] == "iam"
    assert world.doc["kms"]["grants"] == {}


def test_kms_retire_grant_in_a_key_policy_lets_no_one_retire(world, admin):
    carol = user(world, A, "carol")
    key_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": carol.arn}, "Action": "kms:RetireGrant", "Resource": "*"}]})
    key = ok(world, admin, "CreateKey", Policy=key_policy)["KeyMetadata"]
    grant = ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=carol.arn, Operations=["Encrypt"])

    fails(world, carol, "RetireGrant", "AccessDeniedException", GrantToken=grant["GrantToken"])

    assert grant["GrantId"] in world.doc["kms"]["grants"]


def test_an_iam_deny_of_retire_grant_stops_even_the_retiring_principal(world, admin):
    key = new_key(world, admin)
    carol = make_user(world, admin, "carol", deny("kms:RetireGrant"))
    grant = ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=admin.arn, Operations=["Encrypt"],
               RetiringPrincipal=carol.arn)

    outcome = fails(world, carol, "RetireGrant", "AccessDeniedException", GrantToken=grant["GrantToken"])

    assert outcome.explanations[-1]["gate"] == "explicit-deny"
    assert "with an explicit deny in an identity-based policy" in outcome.error.message
    assert grant["GrantId"] in world.doc["kms"]["grants"]


def test_a_retiring_account_can_delegate_retiring_to_its_iam_principals(world, admin, admin_b):
    key = new_key(world, admin)
    grant = ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=admin.arn, Operations=["Encrypt"],
               RetiringPrincipal=f"arn:aws:iam::{B}:root")
    idle = make_user(world, admin_b, "idle")
    janitor = make_user(world, admin_b, "janitor", allow("kms:RetireGrant"))

    fails(world, idle, "RetireGrant", "AccessDeniedException", KeyId=key["Arn"], GrantId=grant["GrantId"])
    outcome = call(world, janitor, "RetireGrant", KeyId=key["Arn"], GrantId=grant["GrantId"])

    assert outcome.error is None and outcome.explanations[-1]["gate"] == "retiring-principal"


def test_iam_permission_in_another_account_does_not_retire_the_keys_grants(world, admin, admin_b):
    key = new_key(world, admin)
    grant = ok(world, admin, "CreateGrant", KeyId=key["KeyId"], GranteePrincipal=admin.arn, Operations=["Encrypt"])
    outsider = make_user(world, admin_b, "outsider", allow("kms:RetireGrant"))

    fails(world, outsider, "RetireGrant", "AccessDeniedException", KeyId=key["Arn"], GrantId=grant["GrantId"])

    assert grant["GrantId"] in world.doc["kms"]["grants"]
