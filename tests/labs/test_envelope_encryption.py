"""envelope-encryption: Encrypt stops at 4096 bytes; a data key from GenerateDataKey encrypts the report locally."""
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .labrun import LabRun, arn

SLUG = "envelope-encryption"
REPORT = (b"Q3 report: revenue by region, confidential draft. " * 200)[:9000]
CONTEXT = {"document": "q3-report"}


def bob_policy(run, actions, condition=None):
    statement = {"Effect": "Allow", "Action": actions, "Resource": run.keys["alias/documents"]}
    if condition:
        statement["Condition"] = condition
    return run.call("admin", "PutUserPolicy", service="iam", UserName="bob", PolicyName="reports-app",
                    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


def too_big(run):
    return run.call("bob", "Encrypt", KeyId="alias/documents", Plaintext=REPORT[:5000])


def seal(run, **spec):
    """GenerateDataKey, AES-GCM locally, keep (nonce, ciphertext, encrypted data key) and drop the plaintext key."""
    made = run.call("bob", "GenerateDataKey", KeyId="alias/documents", EncryptionContext=CONTEXT, **spec)
    assert made.error is None, made.error
    nonce = os.urandom(12)
    body = AESGCM(made.response["Plaintext"]).encrypt(nonce, REPORT, b"q3-report")
    return nonce, body, made.response["CiphertextBlob"]


def open_(run, nonce, body, wrapped, context=CONTEXT):
    outcome = run.call("bob", "Decrypt", CiphertextBlob=wrapped, EncryptionContext=context)
    if outcome.error:
        return outcome
    return AESGCM(outcome.response["Plaintext"]).decrypt(nonce, body, b"q3-report")


def test_at_the_start_a_5_kb_encrypt_is_refused_and_nothing_counts():
    run = LabRun(SLUG)
    refused = too_big(run)
    assert refused.error.code == "ValidationException"
    assert "less than or equal to 4096" in refused.error.message
    # 4096 bytes is still fine: the limit, not a ban.
    assert run.call("bob", "Encrypt", KeyId="alias/documents", Plaintext=REPORT[:4096]).error is None
    # bob has no GenerateDataKey yet.
    assert run.call("bob", "GenerateDataKey", KeyId="alias/documents", KeySpec="AES_256",
                    EncryptionContext=CONTEXT).error.code == "AccessDeniedException"
    status = run.status()
    assert status.pop("direct-encrypt-refused") is True  # seeing the refusal is the first objective
    assert not any(status.values())


def test_a_fresh_run_meets_nothing():
    assert not any(LabRun(SLUG).status().values())


def test_a_key_policy_grant_bound_to_the_context_and_a_real_aes_gcm_round_trip_is_a_second_correct_fix():
    run = LabRun(SLUG)
    too_big(run)
    # No root statement: bob's IAM policy (with its Encrypt) no longer counts; the key policy names him.
    assert run.put_key_policy("alias/documents", [
        {"Effect": "Allow", "Principal": {"AWS": arn("A", "bob")}, "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
         "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:document": "q3-report"}}}]).error is None
    assert run.status()["bob-envelope-permissions"] is True
    nonce, body, wrapped = seal(run, NumberOfBytes=32)
    assert open_(run, nonce, body, wrapped) == REPORT
    assert all(run.status().values()), run.status()


def test_chunking_the_report_into_4_kb_encrypts_is_not_envelope_encryption():
    run = LabRun(SLUG)
    too_big(run)
    chunks = [run.call("bob", "Encrypt", KeyId="alias/documents", Plaintext=REPORT[i:i + 4096],
                       EncryptionContext=CONTEXT) for i in range(0, len(REPORT), 4096)]
    assert all(c.error is None for c in chunks)
    for c in chunks:
        assert run.call("bob", "Decrypt", CiphertextBlob=c.response["CiphertextBlob"],
                        EncryptionContext=CONTEXT).error is None
    bob_policy(run, ["kms:GenerateDataKey", "kms:Decrypt"])
    seal(run, KeySpec="AES_256")
    run.call("bob", "Decrypt", CiphertextBlob=chunks[0].response["CiphertextBlob"], EncryptionContext=CONTEXT)
    status = run.status()
    assert status["data-key-generated"] is True
    assert status["data-key-decrypted"] is False  # the report went through Encrypt


def test_adding_generate_data_key_but_keeping_encrypt_is_more_than_needed():
    run = LabRun(SLUG)
    bob_policy(run, ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"])
    assert run.status()["bob-envelope-permissions"] is False
    bob_policy(run, ["kms:GenerateDataKey*", "kms:Decrypt", "kms:ReEncrypt*"])
    assert run.status()["bob-envelope-permissions"] is False
    bob_policy(run, ["kms:GenerateDataKey", "kms:Decrypt"])
    assert run.status()["bob-envelope-permissions"] is True


def test_decrypting_the_data_key_without_its_context_fails_and_does_not_count():
    run = LabRun(SLUG)
    bob_policy(run, ["kms:GenerateDataKey", "kms:Decrypt"])
    nonce, body, wrapped = seal(run, KeySpec="AES_256")
    failed = open_(run, nonce, body, wrapped, context={})
    assert failed.error.code == "InvalidCiphertextException"
    assert run.status()["data-key-decrypted"] is False
    assert open_(run, nonce, body, wrapped) == REPORT
    assert run.status()["data-key-decrypted"] is True
