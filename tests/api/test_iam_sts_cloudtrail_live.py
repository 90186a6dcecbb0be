"""IAM and STS (query protocol) and CloudTrail (JSON 1.1) through boto3 against the real server."""
import json
import time
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from .live import client_factory

from kmslab.cloud import mfa

pytestmark = pytest.mark.live

ALLOW_KMS = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})


def trust(principal):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def code_of(raised):
    return raised.value.response["Error"]["Code"]


@pytest.fixture(scope="module")
def iam(alice):
    return alice("iam")


# IAM


def test_users_groups_and_their_policies(iam):
    name, group = unique("dave"), unique("devs")
    user = iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": "eng"}])["User"]
    assert user["Arn"] == f"arn:aws:iam::111122223333:user/{name}"
    assert iam.get_user(UserName=name)["User"]["UserId"] == user["UserId"]
    assert name in [u["UserName"] for u in iam.list_users()["Users"]]
    iam.tag_user(UserName=name, Tags=[{"Key": "level", "Value": "2"}])
    iam.put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=ALLOW_KMS)
    assert iam.get_user_policy(UserName=name, PolicyName="kms")["PolicyDocument"] == json.loads(ALLOW_KMS)
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["kms"]
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)
    iam.put_group_policy(GroupName=group, PolicyName="g", PolicyDocument=ALLOW_KMS)
    assert iam.get_group_policy(GroupName=group, PolicyName="g")["PolicyName"] == "g"
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == ["g"]
    iam.delete_group_policy(GroupName=group, PolicyName="g")
    iam.remove_user_from_group(GroupName=group, UserName=name)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.remove_user_from_group(GroupName=group, UserName=name)
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName=name)
    iam.delete_user_policy(UserName=name, PolicyName="kms")
    iam.delete_user(UserName=name)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as raised:
        iam.get_user(UserName=name)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_group(GroupName=group)


def test_managed_policies_and_their_versions(iam):
    name, user, group, role = unique("kms-users"), unique("erin"), unique("ops"), unique("app")
    policy = iam.create_policy(PolicyName=name, PolicyDocument=ALLOW_KMS)["Policy"]
    arn = policy["Arn"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=ALLOW_KMS, SetAsDefault=True)
    assert iam.get_policy_version(PolicyArn=arn, VersionId="v2")["PolicyVersion"]["IsDefaultVersion"] is True
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust("arn:aws:iam::111122223333:root"))
    for attach, list_attached, detach, field in (
        (iam.attach_user_policy, iam.list_attached_user_policies, iam.detach_user_policy, {"UserName": user}),
        (iam.attach_group_policy, iam.list_attached_group_policies, iam.detach_group_policy, {"GroupName": group}),
        (iam.attach_role_policy, iam.list_attached_role_policies, iam.detach_role_policy, {"RoleName": role}),
    ):
        attach(PolicyArn=arn, **field)
        assert [p["PolicyArn"] for p in list_attached(**field)["AttachedPolicies"]] == [arn]
        detach(PolicyArn=arn, **field)
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            detach(PolicyArn=arn, **field)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_policy(PolicyArn=arn)
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.create_policy(PolicyName=unique("bad"), PolicyDocument="{not json")


def test_roles(iam):
    name = unique("reader")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust("arn:aws:iam::111122223333:root"),
                           Tags=[{"Key": "a", "Value": "b"}])["Role"]
    assert iam.get_role(RoleName=name)["Role"]["Arn"] == role["Arn"]
    assert name in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    iam.tag_role(RoleName=name, Tags=[{"Key": "c", "Value": "d"}])
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust("arn:aws:iam::444455556666:root"))
    iam.put_role_policy(RoleName=name, PolicyName="kms", PolicyDocument=ALLOW_KMS)
    assert iam.get_role_policy(RoleName=name, PolicyName="kms")["RoleName"] == name
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["kms"]
    iam.delete_role_policy(RoleName=name, PolicyName="kms")
    iam.delete_role(RoleName=name)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_role(RoleName=name)
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=ALLOW_KMS)


def test_access_keys(iam, server):
    name = unique("frank")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]] == [key["AccessKeyId"]]
    frank = boto3.client("sts", endpoint_url=server.url, region_name="us-east-1",
                         aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    assert frank.get_caller_identity()["Arn"].endswith(f":user/{name}")
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as raised:
        frank.get_caller_identity()
    assert code_of(raised) == "InvalidClientTokenId"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])


def test_a_bad_iam_parameter_is_a_validation_error(iam):
    with pytest.raises(ClientError) as raised:
        iam.create_user(UserName="has spaces")
    assert code_of(raised) == "ValidationError"
    assert raised.value.response["Error"]["Message"].startswith("1 validation error detected: Value 'has spaces'")


# STS, with MFA


