"""STS: GetCallerIdentity, GetSessionToken and AssumeRole, temporary credentials on the
sandbox clock, MFA from real-time TOTP codes, and trust policies with the policy engine."""
import hashlib
import json

from .factories import (
    ACCOUNT_A, ACCOUNT_B, T0, allow, call, deny, enable_mfa, fails, make_role, make_user, ok, policy, session,
    trust,
)

from kmslab.cloud import mfa, principals, sts

ROLE_A = f"arn:aws:iam::{ACCOUNT_A}:role/ops"


def code(world, seed):
    """What the learner's authenticator app shows right now."""
    return mfa.totp(seed, world.clock.real())


def test_get_caller_identity_names_user_role_session_and_root(world, admin):
    make_role(world, admin, "ops", trust(admin.arn))
    role = session(world, ok(world, admin, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="alice")["Credentials"])

    assert ok(world, admin, "sts:GetCallerIdentity") == {
        "UserId": admin.principal_id, "Account": ACCOUNT_A, "Arn": f"arn:aws:iam::{ACCOUNT_A}:user/admin",
    }
    assert ok(world, role, "sts:GetCallerIdentity") == {
        "UserId": f"{world.account(ACCOUNT_A)['roles']['ops']['RoleId']}:alice",
        "Account": ACCOUNT_A,
        "Arn": f"arn:aws:sts::{ACCOUNT_A}:assumed-role/ops/alice",
    }
    assert ok(world, principals.root_caller(ACCOUNT_B), "sts:GetCallerIdentity")["Arn"] == (
        f"arn:aws:iam::{ACCOUNT_B}:root"
    )


def test_even_mallory_denied_everything_may_ask_who_she_is(world, admin):
    mallory = make_user(world, admin, "mallory", deny("*"))
    assert ok(world, mallory, "sts:GetCallerIdentity")["Arn"].endswith(":user/mallory")


# GetSessionToken.


def test_bob_gets_a_session_token_kept_only_as_a_hash(world, admin):
    bob = make_user(world, admin, "bob")

    outcome = call(world, bob, "sts:GetSessionToken")

    credentials = outcome.response["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA") and len(credentials["AccessKeyId"]) == 20
    assert credentials["Expiration"] == T0 + 43200  # 12 hours by default
    stored = world.doc["sessions"][credentials["AccessKeyId"]]
    assert stored == {
        "AccessKeyId": credentials["AccessKeyId"],
        "Account": ACCOUNT_A,
        "Kind": "SessionToken",
        "UserName": "bob",
        "SecretAccessKey": stored["SecretAccessKey"],
        "SessionTokenHash": hashlib.sha256(credentials["SessionToken"].encode()).hexdigest(),
        "Expiration": T0 + 43200,
        "CreationDate": T0,
        "MfaAuthenticated": False,
        "MfaAuthTime": None,
    }
    document = "\n".join(text for _, _, text in world.rows())
    assert credentials["SecretAccessKey"] not in document and credentials["SessionToken"] not in document
    secret, token_hash = principals.secret_for_access_key(world, credentials["AccessKeyId"])
    assert secret == credentials["SecretAccessKey"].encode() and token_hash == stored["SessionTokenHash"]


def test_a_session_without_mfa_says_so_and_long_term_keys_say_nothing(world, admin):
    bob = make_user(world, admin, "bob")
    bob_session = session(world, ok(world, bob, "sts:GetSessionToken")["Credentials"])

    assert bob.mfa_authenticated is None
    assert bob_session.mfa_authenticated is False
    assert bob_session.arn == bob.arn and bob_session.session_created == T0


def test_a_session_lasts_as_long_as_asked_on_the_sandbox_clock(world, admin, clock):
    bob = make_user(world, admin, "bob")
    credentials = ok(world, bob, "sts:GetSessionToken", DurationSeconds=900)["Credentials"]
    stored = world.doc["sessions"][credentials["AccessKeyId"]]

    assert credentials["Expiration"] == T0 + 900
    assert not sts.session_expired(world, stored)
    clock.advance(900)
    assert sts.session_expired(world, stored)


def test_the_root_users_session_lasts_at_most_an_hour(world):
    root = principals.root_caller(ACCOUNT_A)

    credentials = ok(world, root, "sts:GetSessionToken", DurationSeconds=7200)["Credentials"]

    assert credentials["Expiration"] == T0 + 3600
    assert session(world, credentials).is_root


def test_session_credentials_cannot_get_another_session_token(world, admin):
    bob = make_user(world, admin, "bob")
    bob_session = session(world, ok(world, bob, "sts:GetSessionToken")["Credentials"])

    assert fails(world, bob_session, "sts:GetSessionToken", "AccessDenied").message == (
        "Cannot call GetSessionToken with session credentials"
    )


