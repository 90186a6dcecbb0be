"""explicit-deny: an explicit Deny aimed at erin stops her whatever allows her; removing allows only denies implicitly."""
import json

from kmslab.cloud.kms import access
from kmslab.labs import checks

from .labrun import LabRun, arn

SLUG = "explicit-deny"
KEY = "alias/reports"


def document(statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def decrypt(run, name):
    return run.call(name, "Decrypt", CiphertextBlob=run.blob("q3-report"))


def decision(run, name):
    caller = checks.callers(run.world, name)[0]
    return access.decide(run.world, caller, "kms:Decrypt", checks.key_record(run.world, KEY))


def test_at_the_start_the_contractor_reads_the_reports_through_the_group_and_nothing_counts():
    run = LabRun(SLUG)
    assert decrypt(run, "erin").error is None
    assert decrypt(run, "bob").error is None
    assert decision(run, "erin").gate == "key-policy-and-iam"
    assert decrypt(run, "dave").error.code == "AccessDeniedException"  # not in the group
    assert not any(run.status().values())


def test_a_deny_in_the_key_policy_naming_erin_is_a_second_correct_fix():
    run = LabRun(SLUG)
    assert run.put_key_policy(KEY, [
        {"Sid": "OffboardedErin", "Effect": "Deny", "Principal": {"AWS": arn("A", "erin")},
         "Action": "kms:Decrypt", "Resource": "*"}], delegate=True).error is None
    assert decrypt(run, "erin").error.code == "AccessDeniedException"
    assert decrypt(run, "bob").error is None
    assert decision(run, "erin").gate == "explicit-deny"
    assert all(run.status().values()), run.status()


def test_a_deny_in_the_group_policy_conditioned_on_aws_username_is_a_third_correct_fix():
    run = LabRun(SLUG)
    key = run.keys[KEY]
    assert run.call("admin", "PutGroupPolicy", service="iam", GroupName="data", PolicyName="read-reports",
                    PolicyDocument=document([
                        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key},
                        {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": key,
                         "Condition": {"StringEquals": {"aws:username": "erin"}}}])).error is None
    assert decrypt(run, "erin").error.code == "AccessDeniedException"
    assert all(run.status().values()), run.status()


def test_removing_erin_from_the_group_is_only_an_implicit_deny():
    run = LabRun(SLUG)
    assert run.call("admin", "RemoveUserFromGroup", service="iam", GroupName="data", UserName="erin").error is None
    assert decrypt(run, "erin").error.code == "AccessDeniedException"
    assert decision(run, "erin").gate == "no-iam-allow"
    assert run.status() == {"erin-explicitly-denied": False, "bob-still-reads": False, "nobody-else-changed": False}


def test_deleting_the_group_policy_stops_erin_implicitly_and_breaks_bob():
    run = LabRun(SLUG)
    assert run.call("admin", "DeleteGroupPolicy", service="iam", GroupName="data",
                    PolicyName="read-reports").error is None
    assert decrypt(run, "erin").error.code == "AccessDeniedException"
    assert decrypt(run, "bob").error.code == "AccessDeniedException"
    assert run.status()["erin-explicitly-denied"] is False
    # Even with a Deny for erin added as well, bob stays broken.
    run.call("admin", "PutUserPolicy", service="iam", UserName="erin", PolicyName="offboarded",
             PolicyDocument=document([{"Effect": "Deny", "Action": "kms:Decrypt", "Resource": run.keys[KEY]}]))
    assert run.status() == {"erin-explicitly-denied": True, "bob-still-reads": False, "nobody-else-changed": False}


def test_a_deny_on_the_whole_group_stops_bob_too():
    run = LabRun(SLUG)
    run.call("admin", "PutGroupPolicy", service="iam", GroupName="data", PolicyName="no-reports",
             PolicyDocument=document([{"Effect": "Deny", "Action": "kms:Decrypt", "Resource": run.keys[KEY]}]))
    assert decrypt(run, "bob").error.code == "AccessDeniedException"
    assert run.status() == {"erin-explicitly-denied": True, "bob-still-reads": False, "nobody-else-changed": False}


def test_statement_order_does_not_matter_a_deny_before_the_allow_still_wins():
    run = LabRun(SLUG)
    key = run.keys[KEY]
    run.call("admin", "PutUserPolicy", service="iam", UserName="erin", PolicyName="offboarded",
             PolicyDocument=document([{"Effect": "Deny", "Action": "kms:Decrypt", "Resource": key},
                                      {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}]))
    assert decrypt(run, "erin").error.code == "AccessDeniedException"
    assert run.status()["erin-explicitly-denied"] is True


def test_denying_erin_but_opening_the_key_to_dave_changes_someone_elses_access():
    run = LabRun(SLUG)
    run.put_key_policy(KEY, [
        {"Effect": "Deny", "Principal": {"AWS": arn("A", "erin")}, "Action": "kms:Decrypt", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": arn("A", "dave")}, "Action": "kms:Decrypt", "Resource": "*"}],
        delegate=True)
    status = run.status()
    assert status["erin-explicitly-denied"] is True and status["bob-still-reads"] is True
    assert status["nobody-else-changed"] is False
