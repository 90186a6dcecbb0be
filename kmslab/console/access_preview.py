"""Access preview: who can do what, before and after a policy edit, without saving it.

A matrix of principals x actions for a key (key policy edits), keys x
actions for one principal (user or role inline policy edits), or
(principal, key) x actions for the principals a group or managed policy
reaches (its members; those it is attached to). Each cell is a decision of the
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
from kmslab.cloud.kms.cryptography import request_conditions
from kmslab.cloud.policy.authorize import key_aliases
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
        return request_conditions(action, self.context)


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
    head: str = "Key"  # what the rows are
    empty: str = ""  # what a matrix without rows says instead

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
    matrix = Matrix(actions, head="Principal")
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
    with the policy as it is and as `proposed` (text; None removes it)."""
    return _before_after(world, [("", caller)], holder["InlinePolicies"], policy_name, proposed, actions, request)


def for_group_policy(world, account, group, policy_name, proposed, actions=ACTIONS, request=PLAIN):
    """Each member of a group x every key x actions, with the group's inline policy as it is and as `proposed`.

    A group is no principal: its policies act only through its users."""
    name = group["GroupName"]
    members = [(f"user {user}", acting.caller(world, acting.Identity(account, "user", user)))
               for user, record in world.account(account)["users"].items() if name in record["Groups"]]
    return _before_after(world, members, group["InlinePolicies"], policy_name, proposed, actions, request,
                         nobody=f"Group {name} has no members: its policies apply to nobody yet.")


def for_managed_policy(world, account, policy, proposed, actions=ACTIONS, request=PLAIN):
    """Every principal the managed policy is attached to (users, roles, and the members of groups) x every
    key x actions, with its default version as it is and as `proposed`."""
    arn = policy["Arn"]
    entities = world.account(account)
    groups = {name for name, group in entities["groups"].items() if arn in group["AttachedPolicies"]}
    identities = [acting.Identity(account, "user", name) for name, user in entities["users"].items()
                  if arn in user["AttachedPolicies"] or groups.intersection(user["Groups"])]
    identities += [acting.Identity(account, "role", name) for name, role in entities["roles"].items()
                   if arn in role["AttachedPolicies"]]
    callers = [(f"{i.kind} {i.name}", acting.caller(world, i)) for i in identities]
    version = policy["Versions"][policy["DefaultVersionId"]]
    return _before_after(world, callers, version, "Document", proposed, actions, request,
                         nobody=f"{policy['PolicyName']} is attached to nobody (nor to a group with members) yet.")


def _before_after(world, callers, holder, field_name, proposed, actions, request, nobody=""):
    """Each (label, caller) x every key x actions, with holder[field_name] as it is and as `proposed`
    (None removes it). `nobody` is what the matrix says when there is no caller.

    The world is a snapshot (runner.load_world): the proposed document is put in
    place for the "after" column and taken out again; nothing is saved. Rows are
    labelled by key, after the caller's label when there is one."""
    current = holder.get(field_name)
    keys = sorted(world.doc["kms"]["keys"].values(), key=lambda k: k["KeyMetadata"]["CreationDate"])
    callers = [(label, request.caller(world, caller)) for label, caller in callers]
    pairs = [(label, caller, key) for label, caller in callers for key in keys]
    before = [[access.decide(world, caller, a, key, request.conditions(a)).allowed for a in actions]
              for _, caller, key in pairs]
    matrix = Matrix(actions, head="Principal · key" if any(label for label, _ in callers) else "Key",
                    empty=nobody if not callers else "No keys in the sandbox yet.")
    _put(holder, field_name, proposed)
    try:
        for (label, caller, key), was in zip(pairs, before):
            meta = key["KeyMetadata"]
            cells = []
            for action, allowed in zip(actions, was):
                after = access.decide(world, caller, action, key, request.conditions(action))
                cells.append(Cell(allowed, after.allowed, _why(after)))
            key_label = ", ".join(key_aliases(world, meta["KeyId"])) or meta["KeyId"]
            matrix.rows.append(Row(f"{label} · {key_label}" if label else key_label, meta["Arn"], cells))
    finally:
        _put(holder, field_name, current)
    return matrix


def _put(holder, name, text):
    if text is None:
        holder.pop(name, None)
    else:
        holder[name] = text
