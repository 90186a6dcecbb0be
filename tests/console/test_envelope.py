"""The envelope step-through's core, against a world: real calls, local AES-256-GCM."""
import base64
import dataclasses
import json
from urllib.parse import urlencode

import pytest

from kmslab.cloud import calls
from kmslab.console import envelope, pages
from kmslab.sandboxes.models import TrailRecord, WorldEntity

from .html_forms import fields
from .personas import B, codes, is_fragment


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


def test_kmslab_notes_a_failure_after_authorization_only_where_the_policies_allowed(world, admin, admin_b):
    key_id = make_key(world, admin)
    blob = calls.call(world, admin, "kms", "Encrypt", {"KeyId": key_id, "Plaintext": b"x",
                                                       "EncryptionContext": {"tenant": "acme"}}).response["CiphertextBlob"]

    def after(operation, caller=admin, **request):
        outcome = calls.call(world, caller, "kms", operation, request)
        return pages.after_authorization(outcome.record, outcome.explanations)

    assert after("ReEncrypt", CiphertextBlob=blob, DestinationKeyId=key_id,
                 SourceEncryptionContext={"tenant": "globex"})["note"].startswith(
        "allowed by the policies; the source ciphertext did not authenticate — the source encryption context")
    # A blob that names no key fails before any decision: nothing was allowed, nothing to note.
    assert after("Decrypt", CiphertextBlob=b"\x01" + bytes(60)) is None
    assert after("Decrypt", CiphertextBlob=blob, EncryptionContext={"tenant": "acme"}) is None  # it worked
    assert after("Decrypt", caller=admin_b, CiphertextBlob=blob, EncryptionContext={"tenant": "acme"}) is None  # denied


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


# The page: each step a call as the acting principal; the plaintext data key only in the response that made it.


def envelope_form(learner):
    page = learner.get(learner.home + "envelope/").content.decode()
    return fields(page, "envelope-form")


@pytest.fixture
def keyed(alice):
    alice.create_key()
    return alice


def test_the_page_offers_the_sandboxs_keys_and_a_message_over_4_kb(keyed):
    form = envelope_form(keyed)
    assert form["KeyId"][0].startswith("arn:aws:kms:us-east-1:111122223333:key/")
    assert len(form["message"][0].encode()) > 4096


def test_encrypt_then_decrypt_through_the_page(keyed):
    form = envelope_form(keyed)
    response = keyed.post(keyed.home + "envelope/encrypt/", form, htmx=True)
    page = response.content.decode()
    assert is_fragment(response) and page.count("Succeeded") == 1
    data_key = page.split('id="plaintext-key">')[1].split("<")[0]
    assert len(data_key) == 64
    stored = fields(page, "steps")
    assert data_key not in json.dumps(stored)
    response = keyed.post(keyed.home + "envelope/decrypt/", stored, htmx=True)
    page = response.content.decode()
    assert "Opened" in page and "SHA-256 matches" in page
    assert list(TrailRecord.objects.filter(sandbox=keyed.sandbox).values_list("event_name", flat=True)
                .order_by("sequence"))[-2:] == ["GenerateDataKey", "Decrypt"]
    # Nowhere server-side: not the world, not the trail, not the session cookie.
    assert not any(data_key in body for body in WorldEntity.objects.filter(sandbox=keyed.sandbox).values_list("body", flat=True))
    assert not any(data_key in r for r in TrailRecord.objects.values_list("record_json", flat=True))
    assert data_key not in keyed.client.cookies["sessionid"].value


WRONG_CONTEXT_NOTE = ("<strong>kmslab note:</strong> Allowed by the policies; the ciphertext did not authenticate — "
                      "the encryption context (or the blob) differs from the one used to encrypt.")


def decrypt_with_another_context(keyed):
    page = keyed.post(keyed.home + "envelope/encrypt/", envelope_form(keyed), htmx=True).content.decode()
    stored = fields(page, "steps")
    stored["context"] = ['{"purpose": "kmslab-lesson", "tenant": "globex"}']
    return keyed.post(keyed.home + "envelope/decrypt/", stored, htmx=True)


def test_decrypt_with_another_context_fails_with_the_real_error(keyed):
    response = decrypt_with_another_context(keyed)
    assert codes(response) == ["InvalidCiphertextException"]
    assert "Opened" not in response.content.decode()


def test_the_wrong_context_failure_says_the_policies_allowed_and_the_ciphertext_did_not_authenticate(keyed):
    """AWS's message stays empty, and is shown as empty; kmslab's reason is a marked note beside it."""
    page = decrypt_with_another_context(keyed).content.decode()
    assert "<p>(AWS sends this error with an empty message.)</p>" in page
    assert WRONG_CONTEXT_NOTE in page
    assert "Allowed</span>" not in page  # no green box next to the red error


def test_its_trail_record_keeps_the_empty_aws_message_and_reframes_the_allowed_box(keyed):
    page = decrypt_with_another_context(keyed).content.decode()
    record_url = page.split('<a href="')[1].split('"')[0]
    body = keyed.get(record_url, htmx=True).content.decode()
    assert "&quot;errorMessage&quot;: &quot;&quot;" in body  # the record, as CloudTrail delivers it
    assert "AWS sends this error with an empty message." in body and WRONG_CONTEXT_NOTE in body
    assert '<section class="why after"' in body and '<section class="why allow"' not in body
    assert ('<span class="badge ok">Allowed by the policies</span>\n    <code>kms:Decrypt</code> on <code>'
            in body and ", then the call failed with InvalidCiphertextException" in body)
    stored = TrailRecord.objects.filter(sandbox=keyed.sandbox).order_by("sequence").last()
    assert stored.record["errorMessage"] == ""


