"""Access preview: who can do what, before and after a policy edit, without saving it.

A matrix of principals x actions for a key (key policy edits) or keys x
actions for one principal (IAM policy edits). Each cell is a decision of the
policy engine's own evaluation (kms/access.py decide), so the preview can
never disagree with what the call would get; the cells that change are the
point: who gains or loses what.

Each request is a direct call (no service acting for the caller) with the
encryption context and MFA state of a `Request`, which the learner sets
beside the matrix: a policy that asks for `kms:EncryptionContext:tenant` or
for MFA shows its effect only when the request carries them.
"""
import dataclasses
import re
from dataclasses import dataclass, field

from kmslab.cloud.kms import access
from kmslab.cloud.kms.cryptography import context_conditions
from kmslab.cloud.policy.catalogue import ENCRYPTION_CONTEXT_OPERATIONS
from kmslab.cloud.policy.explain import GATE_WORDS

from . import acting

# What the matrix asks, in the order AWS's key policy console groups them:
# use, grants, administration.
ACTIONS = (
    "kms:DescribeKey", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom",
    "kms:CreateGrant", "kms:PutKeyPolicy", "kms:DisableKey", "kms:ScheduleKeyDeletion",
)


@dataclass
class Request:
    """What the preview's requests carry besides principal, action and key."""

    context: dict = field(default_factory=dict)
    mfa: bool = False

    def caller(self, world, caller):
        if not self.mfa:
            return caller
        now = world.now()
        return dataclasses.replace(caller, mfa_authenticated=True, mfa_auth_time=now,
                                   session_created=caller.session_created or now)

    def conditions(self, action):
        """The request-specific condition keys the operation would set (kms/cryptography.py)."""
        if action not in ENCRYPTION_CONTEXT_OPERATIONS:
            return None
        conditions = context_conditions({"EncryptionContext": self.context})
        if action == "kms:CreateGrant":
            del conditions["kms:EncryptionAlgorithm"]  # CreateGrant takes no algorithm
        return conditions


PLAIN = Request()


@dataclass
class Cell:
    before: bool
    after: bool
    why: str  # the deciding gate after the edit, in words

    @property
    def changed(self):
        return self.before != self.after


@dataclass
class Row:
    label: str
    arn: str
    cells: list


@dataclass
class Matrix:
    columns: tuple
    rows: list = field(default_factory=list)

    @property
    def labels(self):
        """Column heads that can wrap between words (zero-width spaces before each capital)."""
        return [re.sub(r"(?<=[a-z])(?=[A-Z])", "\u200b", a.removeprefix("kms:")) for a in self.columns]

    def changes(self):
        """[(row label, action, "gains" | "loses")] in reading order."""
        found = []
        for row in self.rows:
            for action, cell in zip(self.columns, row.cells):
                if cell.changed:
                    found.append((row.label, action, "gains" if cell.after else "loses"))
        return found


def principals(world):
    """Every principal of the sandbox as a caller: [(label, Caller)], users, roles, then root, per account."""
    found = []
    for account, entities in world.doc["accounts"].items():
        identities = [acting.Identity(account, "user", name) for name in entities["users"]]
        identities += [acting.Identity(account, "role", name) for name in entities["roles"]]
        identities.append(acting.Identity(account, "root", "root"))
        for identity in identities:
            label = f"{identity.label} ({account})" if identity.kind != "role" else f"role {identity.name} ({account})"
            found.append((label, acting.caller(world, identity)))
    return found


def _why(decision):
    return GATE_WORDS.get(decision.gate, decision.gate).format(
        action=decision.action, source=(decision.deciding or ("",))[0])


def for_key_policy(world, key, proposed, actions=ACTIONS, request=PLAIN):
    """Principals x actions on one key, under its current policy and under `proposed` (text)."""
    matrix = Matrix(actions)
    current = key["Policy"]
    for label, caller in principals(world):
        caller = request.caller(world, caller)
        cells = []
        for action in actions:
            conditions = request.conditions(action)
            before = access.decide(world, caller, action, key, conditions, key_policy=current)
            after = access.decide(world, caller, action, key, conditions, key_policy=proposed)
            cells.append(Cell(before.allowed, after.allowed, _why(after)))
        matrix.rows.append(Row(label, caller.arn, cells))
    return matrix


def for_identity_policy(world, holder, policy_name, proposed, caller, actions=ACTIONS, request=PLAIN):
    """Keys x actions for the principal that holds an inline policy (a user or role record),
    with the policy as it is and as `proposed` (text; None removes it).

    The world is a snapshot (runner.load_world): the proposed policy is put in
    place for the "after" column and taken out again; nothing is saved."""
    policies = holder["InlinePolicies"]
    current = policies.get(policy_name)
    keys = sorted(world.doc["kms"]["keys"].values(), key=lambda k: k["KeyMetadata"]["CreationDate"])
    caller = request.caller(world, caller)
    before = {
        key["KeyMetadata"]["KeyId"]: [access.decide(world, caller, a, key, request.conditions(a)).allowed
                                      for a in actions]
        for key in keys
    }
    _put(policies, policy_name, proposed)
    try:
        matrix = Matrix(actions)
        for key in keys:
            meta = key["KeyMetadata"]
            cells = []
            for action, was in zip(actions, before[meta["KeyId"]]):
                after = access.decide(world, caller, action, key, request.conditions(action))
                cells.append(Cell(was, after.allowed, _why(after)))
            label = ", ".join(access.key_aliases(world, meta["KeyId"])) or meta["KeyId"]
            matrix.rows.append(Row(label, meta["Arn"], cells))
    finally:
        _put(policies, policy_name, current)
    return matrix


def _put(policies, name, text):
    if text is None:
        policies.pop(name, None)
    else:
        policies[name] = text
