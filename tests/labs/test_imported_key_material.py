"""imported-key-material: MFA guards DeleteImportedKeyMaterial; only the same material brings the data back."""
import base64
import os

from kmslab.labs.setup import WRAPPING, wrap_material

from .labrun import LabRun

SLUG = "imported-key-material"


def key(run):
    return run.keys["alias/ledger"]


def reimport(run, name, material):
    params = run.call(name, "GetParametersForImport", KeyId=key(run), **WRAPPING)
    assert params.error is None
    return run.call(name, "ImportKeyMaterial", KeyId=key(run), ImportToken=params.response["ImportToken"],
                    EncryptedKeyMaterial=wrap_material(params.response["PublicKey"], material),
                    ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")


def read_ledger(run):
    return run.call("bob", "Decrypt", CiphertextBlob=run.blob("ledger-record"))


def delete_with_mfa(run):
    assert run.call("alice", "DeleteImportedKeyMaterial", KeyId=key(run)).error.code == "AccessDeniedException"
    assert run.call("alice", "DeleteImportedKeyMaterial", KeyId=key(run), mfa=True).error is None


def test_at_the_start_the_ledger_opens_and_nothing_counts():
    run = LabRun(SLUG)
    assert read_ledger(run).response["Plaintext"].startswith(b"ledger 2026-11")
    assert not any(run.status().values())


def test_without_mfa_nobody_deletes_the_material_not_even_admin():
    run = LabRun(SLUG)
    for name in ("alice", "admin"):
        assert run.call(name, "DeleteImportedKeyMaterial", KeyId=key(run)).error.code == "AccessDeniedException"
    assert read_ledger(run).error is None


def test_different_material_is_refused_and_the_ledger_stays_unreadable():
    run = LabRun(SLUG)
    delete_with_mfa(run)
    assert read_ledger(run).error.code == "KMSInvalidStateException"
    assert reimport(run, "alice", os.urandom(32)).error.code == "IncorrectKeyMaterialException"
    assert read_ledger(run).error.code == "KMSInvalidStateException"
    status = run.status()
    assert status["ledger-unreadable"] and not status["material-reimported"] and not status["ledger-readable"]


def test_admin_reimporting_the_banks_copy_is_a_second_correct_path():
    run = LabRun(SLUG)
    delete_with_mfa(run)
    assert read_ledger(run).error.code == "KMSInvalidStateException"
    assert reimport(run, "admin", base64.b64decode(run.files["ledger-key-material"])).error is None
    assert read_ledger(run).response["Plaintext"].startswith(b"ledger 2026-11")
    assert all(run.status().values()), run.status()


def test_a_decrypt_before_the_material_comes_back_is_not_the_recovery():
    run = LabRun(SLUG)
    delete_with_mfa(run)
    read_ledger(run)
    assert run.status()["ledger-readable"] is False
