"""A world: one sandbox's whole simulated cloud, as one JSON document in memory.

The document (`World.doc`) is plain JSON data with AWS's field names, so that
a learner reading it sees what DescribeKey or GetUser would show. Its layout
is described in docs/architecture.md.

It is stored as rows, one per entity: each member of a section (a key record
in `doc["kms"]["keys"]`, an alias, a grant, an IAM user, an access key, a
session…) is one row (section, name, JSON text), and everything outside the
sections (region, clock offset, the accounts there are, a lab's data) is one
more row, section "". A section is an `Entities` dict, which notes the
members a call reached; `take_changes()` compares only those with what was
stored, and serialises the ones that differ. So a call's cost does not grow
with the world's size.

Secrets in it (key material, secret access keys, MFA seeds) are sealed with
AES-256-GCM under the server master key; the document never holds them in the
clear. Unsealed values live only in this object's caches, never in `doc`.
"""
import base64
import bisect
import itertools
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .clock import Clock

FORMAT = 1
DEFAULT_REGION = "us-east-1"
TOP_SECTIONS = ("access_keys", "sessions")
KMS_SECTIONS = ("keys", "aliases", "grants", "import_tokens")
ACCOUNT_SECTIONS = ("users", "groups", "roles", "policies", "mfa_devices")
COPIES = 4096  # parsed copies of stored members kept per world (see take_changes)
REST = ""  # the section of the one row that holds everything outside the sections


class Listing:
    """The names of a section's members grouped and kept in order, so that a list
    operation reads one page of one group instead of the whole section.

    `group_of(name, value)` must depend only on what never changes in a member (a
    key's account and Region, a grant's key); `order_of(name, value)` likewise, or
    None for the order members were added in (the dict's own)."""

    def __init__(self, group_of, order_of=None):
        self.group_of, self.order_of = group_of, order_of
        self.groups = {}  # group -> sorted [(order, name)]
        self.places = {}  # name -> (group, order)
        self.added = itertools.count()

    def add(self, name, value):
        place = self.places.get(name)
        if place is not None and self.order_of is None:
            order = place[1]  # replacing a member keeps its place, as a dict does
        else:
            order = next(self.added) if self.order_of is None else self.order_of(name, value)
        if place is not None:
            self.remove(name)
        group = self.group_of(name, value)
        bisect.insort(self.groups.setdefault(group, []), (order, name))
        self.places[name] = (group, order)

    def remove(self, name):
        place = self.places.pop(name, None)
        if place is not None:
            members = self.groups[place[0]]
            del members[bisect.bisect_left(members, (place[1], name))]

    def group(self, group):
        """[(order, name)] of one group, in order; read it, never change it."""
        return self.groups.get(group, ())


# What each listed section is listed by: ListKeys (per account and Region, in the
# order keys were made), ListAliases (per account and Region, by name: the alias
# ARN's prefix is the same for all of them), ListGrants and grant checks (per key).
LISTINGS = {
    "kms.keys": lambda: Listing(lambda _, key: (key["KeyMetadata"].get("AWSAccountId"), key.get("Region"))),
    "kms.aliases": lambda: Listing(lambda arn, _: arn.split(":alias/", 1)[0], lambda arn, _: arn),
    "kms.grants": lambda: Listing(lambda _, grant: grant["KeyId"],
                                  lambda grant_id, grant: (grant.get("CreationDate", 0), grant_id)),
}


