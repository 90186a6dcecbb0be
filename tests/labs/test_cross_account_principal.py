"""cross-account-principal: the key policy names carol, so B's admins cannot pass the key on; A revokes with PutKeyPolicy."""
import json

from kmslab.cloud.kms import access
from kmslab.labs import checks

from .labrun import LabRun, arn

SLUG = "cross-account-principal"
KEY = "alias/shared"
USE = ["kms:Encrypt", "kms:Decrypt"]
NOTHING = {"carol-named": False, "carol-uses": False, "carol-revoked": False}


def share(run, principal):
    return run.put_key_policy(KEY, [{"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": principal},
                                     "Action": USE + ["kms:DescribeKey"], "Resource": "*"}], delegate=True)


def allow_carol_in_b(run):
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": USE, "Resource": run.keys[KEY]}]})
    return run.call("admin@B", "PutUserPolicy", service="iam", UserName="carol", PolicyName="partner-key",
                    PolicyDocument=document)


def decrypt(run, name):
    return run.call(name, "Decrypt", CiphertextBlob=run.blob("partner-order"))


def use(run):
    assert run.call("carol", "Encrypt", KeyId=run.keys[KEY], Plaintext=b"receipt").error is None
    assert decrypt(run, "carol").error is None


def gate(run, name):
    caller = checks.callers(run.world, name)[0]
    return access.decide(run.world, caller, "kms:Decrypt", checks.key_record(run.world, KEY)).gate


def test_at_the_start_carol_is_denied_and_nothing_counts():
    run = LabRun(SLUG)
    assert decrypt(run, "carol").error.code == "AccessDeniedException"
    assert run.status() == NOTHING


def test_naming_carol_keeps_b_admins_out_and_the_first_two_objectives_are_met_live():
    run = LabRun(SLUG)
    assert share(run, arn("B", "carol")).error is None
    assert run.status() == NOTHING  # carol still needs her own account's IAM allow
    assert allow_carol_in_b(run).error is None
    assert gate(run, "admin@B") == "no-key-policy-allow"
    assert run.status() == {"carol-named": True, "carol-uses": False, "carol-revoked": False}
    use(run)
    assert run.status() == {"carol-named": True, "carol-uses": True, "carol-revoked": False}


def test_revoking_with_an_explicit_deny_for_carol_is_a_second_correct_solution():
    run = LabRun(SLUG)
    share(run, arn("B", "carol"))
    allow_carol_in_b(run)
    use(run)
    assert decrypt(run, "admin@B").error.code == "AccessDeniedException"
    assert run.put_key_policy(KEY, [
        {"Effect": "Allow", "Principal": {"AWS": arn("B", "carol")}, "Action": USE, "Resource": "*"},
        {"Sid": "PartnershipOver", "Effect": "Deny", "Principal": {"AWS": arn("B", "carol")},
         "Action": "kms:*", "Resource": "*"}], delegate=True).error is None
    assert decrypt(run, "carol").error.code == "AccessDeniedException"
    assert gate(run, "carol") == "explicit-deny"
    assert all(run.status().values()), run.status()


def test_sharing_with_b_root_lets_b_admins_in_and_fails_the_first_objective():
    run = LabRun(SLUG)
    assert share(run, "arn:aws:iam::444455556666:root").error is None
    allow_carol_in_b(run)
    use(run)
    assert decrypt(run, "admin@B").error is None  # B's administrators can now use, and hand out, A's key
    assert run.status() == NOTHING
    # Revoking B's root afterwards does not turn the share into the one asked for.
    run.put_key_policy(KEY, [], delegate=True)
    assert decrypt(run, "carol").error.code == "AccessDeniedException"
    assert run.status() == NOTHING


def test_revoking_in_account_b_instead_of_the_key_policy_fails_the_last_objective():
    run = LabRun(SLUG)
    share(run, arn("B", "carol"))
    allow_carol_in_b(run)
    use(run)
    assert run.call("admin@B", "DeleteUserPolicy", service="iam", UserName="carol",
                    PolicyName="partner-key").error is None
    assert decrypt(run, "carol").error.code == "AccessDeniedException"
    assert gate(run, "carol") == "no-iam-allow-cross-account"  # A's key policy still lets her in
    assert run.status()["carol-revoked"] is False


def test_a_denial_before_carol_ever_used_the_key_is_not_the_revocation():
    run = LabRun(SLUG)
    share(run, arn("B", "carol"))
    assert decrypt(run, "carol").error.code == "AccessDeniedException"  # before B allowed her
    allow_carol_in_b(run)
    use(run)
    assert decrypt(run, "admin@B").error.code == "AccessDeniedException"
    run.put_key_policy(KEY, [], delegate=True)
    assert run.status()["carol-revoked"] is False  # no denied call after the revoke yet
    assert decrypt(run, "carol").error.code == "AccessDeniedException"
    assert run.status()["carol-revoked"] is True


def test_in_a_live_run_met_objectives_stay_met_so_the_admin_b_call_is_not_needed():
    # runs.evaluate passes what was met before as `done`; a run is evaluated after each call.
    run = LabRun(SLUG)
    done = set()

    def evaluate():
        status = checks.evaluate(run.lab, run.world, run.records, done, run.baseline)
        done.update(i for i, ok in status.items() if ok)
        return status

    share(run, arn("B", "carol"))
    allow_carol_in_b(run)
    assert evaluate()["carol-named"] is True
    use(run)
    assert evaluate()["carol-uses"] is True
    run.put_key_policy(KEY, [], delegate=True)
    assert decrypt(run, "carol").error.code == "AccessDeniedException"
    assert evaluate() == {"carol-named": True, "carol-uses": True, "carol-revoked": True}
