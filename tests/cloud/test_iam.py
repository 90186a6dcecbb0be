"""IAM: users, groups, roles, inline and managed policies, access keys, virtual MFA
devices and tags, each call authorized by the caller's identity-based policies."""
import json

import pytest
from .factories import (
    ACCOUNT_A, ACCOUNT_B, T0, allow, call, deny, enable_mfa, fails, make_role, make_user, ok, policy, session,
    trust,
)

from kmslab.cloud import mfa, principals


def test_alice_creates_bob_and_reads_him_back(world, admin):
    created = ok(world, admin, "iam:CreateUser", UserName="bob", Path="/staff/", Tags=[{"Key": "team", "Value": "pay"}])

    user = created["User"]
    assert user == {
        "Path": "/staff/",
        "UserName": "bob",
        "UserId": user["UserId"],
        "Arn": f"arn:aws:iam::{ACCOUNT_A}:user/staff/bob",
        "CreateDate": T0,
        "Tags": [{"Key": "team", "Value": "pay"}],
    }
    assert user["UserId"].startswith("AIDA")
    assert ok(world, admin, "iam:GetUser", UserName="bob") == created
    # IAM names are unique regardless of case.
    assert ok(world, admin, "iam:GetUser", UserName="BOB") == created
    assert fails(world, admin, "iam:CreateUser", "EntityAlreadyExists", UserName="Bob").message == (
        "User with name Bob already exists."
    )


def test_get_user_without_a_name_is_the_caller_and_needs_a_name_from_a_role(world, admin):
    assert ok(world, admin, "iam:GetUser")["User"]["UserName"] == "admin"
    make_role(world, admin, "ops", trust(f"arn:aws:iam::{ACCOUNT_A}:user/admin"))
    role_session = session(world, ok(world, admin, "sts:AssumeRole", RoleArn=f"arn:aws:iam::{ACCOUNT_A}:role/ops",
                                     RoleSessionName="admin-ops")["Credentials"])
    assert fails(world, role_session, "iam:GetUser", "ValidationError").message == (
        "Must specify userName when calling with non-User credentials"
    )