def test_a_session_with_a_valid_mfa_code_carries_mfa_and_its_age(world, admin, clock):
    bob = make_user(world, admin, "bob")
    serial, seed = enable_mfa(world, admin, "bob")

    credentials = ok(world, bob, "sts:GetSessionToken", SerialNumber=serial, TokenCode=code(world, seed))["Credentials"]

    bob_mfa = session(world, credentials)
    assert bob_mfa.mfa_authenticated is True and bob_mfa.mfa_auth_time == T0
    assert world.doc["sessions"][credentials["AccessKeyId"]]["MfaAuthenticated"] is True


def test_mfa_age_is_counted_on_the_sandbox_clock(world, admin, clock):
    young_mfa = allow("iam:ListUsers", **{"Bool": {"aws:MultiFactorAuthPresent": "true"},
                                           "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})
    bob = make_user(world, admin, "bob", young_mfa)
    serial, seed = enable_mfa(world, admin, "bob")
    bob_mfa = session(world, ok(world, bob, "sts:GetSessionToken", SerialNumber=serial,
                                TokenCode=code(world, seed))["Credentials"])

    fails(world, bob, "iam:ListUsers", "AccessDenied").message  # long-term key: no MFA information at all
    ok(world, bob_mfa, "iam:ListUsers")
    clock.advance(2 * 3600)
    fails(world, bob_mfa, "iam:ListUsers", "AccessDenied").message


def test_a_wrong_code_or_someone_elses_device_is_refused(world, admin):
    bob = make_user(world, admin, "bob")
    carol = make_user(world, admin, "carol")
    serial, seed = enable_mfa(world, admin, "bob")
    stale = mfa.totp(seed, world.clock.real() - 120)

    assert fails(world, bob, "sts:GetSessionToken", "AccessDenied", SerialNumber=serial, TokenCode=stale).message == (
        "MultiFactorAuthentication failed with invalid MFA one time pass code."
    )
    assert fails(world, carol, "sts:GetSessionToken", "AccessDenied", SerialNumber=serial,
                 TokenCode=code(world, seed)).message == (
        "MultiFactorAuthentication failed, unable to validate MFA code.  "
        "Please verify your MFA serial number is valid and associated with this user."
    )
    assert not world.doc["sessions"]


def test_codes_follow_the_real_clock_when_the_sandbox_clock_jumps(world, admin, clock):
    bob = make_user(world, admin, "bob")
    serial, seed = enable_mfa(world, admin, "bob")
    clock.advance(30 * 86400)

    credentials = ok(world, bob, "sts:GetSessionToken", SerialNumber=serial, TokenCode=code(world, seed))["Credentials"]

    assert session(world, credentials).mfa_auth_time == T0 + 30 * 86400


# AssumeRole.


def test_a_trust_policy_naming_bob_lets_him_in_without_an_iam_policy(world, admin):
    bob = make_user(world, admin, "bob")
    role = make_role(world, admin, "ops", trust(bob.arn), allow("iam:ListUsers"))

    outcome = call(world, bob, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="bob-ops")

    response = outcome.response
    assert response["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role['RoleId']}:bob-ops",
        "Arn": f"arn:aws:sts::{ACCOUNT_A}:assumed-role/ops/bob-ops",
    }
    assert response["Credentials"]["Expiration"] == T0 + 3600
    bob_ops = session(world, response["Credentials"])
    assert bob_ops.kind == "AssumedRole" and bob_ops.role_arn == ROLE_A and bob_ops.mfa_authenticated is False
    ok(world, bob_ops, "iam:ListUsers")  # the role's policies apply to the session
    assert outcome.explanations[-1]["gate"] == "trust-policy"
    assert outcome.record["resources"] == [{"accountId": ACCOUNT_A, "type": "AWS::IAM::Role", "ARN": ROLE_A}]


def test_a_trust_policy_naming_the_account_needs_an_iam_allow(world, admin):
    bob = make_user(world, admin, "bob")
    carol = make_user(world, admin, "carol", allow("sts:AssumeRole", ROLE_A))
    make_role(world, admin, "ops", trust(f"arn:aws:iam::{ACCOUNT_A}:root"))

    denied = call(world, bob, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="bob")
    assert denied.error.message == (
        f"User: {bob.arn} is not authorized to perform: sts:AssumeRole on resource: {ROLE_A}"
    )
    assert denied.explanations[-1]["gate"] == "trust-policy-no-iam-allow"
    outcome = call(world, carol, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="carol")
    assert outcome.error is None
    assert outcome.explanations[-1]["gate"] == "trust-policy-and-iam"


def test_an_iam_allow_alone_does_not_open_a_role(world, admin):
    mallory = make_user(world, admin, "mallory", allow("sts:AssumeRole"))
    make_role(world, admin, "ops", trust(f"arn:aws:iam::{ACCOUNT_B}:root"))

    outcome = call(world, mallory, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="m1")

    assert outcome.error.code == "AccessDenied"
    explanation = outcome.explanations[-1]
    assert explanation["gate"] == "no-trust-policy-allow"
    assert explanation["policies"][0]["source"] == "role/ops trust policy"


def test_an_explicit_deny_in_either_policy_wins(world, admin):
    bob = make_user(world, admin, "bob", deny("sts:AssumeRole"))
    make_role(world, admin, "ops", trust(bob.arn))
    carol = make_user(world, admin, "carol")
    ok(world, admin, "iam:CreateRole", RoleName="guarded", AssumeRolePolicyDocument=policy(
        {"Effect": "Allow", "Principal": {"AWS": carol.arn}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": {"AWS": carol.arn}, "Action": "sts:AssumeRole"},
    ))

    fails(world, bob, "sts:AssumeRole", "AccessDenied", RoleArn=ROLE_A, RoleSessionName="b1").message
    outcome = call(world, carol, "sts:AssumeRole", RoleArn=f"arn:aws:iam::{ACCOUNT_A}:role/guarded",
                   RoleSessionName="c1")
    assert outcome.error.code == "AccessDenied"
    assert outcome.explanations[-1]["decision"] == "ExplicitDeny"


def test_a_missing_role_is_denied_like_a_forbidden_one(world, admin):
    missing = f"arn:aws:iam::{ACCOUNT_A}:role/ghost"
    assert fails(world, admin, "sts:AssumeRole", "AccessDenied", RoleArn=missing, RoleSessionName="s1").message == (
        f"User: {admin.arn} is not authorized to perform: sts:AssumeRole on resource: {missing}"
    )


def test_roles_may_not_be_assumed_by_root(world, admin):
    make_role(world, admin, "ops", trust(f"arn:aws:iam::{ACCOUNT_A}:root"))
    assert fails(world, principals.root_caller(ACCOUNT_A), "sts:AssumeRole", "AccessDenied", RoleArn=ROLE_A,
                 RoleSessionName="root").message == "Roles may not be assumed by root accounts."


def test_cross_account_needs_the_trust_policy_and_the_callers_iam_allow(world, admin, admin_b):
    role_b = f"arn:aws:iam::{ACCOUNT_B}:role/auditor"
    make_role(world, admin_b, "auditor", trust(f"arn:aws:iam::{ACCOUNT_A}:root"), allow("iam:ListUsers"))
    bob = make_user(world, admin, "bob")
    carol = make_user(world, admin, "carol", allow("sts:AssumeRole", role_b))

    fails(world, bob, "sts:AssumeRole", "AccessDenied", RoleArn=role_b, RoleSessionName="bob").message
    outcome = call(world, carol, "sts:AssumeRole", RoleArn=role_b, RoleSessionName="carol")

    assert outcome.error is None
    auditor = session(world, outcome.response["Credentials"])
    assert auditor.account == ACCOUNT_B and auditor.arn == f"arn:aws:sts::{ACCOUNT_B}:assumed-role/auditor/carol"
    assert [u["UserName"] for u in ok(world, auditor, "iam:ListUsers")["Users"]] == ["admin"]  # account B's users


def test_cross_account_a_trust_policy_naming_the_user_still_needs_her_iam_allow(world, admin, admin_b):
    role_b = f"arn:aws:iam::{ACCOUNT_B}:role/auditor"
    bob = make_user(world, admin, "bob")
    make_role(world, admin_b, "auditor", trust(bob.arn))

    outcome = call(world, bob, "sts:AssumeRole", RoleArn=role_b, RoleSessionName="bob")

    assert outcome.error.code == "AccessDenied"
    assert outcome.explanations[-1]["gate"] == "trust-policy-no-iam-allow"


def test_a_role_that_requires_mfa_takes_a_code_or_an_mfa_session(world, admin, clock):
    bob = make_user(world, admin, "bob")
    serial, seed = enable_mfa(world, admin, "bob")
    make_role(world, admin, "ops", trust(bob.arn, Bool={"aws:MultiFactorAuthPresent": "true"}))

    fails(world, bob, "sts:AssumeRole", "AccessDenied", RoleArn=ROLE_A, RoleSessionName="no-mfa").message
    fails(world, bob, "sts:AssumeRole", "AccessDenied", RoleArn=ROLE_A, RoleSessionName="bad",
          SerialNumber=serial, TokenCode=mfa.totp(seed, world.clock.real() - 300)).message

    with_code = ok(world, bob, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="code",
                   SerialNumber=serial, TokenCode=code(world, seed))["Credentials"]
    assert session(world, with_code).mfa_authenticated is True
    assert session(world, with_code).mfa_auth_time == T0

    bob_mfa = session(world, ok(world, bob, "sts:GetSessionToken", SerialNumber=serial,
                                TokenCode=code(world, seed))["Credentials"])
    clock.advance(600)
    # The role session keeps the time MFA was proven, so aws:MultiFactorAuthAge keeps counting.
    chained = session(world, ok(world, bob_mfa, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="mfa")["Credentials"])
    assert chained.mfa_authenticated is True and chained.mfa_auth_time == T0


def test_an_external_id_condition(world, admin):
    bob = make_user(world, admin, "bob")
    make_role(world, admin, "ops", trust(bob.arn, StringEquals={"sts:ExternalId": "lab-42"}))

    fails(world, bob, "sts:AssumeRole", "AccessDenied", RoleArn=ROLE_A, RoleSessionName="s1").message
    fails(world, bob, "sts:AssumeRole", "AccessDenied", RoleArn=ROLE_A, RoleSessionName="s1", ExternalId="lab-41").message
    ok(world, bob, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="s1", ExternalId="lab-42")


def test_duration_is_bounded_by_the_role_and_by_role_chaining(world, admin):
    make_role(world, admin, "ops", trust(admin.arn))
    ok(world, admin, "iam:CreateRole", RoleName="next", AssumeRolePolicyDocument=trust([ROLE_A, admin.arn]),
       MaxSessionDuration=7200)
    next_arn = f"arn:aws:iam::{ACCOUNT_A}:role/next"

    assert fails(world, admin, "sts:AssumeRole", "ValidationError", RoleArn=ROLE_A, RoleSessionName="s1",
                 DurationSeconds=7200).message == (
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )
    long = ok(world, admin, "sts:AssumeRole", RoleArn=next_arn, RoleSessionName="s1", DurationSeconds=7200)
    assert long["Credentials"]["Expiration"] == T0 + 7200

    ops = session(world, ok(world, admin, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="s2")["Credentials"])
    assert fails(world, ops, "sts:AssumeRole", "ValidationError", RoleArn=next_arn, RoleSessionName="s3",
                 DurationSeconds=7200).message == (
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
    )
    chained = ok(world, ops, "sts:AssumeRole", RoleArn=next_arn, RoleSessionName="s3")
    assert session(world, chained["Credentials"]).arn == f"arn:aws:sts::{ACCOUNT_A}:assumed-role/next/s3"


def test_a_duration_that_breaks_the_model_is_a_validation_error_in_the_record_too(world, admin):
    outcome = call(world, admin, "sts:GetSessionToken", DurationSeconds=60)

    assert outcome.error.code == outcome.record["errorCode"] == "ValidationError"
    assert outcome.record["errorMessage"] == (
        "1 validation error detected: Value '60' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 900"
    )


def test_session_policies_are_refused_rather_than_ignored(world, admin):
    make_role(world, admin, "ops", trust(admin.arn))
    message = fails(world, admin, "sts:AssumeRole", "ValidationError", RoleArn=ROLE_A, RoleSessionName="s1",
                    Policy=policy(allow("kms:Decrypt"))).message
    assert "session policies" in message
    assert not world.doc["sessions"]


def test_the_assume_role_record_has_no_secret(world, admin):
    make_role(world, admin, "ops", trust(admin.arn))
    outcome = call(world, admin, "sts:AssumeRole", RoleArn=ROLE_A, RoleSessionName="s1")

    text = json.dumps(outcome.record)
    credentials = outcome.response["Credentials"]
    assert credentials["SecretAccessKey"] not in text and credentials["SessionToken"] not in text
    assert outcome.record["eventSource"] == "sts.amazonaws.com"
    assert outcome.record["requestParameters"] == {"roleArn": ROLE_A, "roleSessionName": "s1"}


def test_a_token_code_without_a_serial_number_cannot_be_checked(world, admin):
    bob = make_user(world, admin, "bob")
    _, seed = enable_mfa(world, admin, "bob")

    message = fails(world, bob, "sts:GetSessionToken", "AccessDenied", TokenCode=code(world, seed)).message

    assert message.startswith("MultiFactorAuthentication failed, unable to validate MFA code.")


def test_a_role_arn_that_names_no_role_is_denied(world, admin):
    make_role(world, admin, "ops", trust(admin.arn))
    for arn in (f"arn:aws:iam::{ACCOUNT_A}:user/ops", f"arn:aws:iam::{ACCOUNT_A}:role/other-path/ops"):
        fails(world, admin, "sts:AssumeRole", "AccessDenied", RoleArn=arn, RoleSessionName="s1").message
    assert not world.doc["sessions"]