def test_mfa_sessions_and_assumed_roles(iam, server):
    name = unique("grace")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    grace = client_factory(server.url, {"access_key_id": key["AccessKeyId"],
                                        "secret_access_key": key["SecretAccessKey"]})
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
    seed = device["Base32StringSeed"]
    now = time.time()
    iam.enable_mfa_device(UserName=name, SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=mfa.totp(seed, now - 30), AuthenticationCode2=mfa.totp(seed, now))
    assert [d["SerialNumber"] for d in iam.list_mfa_devices(UserName=name)["MFADevices"]] == [device["SerialNumber"]]
    wrong = f"{(int(mfa.totp(seed, time.time())) + 1) % 1_000_000:06d}"
    with pytest.raises(ClientError) as raised:
        grace("sts").get_session_token(SerialNumber=device["SerialNumber"], TokenCode=wrong)
    assert code_of(raised) == "AccessDenied"
    credentials = grace("sts").get_session_token(SerialNumber=device["SerialNumber"],
                                                 TokenCode=mfa.totp(seed, time.time()))["Credentials"]
    session = {"aws_access_key_id": credentials["AccessKeyId"], "aws_secret_access_key": credentials["SecretAccessKey"],
               "aws_session_token": credentials["SessionToken"]}
    assert grace("sts", **session).get_caller_identity()["Arn"].endswith(f":user/{name}")
    with pytest.raises(ClientError) as raised:
        grace("sts", **session).get_session_token()
    assert code_of(raised) == "AccessDenied"

    role = iam.create_role(RoleName=unique("mfa-only"), AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                                                 "Action": "sts:AssumeRole",
                                                 "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}))["Role"]
    with pytest.raises(ClientError) as raised:
        grace("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="no-mfa")
    assert code_of(raised) == "AccessDenied"
    assumed = grace("sts", **session).assume_role(RoleArn=role["Arn"], RoleSessionName="with-mfa")
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::111122223333:assumed-role/{role['RoleName']}/with-mfa"
    role_credentials = assumed["Credentials"]
    as_role = grace("sts", aws_access_key_id=role_credentials["AccessKeyId"],
                    aws_secret_access_key=role_credentials["SecretAccessKey"],
                    aws_session_token=role_credentials["SessionToken"])
    assert as_role.get_caller_identity()["Arn"] == assumed["AssumedRoleUser"]["Arn"]

    iam.deactivate_mfa_device(UserName=name, SerialNumber=device["SerialNumber"])
    iam.delete_virtual_mfa_device(SerialNumber=device["SerialNumber"])
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_virtual_mfa_device(SerialNumber=device["SerialNumber"])


def test_assuming_a_role_that_does_not_exist_is_access_denied(alice):
    with pytest.raises(ClientError) as raised:
        alice("sts").assume_role(RoleArn="arn:aws:iam::111122223333:role/nobody", RoleSessionName="session")
    assert code_of(raised) == "AccessDenied"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_session_duration_out_of_range_is_a_validation_error(alice):
    with pytest.raises(ClientError) as raised:
        alice("sts", validate=False).get_session_token(DurationSeconds=60)
    assert code_of(raised) == "ValidationError"


# CloudTrail


def test_lookup_events_finds_the_calls_just_made(alice):
    kms = alice("kms")
    key = kms.create_key(Description="traced")["KeyMetadata"]
    kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId="alias/not-there")
    trail = alice("cloudtrail")
    events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key["Arn"]}],
                                 MaxResults=10)["Events"]
    assert [e["EventName"] for e in events] == ["Encrypt", "CreateKey"]
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["eventSource"] == "kms.amazonaws.com" and record["sourceIPAddress"] == "127.0.0.1"
    assert record["userAgent"].startswith("Boto3/") and "tlsDetails" not in record
    assert events[0]["EventTime"].timestamp() == pytest.approx(time.time(), abs=120)
    failed = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeKey"}],
                                 MaxResults=1)["Events"]
    assert json.loads(failed[0]["CloudTrailEvent"])["errorCode"] == "NotFoundException"


def test_lookup_events_errors_map_to_their_exception_classes(alice):
    trail = alice("cloudtrail")
    with pytest.raises(trail.exceptions.InvalidLookupAttributesException):
        trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "a"},
                                              {"AttributeKey": "Username", "AttributeValue": "b"}])
    with pytest.raises(trail.exceptions.InvalidTimeRangeException):
        trail.lookup_events(StartTime=time.time(), EndTime=time.time() - 3600)
    with pytest.raises(trail.exceptions.InvalidNextTokenException):
        trail.lookup_events(NextToken="not-a-token")


