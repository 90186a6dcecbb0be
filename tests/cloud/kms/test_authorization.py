"""KMS authorization end to end, through calls.call.

alice is a developer in account A, bob an analyst in account B, carol runs
the key-admin role in A, mallory has an account-wide allow-all IAM policy in A
but nothing in the key policy names her.
"""
import json

from kmslab.cloud import iam, principals
from kmslab.cloud.kms import access

from ..factories import allow, call, ok, policy

A, B = "111122223333", "444455556666"
ROOT_A, ROOT_B = f"arn:aws:iam::{A}:root", f"arn:aws:iam::{B}:root"


def denied(world, caller, operation, **request):
    outcome = call(world, caller, operation, **request)
    assert outcome.error is not None and outcome.error.code == "AccessDeniedException", outcome.error or outcome.response
    return outcome


def grant_to(principal, action, **extra):
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": "*", **extra}


def make_user(world, account, name, *statements):
    user = iam.add_user(world, account, name)
    if statements:
        user["InlinePolicies"]["lab"] = policy(*statements)
    return principals.user_caller(account, user)


def make_role_session(world, account, name, *statements, session="work", mfa=None, mfa_age=0):
    role = world.account(account)["roles"].get(name) or iam.add_role(world, account, name, policy())
    if statements:
        role["InlinePolicies"]["lab"] = policy(*statements)
    now = world.now()
    return principals.role_session_caller(account, role, session, mfa_authenticated=mfa,
                                          mfa_auth_time=now - mfa_age if mfa else None, session_created=now - 60)


def make_key(world, admin, key_policy=None):
    request = {"Policy": key_policy, "BypassPolicyLockoutSafetyCheck": True} if key_policy else {}
    return ok(world, admin, "CreateKey", **request)["KeyMetadata"]


def test_a_user_denied_then_allowed_after_an_iam_policy_change(world, admin):
    key = make_key(world, admin)
    alice = make_user(world, A, "alice")
    outcome = denied(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"hi")
    assert outcome.error.message == (
        f"User: {alice.arn} is not authorized to perform: kms:Encrypt on resource: {key['Arn']} "
        "because no identity-based policy allows the kms:Encrypt action"
    )
    explanation = outcome.explanations[-1]
    assert explanation["decision"] == "ImplicitDeny" and explanation["gate"] == "no-iam-allow"
    assert explanation["policies"][0]["statements"][0]["principal"] == "delegating"

    world.account(A)["users"]["alice"]["InlinePolicies"]["use"] = policy(allow("kms:Encrypt", key["Arn"]))
    outcome = call(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"hi")
    assert outcome.error is None
    assert outcome.explanations[-1]["gate"] == "key-policy-and-iam"
    assert outcome.explanations[-1]["deciding"]["source"] == "user/alice inline policy use"


