"""Envelope encryption, step by step, as the console's guided page shows it.

    1. GenerateDataKey (a real call, with the learner's encryption context):
       a 256-bit data key in plaintext and encrypted under the KMS key.
    2. AES-256-GCM of the message under the plaintext data key, here, locally.
    3. The plaintext data key is dropped.
    4. What is stored: the encrypted data key, nonce, ciphertext, tag, context.
    5. Decrypt (a real call) gives the data key back, which opens the message.

The plaintext data key exists only inside one request: it is never put in
the session, the database or a form field, and the page shows it once, in the
response that made it. The envelope is the learner's to carry (hidden form
fields) — exactly what an application would store next to its data.

`run(operation, request) -> Outcome` makes one call as the acting principal;
the view binds it to the sandboxes runner, tests to cloud.calls.call.
"""
import base64
import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kmslab.cloud.kms import ciphertext as blob_format

NONCE_SIZE = 12
TAG_SIZE = 16
# Encrypt takes at most 4096 bytes of plaintext (API Reference, Encrypt).
DIRECT_ENCRYPT_LIMIT = 4096
PREVIEW_BYTES = 4096


@dataclass
class Envelope:
    """What an application stores: everything needed to decrypt, nothing secret."""

    encrypted_data_key: bytes
    nonce: bytes
    ciphertext: bytes
    tag: bytes
    context: dict
    key_id: str  # the key ARN GenerateDataKey answered with, for display; Decrypt reads the key from the blob
    digest: str  # SHA-256 of the message, so step 5 can show the round trip is exact

    def to_fields(self):
        """The envelope as the hidden fields of the decrypt form."""
        return {
            "encrypted_data_key": b64(self.encrypted_data_key),
            "nonce": self.nonce.hex(),
            "ciphertext": b64(self.ciphertext),
            "tag": self.tag.hex(),
            "context": json.dumps(self.context),
            "key_id": self.key_id,
            "digest": self.digest,
        }


def b64(data):
    return base64.b64encode(data).decode()


def seal(data_key, message):
    """Step 2: AES-256-GCM under the data key -> (nonce, ciphertext, tag)."""
    nonce = os.urandom(NONCE_SIZE)
    sealed = AESGCM(data_key).encrypt(nonce, message, None)
    return nonce, sealed[:-TAG_SIZE], sealed[-TAG_SIZE:]


def open_(data_key, nonce, ciphertext, tag):
    """The message, or None when the tag does not verify (a changed byte, another data key)."""
    try:
        return AESGCM(data_key).decrypt(nonce, ciphertext + tag, None)
    except InvalidTag:
        return None


def digest(message):
    return hashlib.sha256(message).hexdigest()


def preview(message):
    """The start of a message as text, for showing a 1 MB message without sending 1 MB back."""
    return message[:PREVIEW_BYTES].decode("utf-8", errors="replace")


def anatomy(blob):
    """Labelled byte ranges of a KMS ciphertext blob, with the bytes of each in hex (long ones shortened)."""
    ranges = blob_format.anatomy(blob)
    for part in ranges:
        chunk = blob[part["start"] : part["end"]]
        part["size"] = len(chunk)
        part["hex"] = chunk.hex() if len(chunk) <= 48 else f"{chunk[:24].hex()}…{chunk[-8:].hex()}"
        part["slug"] = part["name"].replace(" ", "-").lower()
    return ranges


def encrypt(run, key_id, message, context):
    """Steps 1 to 4. Returns a dict for the page: each step's call, values and the envelope."""
    generate = run("GenerateDataKey", {"KeyId": key_id, "KeySpec": "AES_256", **_context(context)})
    steps = {"generate": generate, "message_size": len(message), "context_json": json.dumps(context)}
    if generate.error is not None:
        return steps
    data_key = generate.response["Plaintext"]
    nonce, sealed, tag = seal(data_key, message)
    envelope = Envelope(
        encrypted_data_key=generate.response["CiphertextBlob"],
        nonce=nonce,
        ciphertext=sealed,
        tag=tag,
        context=context,
        key_id=generate.response["KeyId"],
        digest=digest(message),
    )
    steps.update(
        data_key_hex=data_key.hex(),  # shown once, in this response, then gone
        data_key_anatomy=anatomy(envelope.encrypted_data_key),
        envelope=envelope,
        fields=envelope.to_fields(),
    )
    return steps


def decrypt(run, envelope):
    """Step 5: Decrypt the data key (as the acting principal, with the envelope's context), then the message."""
    outcome = run("Decrypt", {"CiphertextBlob": envelope.encrypted_data_key, **_context(envelope.context)})
    result = {"decrypt": outcome}
    if outcome.error is None:
        message = open_(outcome.response["Plaintext"], envelope.nonce, envelope.ciphertext, envelope.tag)
        result["opened"] = message is not None
        if message is not None:
            result.update(size=len(message), preview=preview(message), truncated=len(message) > PREVIEW_BYTES,
                          matches=digest(message) == envelope.digest)
    return result


def encrypt_directly(run, key_id, message, context):
    """What envelope encryption avoids: Encrypt refuses more than 4 KB with a ValidationException."""
    return run("Encrypt", {"KeyId": key_id, "Plaintext": message, **_context(context)})


def _context(context):
    # An empty context is left out of the request, as the SDKs do.
    return {"EncryptionContext": context} if context else {}


def shown(response, context):
    """What a direct Encrypt, Decrypt or GenerateDataKey returned, as the page shows it (the trail never holds it).

    The ciphertext in base64 with its anatomy, so it can be decrypted or pasted anywhere; a plaintext in
    base64, and as text too when it reads as text (what Encrypt was given), not when it is a data key."""
    out = {"context_json": json.dumps(context)}
    if response.get("CiphertextBlob"):
        out["ciphertext"] = b64(response["CiphertextBlob"])
        out["anatomy"] = anatomy(response["CiphertextBlob"])
    if "Plaintext" in response:
        out["plaintext"] = b64(response["Plaintext"])
        out["text"] = _text(response["Plaintext"])
    return out


def _text(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if all(c.isprintable() or c.isspace() for c in text) else None