MISSING_POLICY = "arn:aws:iam::111122223333:policy/never-made"
DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})
OPERATIONS_ON_A_MISSING_ENTITY = [
    ("get_user", {"UserName": "nobody"}),
    ("delete_user", {"UserName": "nobody"}),
    ("tag_user", {"UserName": "nobody", "Tags": [{"Key": "a", "Value": "b"}]}),
    ("add_user_to_group", {"UserName": "nobody", "GroupName": "nogroup"}),
    ("remove_user_from_group", {"UserName": "nobody", "GroupName": "nogroup"}),
    ("get_role", {"RoleName": "norole"}),
    ("delete_role", {"RoleName": "norole"}),
    ("tag_role", {"RoleName": "norole", "Tags": [{"Key": "a", "Value": "b"}]}),
    ("update_assume_role_policy", {"RoleName": "norole", "PolicyDocument": DOC}),
    ("put_user_policy", {"UserName": "nobody", "PolicyName": "p", "PolicyDocument": DOC}),
    ("get_user_policy", {"UserName": "nobody", "PolicyName": "p"}),
    ("delete_user_policy", {"UserName": "nobody", "PolicyName": "p"}),
    ("list_user_policies", {"UserName": "nobody"}),
    ("put_group_policy", {"GroupName": "nogroup", "PolicyName": "p", "PolicyDocument": DOC}),
    ("get_group_policy", {"GroupName": "nogroup", "PolicyName": "p"}),
    ("delete_group_policy", {"GroupName": "nogroup", "PolicyName": "p"}),
    ("list_group_policies", {"GroupName": "nogroup"}),
    ("put_role_policy", {"RoleName": "norole", "PolicyName": "p", "PolicyDocument": DOC}),
    ("get_role_policy", {"RoleName": "norole", "PolicyName": "p"}),
    ("delete_role_policy", {"RoleName": "norole", "PolicyName": "p"}),
    ("list_role_policies", {"RoleName": "norole"}),
    ("get_policy", {"PolicyArn": MISSING_POLICY}),
    ("get_policy_version", {"PolicyArn": MISSING_POLICY, "VersionId": "v1"}),
    ("create_policy_version", {"PolicyArn": MISSING_POLICY, "PolicyDocument": DOC}),
    ("delete_policy_version", {"PolicyArn": MISSING_POLICY, "VersionId": "v2"}),
    ("delete_policy", {"PolicyArn": MISSING_POLICY}),
    ("attach_user_policy", {"UserName": "admin", "PolicyArn": MISSING_POLICY}),
    ("detach_user_policy", {"UserName": "admin", "PolicyArn": MISSING_POLICY}),
    ("list_attached_user_policies", {"UserName": "nobody"}),
    ("attach_group_policy", {"GroupName": "nogroup", "PolicyArn": MISSING_POLICY}),
    ("detach_group_policy", {"GroupName": "nogroup", "PolicyArn": MISSING_POLICY}),
    ("list_attached_group_policies", {"GroupName": "nogroup"}),
    ("attach_role_policy", {"RoleName": "norole", "PolicyArn": MISSING_POLICY}),
    ("detach_role_policy", {"RoleName": "norole", "PolicyArn": MISSING_POLICY}),
    ("list_attached_role_policies", {"RoleName": "norole"}),
    ("create_access_key", {"UserName": "nobody"}),
    ("list_access_keys", {"UserName": "nobody"}),
    ("delete_access_key", {"UserName": "admin", "AccessKeyId": "AKIANOSUCHKEY0000000"}),
    ("list_mfa_devices", {"UserName": "nobody"}),
    ("enable_mfa_device", {"UserName": "admin", "SerialNumber": "arn:aws:iam::111122223333:mfa/none",
                           "AuthenticationCode1": "123456", "AuthenticationCode2": "234567"}),
    ("deactivate_mfa_device", {"UserName": "admin", "SerialNumber": "arn:aws:iam::111122223333:mfa/none"}),
    ("delete_virtual_mfa_device", {"SerialNumber": "arn:aws:iam::111122223333:mfa/none"}),
]


@pytest.mark.parametrize("operation, params", OPERATIONS_ON_A_MISSING_ENTITY,
                         ids=[op for op, _ in OPERATIONS_ON_A_MISSING_ENTITY])
def test_every_iam_operation_on_a_missing_entity_is_no_such_entity(iam, operation, params):
    with pytest.raises(iam.exceptions.NoSuchEntityException) as raised:
        getattr(iam, operation)(**params)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize("operation, params", [
    ("create_user", {"UserName": "admin"}),
    ("create_policy", {"PolicyName": "dup", "PolicyDocument": DOC}),
    ("create_virtual_mfa_device", {"VirtualMFADeviceName": "dup"}),
], ids=["create_user", "create_policy", "create_virtual_mfa_device"])
def test_creating_what_exists_is_entity_already_exists(iam, operation, params):
    if operation != "create_user":
        getattr(iam, operation)(**params)
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as raised:
        getattr(iam, operation)(**params)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_list_users_and_roles_with_a_bad_marker_are_invalid_input(iam):
    for operation in (iam.list_users, iam.list_roles):
        with pytest.raises(iam.exceptions.InvalidInputException):
            operation(Marker="not-a-marker")
