"""iam-vs-key-policy: bob's IAM allow counts only once the key policy names him or delegates to the account."""
from .labrun import LabRun, arn

USE = ["kms:Encrypt", "kms:Decrypt"]


def test_bob_is_denied_at_the_start_by_the_key_policy():
    run = LabRun("iam-vs-key-policy")
    denied = run.call("bob", "Encrypt", KeyId="alias/orders", Plaintext=b"x")
    assert denied.error.code == "AccessDeniedException"
    assert run.status() == {"bob-encrypts": False, "bob-not-admin": False}


def test_restoring_the_root_delegation_is_a_second_correct_fix():
    run = LabRun("iam-vs-key-policy")
    assert run.put_key_policy("alias/orders", [], delegate=True).error is None
    assert run.call("bob", "Encrypt", KeyId="alias/orders", Plaintext=b"x").error is None
    assert run.status() == {"bob-encrypts": True, "bob-not-admin": True}


def test_kms_star_for_bob_lets_him_encrypt_but_fails_the_least_privilege_objective():
    run = LabRun("iam-vs-key-policy")
    run.put_key_policy("alias/orders", [
        {"Effect": "Allow", "Principal": {"AWS": arn("A", "bob")}, "Action": "kms:*", "Resource": "*"}])
    assert run.call("bob", "Encrypt", KeyId="alias/orders", Plaintext=b"x").error is None
    assert run.status() == {"bob-encrypts": True, "bob-not-admin": False}


def test_an_encrypt_by_someone_else_does_not_count():
    run = LabRun("iam-vs-key-policy")
    assert run.call("admin", "Encrypt", KeyId="alias/orders", Plaintext=b"x").error is None
    assert run.status()["bob-encrypts"] is False
