"""A world: one sandbox's whole simulated cloud, as one JSON document.

The document (`World.doc`) is plain JSON data with AWS's field names, so that
saving a world is `json.dumps` and a learner reading it sees what DescribeKey
or GetUser would show. Its layout is described in docs/architecture.md.

Secrets in it (key material, secret access keys, MFA seeds) are sealed with
AES-256-GCM under the server master key; the document never holds them in the
clear. Unsealed values live only in this object's caches, never in `doc`.
"""
import base64
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .clock import Clock

FORMAT = 1
DEFAULT_REGION = "us-east-1"


def empty_doc(region=DEFAULT_REGION):
    return {
        "format": FORMAT,
        "region": region,
        "clock_offset": 0.0,
        "accounts": {},
        "access_keys": {},
        "sessions": {},
        "kms": {"keys": {}, "aliases": {}, "grants": {}, "import_tokens": {}},
    }


class World:
    def __init__(self, doc, master_key, clock=None):
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self.doc = doc
        self._master = AESGCM(master_key)
        self.clock = clock or Clock(doc.get("clock_offset", 0.0))
        self._unsealed = {}
        # Per-process caches that are derived from doc and never saved.
        self.cache = {}

    @classmethod
    def new(cls, master_key, clock=None, region=DEFAULT_REGION):
        return cls(empty_doc(region), master_key, clock)

    @classmethod
    def from_json(cls, text, master_key, clock=None):
        doc = json.loads(text)
        if doc.get("format") != FORMAT:
            raise ValueError(f"unsupported world format {doc.get('format')!r}")
        return cls(doc, master_key, clock)

    def to_json(self):
        self.doc["clock_offset"] = self.clock.offset
        return json.dumps(self.doc, separators=(",", ":"))

    @property
    def region(self):
        return self.doc["region"]

    def now(self):
        return self.clock.now()

    # Sealing. The purpose is bound as associated data, so a sealed MFA seed
    # can never be unsealed as key material and vice versa.

    def seal(self, purpose, secret):
        nonce = os.urandom(12)
        sealed = base64.b64encode(nonce + self._master.encrypt(nonce, secret, purpose.encode())).decode()
        self._unsealed[sealed] = secret
        return sealed

    def unseal(self, purpose, sealed):
        secret = self._unsealed.get(sealed)
        if secret is None:
            raw = base64.b64decode(sealed)
            secret = self._master.decrypt(raw[:12], raw[12:], purpose.encode())
            self._unsealed[sealed] = secret
        return secret

    # Accounts.

    def account(self, account_id):
        return self.doc["accounts"].get(account_id)

    def add_account(self, account_id):
        return self.doc["accounts"].setdefault(
            account_id,
            {"users": {}, "groups": {}, "roles": {}, "policies": {}, "mfa_devices": {}},
        )
