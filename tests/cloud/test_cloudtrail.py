"""CloudTrail: one record per call of every service, userIdentity as AWS writes it, no
secret ever recorded, and LookupEvents over the stored records."""
import json

import pytest
from .factories import (
    ACCOUNT_A, T0, ACCOUNT_B, allow, call, enable_mfa, make_role, make_user, ok, policy, session, trust,
)

from kmslab.cloud import calls, mfa
from kmslab.cloud.cloudtrail import RecordList

ROLE_A = f"arn:aws:iam::{ACCOUNT_A}:role/ops"


class Trail:
    """The calls of a test, recorded in order, as the sandboxes layer would store them."""

    def __init__(self, world):
        self.world = world
        self.records = []

    def call(self, caller, target, **request):
        service, operation = target.split(":")
        outcome = calls.call(self.world, caller, service, operation, request, trail_source=RecordList(self.records))
        self.records.extend(outcome.records)
        return outcome

    def ok(self, caller, target, **request):
        outcome = self.call(caller, target, **request)
        assert outcome.error is None, f"{outcome.error.code}: {outcome.error.message}"
        return outcome.response

    def lookup(self, caller, **request):
        """LookupEvents without recording the lookup itself, so a test sees exactly its own calls."""
        return calls.call(self.world, caller, "cloudtrail", "LookupEvents", request,
                          trail_source=RecordList(self.records))


def test_every_call_of_every_service_is_recorded_once(world, admin):
    for target, request, source in [
        ("iam:ListUsers", {}, "iam.amazonaws.com"),
        ("iam:GetUser", {"UserName": "ghost"}, "iam.amazonaws.com"),
        ("sts:GetCallerIdentity", {}, "sts.amazonaws.com"),
        ("cloudtrail:LookupEvents", {}, "cloudtrail.amazonaws.com"),
        ("kms:ListKeys", {}, "kms.amazonaws.com"),
    ]:
        outcome = call(world, admin, target, **request)
        assert outcome.record["eventSource"] == source
        assert outcome.record["eventName"] == target.split(":")[1]
        assert outcome.record["recipientAccountId"] == ACCOUNT_A
    assert outcome.record["readOnly"] is True


