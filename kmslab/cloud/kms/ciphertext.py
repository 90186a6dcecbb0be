"""kmslab's ciphertext blob: a versioned binary format of our own.

    offset  size  field
    0       1     format version (1)
    1       16    key id (the UUID's 16 bytes)
    17      4     key material version (big-endian index into the key's materials)
    21      12    nonce (fresh, random)
    33      n     AES-256-GCM ciphertext
    33+n    16    GCM tag

The 21-byte header and the canonical encryption context are the GCM associated
data, so a changed header byte, or a wrong, missing or extra context, fails the
tag check: InvalidCiphertextException, as in AWS. Like AWS's blob, the header
names the key so Decrypt needs no KeyId.
"""
import os
import struct

from cryptography.exceptions import InvalidTag

from ..errors import InvalidCiphertextException

VERSION = 1
HEADER = struct.Struct(">B16sI")
NONCE_SIZE = 12
TAG_SIZE = 16
OVERHEAD = HEADER.size + NONCE_SIZE + TAG_SIZE


def canonical_context(context):
    """Sorted, length-prefixed UTF-8 pairs: {"ab":"c"} and {"a":"bc"} differ."""
    if not context:
        return b""
    out = bytearray(len(context).to_bytes(4, "big"))
    for kb, vb in sorted((k.encode(), v.encode()) for k, v in context.items()):
        out += len(kb).to_bytes(4, "big")
        out += kb
        out += len(vb).to_bytes(4, "big")
        out += vb
    return bytes(out)


def seal(aead, key_id, material_version, plaintext, context):
    header = HEADER.pack(VERSION, bytes.fromhex(key_id.replace("-", "")), material_version)
    nonce = os.urandom(NONCE_SIZE)
    return header + nonce + aead.encrypt(nonce, plaintext, header + canonical_context(context))


def parse(blob):
    """(key id, material version) named by a blob's header; InvalidCiphertext if it has none."""
    if len(blob) < OVERHEAD or blob[0] != VERSION:
        raise InvalidCiphertextException("")
    _, key_bytes, material_version = HEADER.unpack_from(blob)
    h = key_bytes.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}", material_version


def open_(aead, blob, context):
    header = blob[: HEADER.size]
    nonce = blob[HEADER.size : HEADER.size + NONCE_SIZE]
    try:
        return aead.decrypt(nonce, blob[HEADER.size + NONCE_SIZE :], header + canonical_context(context))
    except InvalidTag:
        raise InvalidCiphertextException("") from None


# The size of an RSA key's ciphertext (its modulus): RSA_2048, RSA_3072, RSA_4096.
RSA_CIPHERTEXT_SIZES = (256, 384, 512)


def anatomy(blob):
    """Labelled byte ranges, for the console's ciphertext anatomy view.

    An RSA key's ciphertext is raw RSAES-OAEP output with no header to show."""
    try:
        key_id, material_version = parse(blob)
    except InvalidCiphertextException:
        if len(blob) not in RSA_CIPHERTEXT_SIZES:
            raise
        return [{"name": "raw RSAES-OAEP ciphertext", "start": 0, "end": len(blob), "value": f"{len(blob)} bytes"}]
    end = len(blob)
    return [
        {"name": "format version", "start": 0, "end": 1, "value": str(blob[0])},
        {"name": "key id", "start": 1, "end": 17, "value": key_id},
        {"name": "key material version", "start": 17, "end": 21, "value": str(material_version)},
        {"name": "nonce", "start": 21, "end": 33, "value": blob[21:33].hex()},
        {"name": "ciphertext", "start": 33, "end": end - TAG_SIZE, "value": f"{end - TAG_SIZE - 33} bytes"},
        {"name": "GCM tag", "start": end - TAG_SIZE, "end": end, "value": blob[end - TAG_SIZE :].hex()},
    ]