def test_a_name_that_breaks_the_model_is_a_validation_error_in_the_record_too(world, admin):
    outcome = call(world, admin, "iam:CreateUser", UserName="has spaces")

    assert outcome.error.code == outcome.record["errorCode"] == "ValidationError"
    assert outcome.record["errorMessage"] == (
        "1 validation error detected: Value 'has spaces' at 'userName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )


def test_a_missing_user_is_no_such_entity(world, admin):
    assert fails(world, admin, "iam:GetUser", "NoSuchEntity", UserName="ghost").message == (
        "The user with name ghost cannot be found."
    )


def test_list_users_pages_with_an_opaque_marker_and_filters_by_path(world, admin):
    for name in ("carol", "bob", "dave"):
        ok(world, admin, "iam:CreateUser", UserName=name, Path="/staff/" if name != "dave" else "/")

    first = ok(world, admin, "iam:ListUsers", MaxItems=2)
    assert [u["UserName"] for u in first["Users"]] == ["admin", "bob"]
    assert first["IsTruncated"] is True
    rest = ok(world, admin, "iam:ListUsers", MaxItems=2, Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["carol", "dave"]
    assert rest["IsTruncated"] is False and "Marker" not in rest
    staff = ok(world, admin, "iam:ListUsers", PathPrefix="/staff/")
    assert [u["UserName"] for u in staff["Users"]] == ["bob", "carol"]
    assert fails(world, admin, "iam:ListUsers", "InvalidInput", Marker="not-a-marker").message == "Invalid Marker."


def test_mallory_without_policies_is_denied_with_awss_message(world, admin):
    mallory = make_user(world, admin, "mallory")

    message = fails(world, mallory, "iam:CreateUser", "AccessDenied", UserName="eve").message

    assert message == (
        f"User: arn:aws:iam::{ACCOUNT_A}:user/mallory is not authorized to perform: iam:CreateUser on resource: "
        f"arn:aws:iam::{ACCOUNT_A}:user/eve because no identity-based policy allows the iam:CreateUser action"
    )
    assert "eve" not in world.account(ACCOUNT_A)["users"]


def test_an_explicit_deny_beats_an_allow(world, admin):
    bob = make_user(world, admin, "bob", allow("iam:*"), deny("iam:DeleteUser"))
    ok(world, bob, "iam:CreateUser", UserName="carol")

    message = fails(world, bob, "iam:DeleteUser", "AccessDenied", UserName="carol").message

    assert message.endswith("with an explicit deny in an identity-based policy")


def test_a_policy_scoped_to_the_callers_own_user_with_a_variable(world, admin):
    bob = make_user(world, admin, "bob", allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT_A}:user/${{aws:username}}"))

    assert ok(world, bob, "iam:GetUser")["User"]["UserName"] == "bob"
    fails(world, bob, "iam:GetUser", "AccessDenied", UserName="admin").message


def test_each_decision_is_explained_beside_the_record(world, admin):
    bob = make_user(world, admin, "bob")
    outcome = call(world, bob, "iam:ListUsers")

    assert outcome.error.code == "AccessDenied"
    assert outcome.explanations[-1]["decision"] == "ImplicitDeny"
    assert outcome.explanations[-1]["action"] == "iam:ListUsers"
    assert outcome.record["errorCode"] == "AccessDenied"
    assert outcome.record["eventSource"] == "iam.amazonaws.com"


def test_the_root_user_may_do_anything_in_its_account(world):
    root = principals.root_caller(ACCOUNT_A)
    ok(world, root, "iam:CreateUser", UserName="bob")
    assert ok(world, root, "iam:ListUsers")["Users"]


def test_delete_user_refuses_while_the_user_owns_anything(world, admin):
    ok(world, admin, "iam:CreateUser", UserName="bob")
    key = ok(world, admin, "iam:CreateAccessKey", UserName="bob")["AccessKey"]
    ok(world, admin, "iam:PutUserPolicy", UserName="bob", PolicyName="p", PolicyDocument=policy(allow("kms:*")))
    managed = ok(world, admin, "iam:CreatePolicy", PolicyName="m", PolicyDocument=policy(allow("kms:*")))["Policy"]
    ok(world, admin, "iam:AttachUserPolicy", UserName="bob", PolicyArn=managed["Arn"])
    ok(world, admin, "iam:CreateGroup", GroupName="devs")
    ok(world, admin, "iam:AddUserToGroup", GroupName="devs", UserName="bob")
    serial, _ = enable_mfa(world, admin, "bob")

    steps = [
        ("Cannot delete entity, must delete access keys first.",
         lambda: ok(world, admin, "iam:DeleteAccessKey", UserName="bob", AccessKeyId=key["AccessKeyId"])),
        ("Cannot delete entity, must delete MFA device first.",
         lambda: ok(world, admin, "iam:DeactivateMFADevice", UserName="bob", SerialNumber=serial)),
        ("Cannot delete entity, must delete policies first.",
         lambda: ok(world, admin, "iam:DeleteUserPolicy", UserName="bob", PolicyName="p")),
        ("Cannot delete entity, must detach all policies first.",
         lambda: ok(world, admin, "iam:DetachUserPolicy", UserName="bob", PolicyArn=managed["Arn"])),
        ("Cannot delete entity, must remove user from all groups first.",
         lambda: ok(world, admin, "iam:RemoveUserFromGroup", GroupName="devs", UserName="bob")),
    ]
    for message, fix in steps:
        assert fails(world, admin, "iam:DeleteUser", "DeleteConflict", UserName="bob").message == message
        fix()

    ok(world, admin, "iam:DeleteUser", UserName="bob")
    fails(world, admin, "iam:GetUser", "NoSuchEntity", UserName="bob").message


def test_deleting_a_user_ends_its_sessions(world, admin):
    bob = make_user(world, admin, "bob")
    credentials = ok(world, bob, "sts:GetSessionToken")["Credentials"]
    ok(world, admin, "iam:DeleteAccessKey", UserName="bob", AccessKeyId=bob.access_key_id)

    ok(world, admin, "iam:DeleteUser", UserName="bob")

    assert credentials["AccessKeyId"] not in world.doc["sessions"]
    assert principals.caller_for_access_key(world, credentials["AccessKeyId"]) is None


def test_tag_user_adds_and_replaces_tags(world, admin):
    ok(world, admin, "iam:CreateUser", UserName="bob", Tags=[{"Key": "team", "Value": "pay"}])

    ok(world, admin, "iam:TagUser", UserName="bob", Tags=[{"Key": "team", "Value": "ops"}, {"Key": "cc", "Value": "7"}])

    assert ok(world, admin, "iam:GetUser", UserName="bob")["User"]["Tags"] == [
        {"Key": "team", "Value": "ops"}, {"Key": "cc", "Value": "7"},
    ]
    fails(world, admin, "iam:TagUser", "NoSuchEntity", UserName="ghost", Tags=[{"Key": "a", "Value": "b"}]).message


# Groups.


def test_a_groups_policy_applies_to_its_members_until_they_leave(world, admin):
    bob = make_user(world, admin, "bob")
    group = ok(world, admin, "iam:CreateGroup", GroupName="readers")["Group"]
    assert group == {
        "Path": "/", "GroupName": "readers", "GroupId": group["GroupId"],
        "Arn": f"arn:aws:iam::{ACCOUNT_A}:group/readers", "CreateDate": T0,
    }
    ok(world, admin, "iam:PutGroupPolicy", GroupName="readers", PolicyName="r",
       PolicyDocument=policy(allow("iam:List*")))
    fails(world, bob, "iam:ListUsers", "AccessDenied").message

    ok(world, admin, "iam:AddUserToGroup", GroupName="readers", UserName="bob")
    ok(world, bob, "iam:ListUsers")

    ok(world, admin, "iam:RemoveUserFromGroup", GroupName="readers", UserName="bob")
    fails(world, bob, "iam:ListUsers", "AccessDenied").message


def test_group_errors(world, admin):
    ok(world, admin, "iam:CreateGroup", GroupName="devs")
    assert fails(world, admin, "iam:CreateGroup", "EntityAlreadyExists", GroupName="DEVS").message == (
        "Group with name DEVS already exists."
    )
    assert fails(world, admin, "iam:AddUserToGroup", "NoSuchEntity", GroupName="ops", UserName="admin").message == (
        "The group with name ops cannot be found."
    )
    assert fails(world, admin, "iam:AddUserToGroup", "NoSuchEntity", GroupName="devs", UserName="ghost").message == (
        "The user with name ghost cannot be found."
    )
    assert fails(world, admin, "iam:RemoveUserFromGroup", "NoSuchEntity", GroupName="devs", UserName="admin").message == (
        "User admin is not in group devs."
    )


def test_a_user_joins_at_most_ten_groups(world, admin):
    for i in range(10):
        ok(world, admin, "iam:CreateGroup", GroupName=f"g{i}")
        ok(world, admin, "iam:AddUserToGroup", GroupName=f"g{i}", UserName="admin")
    ok(world, admin, "iam:CreateGroup", GroupName="g10")

    assert fails(world, admin, "iam:AddUserToGroup", "LimitExceeded", GroupName="g10", UserName="admin").message == (
        "Cannot exceed quota for GroupsPerUser: 10"
    )


# Roles.


def test_alice_creates_a_role_and_reads_it_back(world, admin):
    document = trust(f"arn:aws:iam::{ACCOUNT_B}:root")
    created = ok(world, admin, "iam:CreateRole", RoleName="auditor", Path="/ext/", AssumeRolePolicyDocument=document,
                 Description="for account B", MaxSessionDuration=7200)["Role"]

    assert created == {
        "Path": "/ext/",
        "RoleName": "auditor",
        "RoleId": created["RoleId"],
        "Arn": f"arn:aws:iam::{ACCOUNT_A}:role/ext/auditor",
        "CreateDate": T0,
        "AssumeRolePolicyDocument": document,
        "MaxSessionDuration": 7200,
        "Description": "for account B",
    }
    assert created["RoleId"].startswith("AROA")
    assert ok(world, admin, "iam:GetRole", RoleName="auditor")["Role"] == dict(created, RoleLastUsed={})
    assert [r["RoleName"] for r in ok(world, admin, "iam:ListRoles")["Roles"]] == ["auditor"]
    assert fails(world, admin, "iam:CreateRole", "EntityAlreadyExists", RoleName="Auditor",
                 AssumeRolePolicyDocument=document).message == "Role with name Auditor already exists."
    assert fails(world, admin, "iam:GetRole", "NoSuchEntity", RoleName="ghost").message == (
        "The role with name ghost cannot be found."
    )


@pytest.mark.parametrize(
    "document",
    [
        "{not json",
        policy(allow("sts:AssumeRole")),  # no Principal
        policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Resource": "*"}),
        policy({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt"}),
    ],
)
def test_a_malformed_trust_policy_is_refused(world, admin, document):
    fails(world, admin, "iam:CreateRole", "MalformedPolicyDocument", RoleName="r", AssumeRolePolicyDocument=document).message
    assert "r" not in world.account(ACCOUNT_A)["roles"]


def test_a_trust_policy_must_name_principals_that_exist(world, admin):
    ghost = f"arn:aws:iam::{ACCOUNT_A}:user/ghost"
    assert fails(world, admin, "iam:CreateRole", "MalformedPolicyDocument", RoleName="r",
                 AssumeRolePolicyDocument=trust(ghost)).message == f'Invalid principal in policy: "AWS":"{ghost}"'
    ok(world, admin, "iam:CreateRole", RoleName="r", AssumeRolePolicyDocument=trust(["999988887777", admin.arn]))


def test_a_trust_policy_longer_than_2048_characters_is_refused(world, admin):
    principals_list = [f"arn:aws:iam::{i:012d}:root" for i in range(60)]
    message = fails(world, admin, "iam:CreateRole", "LimitExceeded", RoleName="r",
                    AssumeRolePolicyDocument=trust(principals_list)).message
    assert message == "Cannot exceed quota for ACLSizePerRole: 2048"


def test_update_assume_role_policy_replaces_the_trust_policy(world, admin):
    make_role(world, admin, "ops", trust(f"arn:aws:iam::{ACCOUNT_A}:root"))
    new = trust(f"arn:aws:iam::{ACCOUNT_B}:root")

    ok(world, admin, "iam:UpdateAssumeRolePolicy", RoleName="ops", PolicyDocument=new)

    assert ok(world, admin, "iam:GetRole", RoleName="ops")["Role"]["AssumeRolePolicyDocument"] == new
    fails(world, admin, "iam:UpdateAssumeRolePolicy", "MalformedPolicyDocument", RoleName="ops",
          PolicyDocument=policy(allow("sts:AssumeRole"))).message
    fails(world, admin, "iam:UpdateAssumeRolePolicy", "NoSuchEntity", RoleName="ghost", PolicyDocument=new).message


def test_delete_role_refuses_while_it_has_policies_and_ends_its_sessions(world, admin):
    managed = ok(world, admin, "iam:CreatePolicy", PolicyName="m", PolicyDocument=policy(allow("kms:*")))["Policy"]
    make_role(world, admin, "ops", trust(f"arn:aws:iam::{ACCOUNT_A}:user/admin"), allow("kms:*"))
    ok(world, admin, "iam:AttachRolePolicy", RoleName="ops", PolicyArn=managed["Arn"])
    credentials = ok(world, admin, "sts:AssumeRole", RoleArn=f"arn:aws:iam::{ACCOUNT_A}:role/ops",
                     RoleSessionName="s1")["Credentials"]

    assert fails(world, admin, "iam:DeleteRole", "DeleteConflict", RoleName="ops").message == (
        "Cannot delete entity, must delete policies first."
    )
    ok(world, admin, "iam:DeleteRolePolicy", RoleName="ops", PolicyName="lab")
    assert fails(world, admin, "iam:DeleteRole", "DeleteConflict", RoleName="ops").message == (
        "Cannot delete entity, must detach all policies first."
    )
    ok(world, admin, "iam:DetachRolePolicy", RoleName="ops", PolicyArn=managed["Arn"])
    ok(world, admin, "iam:DeleteRole", RoleName="ops")

    assert credentials["AccessKeyId"] not in world.doc["sessions"]
    fails(world, admin, "iam:DeleteRole", "NoSuchEntity", RoleName="ops").message


def test_tag_role_adds_and_replaces_tags(world, admin):
    make_role(world, admin, "ops", trust(f"arn:aws:iam::{ACCOUNT_A}:root"))
    ok(world, admin, "iam:TagRole", RoleName="ops", Tags=[{"Key": "env", "Value": "dev"}])
    ok(world, admin, "iam:TagRole", RoleName="ops", Tags=[{"Key": "env", "Value": "prod"}])

    assert ok(world, admin, "iam:GetRole", RoleName="ops")["Role"]["Tags"] == [{"Key": "env", "Value": "prod"}]
    fails(world, admin, "iam:TagRole", "NoSuchEntity", RoleName="ghost", Tags=[{"Key": "a", "Value": "b"}]).message


# Inline policies, the same rules for users, groups and roles.

KINDS = ["User", "Group", "Role"]


def make_holder(world, admin, kind):
    if kind == "User":
        ok(world, admin, "iam:CreateUser", UserName="holder")
    elif kind == "Group":
        ok(world, admin, "iam:CreateGroup", GroupName="holder")
    else:
        make_role(world, admin, "holder", trust(f"arn:aws:iam::{ACCOUNT_A}:root"))
    return {f"{kind}Name": "holder"}


@pytest.mark.parametrize("kind", KINDS)
def test_inline_policies_are_put_read_listed_and_deleted(world, admin, kind):
    holder = make_holder(world, admin, kind)
    document = policy(allow("kms:Encrypt"))

    ok(world, admin, f"iam:Put{kind}Policy", **holder, PolicyName="enc", PolicyDocument=document)
    ok(world, admin, f"iam:Put{kind}Policy", **holder, PolicyName="abc", PolicyDocument=document)

    assert ok(world, admin, f"iam:Get{kind}Policy", **holder, PolicyName="enc") == {
        **holder, "PolicyName": "enc", "PolicyDocument": document,
    }
    listed = ok(world, admin, f"iam:List{kind}Policies", **holder)
    assert listed == {"PolicyNames": ["abc", "enc"], "IsTruncated": False}
    ok(world, admin, f"iam:Delete{kind}Policy", **holder, PolicyName="enc")
    assert fails(world, admin, f"iam:Get{kind}Policy", "NoSuchEntity", **holder, PolicyName="enc").message == (
        f"The {kind.lower()} policy with name enc cannot be found."
    )
    fails(world, admin, f"iam:Delete{kind}Policy", "NoSuchEntity", **holder, PolicyName="enc").message
    fails(world, admin, f"iam:List{kind}Policies", "NoSuchEntity", **{f"{kind}Name": "ghost"}).message


@pytest.mark.parametrize("kind", KINDS)
def test_an_inline_policy_must_be_a_valid_identity_policy(world, admin, kind):
    holder = make_holder(world, admin, kind)
    with_principal = policy({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"})

    fails(world, admin, f"iam:Put{kind}Policy", "MalformedPolicyDocument", **holder, PolicyName="p",
          PolicyDocument=with_principal).message
    fails(world, admin, f"iam:Put{kind}Policy", "MalformedPolicyDocument", **holder, PolicyName="p",
          PolicyDocument="[]").message
    assert ok(world, admin, f"iam:List{kind}Policies", **holder)["PolicyNames"] == []


@pytest.mark.parametrize("kind,quota", [("User", 2048), ("Group", 5120), ("Role", 10240)])
def test_inline_policies_share_a_size_quota(world, admin, kind, quota):
    holder = make_holder(world, admin, kind)
    big = policy(*[allow(f"kms:Encrypt{i:04d}") for i in range(quota // 70)])
    ok(world, admin, f"iam:Put{kind}Policy", **holder, PolicyName="first", PolicyDocument=big)

    message = fails(world, admin, f"iam:Put{kind}Policy", "LimitExceeded", **holder, PolicyName="second",
                    PolicyDocument=big).message

    assert message == f"Maximum policy size of {quota} bytes exceeded for {kind.lower()} holder"


# Managed policies.


def test_alice_creates_a_managed_policy_and_versions_it(world, admin):
    v1 = policy(allow("kms:Encrypt"))
    created = ok(world, admin, "iam:CreatePolicy", PolicyName="enc", Path="/lab/", PolicyDocument=v1,
                 Description="encrypt only")["Policy"]
    arn = f"arn:aws:iam::{ACCOUNT_A}:policy/lab/enc"
    assert created == {
        "PolicyName": "enc", "PolicyId": created["PolicyId"], "Arn": arn, "Path": "/lab/",
        "DefaultVersionId": "v1", "AttachmentCount": 0, "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True, "Description": "encrypt only", "CreateDate": T0, "UpdateDate": T0,
    }
    assert ok(world, admin, "iam:GetPolicy", PolicyArn=arn) == {"Policy": created}
    assert ok(world, admin, "iam:GetPolicyVersion", PolicyArn=arn, VersionId="v1")["PolicyVersion"] == {
        "Document": v1, "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": T0,
    }

    v2 = policy(allow("kms:Decrypt"))
    made = ok(world, admin, "iam:CreatePolicyVersion", PolicyArn=arn, PolicyDocument=v2, SetAsDefault=True)
    assert made["PolicyVersion"] == {"Document": v2, "VersionId": "v2", "IsDefaultVersion": True, "CreateDate": T0}
    assert ok(world, admin, "iam:GetPolicy", PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    assert fails(world, admin, "iam:GetPolicyVersion", "NoSuchEntity", PolicyArn=arn, VersionId="v9").message == (
        f"Policy {arn} version v9 does not exist or is not attachable."
    )
    assert fails(world, admin, "iam:CreatePolicy", "EntityAlreadyExists", PolicyName="ENC", PolicyDocument=v1).message == (
        "A policy called ENC already exists. Duplicate names are not allowed."
    )


def test_the_default_version_is_the_one_that_applies(world, admin):
    arn = ok(world, admin, "iam:CreatePolicy", PolicyName="p", PolicyDocument=policy(allow("iam:ListUsers")))[
        "Policy"]["Arn"]
    bob = make_user(world, admin, "bob")
    ok(world, admin, "iam:AttachUserPolicy", UserName="bob", PolicyArn=arn)
    ok(world, bob, "iam:ListUsers")

    ok(world, admin, "iam:CreatePolicyVersion", PolicyArn=arn, PolicyDocument=policy(allow("iam:ListRoles")))
    ok(world, bob, "iam:ListUsers")
    ok(world, admin, "iam:CreatePolicyVersion", PolicyArn=arn, PolicyDocument=policy(allow("iam:ListRoles")),
       SetAsDefault=True)
    fails(world, bob, "iam:ListUsers", "AccessDenied").message
    ok(world, bob, "iam:ListRoles")


def test_a_managed_policy_keeps_at_most_five_versions(world, admin):
    document = policy(allow("kms:Encrypt"))
    arn = ok(world, admin, "iam:CreatePolicy", PolicyName="p", PolicyDocument=document)["Policy"]["Arn"]
    for _ in range(4):
        ok(world, admin, "iam:CreatePolicyVersion", PolicyArn=arn, PolicyDocument=document)

    assert fails(world, admin, "iam:CreatePolicyVersion", "LimitExceeded", PolicyArn=arn, PolicyDocument=document).message == (
        "A managed policy can have up to 5 versions. "
        "Before you create a new version, you must delete an existing version."
    )
    ok(world, admin, "iam:DeletePolicyVersion", PolicyArn=arn, VersionId="v3")
    assert ok(world, admin, "iam:CreatePolicyVersion", PolicyArn=arn, PolicyDocument=document)[
        "PolicyVersion"]["VersionId"] == "v6"


def test_delete_policy_refuses_while_attached_or_versioned(world, admin):
    document = policy(allow("kms:Encrypt"))
    arn = ok(world, admin, "iam:CreatePolicy", PolicyName="p", PolicyDocument=document)["Policy"]["Arn"]
    ok(world, admin, "iam:AttachUserPolicy", UserName="admin", PolicyArn=arn)
    ok(world, admin, "iam:CreatePolicyVersion", PolicyArn=arn, PolicyDocument=document)
    assert ok(world, admin, "iam:GetPolicy", PolicyArn=arn)["Policy"]["AttachmentCount"] == 1

    assert fails(world, admin, "iam:DeletePolicy", "DeleteConflict", PolicyArn=arn).message == (
        "Cannot delete a policy attached to entities."
    )
    ok(world, admin, "iam:DetachUserPolicy", UserName="admin", PolicyArn=arn)
    assert "more than one version" in fails(world, admin, "iam:DeletePolicy", "DeleteConflict", PolicyArn=arn).message
    assert fails(world, admin, "iam:DeletePolicyVersion", "DeleteConflict", PolicyArn=arn, VersionId="v1").message == (
        "Cannot delete the default version of a policy."
    )
    ok(world, admin, "iam:DeletePolicyVersion", PolicyArn=arn, VersionId="v2")
    ok(world, admin, "iam:DeletePolicy", PolicyArn=arn)
    assert fails(world, admin, "iam:GetPolicy", "NoSuchEntity", PolicyArn=arn).message == (
        f"Policy {arn} does not exist or is not attachable."
    )


def test_a_managed_policy_must_be_valid_and_small_enough(world, admin):
    fails(world, admin, "iam:CreatePolicy", "MalformedPolicyDocument", PolicyName="p", PolicyDocument="{}").message
    big = policy(*[allow(f"kms:Encrypt{i:04d}") for i in range(120)])
    assert fails(world, admin, "iam:CreatePolicy", "LimitExceeded", PolicyName="p", PolicyDocument=big).message == (
        "Cannot exceed quota for PolicySize: 6144"
    )


def test_another_accounts_policy_cannot_be_read_or_attached(world, admin, admin_b):
    arn = ok(world, admin_b, "iam:CreatePolicy", PolicyName="theirs", PolicyDocument=policy(allow("kms:*")))[
        "Policy"]["Arn"]

    fails(world, admin, "iam:GetPolicy", "NoSuchEntity", PolicyArn=arn).message
    fails(world, admin, "iam:AttachUserPolicy", "NoSuchEntity", UserName="admin", PolicyArn=arn).message


# Attaching managed policies.


@pytest.mark.parametrize("kind", KINDS)
def test_managed_policies_are_attached_listed_and_detached(world, admin, kind):
    holder = make_holder(world, admin, kind)
    arn = ok(world, admin, "iam:CreatePolicy", PolicyName="enc", Path="/lab/",
             PolicyDocument=policy(allow("kms:Encrypt")))["Policy"]["Arn"]

    ok(world, admin, f"iam:Attach{kind}Policy", **holder, PolicyArn=arn)
    ok(world, admin, f"iam:Attach{kind}Policy", **holder, PolicyArn=arn)  # attaching twice changes nothing

    assert ok(world, admin, f"iam:ListAttached{kind}Policies", **holder) == {
        "AttachedPolicies": [{"PolicyName": "enc", "PolicyArn": arn}], "IsTruncated": False,
    }
    assert ok(world, admin, f"iam:ListAttached{kind}Policies", **holder, PathPrefix="/other/")[
        "AttachedPolicies"] == []
    ok(world, admin, f"iam:Detach{kind}Policy", **holder, PolicyArn=arn)
    assert fails(world, admin, f"iam:Detach{kind}Policy", "NoSuchEntity", **holder, PolicyArn=arn).message == (
        f"Policy {arn} was not found."
    )
    missing = f"arn:aws:iam::{ACCOUNT_A}:policy/ghost"
    assert fails(world, admin, f"iam:Attach{kind}Policy", "NoSuchEntity", **holder, PolicyArn=missing).message == (
        f"Policy {missing} does not exist or is not attachable."
    )


@pytest.mark.parametrize("kind", KINDS)
def test_at_most_ten_managed_policies_are_attached(world, admin, kind):
    holder = make_holder(world, admin, kind)
    for i in range(11):
        arn = ok(world, admin, "iam:CreatePolicy", PolicyName=f"p{i}", PolicyDocument=policy(allow("kms:*")))[
            "Policy"]["Arn"]
        if i < 10:
            ok(world, admin, f"iam:Attach{kind}Policy", **holder, PolicyArn=arn)

    assert fails(world, admin, f"iam:Attach{kind}Policy", "LimitExceeded", **holder, PolicyArn=arn).message == (
        f"Cannot exceed quota for PoliciesPer{kind}: 10"
    )


# Access keys.


def test_bob_gets_an_access_key_that_signs_as_him(world, admin):
    ok(world, admin, "iam:CreateUser", UserName="bob")

    outcome = call(world, admin, "iam:CreateAccessKey", UserName="bob")

    key = outcome.response["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
    assert len(key["SecretAccessKey"]) == 40
    assert key["Status"] == "Active" and key["UserName"] == "bob" and key["CreateDate"] == T0
    assert principals.caller_for_access_key(world, key["AccessKeyId"]).arn.endswith(":user/bob")
    assert principals.secret_for_access_key(world, key["AccessKeyId"])[0] == key["SecretAccessKey"].encode()
    assert key["SecretAccessKey"] not in json.dumps(outcome.record)
    assert key["SecretAccessKey"] not in "\n".join(text for _, _, text in world.rows())


def test_a_user_has_at_most_two_access_keys(world, admin):
    ok(world, admin, "iam:CreateUser", UserName="bob")
    first = ok(world, admin, "iam:CreateAccessKey", UserName="bob")["AccessKey"]
    ok(world, admin, "iam:CreateAccessKey", UserName="bob")

    assert fails(world, admin, "iam:CreateAccessKey", "LimitExceeded", UserName="bob").message == (
        "Cannot exceed quota for AccessKeysPerUser: 2"
    )
    listed = ok(world, admin, "iam:ListAccessKeys", UserName="bob")["AccessKeyMetadata"]
    assert len(listed) == 2 and "SecretAccessKey" not in listed[0]

    ok(world, admin, "iam:DeleteAccessKey", UserName="bob", AccessKeyId=first["AccessKeyId"])
    assert principals.caller_for_access_key(world, first["AccessKeyId"]) is None
    assert fails(world, admin, "iam:DeleteAccessKey", "NoSuchEntity", UserName="bob",
                 AccessKeyId=first["AccessKeyId"]).message == f"The Access Key with id {first['AccessKeyId']} cannot be found."


def test_access_key_calls_without_a_user_name_act_on_the_caller(world, admin):
    bob = make_user(world, admin, "bob", allow("iam:*AccessKey*", f"arn:aws:iam::{ACCOUNT_A}:user/${{aws:username}}"))

    ok(world, bob, "iam:CreateAccessKey")

    assert [k["UserName"] for k in ok(world, bob, "iam:ListAccessKeys")["AccessKeyMetadata"]] == ["bob", "bob"]
    fails(world, bob, "iam:ListAccessKeys", "AccessDenied", UserName="admin").message
    # Another user's key id is not found among bob's.
    fails(world, bob, "iam:DeleteAccessKey", "NoSuchEntity", AccessKeyId=admin.access_key_id).message


# Virtual MFA devices.


def test_a_virtual_mfa_device_comes_with_its_seed_and_qr_code_once(world, admin):
    outcome = call(world, admin, "iam:CreateVirtualMFADevice", VirtualMFADeviceName="bob-phone")

    device = outcome.response["VirtualMFADevice"]
    assert device["SerialNumber"] == f"arn:aws:iam::{ACCOUNT_A}:mfa/bob-phone"
    seed = device["Base32StringSeed"].decode()
    assert len(seed) == 64
    assert device["QRCodePNG"].startswith(b"\x89PNG")
    # Sealed in the world, never written to the trail.
    assert seed not in "\n".join(text for _, _, text in world.rows())
    assert seed not in json.dumps(outcome.record)
    assert fails(world, admin, "iam:CreateVirtualMFADevice", "EntityAlreadyExists",
                 VirtualMFADeviceName="bob-phone").message == "MFADevice entity at the same path and name already exists."


def test_enabling_a_device_takes_two_consecutive_codes_from_the_real_clock(world, admin, clock):
    ok(world, admin, "iam:CreateUser", UserName="bob")
    device = ok(world, admin, "iam:CreateVirtualMFADevice", VirtualMFADeviceName="bob")["VirtualMFADevice"]
    seed, serial = device["Base32StringSeed"].decode(), device["SerialNumber"]
    # The sandbox clock is a month ahead; the authenticator app only knows the real time.
    clock.advance(30 * 86400)
    now = clock.real()

    same_twice = dict(AuthenticationCode1=mfa.totp(seed, now), AuthenticationCode2=mfa.totp(seed, now))
    assert fails(world, admin, "iam:EnableMFADevice", "InvalidAuthenticationCode", UserName="bob",
                 SerialNumber=serial, **same_twice).message == "Authentication code for device is not valid."
    ok(world, admin, "iam:EnableMFADevice", UserName="bob", SerialNumber=serial,
       AuthenticationCode1=mfa.totp(seed, now - 30), AuthenticationCode2=mfa.totp(seed, now))

    assert ok(world, admin, "iam:ListMFADevices", UserName="bob") == {
        "MFADevices": [{"UserName": "bob", "SerialNumber": serial, "EnableDate": T0 + 30 * 86400}],
        "IsTruncated": False,
    }
    assert fails(world, admin, "iam:EnableMFADevice", "EntityAlreadyExists", UserName="admin", SerialNumber=serial,
                 AuthenticationCode1=mfa.totp(seed, now - 30), AuthenticationCode2=mfa.totp(seed, now)).message == (
        "MFA Device is already in use."
    )


def test_mfa_device_errors(world, admin):
    serial, _ = enable_mfa(world, admin, "admin")
    missing = f"arn:aws:iam::{ACCOUNT_A}:mfa/ghost"
    ok(world, admin, "iam:CreateUser", UserName="bob")

    assert fails(world, admin, "iam:EnableMFADevice", "NoSuchEntity", UserName="admin", SerialNumber=missing,
                 AuthenticationCode1="123456", AuthenticationCode2="654321").message == (
        f"VirtualMFADevice with serial number {missing} does not exist."
    )
    assert fails(world, admin, "iam:DeactivateMFADevice", "NoSuchEntity", UserName="bob", SerialNumber=serial).message == (
        "MFA Device invalid for user."
    )
    assert fails(world, admin, "iam:DeleteVirtualMFADevice", "DeleteConflict", SerialNumber=serial).message == (
        "MFA VirtualDevice in use. Must deactivate first."
    )
    assert ok(world, admin, "iam:ListMFADevices")["MFADevices"][0]["SerialNumber"] == serial

    ok(world, admin, "iam:DeactivateMFADevice", SerialNumber=serial)
    assert ok(world, admin, "iam:ListMFADevices")["MFADevices"] == []
    ok(world, admin, "iam:DeleteVirtualMFADevice", SerialNumber=serial)
    fails(world, admin, "iam:DeleteVirtualMFADevice", "NoSuchEntity", SerialNumber=serial).message


def test_session_credentials_without_mfa_cannot_call_iam(world, admin):
    bob = make_user(world, admin, "bob", allow("iam:*"))
    serial, seed = enable_mfa(world, admin, "bob")
    plain = session(world, ok(world, bob, "sts:GetSessionToken")["Credentials"])
    with_mfa = session(world, ok(world, bob, "sts:GetSessionToken", SerialNumber=serial,
                                 TokenCode=mfa.totp(seed, world.clock.real()))["Credentials"])

    assert fails(world, plain, "iam:ListUsers", "InvalidClientTokenId").message == (
        "The security token included in the request is invalid"
    )
    ok(world, with_mfa, "iam:ListUsers")
    root_session = session(world, ok(world, principals.root_caller(ACCOUNT_A), "sts:GetSessionToken")["Credentials"])
    fails(world, root_session, "iam:ListUsers", "InvalidClientTokenId").message


def test_iam_calls_stay_in_the_callers_account(world, admin, admin_b):
    ok(world, admin_b, "iam:CreateUser", UserName="carol")

    fails(world, admin, "iam:GetUser", "NoSuchEntity", UserName="carol").message
    assert "carol" in world.account(ACCOUNT_B)["users"]


def test_a_user_holds_at_most_eight_mfa_devices(world, admin):
    now = world.clock.real()
    for i in range(9):
        device = ok(world, admin, "iam:CreateVirtualMFADevice", VirtualMFADeviceName=f"d{i}")["VirtualMFADevice"]
        seed = device["Base32StringSeed"].decode()
        codes = dict(AuthenticationCode1=mfa.totp(seed, now - 30), AuthenticationCode2=mfa.totp(seed, now))
        outcome = call(world, admin, "iam:EnableMFADevice", UserName="admin", SerialNumber=device["SerialNumber"],
                       **codes)

    assert outcome.error.code == "LimitExceeded"
    assert outcome.error.message == "Cannot exceed quota for MFADevicesPerUser: 8"
    assert len(ok(world, admin, "iam:ListMFADevices")["MFADevices"]) == 8


def test_deleting_a_policy_version_that_does_not_exist(world, admin):
    arn = ok(world, admin, "iam:CreatePolicy", PolicyName="p", PolicyDocument=policy(allow("kms:*")))["Policy"]["Arn"]
    assert fails(world, admin, "iam:DeletePolicyVersion", "NoSuchEntity", PolicyArn=arn, VersionId="v2").message == (
        f"Policy {arn} version v2 does not exist or is not attachable."
    )