def test_no_record_ever_holds_a_secret(world, admin):
    trail = Trail(world)
    trail.ok(admin, "iam:CreateUser", UserName="bob")
    key = trail.ok(admin, "iam:CreateAccessKey", UserName="bob")["AccessKey"]
    device = trail.ok(admin, "iam:CreateVirtualMFADevice", VirtualMFADeviceName="bob")["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    now = world.clock.real()
    codes = [mfa.totp(seed, now - 30), mfa.totp(seed, now)]
    trail.ok(admin, "iam:EnableMFADevice", UserName="bob", SerialNumber=device["SerialNumber"],
             AuthenticationCode1=codes[0], AuthenticationCode2=codes[1])
    bob = session(world, {"AccessKeyId": key["AccessKeyId"]})
    token = trail.ok(bob, "sts:GetSessionToken", SerialNumber=device["SerialNumber"], TokenCode=codes[1])["Credentials"]
    trail.ok(admin, "iam:CreateRole", RoleName="ops", AssumeRolePolicyDocument=trust(admin.arn))
    role = trail.ok(admin, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="s1")["Credentials"]

    text = json.dumps(trail.records)
    secrets = [key["SecretAccessKey"], seed, token["SecretAccessKey"], token["SessionToken"],
               role["SecretAccessKey"], role["SessionToken"], *codes]
    assert [s for s in secrets if s in text] == []
    assert len(trail.records) == 7


def test_sts_records_keep_the_new_access_key_id_and_its_expiry(world, admin):
    ok(world, admin, "iam:CreateRole", RoleName="ops", AssumeRolePolicyDocument=trust(admin.arn))
    role = call(world, admin, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="s1")
    token = call(world, admin, "sts:GetSessionToken")

    credentials = role.response["Credentials"]
    # Dates inside the response as CloudTrail writes them (IAM User Guide, cloudtrail-integration:
    # "expiration": "Jan 22, 2021 12:46:28 AM"), in UTC; T0 is 2026-11-18T11:06:40Z.
    assert role.record["responseElements"] == {
        "credentials": {"accessKeyId": credentials["AccessKeyId"], "expiration": "Nov 18, 2026, 12:06:40 PM"},
        "assumedRoleUser": {
            "assumedRoleId": role.response["AssumedRoleUser"]["AssumedRoleId"],
            "arn": f"arn:aws:sts::{ACCOUNT_A}:assumed-role/ops/s1",
        },
    }
    assert token.record["responseElements"] == {
        "credentials": {"accessKeyId": token.response["Credentials"]["AccessKeyId"], "expiration": "Nov 18, 2026, 11:06:40 PM"},
    }


def test_user_identity_says_how_the_credentials_were_obtained(world, admin):
    bob = make_user(world, admin, "bob", allow("sts:AssumeRole"))
    serial, seed = enable_mfa(world, admin, "bob")
    make_role(world, admin, "ops", trust(bob.arn))
    bob_mfa = session(world, ok(world, bob, "sts:GetSessionToken", SerialNumber=serial,
                                TokenCode=mfa.totp(seed, world.clock.real()))["Credentials"])
    role = session(world, ok(world, bob, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="bob-ops")["Credentials"])

    long_term = call(world, bob, "sts:GetCallerIdentity").record["userIdentity"]
    assert long_term == {
        "type": "IAMUser", "principalId": bob.principal_id, "arn": bob.arn, "accountId": ACCOUNT_A,
        "accessKeyId": bob.access_key_id, "userName": "bob",
    }
    with_mfa = call(world, bob_mfa, "sts:GetCallerIdentity").record["userIdentity"]
    assert with_mfa["accessKeyId"] == bob_mfa.access_key_id
    assert with_mfa["sessionContext"]["attributes"] == {
        "creationDate": "2026-11-18T11:06:40Z", "mfaAuthenticated": "true",
    }
    role_identity = call(world, role, "sts:GetCallerIdentity").record["userIdentity"]
    assert role_identity["type"] == "AssumedRole"
    assert role_identity["sessionContext"]["sessionIssuer"] == {
        "type": "Role", "principalId": role.role_id, "arn": ROLE_A, "accountId": ACCOUNT_A, "userName": "ops",
    }
    assert role_identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "false"


# LookupEvents.


def test_lookup_events_lists_the_accounts_events_newest_first(world, admin, admin_b, clock):
    trail = Trail(world)
    trail.ok(admin, "iam:CreateUser", UserName="bob")
    clock.advance(60)
    trail.ok(admin_b, "iam:CreateUser", UserName="carol")
    trail.ok(admin, "iam:ListUsers")

    response = trail.lookup(admin).response

    events = response["Events"]
    assert [e["EventName"] for e in events] == ["ListUsers", "CreateUser"]
    newest = events[0]
    record = trail.records[2]
    assert newest == {
        "EventId": record["eventID"],
        "EventName": "ListUsers",
        "ReadOnly": "true",
        "EventTime": T0 + 60,
        "EventSource": "iam.amazonaws.com",
        "Resources": [],
        "CloudTrailEvent": newest["CloudTrailEvent"],
        "AccessKeyId": admin.access_key_id,
        "Username": "admin",
    }
    assert json.loads(newest["CloudTrailEvent"]) == record
    assert "NextToken" not in response
    assert [e["EventName"] for e in trail.lookup(admin_b).response["Events"]] == ["CreateUser"]


@pytest.fixture
def busy_trail(world, admin):
    """bob lists users, assumes a role as bob-ops, the role session lists users, admin tags bob."""
    trail = Trail(world)
    bob = make_user(world, admin, "bob", allow("iam:ListUsers"))
    make_role(world, admin, "ops", trust(bob.arn), allow("iam:ListUsers"))
    trail.ok(bob, "iam:ListUsers")
    role = session(world, trail.ok(bob, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="bob-ops")["Credentials"])
    trail.ok(role, "iam:ListUsers")
    trail.ok(admin, "iam:TagUser", UserName="bob", Tags=[{"Key": "team", "Value": "pay"}])
    trail.bob, trail.role = bob, role
    return trail


@pytest.mark.parametrize(
    "key,value,expected",
    [
        ("EventName", "ListUsers", ["ListUsers", "ListUsers"]),
        ("Username", "bob", ["AssumeRole", "ListUsers"]),
        ("Username", "bob-ops", ["ListUsers"]),
        ("EventSource", "sts.amazonaws.com", ["AssumeRole"]),
        ("ReadOnly", "false", ["TagUser"]),
        ("ReadOnly", "true", ["ListUsers", "AssumeRole", "ListUsers"]),
        ("ResourceType", "AWS::IAM::Role", ["AssumeRole"]),
        ("ResourceName", ROLE_A, ["AssumeRole"]),
    ],
)
def test_lookup_by_one_attribute(busy_trail, admin, key, value, expected):
    response = busy_trail.lookup(admin, LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}]).response
    assert [e["EventName"] for e in response["Events"]] == expected