def test_a_user_allowed_by_a_key_policy_change_needs_no_iam_policy(world, admin):
    key = make_key(world, admin)
    alice = make_user(world, A, "alice")
    denied(world, alice, "Decrypt", CiphertextBlob=ok(world, admin, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"])
    ok(world, admin, "PutKeyPolicy", KeyId=key["KeyId"], PolicyName="default",
       Policy=policy(grant_to(ROOT_A, "kms:*"), grant_to(alice.arn, ["kms:Encrypt", "kms:Decrypt"])))
    blob = ok(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert ok(world, alice, "Decrypt", CiphertextBlob=blob)["Plaintext"] == b"x"


def test_mallory_with_allow_all_iam_cannot_use_a_key_whose_policy_does_not_delegate(world, admin):
    carol = make_role_session(world, A, "key-admin")
    key = make_key(world, admin, policy(grant_to(carol.role_arn, "kms:*")))
    mallory = make_user(world, A, "mallory", allow("*"))
    outcome = denied(world, mallory, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
    assert "because no resource-based policy allows the kms:Encrypt action" in outcome.error.message
    ok(world, carol, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")


def test_an_explicit_deny_in_an_iam_policy_wins_over_a_key_policy_allow(world, admin):
    alice = make_user(world, A, "alice", {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"})
    key = make_key(world, admin, policy(grant_to(ROOT_A, "kms:*"), grant_to(alice.arn, "kms:*")))
    blob = ok(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    outcome = denied(world, alice, "Decrypt", CiphertextBlob=blob)
    assert outcome.error.message.endswith("with an explicit deny in an identity-based policy")


def test_an_explicit_deny_in_the_key_policy_names_a_resource_based_policy(world, admin):
    alice = make_user(world, A, "alice")
    key = make_key(world, admin, policy(
        grant_to(ROOT_A, "kms:*"), grant_to(alice.arn, "kms:*"),
        {"Effect": "Deny", "Principal": {"AWS": alice.arn}, "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}))
    outcome = denied(world, alice, "ScheduleKeyDeletion", KeyId=key["KeyId"], PendingWindowInDays=7)
    assert outcome.error.message.endswith("with an explicit deny in a resource-based policy")
    assert world.doc["kms"]["keys"][key["KeyId"]]["KeyMetadata"]["KeyState"] == "Enabled"


def test_cross_account_a_user_in_b_uses_a_key_in_a_with_both_policies(world, admin):
    key = make_key(world, admin, policy(grant_to(ROOT_A, "kms:*"), grant_to(ROOT_B, ["kms:Encrypt", "kms:Decrypt"])))
    bob = make_user(world, B, "bob")
    denied(world, bob, "Encrypt", KeyId=key["Arn"], Plaintext=b"x")
    world.account(B)["users"]["bob"]["InlinePolicies"]["use"] = policy(allow(["kms:Encrypt", "kms:Decrypt"], key["Arn"]))
    blob = ok(world, bob, "Encrypt", KeyId=key["Arn"], Plaintext=b"x")["CiphertextBlob"]
    assert ok(world, bob, "Decrypt", CiphertextBlob=blob)["Plaintext"] == b"x"
    # Key management never crosses accounts, whatever the policies say.
    world.account(B)["users"]["bob"]["InlinePolicies"]["all"] = policy(allow("kms:*"))
    outcome = denied(world, bob, "DisableKey", KeyId=key["Arn"])
    assert outcome.explanations[-1]["gate"] == "cross-account-operation"


def test_cross_account_the_other_direction_and_the_key_id_only_works_in_its_own_account(world, admin, admin_b):
    key = make_key(world, admin_b, policy(grant_to(ROOT_B, "kms:*"), grant_to(ROOT_A, "kms:DescribeKey")))
    alice = make_user(world, A, "alice", allow("kms:DescribeKey", key["Arn"]))
    assert ok(world, alice, "DescribeKey", KeyId=key["Arn"])["KeyMetadata"]["KeyId"] == key["KeyId"]
    outcome = call(world, alice, "DescribeKey", KeyId=key["KeyId"])
    assert outcome.error.code == "NotFoundException"


def test_cross_account_a_key_policy_naming_a_role_still_needs_that_accounts_iam(world, admin):
    bob = make_role_session(world, B, "analyst")
    key = make_key(world, admin, policy(grant_to(ROOT_A, "kms:*"), grant_to(bob.role_arn, "kms:Encrypt")))
    outcome = denied(world, bob, "Encrypt", KeyId=key["Arn"], Plaintext=b"x")
    assert outcome.explanations[-1]["gate"] == "no-iam-allow-cross-account"
    bob = make_role_session(world, B, "analyst", allow("kms:Encrypt", key["Arn"]))
    ok(world, bob, "Encrypt", KeyId=key["Arn"], Plaintext=b"x")


def test_cross_account_the_explanation_names_both_halves_and_the_missing_one(world, admin):
    """bob in B on a key of A: the key policy (A) and bob's IAM policies (B) must both allow.
    Each combination says which half allows, which is missing, and looks for the nearest
    miss only in the missing half: never statement 1's principal when A's side is there."""
    both_sides = policy(grant_to(ROOT_A, "kms:*", Sid="Enable IAM User Permissions"),
                        grant_to(ROOT_B, "kms:Encrypt", Sid="AccountB"))
    shared, private = make_key(world, admin, both_sides), make_key(world, admin)
    nobody = make_user(world, B, "bob")
    allowed = make_user(world, B, "bea", allow("kms:Encrypt", "*"))

    def halves(caller, key):
        outcome = call(world, caller, "Encrypt", KeyId=key["Arn"], Plaintext=b"x")
        explanation = outcome.explanations[-1]
        key_side, iam_side = explanation["sides"]
        assert (key_side["side"], key_side["account"], iam_side["side"], iam_side["account"]) == (
            "key policy", A, "IAM policies", B)
        return explanation, key_side, iam_side

    def by(side):
        return side["by"] and (side["by"]["source"], side["by"]["statement"], side["by"]["sid"])

    def nearest(side):
        near = side["nearest"]
        return near and (near["source"], near["statement"], near["sid"], near["unmet"])

    # Neither: both halves missing; the nearest miss is the key policy's, where the first gap is.
    explanation, key_side, iam_side = halves(nobody, private)
    assert (key_side["allows"], iam_side["allows"], explanation["gate"]) == (False, False, "no-key-policy-allow")
    assert nearest(key_side) == ("key policy", 1, "Enable IAM User Permissions", ["principal"])
    assert nearest(iam_side) is None  # bob has no IAM policy at all

    # The key policy only: what is missing is B's IAM policy, and nothing in the key policy is blamed.
    explanation, key_side, iam_side = halves(nobody, shared)
    assert (key_side["allows"], iam_side["allows"]) == (True, False)
    assert explanation["gate"] == "no-iam-allow-cross-account"
    assert explanation["nearest"] is None
    assert by(key_side) == ("key policy", 2, "AccountB") and key_side["nearest"] is None

    # IAM only: B's policy allows, the key policy does not name B.
    explanation, key_side, iam_side = halves(allowed, private)
    assert (key_side["allows"], iam_side["allows"], explanation["gate"]) == (False, True, "no-key-policy-allow")
    assert explanation["nearest"]["unmet"] == ["principal"]
    assert by(iam_side) == ("user/bea inline policy lab", 1, None)

    # Both: allowed, and the explanation still names each half.
    explanation, key_side, iam_side = halves(allowed, shared)
    assert (key_side["allows"], iam_side["allows"], explanation["decision"]) == (True, True, "Allow")

    # B's root user has no IAM policies to consult: its half is not needed.
    explanation, key_side, iam_side = halves(principals.root_caller(B), shared)
    assert (key_side["allows"], iam_side["allows"], iam_side["root"]) == (True, True, True)


MFA_POLICY = [
    grant_to(ROOT_A, "kms:*", Sid="Enable IAM User Permissions"),
    grant_to(f"arn:aws:iam::{A}:role/key-admin", "kms:ScheduleKeyDeletion", Sid="DeleteWithFreshMFA",
             Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"},
                        "NumericLessThan": {"aws:MultiFactorAuthAge": "300"}}),
]


def test_mfa_present_absent_and_aged(world, admin):
    iam.add_role(world, A, "key-admin", policy())
    key = make_key(world, admin, policy(*MFA_POLICY))
    without = make_role_session(world, A, "key-admin", mfa=False)
    outcome = denied(world, without, "ScheduleKeyDeletion", KeyId=key["KeyId"], PendingWindowInDays=7)
    statement = outcome.explanations[-1]["policies"][0]["statements"][1]
    assert statement["conditions"][0]["requestValue"] is False
    aged = make_role_session(world, A, "key-admin", mfa=True, mfa_age=3600)
    outcome = denied(world, aged, "ScheduleKeyDeletion", KeyId=key["KeyId"], PendingWindowInDays=7)
    assert outcome.explanations[-1]["nearest"]["unmet"] == ["condition NumericLessThan aws:MultiFactorAuthAge"]
    fresh = make_role_session(world, A, "key-admin", mfa=True, mfa_age=60)
    ok(world, fresh, "ScheduleKeyDeletion", KeyId=key["KeyId"], PendingWindowInDays=7)


def test_long_term_keys_have_no_mfa_key_so_a_bool_deny_misses_them(world, admin):
    alice = make_user(world, A, "alice", allow("kms:*"))
    deny_without_mfa = {"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
                        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}
    key = make_key(world, admin, policy(grant_to(ROOT_A, "kms:*"), deny_without_mfa))
    outcome = call(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
    assert outcome.error is None
    condition = outcome.explanations[-1]["policies"][0]["statements"][1]["conditions"][0]
    assert condition["missing"] is True and condition["matches"] is False


def test_the_lockout_check_refuses_a_policy_that_would_lock_the_caller_out(world, admin):
    key = make_key(world, admin)
    bob = make_user(world, A, "bob")
    locking = policy(grant_to(bob.arn, "kms:*"))
    outcome = call(world, admin, "PutKeyPolicy", KeyId=key["KeyId"], PolicyName="default", Policy=locking)
    assert outcome.error.code == "MalformedPolicyDocumentException"
    assert "will not allow you to update the key policy in the future" in outcome.error.message
    ok(world, admin, "PutKeyPolicy", KeyId=key["KeyId"], PolicyName="default", Policy=locking,
       BypassPolicyLockoutSafetyCheck=True)
    denied(world, admin, "PutKeyPolicy", KeyId=key["KeyId"], PolicyName="default", Policy=locking)


def test_the_bypass_flag_is_itself_a_condition_key_policies_can_deny(world, admin):
    guard = {"Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy", "Resource": "*",
             "Condition": {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}}
    key = make_key(world, admin, policy(grant_to(ROOT_A, "kms:*"), guard))
    outcome = denied(world, admin, "PutKeyPolicy", KeyId=key["KeyId"], PolicyName="default",
                     Policy=policy(grant_to(ROOT_A, "kms:*")), BypassPolicyLockoutSafetyCheck=True)
    assert outcome.explanations[-1]["decision"] == "ExplicitDeny"


def test_a_key_policy_naming_a_principal_that_does_not_exist_is_refused(world, admin):
    outcome = call(world, admin, "CreateKey", Policy=policy(
        grant_to(ROOT_A, "kms:*"), grant_to(f"arn:aws:iam::{A}:user/ghost", "kms:Encrypt")))
    assert outcome.error.code == "MalformedPolicyDocumentException"
    assert "Statement 2" in outcome.error.message and "ghost" in outcome.error.message


def test_the_root_user_has_no_implicit_access(world, admin):
    alice = make_user(world, A, "alice")
    key = make_key(world, admin, policy(grant_to(alice.arn, "kms:*")))
    root = principals.root_caller(A)
    outcome = denied(world, root, "DescribeKey", KeyId=key["KeyId"])
    assert outcome.explanations[-1]["gate"] == "no-key-policy-allow"


def test_reencrypt_is_checked_on_both_keys(world, admin):
    alice = make_user(world, A, "alice")
    source = make_key(world, admin, policy(grant_to(ROOT_A, "kms:*"), grant_to(alice.arn, ["kms:Encrypt", "kms:ReEncryptFrom"])))
    target = make_key(world, admin, policy(grant_to(ROOT_A, "kms:*"), grant_to(alice.arn, "kms:Encrypt")))
    blob = ok(world, alice, "Encrypt", KeyId=source["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    outcome = denied(world, alice, "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=target["KeyId"])
    assert "kms:ReEncryptTo" in outcome.error.message and target["Arn"] in outcome.error.message
    ok(world, admin, "PutKeyPolicy", KeyId=target["KeyId"], PolicyName="default",
       Policy=policy(grant_to(ROOT_A, "kms:*"), grant_to(alice.arn, "kms:ReEncrypt*")))
    ok(world, alice, "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=target["KeyId"])


def test_encryption_context_conditions_gate_decrypt(world, admin):
    alice = make_user(world, A, "alice")
    key = make_key(world, admin, policy(grant_to(ROOT_A, "kms:*"), grant_to(
        alice.arn, ["kms:Encrypt", "kms:Decrypt"], Condition={"StringEquals": {"kms:EncryptionContext:dept": "hr"}})))
    denied(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
    blob = ok(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"dept": "hr"})["CiphertextBlob"]
    ok(world, alice, "Decrypt", CiphertextBlob=blob, EncryptionContext={"dept": "hr"})


def test_every_call_keeps_its_explanation_and_the_simulator_gives_the_same_without_a_call(world, admin):
    key = make_key(world, admin)
    alice = make_user(world, A, "alice")
    outcome = denied(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
    assert json.loads(json.dumps(outcome.explanations)) == outcome.explanations
    record_key = world.doc["kms"]["keys"][key["KeyId"]]
    simulated = access.simulate(world, alice, "kms:Encrypt", record_key, {"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
    assert simulated.to_dict()["gate"] == outcome.explanations[-1]["gate"]
    assert simulated.to_dict() == outcome.explanations[-1]
    assert len(world.doc["kms"]["keys"]) == 1  # simulating changed nothing


def test_account_operations_use_iam_policies_only(world, admin):
    alice = make_user(world, A, "alice")
    outcome = call(world, alice, "CreateKey")
    assert outcome.error.code == "AccessDeniedException"
    assert "because no identity-based policy allows the kms:CreateKey action" in outcome.error.message
    world.account(A)["users"]["alice"]["InlinePolicies"]["create"] = policy(allow("kms:CreateKey"))
    key = ok(world, alice, "CreateKey", Policy=policy(grant_to(alice.arn, "kms:*")))["KeyMetadata"]
    assert key["KeyState"] == "Enabled"


def test_an_alias_arn_in_an_iam_policy_serves_alias_operations_never_the_key(world, admin):
    key = make_key(world, admin)
    alias_arn = f"arn:aws:kms:us-east-1:{A}:alias/payroll"
    alice = make_user(world, A, "alice", allow(["kms:CreateAlias", "kms:Encrypt"], alias_arn))
    outcome = denied(world, alice, "CreateAlias", AliasName="alias/payroll", TargetKeyId=key["KeyId"])
    assert key["Arn"] in outcome.error.message  # the alias is allowed, the key is not
    world.account(A)["users"]["alice"]["InlinePolicies"]["key"] = policy(allow("kms:CreateAlias", key["Arn"]))
    ok(world, alice, "CreateAlias", AliasName="alias/payroll", TargetKeyId=key["KeyId"])
    outcome = denied(world, alice, "Encrypt", KeyId="alias/payroll", Plaintext=b"x")
    assert outcome.explanations[-1]["gate"] == "no-iam-allow"


def test_a_remembered_decision_never_outlives_a_policy_change(world, admin):
    alice = make_user(world, A, "alice", allow("kms:Encrypt"))
    key = make_key(world, admin)
    ok(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
    ok(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
    world.account(A)["users"]["alice"]["InlinePolicies"]["lab"] = policy(allow("kms:Decrypt"))
    denied(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
    world.account(A)["users"]["alice"]["InlinePolicies"]["lab"] = policy(allow("kms:Encrypt"))
    ok(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
    ok(world, admin, "PutKeyPolicy", KeyId=key["KeyId"], PolicyName="default",
       Policy=policy(grant_to(ROOT_A, "kms:*", Condition={"StringEquals": {"aws:username": "admin"}})))
    denied(world, alice, "Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
