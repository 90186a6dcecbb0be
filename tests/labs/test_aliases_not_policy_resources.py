"""aliases-not-policy-resources: IAM names keys by key ARN; an alias is a movable pointer."""
import json

from .labrun import LabRun, arn

SLUG = "aliases-not-policy-resources"
USE = ["kms:Encrypt", "kms:Decrypt"]


def bob_policy(run, statements):
    return run.call("admin", "PutUserPolicy", service="iam", UserName="bob", PolicyName="payroll-app",
                    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def decrypt(run, name="bob"):
    return run.call(name, "Decrypt", CiphertextBlob=run.blob("payslip"))


def hijack(run):
    return run.call("mallory", "UpdateAlias", AliasName="alias/payroll",
                    TargetKeyId=run.keys["alias/mallory-scratch"].rsplit("/", 1)[1])


def restore(run):
    return run.call("admin", "UpdateAlias", AliasName="alias/payroll", TargetKeyId=run.keys["alias/payroll"])


def test_at_the_start_the_alias_arn_allows_nothing_and_nothing_counts():
    run = LabRun(SLUG)
    denied = decrypt(run)
    assert denied.error.code == "AccessDeniedException"
    # The request was authorized on the key ARN, which the alias ARN in bob's policy does not match.
    assert denied.records[-1]["resources"][0]["ARN"] == run.keys["alias/payroll"]
    assert run.call("bob", "Encrypt", KeyId="alias/payroll", Plaintext=b"x").error.code == "AccessDeniedException"
    assert not any(run.status().values())


def test_the_solve_path_meets_every_objective():
    run = LabRun(SLUG)
    run.solve()
    assert all(run.status().values()), run.status()


def test_naming_bob_in_the_key_policy_and_denying_mallory_alias_changes_there_is_a_second_correct_fix():
    run = LabRun(SLUG)
    # bob's IAM policy keeps its useless alias ARN; the key policy names him directly instead.
    assert run.put_key_policy("alias/payroll", [
        {"Sid": "PayrollApp", "Effect": "Allow", "Principal": {"AWS": arn("A", "bob")}, "Action": USE, "Resource": "*"},
    ], delegate=True).error is None
    assert decrypt(run).error is None
    assert run.status()["bob-decrypts"] is True
    assert hijack(run).error is None
    assert decrypt(run, "mallory").error.code == "AccessDeniedException"
    assert decrypt(run).error is None
    assert run.status()["alias-moved-access-holds"] is True
    assert restore(run).error is None
    assert run.status()["alias-restored"] is False  # mallory can still move it
    assert run.put_key_policy("alias/payroll", [
        {"Sid": "PayrollApp", "Effect": "Allow", "Principal": {"AWS": arn("A", "bob")}, "Action": USE, "Resource": "*"},
        {"Sid": "NoAliasChangesByMallory", "Effect": "Deny", "Principal": {"AWS": arn("A", "mallory")},
         "Action": ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"], "Resource": "*"},
    ], delegate=True).error is None
    assert hijack(run).error.code == "AccessDeniedException"
    assert all(run.status().values()), run.status()


def test_resource_star_opens_every_key_and_fails_the_first_objective():
    run = LabRun(SLUG)
    bob_policy(run, [{"Effect": "Allow", "Action": USE, "Resource": "*"}])
    assert decrypt(run).error is None
    assert run.call("bob", "Encrypt", KeyId="alias/hr", Plaintext=b"case 7").error is None  # another team's key
    assert run.status()["bob-decrypts"] is False


def test_a_resource_aliases_condition_follows_the_alias_when_mallory_moves_it():
    run = LabRun(SLUG)
    bob_policy(run, [{"Effect": "Allow", "Action": USE, "Resource": "*",
                      "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/payroll"}}}])
    assert decrypt(run).error is None
    assert run.status()["bob-decrypts"] is True  # ABAC on the alias: alias/hr stays closed
    assert hijack(run).error is None
    # The payroll key has lost its only alias, so bob's permission went with it.
    assert decrypt(run).error.code == "AccessDeniedException"
    status = run.status()
    assert status["alias-moved-access-holds"] is False
    assert status["alias-restored"] is False


def test_the_key_arn_with_a_resource_aliases_condition_also_breaks_when_the_alias_moves():
    run = LabRun(SLUG)
    bob_policy(run, [{"Effect": "Allow", "Action": USE, "Resource": run.keys["alias/payroll"],
                      "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/payroll"}}}])
    assert decrypt(run).error is None
    assert hijack(run).error is None
    assert decrypt(run).error.code == "AccessDeniedException"
    assert run.status()["alias-moved-access-holds"] is False


def test_kms_resource_aliases_is_refused_in_a_key_policy():
    run = LabRun(SLUG)
    refused = run.put_key_policy("alias/payroll", [
        {"Effect": "Allow", "Principal": {"AWS": arn("A", "bob")}, "Action": USE, "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/payroll"}}}], delegate=True)
    assert refused.error.code == "MalformedPolicyDocumentException"


def test_while_the_alias_is_moved_new_encryptions_by_alias_land_under_mallorys_key():
    run = LabRun(SLUG)
    run.solve()
    run.call("admin", "PutUserPolicy", service="iam", UserName="mallory", PolicyName="alias-janitor",
             PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                 {"Effect": "Allow", "Action": "kms:UpdateAlias", "Resource": "*"}]}))
    assert hijack(run).error is None
    # mallory lets bob encrypt with her key: bob's Encrypt by alias now succeeds, under her key.
    mallory_key = run.keys["alias/mallory-scratch"]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": arn("A", "mallory")}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": arn("A", "bob")}, "Action": "kms:Encrypt", "Resource": "*"}]}
    assert run.call("mallory", "PutKeyPolicy", KeyId=mallory_key, PolicyName="default",
                    Policy=json.dumps(policy)).error is None
    sealed = run.call("bob", "Encrypt", KeyId="alias/payroll", Plaintext=b"payslip 2026-12")
    assert sealed.error is None and sealed.response["KeyId"] == mallory_key
    opened = run.call("mallory", "Decrypt", CiphertextBlob=sealed.response["CiphertextBlob"])
    assert opened.error is None and opened.response["Plaintext"] == b"payslip 2026-12"
    # The alias no longer points at the payroll key: judged now, the last objective no longer holds.
    assert run.judged_now()["alias-restored"] is False


def test_restoring_the_alias_without_taking_mallorys_permission_fails_the_last_objective():
    run = LabRun(SLUG)
    bob_policy(run, [{"Effect": "Allow", "Action": USE, "Resource": run.keys["alias/payroll"]}])
    assert decrypt(run).error is None
    assert hijack(run).error is None
    assert decrypt(run).error is None
    assert restore(run).error is None
    status = run.status()
    assert status["bob-decrypts"] and status["alias-moved-access-holds"]
    assert status["alias-restored"] is False