def test_lookup_by_access_key_and_event_id(busy_trail, admin):
    role_key = busy_trail.role.access_key_id
    by_key = busy_trail.lookup(admin, LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": role_key}])
    assert [e["Username"] for e in by_key.response["Events"]] == ["bob-ops"]

    event_id = busy_trail.records[0]["eventID"]
    by_id = busy_trail.lookup(admin, LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": event_id}])
    assert [e["EventId"] for e in by_id.response["Events"]] == [event_id]


def test_the_assume_role_event_names_its_role(busy_trail, admin):
    events = busy_trail.lookup(admin, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])
    assert events.response["Events"][0]["Resources"] == [{"ResourceType": "AWS::IAM::Role", "ResourceName": ROLE_A}]


def test_lookup_between_two_times(world, admin, clock):
    trail = Trail(world)
    for name in ("a1", "a2", "a3"):
        trail.ok(admin, "iam:CreateUser", UserName=name)
        clock.advance(3600)

    response = trail.lookup(admin, StartTime=T0 + 1800, EndTime=T0 + 3 * 3600).response

    assert [json.loads(e["CloudTrailEvent"])["requestParameters"]["userName"] for e in response["Events"]] == [
        "a3", "a2",
    ]


def test_lookup_pages_with_next_token(busy_trail, admin):
    first = busy_trail.lookup(admin, MaxResults=3).response
    assert len(first["Events"]) == 3 and first["NextToken"]

    second = busy_trail.lookup(admin, MaxResults=3, NextToken=first["NextToken"]).response

    assert "NextToken" not in second
    seen = [e["EventId"] for e in first["Events"] + second["Events"]]
    assert seen == [r["eventID"] for r in reversed(busy_trail.records)]


def test_a_next_token_only_serves_its_own_query(busy_trail, admin):
    token = busy_trail.lookup(admin, MaxResults=1).response["NextToken"]
    other_query = [{"AttributeKey": "EventName", "AttributeValue": "ListUsers"}]

    outcome = busy_trail.lookup(admin, MaxResults=1, NextToken=token, LookupAttributes=other_query)
    assert outcome.error.code == "InvalidNextTokenException"
    assert busy_trail.lookup(admin, NextToken="garbage").error.code == "InvalidNextTokenException"


def test_lookup_errors(busy_trail, admin):
    two = [{"AttributeKey": "EventName", "AttributeValue": "ListUsers"},
           {"AttributeKey": "Username", "AttributeValue": "bob"}]
    assert busy_trail.lookup(admin, LookupAttributes=two).error.code == "InvalidLookupAttributesException"
    assert busy_trail.lookup(admin, StartTime=T0 + 10, EndTime=T0).error.code == "InvalidTimeRangeException"
    bad_key = [{"AttributeKey": "Colour", "AttributeValue": "red"}]
    assert busy_trail.lookup(admin, LookupAttributes=bad_key).error.code == "ValidationException"


def test_looking_up_events_needs_an_iam_allow(busy_trail, admin):
    outcome = busy_trail.lookup(busy_trail.bob)

    assert outcome.error.code == "AccessDeniedException"
    assert "cloudtrail:LookupEvents" in outcome.error.message
    reader = make_user(busy_trail.world, admin, "reader", allow("cloudtrail:LookupEvents"))
    assert busy_trail.lookup(reader).response["Events"]


def test_insight_events_and_a_sandbox_without_a_trail_find_nothing(busy_trail, admin):
    assert busy_trail.lookup(admin, EventCategory="insight").response == {"Events": []}
    assert calls.call(busy_trail.world, admin, "cloudtrail", "LookupEvents", {}).response == {"Events": []}


def test_a_lookup_is_itself_recorded_without_its_answer(busy_trail, admin):
    outcome = busy_trail.call(admin, "cloudtrail:LookupEvents", MaxResults=1)
    assert outcome.record["eventName"] == "LookupEvents"
    assert outcome.record["responseElements"] is None
    assert outcome.record["requestParameters"] == {"maxResults": 1}


def test_a_record_of_account_b_stays_in_account_b(world, admin, admin_b):
    trail = Trail(world)
    role_b = f"arn:aws:iam::{ACCOUNT_B}:role/auditor"
    make_role(world, admin_b, "auditor", trust(f"arn:aws:iam::{ACCOUNT_A}:root"))
    ok(world, admin_b, "iam:PutRolePolicy", RoleName="auditor", PolicyName="p", PolicyDocument=policy(allow("iam:*")))
    auditor = session(world, trail.ok(admin, "sts:AssumeRole", RoleArn=role_b, RoleSessionName="a1")["Credentials"])
    trail.ok(auditor, "iam:ListUsers")

    assert [e["EventName"] for e in trail.lookup(admin).response["Events"]] == ["AssumeRole"]
    assert [e["EventName"] for e in trail.lookup(admin_b).response["Events"]] == ["ListUsers"]