class Entities(dict):
    """One section of the world: name -> entity (a key record, an alias, a user…).

    It notes the names of the members a call could have changed: each one it
    handed out (item access, get, setdefault, pop), stored or deleted, and all
    of them once values() or items() handed them all out. Reading names only
    (`in`, iteration, len) notes nothing. `peek(name)` reads a member without
    noting it, for code that copies what it reads and never changes it."""

    __slots__ = ("touched", "whole", "listing")

    def __init__(self, items=(), listing=None):
        super().__init__(items)
        self.touched = set()
        self.whole = False
        self.listing = listing
        if listing is not None:
            for name, value in dict.items(self):
                listing.add(name, value)

    def __getitem__(self, name):
        self.touched.add(name)
        return dict.__getitem__(self, name)

    def get(self, name, default=None):
        self.touched.add(name)
        return dict.get(self, name, default)

    def peek(self, name):
        return dict.get(self, name)

    def __setitem__(self, name, value):
        self.touched.add(name)
        if self.listing is not None:
            self.listing.add(name, value)
        dict.__setitem__(self, name, value)

    def __delitem__(self, name):
        self.touched.add(name)
        dict.__delitem__(self, name)
        if self.listing is not None:
            self.listing.remove(name)

    def setdefault(self, name, default=None):
        if name not in self:
            self[name] = default
        return self[name]

    def pop(self, name, *default):
        self.touched.add(name)
        if self.listing is not None:
            self.listing.remove(name)
        return dict.pop(self, name, *default)

    # Whatever hands out every member, or changes members in bulk, notes them all.

    def values(self):
        self.whole = True
        return dict.values(self)

    def items(self):
        self.whole = True
        return dict.items(self)

    def __iter__(self):
        # Defined so that dict(section) and {**section} go through __getitem__
        # (CPython copies a dict subclass's values directly only when it keeps dict's own iterator).
        return dict.__iter__(self)

    def copy(self):
        self.whole = True
        return dict(dict.items(self))

    def __reduce__(self):
        # copy.copy, copy.deepcopy and pickle make a plain dict.
        return dict, (self.copy(),)

    def update(self, *args, **kwargs):
        for name, value in dict(*args, **kwargs).items():
            self[name] = value

    def popitem(self):
        name = next(reversed(self.keys()))
        return name, self.pop(name)

    def clear(self):
        for name in list(self):
            del self[name]


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
        if doc.get("format") != FORMAT:
            raise ValueError(f"unsupported world format {doc.get('format')!r}")
        self.doc = doc
        self._master = AESGCM(master_key)
        self.clock = clock or Clock(doc.get("clock_offset", 0.0))
        self._unsealed = {}
        # Per-process caches that are derived from doc and never saved.
        self.cache = {}
        # (section, name) -> the JSON text stored for it, and the rest as stored; see take_changes().
        self._saved = {}
        # (section, name) -> what the stored text parses to, for the members calls have touched.
        self._copies = {}
        self._rest_stored = None
        self._layout = self._places = None
        for _ in self._sections():
            pass

    @classmethod
    def new(cls, master_key, clock=None, region=DEFAULT_REGION):
        return cls(empty_doc(region), master_key, clock)

    @classmethod
    def from_rows(cls, rows, master_key, clock=None):
        """The world stored as `rows`, [(section, name, JSON text)] in the order they were first stored."""
        rows = list(rows)
        rest = next((text for section, name, text in rows if section == REST), None)
        if rest is None:
            raise ValueError("no world: its rows hold no section ''")
        doc = json.loads(rest)
        if doc.get("format") != FORMAT:
            raise ValueError(f"unsupported world format {doc.get('format')!r}")
        for section, name, text in rows:
            if section != REST:
                parent, member = _place(doc, section)
                # Plain dict stores: loading is not a call's doing, so nothing is noted.
                dict.__setitem__(parent.setdefault(member, {}), name, json.loads(text))
        world = cls(doc, master_key, clock)
        world._saved = {(section, name): text for section, name, text in rows if section != REST}
        world._rest_stored = json.loads(rest)
        for _, members in world._sections():
            members.whole = False
        return world

    def rows(self):
        """Every row of this world: [(section, name, JSON text)], the rest first."""
        rows = [(REST, REST, _dumps(self._rest()))]
        for section, members in self._sections():
            rows += [(section, name, _dumps(value)) for name, value in dict.items(members)]
        return rows

    def take_changes(self):
        """[(section, name, JSON text, or None for a member that is gone)] of what
        changed since the world was loaded or last asked; from then on those count
        as stored. The caller stores them, or discards this World."""
        changes = []
        rest = self._rest()
        # The rest is small and changes seldom: compared as data, serialised only when it differs.
        if rest != self._rest_stored:
            text = _dumps(rest)
            changes.append((REST, REST, text))
            self._rest_stored = json.loads(text)
        for section, members in self._sections():
            if members.whole:
                names = list(dict.keys(members)) + [n for s, n in self._saved if s == section]
            elif members.touched:
                names = members.touched
            else:
                continue
            for name in dict.fromkeys(names):
                place = (section, name)
                value = dict.get(members, name, _GONE)
                if value is _GONE:
                    if place in self._saved:
                        changes.append((section, name, None))
                    self._copies.pop(place, None)
                    continue
                # Most calls change nothing they touch: comparing data with a parsed copy of
                # what was stored costs a tenth of serialising it. (Equal data of other JSON
                # types, 1 and 1.0 or 1 and true, counts as unchanged; the code never swaps them.)
                if value == self._copies.get(place, _GONE):
                    continue
                text = _dumps(value)
                if text != self._saved.get(place):
                    changes.append((section, name, text))
                # Past COPIES, members without a copy are compared as text, as they were before copies:
                # a call that reads a whole big section each time costs no more than that.
                if place in self._copies or len(self._copies) < COPIES:
                    self._copies[place] = json.loads(text)
            members.touched.clear()
            members.whole = False
        for section, name, text in changes:
            if section == REST:
                continue
            if text is None:
                self._saved.pop((section, name), None)
            else:
                self._saved[section, name] = text
        return changes

    def _sections(self):
        """(section name, Entities) of every section; a plain dict put where a section
        belongs becomes an Entities with every member noted."""
        doc = self.doc
        # Where the sections are changes only when an account is added (or a part replaced).
        layout = (id(doc["kms"]), tuple((a, id(account)) for a, account in doc["accounts"].items()))
        if layout != self._layout:
            self._layout = layout
            self._places = [(doc, name, name) for name in TOP_SECTIONS]
            self._places += [(doc["kms"], name, f"kms.{name}") for name in KMS_SECTIONS]
            for account_id, account in doc["accounts"].items():
                self._places += [(account, name, f"accounts.{account_id}.{name}") for name in ACCOUNT_SECTIONS]
        for parent, member, section in self._places:
            members = parent.get(member)
            if not isinstance(members, Entities):
                listing = LISTINGS.get(section)
                members = parent[member] = Entities(members or {}, listing() if listing else None)
                members.whole = True
            yield section, members

    def _rest(self):
        """Everything outside the sections, as the row of section "" holds it."""
        self.doc["clock_offset"] = self.clock.offset
        rest = {k: v for k, v in self.doc.items() if k not in TOP_SECTIONS}
        rest["kms"] = {k: v for k, v in self.doc["kms"].items() if k not in KMS_SECTIONS}
        rest["accounts"] = {
            account_id: {k: v for k, v in account.items() if k not in ACCOUNT_SECTIONS}
            for account_id, account in self.doc["accounts"].items()
        }
        return rest

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
        account = self.doc["accounts"].get(account_id)
        if account is None:
            account = self.doc["accounts"][account_id] = {name: Entities() for name in ACCOUNT_SECTIONS}
        return account


_GONE = object()


def _dumps(value):
    return json.dumps(value, separators=(",", ":"))


def _place(doc, section):
    """(the dict that holds a section, the section's key in it)."""
    if section in TOP_SECTIONS:
        return doc, section
    head, _, tail = section.partition(".")
    if head == "kms":
        return doc["kms"], tail
    account_id, _, name = tail.partition(".")
    return doc["accounts"].setdefault(account_id, {}), name
