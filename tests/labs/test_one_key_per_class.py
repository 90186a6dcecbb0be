"""one-key-per-class: the PII gets its own key, is re-encrypted to it, and the log shipper stays out."""
import json

from .labrun import LabRun, arn

SLUG = "one-key-per-class"
CUSTOMERS = ("1001", "1002", "1003")
BOB_ON_PII = {"Sid": "CustomersApp", "Effect": "Allow", "Principal": {"AWS": arn("A", "bob")},
              "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptTo", "kms:GenerateDataKey"], "Resource": "*"}


def user_policy(run, user, name, statements):
    return run.call("admin", "PutUserPolicy", service="iam", UserName=user, PolicyName=name,
                    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def move(run, customer, who="bob"):
    moved = run.call(who, "ReEncrypt", CiphertextBlob=run.blob(f"customer-{customer}"),
                     SourceEncryptionContext={"customer": customer}, DestinationKeyId="alias/pii",
                     DestinationEncryptionContext={"customer": customer})
    assert moved.error is None, moved.error
    assert moved.response["KeyId"] == run.keys["alias/pii"]
    return moved.response["CiphertextBlob"]


def read(run, who, blob, customer):
    return run.call(who, "Decrypt", CiphertextBlob=blob, EncryptionContext={"customer": customer})


def test_at_the_start_the_log_shipper_reads_pii_and_nothing_counts():
    run = LabRun(SLUG)
    opened = read(run, "logs-app", run.blob("customer-1001"), "1001")
    assert opened.error is None and opened.response["Plaintext"].startswith(b"1001 Ada")
    # The new PII key admits nobody but admin yet.
    assert run.call("bob", "Encrypt", KeyId="alias/pii", Plaintext=b"x",
                    EncryptionContext={"customer": "1001"}).error.code == "AccessDeniedException"
    assert not any(run.status().values())


def test_the_solve_path_meets_every_objective():
    run = LabRun(SLUG)
    run.solve()
    assert all(run.status().values()), run.status()


def test_delegating_the_pii_key_and_scoping_both_iam_policies_is_a_second_correct_fix():
    run = LabRun(SLUG)
    # The usual root statement, made safe by naming key ARNs in both applications' IAM policies.
    assert run.put_key_policy("alias/pii", [], delegate=True).error is None
    assert user_policy(run, "logs-app", "log-shipper", [
        {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": run.keys["alias/app-data"]}]).error is None
    assert user_policy(run, "bob", "customers-app", [
        {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptTo", "kms:GenerateDataKey"],
         "Resource": run.keys["alias/pii"]}]).error is None
    assert run.status()["pii-key-for-bob"] is True
    # bob no longer holds ReEncryptFrom on the old key, so admin moves the data.
    blobs = {c: move(run, c, who="admin") for c in CUSTOMERS}
    assert read(run, "bob", blobs["1002"], "1002").error is None
    assert read(run, "logs-app", blobs["1002"], "1002").error.code == "AccessDeniedException"
    assert all(run.status().values()), run.status()


def test_the_root_statement_alone_lets_the_log_shippers_star_policy_into_the_pii_key():
    run = LabRun(SLUG)
    assert run.put_key_policy("alias/pii", [BOB_ON_PII], delegate=True).error is None
    blobs = {c: move(run, c) for c in CUSTOMERS}
    assert run.call("admin", "DeleteUserPolicy", service="iam", UserName="bob",
                    PolicyName="customers-app").error is None
    # logs-app's IAM allow on "*" now counts for the PII key too.
    assert read(run, "logs-app", blobs["1001"], "1001").error is None
    status = run.status()
    assert status["pii-key-for-bob"] and status["pii-moved"] and status["bob-out-of-logs"]
    assert status["logs-kept-out"] is False


def test_re_encrypting_one_file_three_times_does_not_move_the_pii():
    run = LabRun(SLUG)
    assert run.put_key_policy("alias/pii", [BOB_ON_PII]).error is None
    for _ in range(3):
        move(run, "1001")
    assert run.status()["pii-moved"] is False
    move(run, "1002")
    assert run.status()["pii-moved"] is False
    move(run, "1003")
    assert run.status()["pii-moved"] is True


def test_decrypt_then_encrypt_is_not_a_re_encryption():
    run = LabRun(SLUG)
    assert run.put_key_policy("alias/pii", [BOB_ON_PII]).error is None
    for c in CUSTOMERS:
        plain = read(run, "bob", run.blob(f"customer-{c}"), c).response["Plaintext"]
        assert run.call("bob", "Encrypt", KeyId="alias/pii", Plaintext=plain,
                        EncryptionContext={"customer": c}).error is None
    assert run.status()["pii-moved"] is False


def test_cutting_bob_off_the_old_key_before_moving_the_data_blocks_the_move():
    run = LabRun(SLUG)
    assert run.put_key_policy("alias/pii", [BOB_ON_PII]).error is None
    run.call("admin", "DeleteUserPolicy", service="iam", UserName="bob", PolicyName="customers-app")
    stuck = run.call("bob", "ReEncrypt", CiphertextBlob=run.blob("customer-1001"),
                     SourceEncryptionContext={"customer": "1001"}, DestinationKeyId="alias/pii")
    assert stuck.error.code == "AccessDeniedException"  # kms:ReEncryptFrom on alias/app-data
    assert run.status()["pii-moved"] is False


def test_denying_the_log_shipper_everything_breaks_the_logs():
    run = LabRun(SLUG)
    run.solve()
    user_policy(run, "logs-app", "log-shipper", [{"Effect": "Deny", "Action": "kms:*", "Resource": "*"}])
    status = run.judged_now()
    assert status["logs-kept-out"] is False
    assert status["bob-out-of-logs"] is True
