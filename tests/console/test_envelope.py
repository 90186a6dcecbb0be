"""The envelope step-through's core, against a world: real calls, local AES-256-GCM."""
import dataclasses
import json

from kmslab.cloud import calls
from kmslab.console import envelope


def runner_for(world, caller):
    return lambda operation, request: calls.call(world, caller, "kms", operation, request)


def make_key(world, caller):
    return calls.call(world, caller, "kms", "CreateKey", {}).response["KeyMetadata"]["KeyId"]


def test_a_one_megabyte_message_goes_round_the_envelope(world, admin):
    run = runner_for(world, admin)
    key_id = make_key(world, admin)
    message = ("x" * 1023 + "\n").encode() * 1024
    steps = envelope.encrypt(run, key_id, message, {"purpose": "lesson"})
    assert steps["generate"].error is None
    assert len(bytes.fromhex(steps["data_key_hex"])) == 32
    sealed = steps["envelope"]
    assert len(sealed.ciphertext) == len(message) and len(sealed.nonce) == 12 and len(sealed.tag) == 16
    assert steps["data_key_hex"] not in json.dumps(steps["fields"])  # the envelope carries no plaintext key
    opened = envelope.decrypt(run, sealed)
    assert opened["decrypt"].error is None
    assert opened["opened"] and opened["matches"] and opened["size"] == len(message)
    assert opened["preview"] == message[:4096].decode()


def test_every_step_is_a_call_in_the_trail_without_the_data_key(world, admin):
    records = []

    def run(operation, request):
        outcome = calls.call(world, admin, "kms", operation, request)
        records.append(outcome.record)
        return outcome

    steps = envelope.encrypt(run, make_key(world, admin), b"hello", {"purpose": "lesson"})
    envelope.decrypt(run, steps["envelope"])
    assert [r["eventName"] for r in records] == ["GenerateDataKey", "Decrypt"]
    assert all(r["requestParameters"]["encryptionContext"] == {"purpose": "lesson"} for r in records)
    assert steps["data_key_hex"] not in json.dumps(records)


def test_a_different_context_at_decrypt_fails_with_invalid_ciphertext(world, admin):
    run = runner_for(world, admin)
    steps = envelope.encrypt(run, make_key(world, admin), b"payroll", {"tenant": "acme"})
    wrong = dataclasses.replace(steps["envelope"], context={"tenant": "globex"})
    result = envelope.decrypt(run, wrong)
    assert result["decrypt"].error.code == "InvalidCiphertextException"
    assert "opened" not in result


def test_direct_encrypt_refuses_more_than_4_kb_with_a_validation_exception(world, admin):
    run = runner_for(world, admin)
    key_id = make_key(world, admin)
    assert envelope.encrypt_directly(run, key_id, b"a" * 4096, {}).error is None
    outcome = envelope.encrypt_directly(run, key_id, b"a" * 4097, {})
    assert outcome.error.code == "ValidationException"
    assert "Member must have length less than or equal to 4096" in outcome.error.message


def test_a_changed_ciphertext_byte_does_not_open():
    key = bytes(32)
    nonce, sealed, tag = envelope.seal(key, b"attack at dawn")
    assert envelope.open_(key, nonce, sealed, tag) == b"attack at dawn"
    assert envelope.open_(key, nonce, bytes([sealed[0] ^ 1]) + sealed[1:], tag) is None
    assert envelope.open_(bytes([1]) + key[1:], nonce, sealed, tag) is None


def test_the_anatomy_labels_each_byte_range_of_a_kms_blob(world, admin):
    key_id = make_key(world, admin)
    blob = calls.call(world, admin, "kms", "Encrypt", {"KeyId": key_id, "Plaintext": b"x" * 100}).response["CiphertextBlob"]
    parts = envelope.anatomy(blob)
    assert [p["name"] for p in parts] == ["format version", "key id", "key material version", "nonce", "ciphertext", "GCM tag"]
    assert parts[1]["value"] == key_id
    assert sum(p["size"] for p in parts) == len(blob)
    assert parts[4]["hex"].count("…") == 1 and parts[3]["hex"] == blob[21:33].hex()
