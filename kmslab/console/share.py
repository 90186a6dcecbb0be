"""Sharing a key with another account: the two halves, each read off the policy engine's decision.

Using a key across accounts takes two yeses (KMS developer guide,
key-policy-modifying-external-accounts): the key policy, in the key's account,
must allow the other account (its root: the decision then passes to that
account's IAM) or the principal itself; and an IAM policy in the other account
must allow the principal as well. Each answer here comes from kms/access.py
`decide` for a real (caller, action, key): which policy's statement applied,
as its trace records — never from reading the policy text — and the outcome is
that decision's, grants and explicit denies included.
"""
from dataclasses import dataclass, field

from kmslab.cloud import principals
from kmslab.cloud.kms import access
from kmslab.cloud.policy.explain import GATE_WORDS

from . import acting

# What "use of the key" is asked about: the key users statement's operations for a
# symmetric encryption key, one of each kind.
ACTIONS = ("kms:DescribeKey", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")


@dataclass
class Half:
    """One side's answer: the actions it allows, and the explicit Deny in it, if one matched."""

    allowed: list = field(default_factory=list)
    denied_by: str = ""

    @property
    def ok(self):
        return not self.denied_by and len(self.allowed) == len(ACTIONS)

    @property
    def partly(self):
        """Some actions but not all (or an explicit Deny besides): the words say which."""
        return not self.ok and bool(self.allowed)


@dataclass
class Row:
    """A principal of the other account, its two halves and what its calls get."""

    identity: acting.Identity
    label: str
    arn: str
    key_policy: Half
    iam: Half | None  # None for the root user: IAM policies do not limit it
    can_use: list  # the actions the decision allows
    why_not: str = ""  # the decision's reason for the first action it denies

    @property
    def ok(self):
        return len(self.can_use) == len(ACTIONS)


@dataclass
class Share:
    account: str
    principal: str  # the chosen principal's ARN, or "" for the account (the root model)
    key_policy: Half  # for the chosen principal, or for the account (its root)
    rows: list  # the principal, or every user and role of the account

    @property
    def snippet(self):
        """(name, value) of the key policy editor's snippet that allows what this share asks for."""
        if self.principal:
            return "allow-external-principal", self.principal
        return "allow-account", principals.root_arn(self.account)


def _halves(decision):
    """(key policy allows, IAM allows, the explicit Deny's source) for one decision."""
    key_trace, *identity = decision.policies
    key_allows = key_trace.deny is None and (key_trace.allow_direct or key_trace.allow_delegating) is not None
    iam_allows = all(t.deny is None for t in identity) and any(t.allow_direct is not None for t in identity)
    denied = decision.deciding[0] if decision.gate == "explicit-deny" else ""
    return key_allows, iam_allows, denied


def _evaluate(world, key, identity):
    """(key policy Half, IAM Half or None, [allowed actions], why the first denied one is denied)."""
    caller = acting.caller(world, identity)
    key_half, iam_half, can_use, why_not = Half(), Half(), [], ""
    for action in ACTIONS:
        decision = access.decide(world, caller, action, key)
        key_allows, iam_allows, denied = _halves(decision)
        if key_allows:
            key_half.allowed.append(action)
        if iam_allows:
            iam_half.allowed.append(action)
        if denied:
            (key_half if denied == "key policy" else iam_half).denied_by = denied
        if decision.allowed:
            can_use.append(action)
        elif not why_not:
            why_not = f"{action}: " + GATE_WORDS.get(decision.gate, decision.gate).format(
                action=action, source=denied)
    return key_half, None if identity.kind == "root" else iam_half, can_use, why_not


def principals_of(world, account):
    """[(Identity, label, ARN)]: the account's users, then its roles."""
    entities = world.account(account)
    found = [(acting.Identity(account, "user", name), f"user {name}", user["Arn"])
             for name, user in entities["users"].items()]
    found += [(acting.Identity(account, "role", name), f"role {name}", role["Arn"])
              for name, role in entities["roles"].items()]
    return found


def share(world, key, account, principal=""):
    """Both halves of sharing `key` with `account`, or with its principal of ARN `principal`."""
    everyone = principals_of(world, account)
    chosen = [p for p in everyone if p[2] == principal]
    rows = []
    for identity, label, arn in chosen or everyone:
        key_half, iam_half, can_use, why_not = _evaluate(world, key, identity)
        rows.append(Row(identity, label, arn, key_half, iam_half, can_use, why_not))
    if chosen:
        headline = rows[0].key_policy
    else:
        headline = _evaluate(world, key, acting.Identity(account, "root", "root"))[0]
    return Share(account, chosen[0][2] if chosen else "", headline, rows)
