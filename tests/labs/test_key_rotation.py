"""key-rotation: automatic rotation within 180 days, an on-demand rotation, and old ciphertexts still open."""
from .labrun import LabRun

SLUG = "key-rotation"
KEY = "alias/payroll"
CONTEXT = {"record": "payslip-2025"}


def key_id(run):
    return run.keys[KEY].rsplit("/", 1)[1]


def decrypt_old(run):
    return run.call("bob", "Decrypt", CiphertextBlob=run.blob("payslip-2025"), EncryptionContext=CONTEXT)


def encrypt_new(run):
    return run.call("bob", "Encrypt", KeyId=KEY, Plaintext=b"2026-01 payslip", EncryptionContext={"record": "new"})


def test_at_the_start_the_key_never_rotates_and_nothing_counts():
    run = LabRun(SLUG)
    status = run.call("alice", "GetKeyRotationStatus", KeyId=key_id(run))
    assert status.response["KeyRotationEnabled"] is False
    # Decrypting and encrypting before any rotation use the original material: neither counts.
    assert decrypt_old(run).error is None
    assert encrypt_new(run).error is None
    assert not any(run.status().values())


def test_admin_with_90_days_and_a_key_arn_is_a_second_correct_solution():
    run = LabRun(SLUG)
    assert run.call("admin", "EnableKeyRotation", KeyId=run.keys[KEY], RotationPeriodInDays=90).error is None
    assert run.call("admin", "RotateKeyOnDemand", KeyId=run.keys[KEY]).error is None
    old = run.call("bob", "Decrypt", KeyId=run.keys[KEY], CiphertextBlob=run.blob("payslip-2025"),
                   EncryptionContext=CONTEXT)
    assert old.error is None and old.response["Plaintext"] == b"2025-12 payslip: 4200 EUR"
    assert encrypt_new(run).error is None
    assert all(run.status().values()), run.status()


def test_the_old_ciphertext_names_the_original_material_and_the_new_one_the_rotated():
    run = LabRun(SLUG)
    run.call("alice", "RotateKeyOnDemand", KeyId=key_id(run))
    old, new = decrypt_old(run), encrypt_new(run)
    assert old.record["additionalEventData"]["keyMaterialId"] != new.record["additionalEventData"]["keyMaterialId"]
    assert run.status() == {"auto-rotation": False, "rotated-on-demand": True, "old-decrypts": True,
                            "new-material": True}


def test_the_default_period_of_365_days_is_too_long():
    run = LabRun(SLUG)
    assert run.call("alice", "EnableKeyRotation", KeyId=key_id(run)).error is None
    assert run.call("alice", "GetKeyRotationStatus", KeyId=key_id(run)).response["RotationPeriodInDays"] == 365
    assert run.status()["auto-rotation"] is False
    # Fixing the period afterwards meets it.
    assert run.call("alice", "EnableKeyRotation", KeyId=key_id(run), RotationPeriodInDays=120).error is None
    assert run.status()["auto-rotation"] is True


def test_rotation_turned_on_then_off_again_does_not_count():
    run = LabRun(SLUG)
    run.call("alice", "DisableKeyRotation", KeyId=key_id(run))
    assert run.status()["auto-rotation"] is False


def test_a_decrypt_before_the_rotation_is_not_the_proof():
    run = LabRun(SLUG)
    assert decrypt_old(run).error is None
    run.call("alice", "RotateKeyOnDemand", KeyId=key_id(run))
    status = run.status()
    assert status["rotated-on-demand"] is True and status["old-decrypts"] is False


def test_manual_rotation_with_a_new_key_and_an_alias_switch_fails():
    run = LabRun(SLUG)
    new = run.call("admin", "CreateKey", Description="payroll v2").response["KeyMetadata"]
    assert run.call("admin", "UpdateAlias", AliasName=KEY, TargetKeyId=new["KeyId"]).error is None
    assert run.call("admin", "EnableKeyRotation", KeyId=new["KeyId"], RotationPeriodInDays=180).error is None
    assert run.call("admin", "RotateKeyOnDemand", KeyId=new["KeyId"]).error is None
    assert decrypt_old(run).error is None  # the old key still opens it: it names the old key
    status = run.status()
    assert status["auto-rotation"] is False and status["rotated-on-demand"] is False, status


def test_bob_cannot_rotate_the_key():
    run = LabRun(SLUG)
    assert run.call("bob", "RotateKeyOnDemand", KeyId=key_id(run)).error.code == "AccessDeniedException"
    assert run.status()["rotated-on-demand"] is False


def test_an_automatic_rotation_also_proves_old_ciphertexts_open():
    run = LabRun(SLUG)
    run.call("alice", "EnableKeyRotation", KeyId=key_id(run), RotationPeriodInDays=90)
    run.world.clock.advance(91 * 86400)
    assert decrypt_old(run).error is None  # the automatic rotation (a RotateKey service event) fell due first
    assert [r["eventName"] for r in run.records][-2:] == ["RotateKey", "Decrypt"]
    assert run.status()["old-decrypts"] is False  # it comes after the on-demand rotation
    run.call("alice", "RotateKeyOnDemand", KeyId=key_id(run))
    assert decrypt_old(run).error is None and encrypt_new(run).error is None
    assert all(run.status().values()), run.status()