def test_decrypt_as_a_principal_the_key_policy_does_not_allow_shows_the_denial(keyed):
    page = keyed.post(keyed.home + "envelope/encrypt/", envelope_form(keyed), htmx=True).content.decode()
    keyed.act_as(f"{B}/user/admin")
    response = keyed.post(keyed.home + "envelope/decrypt/", fields(page, "steps"), htmx=True)
    assert codes(response) == ["AccessDeniedException"]
    assert "Implicitly denied" in response.content.decode()  # the explanation fragment


def test_a_one_megabyte_paste_goes_round(keyed):
    form = envelope_form(keyed)
    form["message"] = ["0123456789abcdef" * 65536]
    page = keyed.client.post(keyed.home + "envelope/encrypt/", form, headers={"HX-Request": "true"}).content.decode()
    assert "1048576-byte message" in page
    page = keyed.post(keyed.home + "envelope/decrypt/", fields(page, "steps"), htmx=True).content.decode()
    assert "1048576 bytes, identical" in page


def test_direct_encrypt_of_the_message_fails_above_4_kb_with_a_validation_exception(keyed):
    form = envelope_form(keyed)
    response = keyed.post(keyed.home + "envelope/direct/", form, htmx=True)
    assert is_fragment(response) and codes(response) == ["ValidationException"]
    assert "Member must have length less than or equal to 4096" in response.content.decode()
    form["message"] = ["short"]
    assert "Succeeded" in keyed.post(keyed.home + "envelope/direct/", form, htmx=True).content.decode()


def test_a_context_that_is_not_a_json_object_of_strings_is_refused_before_any_call(keyed):
    form = envelope_form(keyed)
    form["EncryptionContext"] = ['{"n": 1}']
    page = keyed.post(keyed.home + "envelope/encrypt/", form, htmx=True).content.decode()
    assert "An encryption context is an object whose values are strings." in page
    assert not TrailRecord.objects.filter(event_name="GenerateDataKey").exists()


def test_the_anatomy_page_labels_a_pasted_blob(keyed):
    page = keyed.post(keyed.home + "envelope/encrypt/", envelope_form(keyed), htmx=True).content.decode()
    blob = fields(page, "steps")["encrypted_data_key"][0]
    response = keyed.get(keyed.home + "anatomy/?" + urlencode({"CiphertextBlob": blob}), htmx=True)
    shown = response.content.decode()
    assert is_fragment(response)
    assert all(f"range-{slug}" in shown for slug in ("format-version", "key-id", "nonce", "ciphertext", "gcm-tag"))
    assert "not a kmslab ciphertext blob" in keyed.get(keyed.home + "anatomy/?CiphertextBlob=AAAA").content.decode()


def test_the_anatomy_page_shows_a_raw_rsa_ciphertext_as_one_range(keyed):
    # An RSA key's ciphertext is raw RSAES-OAEP output (256 bytes for RSA_2048): no header to label.
    blob = base64.b64encode(bytes(256)).decode()
    response = keyed.get(keyed.home + "anatomy/?" + urlencode({"CiphertextBlob": blob}), htmx=True)
    assert response.status_code == 200
    assert "raw RSAES-OAEP ciphertext" in response.content.decode() and "256 bytes" in response.content.decode()
    assert "needs the <code>KeyId</code> and the <code>EncryptionAlgorithm</code>" in response.content.decode()


def test_a_context_nested_thousands_deep_is_a_form_error_not_a_crash(keyed):
    form = envelope_form(keyed)
    form["EncryptionContext"] = ['{"a":' * 5000 + '"b"' + "}" * 5000]
    response = keyed.post(keyed.home + "envelope/encrypt/", form, htmx=True)
    assert response.status_code == 200
    assert "nested more than 32 levels deep" in response.content.decode()
    assert not TrailRecord.objects.filter(event_name="GenerateDataKey").exists()


def test_direct_encrypt_of_a_short_message_shows_its_ciphertext_and_decrypts_it(keyed):
    form = envelope_form(keyed)
    form["message"] = ["payroll for december"]
    page = keyed.post(keyed.home + "envelope/direct/", form, htmx=True).content.decode()
    blob = page.split('id="ciphertext">')[1].split("<")[0]
    assert base64.b64decode(blob)[:1] and "range-gcm-tag" in page  # base64, with its anatomy
    decrypt = fields(page, "crypto-output")
    assert decrypt["CiphertextBlob"] == [blob]
    assert json.loads(decrypt["EncryptionContext"][0]) == {"purpose": "kmslab-lesson", "tenant": "acme"}
    response = keyed.post(keyed.home + "envelope/direct/decrypt/", decrypt, htmx=True)
    assert is_fragment(response) and codes(response) == []
    assert ">payroll for december</textarea>" in response.content.decode()
    decrypt["EncryptionContext"] = ["{}"]
    assert codes(keyed.post(keyed.home + "envelope/direct/decrypt/", decrypt, htmx=True)) == ["InvalidCiphertextException"]
    names = TrailRecord.objects.filter(sandbox=keyed.sandbox).order_by("sequence").values_list("event_name", flat=True)
    assert list(names)[-3:] == ["Encrypt", "Decrypt", "Decrypt"]
    assert not any(blob in r for r in TrailRecord.objects.values_list("record_json", flat=True))
