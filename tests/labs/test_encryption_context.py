"""encryption-context: bob is bound to tenant=acme by the context's value, not by its key names."""
import json

from .labrun import LabRun, arn

SLUG = "encryption-context"
USE = ["kms:Encrypt", "kms:Decrypt"]


def bob_policy(run, statements):
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    return run.call("admin", "PutUserPolicy", service="iam", UserName="bob", PolicyName="tenant-app",
                    PolicyDocument=document)


def decrypt(run, name, tenant):
    return run.call("bob", "Decrypt", CiphertextBlob=run.blob(f"{name}-record"), EncryptionContext={"tenant": tenant})


def prove(run):
    assert decrypt(run, "acme", "acme").error is None
    assert decrypt(run, "globex", "globex").error.code == "AccessDeniedException"


def test_at_the_start_bob_reads_every_tenant_and_nothing_counts():
    run = LabRun(SLUG)
    assert decrypt(run, "globex", "globex").error is None
    assert decrypt(run, "acme", "acme").error is None
    assert not any(run.status().values())


def test_a_condition_in_the_key_policy_instead_of_the_iam_policy_is_a_second_correct_fix():
    run = LabRun(SLUG)
    # No root delegation any more, so bob's unconditioned IAM policy no longer counts; bob is named with the condition.
    assert run.put_key_policy("alias/tenant-data", [
        {"Effect": "Allow", "Principal": {"AWS": arn("A", "bob")}, "Action": USE, "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}}]).error is None
    prove(run)
    assert all(run.status().values()), run.status()


def test_an_explicit_deny_unless_tenant_is_acme_is_a_third_correct_fix():
    run = LabRun(SLUG)
    key = run.keys["alias/tenant-data"]
    assert bob_policy(run, [
        {"Effect": "Allow", "Action": USE, "Resource": key},
        {"Effect": "Deny", "Action": USE, "Resource": key,
         "Condition": {"StringNotEquals": {"kms:EncryptionContext:tenant": "acme"}}}]).error is None
    prove(run)
    assert all(run.status().values()), run.status()


def test_encryption_context_keys_checks_only_the_names_and_fails_the_first_objective():
    run = LabRun(SLUG)
    key = run.keys["alias/tenant-data"]
    assert bob_policy(run, [
        {"Effect": "Allow", "Action": USE, "Resource": key,
         "Condition": {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "tenant"}}}]).error is None
    # globex's record still opens: the context does have a "tenant" key.
    assert decrypt(run, "acme", "acme").error is None
    assert decrypt(run, "globex", "globex").error is None
    assert run.status() == {"bob-acme-only": False, "bob-decrypts-acme": False, "globex-denied": False}


def test_string_like_acme_star_lets_acme_evil_through():
    run = LabRun(SLUG)
    key = run.keys["alias/tenant-data"]
    bob_policy(run, [{"Effect": "Allow", "Action": USE, "Resource": key,
                      "Condition": {"StringLike": {"kms:EncryptionContext:tenant": "*"}}}])
    assert run.status()["bob-acme-only"] is False


def test_locking_bob_out_entirely_fails_the_first_objective():
    run = LabRun(SLUG)
    bob_policy(run, [{"Effect": "Deny", "Action": USE, "Resource": "*"}])
    assert decrypt(run, "globex", "globex").error.code == "AccessDeniedException"
    assert run.status()["bob-acme-only"] is False


def test_a_decrypt_with_the_wrong_context_is_not_the_acme_decrypt():
    run = LabRun(SLUG)
    key = run.keys["alias/tenant-data"]
    bob_policy(run, [{"Effect": "Allow", "Action": USE, "Resource": key,
                      "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}}])
    # acme's record with a made-up context: allowed by policy, but the ciphertext does not open.
    wrong = run.call("bob", "Decrypt", CiphertextBlob=run.blob("acme-record"),
                     EncryptionContext={"tenant": "acme", "extra": "x"})
    assert wrong.error is not None
    assert run.status()["bob-decrypts-acme"] is False
