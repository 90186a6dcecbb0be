"""Plain factories for the IAM, STS and CloudTrail tests: calls by "service:Operation"."""
import json

from kmslab.cloud import calls, mfa, principals

ACCOUNT_A, ACCOUNT_B = "111122223333", "444455556666"
# The frozen clock's start (tests/conftest.py). Not imported from there: in a whole-suite
# run, "conftest" may name tests/api/conftest.py instead.
T0 = 1_795_000_000.0


def call(world, caller, target, **request):
    service, operation = target.split(":")
    return calls.call(world, caller, service, operation, request)


def ok(world, caller, target, **request):
    outcome = call(world, caller, target, **request)
    assert outcome.error is None, f"{outcome.error.code}: {outcome.error.message}"
    return outcome.response


def fails(world, caller, target, code, **request):
    """The error message of a call that must fail with `code`."""
    outcome = call(world, caller, target, **request)
    assert outcome.error is not None, f"{target} succeeded: {outcome.response}"
    assert outcome.error.code == code, f"{outcome.error.code}: {outcome.error.message}"
    return outcome.error.message


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **condition):
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def deny(action, resource="*"):
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def trust(principal, **condition):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return policy(statement)


def make_user(world, admin, name, *statements):
    """A user in the admin's account with an inline policy of these statements, signing with its own key."""
    ok(world, admin, "iam:CreateUser", UserName=name)
    if statements:
        ok(world, admin, "iam:PutUserPolicy", UserName=name, PolicyName="lab", PolicyDocument=policy(*statements))
    key = ok(world, admin, "iam:CreateAccessKey", UserName=name)["AccessKey"]
    return principals.caller_for_access_key(world, key["AccessKeyId"])


def make_role(world, admin, name, trust_policy, *statements):
    role = ok(world, admin, "iam:CreateRole", RoleName=name, AssumeRolePolicyDocument=trust_policy)["Role"]
    if statements:
        ok(world, admin, "iam:PutRolePolicy", RoleName=name, PolicyName="lab", PolicyDocument=policy(*statements))
    return role


def enable_mfa(world, admin, user_name):
    """A virtual MFA device enabled for the user, as a learner does it with an app: -> (serial, seed)."""
    device = ok(world, admin, "iam:CreateVirtualMFADevice", VirtualMFADeviceName=user_name)["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    now = world.clock.real()
    ok(world, admin, "iam:EnableMFADevice", UserName=user_name, SerialNumber=device["SerialNumber"],
       AuthenticationCode1=mfa.totp(seed, now - 30), AuthenticationCode2=mfa.totp(seed, now))
    return device["SerialNumber"], seed


def session(world, credentials):
    """The caller behind temporary credentials an STS call returned."""
    return principals.caller_for_access_key(world, credentials["AccessKeyId"])
