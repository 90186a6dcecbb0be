"""Policy JSON <-> the visual editor's statement cards.

The editor shows one card per statement and the JSON beside it; both post to
the server, which answers with both re-rendered, so the two never disagree.

Cards are merged onto the last good document rather than written from
scratch: a field the learner did not change keeps its exact JSON (a single
string stays a string, `true` stays a boolean, the order stays), and a
statement the cards cannot express (NotPrincipal, NotAction, a Federated
principal, an Effect that is neither Allow nor Deny, ...) is kept as it is and
shown as read-only JSON, editable in the JSON view. So JSON -> cards -> JSON is
the identity for every document, and AWS's warning about its own visual editor
("the editor restructures JSON") does not apply.

Plain Python, no Django: the view hands in `request.POST` as a mapping of
name -> list of strings.
"""
import json
import re
from dataclasses import dataclass, field

from kmslab.cloud import learner_json, shapes
from kmslab.cloud.errors import AWSError
from kmslab.cloud.policy import catalogue, grammar, lint

KEY_POLICY = "key"
IAM_POLICY = "identity"  # the policy grammar's names for the two kinds

CARD_FIELDS = {"Sid", "Effect", "Principal", "Action", "Resource", "Condition"}
SERVICE_SUFFIX = ".amazonaws.com"

# The three groups AWS's key-policy console offers (key administrators, key
# users, persistent resources), filled from the catalogue's action list.
GRANT_ACTIONS = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant", "kms:RetireGrant", "kms:ListRetirableGrants")
USE_ACTIONS = tuple(sorted(catalogue.CRYPTO_ACTIONS | {"kms:DescribeKey", "kms:GetPublicKey"}))
ADMIN_ACTIONS = tuple(sorted(set(catalogue.ACTIONS) - set(USE_ACTIONS) - set(GRANT_ACTIONS)))
# The wildcards the console's default key policy uses (key-policy-default).
CONSOLE_WILDCARDS = (
    "kms:*", "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
)
ACTION_GROUPS = (
    ("Key administration", ADMIN_ACTIONS),
    ("Cryptographic use", USE_ACTIONS),
    ("Grants", GRANT_ACTIONS),
    ("Wildcards (as the AWS console writes them)", CONSOLE_WILDCARDS),
)
KNOWN_ACTIONS = frozenset(a for _, group in ACTION_GROUPS for a in group)

# Snippets: statements the editor inserts for the learner to edit. Each follows an
# AWS docs page; what a snippet picks (a principal, a key, a service) comes from the
# sandbox, and the view offers only what is there.
KEY_ADMIN_ACTIONS = (
    # key-policy-default, "Allows key administrators to administer the KMS key": the console's
    # statement for a symmetric encryption key (kms:RotateKeyOnDemand since on-demand rotation, 2024).
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
    "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
)
# key-policy-default, "Allows key users to use the KMS key" (symmetric encryption keys), and
# key-policy-modifying-external-accounts: the same actions for an external account.
KEY_USER_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")
CONTEXT_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")


@dataclass(frozen=True)
class Snippet:
    name: str
    title: str
    note: str  # what the statement does and why, after the docs page it follows
    kinds: tuple  # the editors that offer it
    # What the learner picks for it: "account" (another account), "external" (a user or role of
    # another account), "own" (a key policy: a user or role of the key's account; an IAM policy:
    # a key), "via" (a service), or "" (nothing).
    picks: str
    statement: object  # (picked value, kind) -> statement dict


def _allow(sid, actions, iam_sid=None, condition=None):
    """An Allow for the picked principal (key policy, on this key) or on the picked key (IAM policy)."""
    def build(picked, kind):
        if kind == KEY_POLICY:
            statement = {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": picked}, "Action": list(actions),
                         "Resource": "*"}
        else:
            statement = {"Sid": iam_sid, "Effect": "Allow", "Action": list(actions), "Resource": picked}
        return statement | ({"Condition": condition} if condition else {})
    return build


def _deny_everyone(sid, actions, condition_of):
    def build(picked, kind):
        statement = {"Sid": sid, "Effect": "Deny"}
        if kind == KEY_POLICY:
            statement["Principal"] = "*"
        return statement | {"Action": list(actions), "Resource": "*", "Condition": condition_of(picked)}
    return build


BOTH = (KEY_POLICY, IAM_POLICY)
SNIPPETS = (
    Snippet("allow-account", "Allow another account (the root model)",
            "The account's root as principal hands the decision to that account's IAM: its users and roles "
            "can use the key once their own IAM policies allow it too (key-policy-modifying-external-accounts).",
            (KEY_POLICY,), "account",
            _allow("Allow an external account to use this KMS key", KEY_USER_ACTIONS)),
    Snippet("allow-external-principal", "Allow a principal of another account",
            "Names one user or role of another account: tighter than the account, and it still needs an IAM "
            "policy in its own account that allows the same (key-policy-modifying-external-accounts).",
            (KEY_POLICY,), "external",
            _allow("Allow an external account to use this KMS key", KEY_USER_ACTIONS)),
    Snippet("key-administrators", "Key administrators",
            "AWS's key administrators statement: manage the key, no cryptographic use. They can still change "
            "the key policy and create grants, so they can give themselves more (key-policy-default).",
            BOTH, "own",
            _allow("Allow access for Key Administrators", KEY_ADMIN_ACTIONS, "AllowAccessForKeyAdministrators")),
    Snippet("key-users", "Key users",
            "AWS's key users statement for a symmetric encryption key: cryptographic use and DescribeKey, "
            "nothing else (key-policy-default).",
            BOTH, "own",
            _allow("Allow use of the key", KEY_USER_ACTIONS, "AllowUseOfTheKey")),
    Snippet("require-encryption-context", "Require an encryption context value",
            "Allows use only when the request's encryption context has tenant = acme (edit both). An Allow "
            "narrows nothing on its own: another statement that allows the same without the condition still "
            "does (conditions-kms, kms:EncryptionContext:context-key).",
            BOTH, "own",
            _allow("AllowUseOnlyWithEncryptionContext", CONTEXT_ACTIONS, "AllowUseOnlyWithEncryptionContext",
                   {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}})),
    Snippet("require-mfa", "Require MFA for destructive actions",
            "Denies PutKeyPolicy, ScheduleKeyDeletion, DeleteAlias and DeleteImportedKeyMaterial unless the "
            "caller signed in with MFA. BoolIfExists, not Bool: long-term access keys carry no "
            "aws:MultiFactorAuthPresent at all, and Bool on a missing key does not match, so the Deny would "
            "let them through. kmslab note: in a key policy, saving it as a caller without MFA fails KMS's "
            "lockout check (you could no longer call PutKeyPolicy): act as a session with MFA first.",
            BOTH, "",
            _deny_everyone("DenyDestructiveActionsWithoutMFA", catalogue.MFA_ACTIONS,
                           lambda _: {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})),
    Snippet("deny-outside-via-service", "Deny use outside a service",
            "Denies cryptographic use unless the request comes through the chosen AWS service: a direct call "
            "has no kms:ViaService, and StringNotEquals matches a missing key, so direct calls are denied "
            "(conditions-kms, kms:ViaService).",
            BOTH, "via",
            _deny_everyone("DenyUseOutsideViaService", CONTEXT_ACTIONS,
                           lambda service: {"StringNotEquals": {"kms:ViaService": service}})),
)
SNIPPETS_BY_NAME = {s.name: s for s in SNIPPETS}


def insert_snippet(cards, name, picked, kind):
    """Cards with snippet `name` for `picked` added. A statement of the same Sid that differs only
    in its principals or resources takes the new ones (as the console's key users list does); any
    other statement of that Sid makes the snippet's Sid unique, since a policy's Sids must be."""
    statement = SNIPPETS_BY_NAME[name].statement(picked, kind)
    new = card_from_statement(None, statement, kind)
    for card in cards:
        if card.raw is None and card.sid == new.sid:
            # Actions as sets: the posted cards list them in the pickers' order, not the JSON's.
            if (card.effect, set(card.actions), card.conditions) == (new.effect, set(new.actions), new.conditions):
                card.principals += [p for p in new.principals if p not in card.principals]
                card.resources += [r for r in new.resources if r not in card.resources]
                return cards
            break
    sids = {card.sid for card in cards}
    number = 2
    while new.sid in sids:
        new.sid = f"{statement['Sid']}{' ' if kind == KEY_POLICY else ''}{number}"
        number += 1
    cards.append(new)
    return cards

# The operator picker: every operator the grammar knows, then the IfExists and set-qualified forms.
OPERATORS = tuple(grammar.OPERATORS) + tuple(
    f"{op}IfExists" for op in grammar.OPERATORS if op != "Null"
) + tuple(f"{q}:{op}" for q in ("ForAnyValue", "ForAllValues") for op in grammar.OPERATORS if op != "Null")


@dataclass
class Condition:
    operator: str = "StringEquals"
    key: str = ""
    values: list = field(default_factory=list)


@dataclass
class Card:
    index: int | None = None  # the statement's position in the base document; None when new
    raw: str | None = None  # JSON of a statement the cards cannot express
    why_raw: str = ""
    sid: str = ""
    effect: str = "Allow"
    principals: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    resources: list = field(default_factory=list)
    conditions: list = field(default_factory=list)


@dataclass
class JSONProblem:
    """Where a policy text goes wrong: 1-based line and column, and what is wrong."""

    line: int
    column: int
    message: str
    statement: int | None = None  # 0-based index of the statement it concerns, if one


def text_of(value):
    """How a JSON value reads in a card: strings as they are, others as JSON (true, 300)."""
    return value if isinstance(value, str) else json.dumps(value)


def _strings(value):
    """A policy field (string or list of strings) as a list, or None if the cards cannot show it."""
    items = [value] if isinstance(value, str) else value
    if isinstance(items, list) and all(isinstance(v, str) and _one_line(v) for v in items):
        return list(items)
    return None


def _condition_values(value):
    items = value if isinstance(value, list) else [value]
    if all(isinstance(v, (bool, int, float)) or isinstance(v, str) and _one_line(v) for v in items):
        return [text_of(v) for v in items]
    return None


def _one_line(text):
    # Cards edit lists one value a line, so a value must fit on a line of its own.
    return bool(text.strip()) and "\n" not in text and "\r" not in text


# JSON -> cards.


def parse(text):
    """(document, None) or (None, JSONProblem) for a policy text."""
    try:
        return learner_json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, JSONProblem(exc.lineno, exc.colno, exc.msg)


def statements_of(doc):
    """The statement list of a document (a single statement object counts), or None."""
    if not isinstance(doc, dict):
        return None
    statement = doc.get("Statement")
    if isinstance(statement, dict):
        return [statement]
    if isinstance(statement, list):
        return statement
    return None


def cards_from_document(doc, kind):
    """One card per statement; None when the document has no statement list to card."""
    statements = statements_of(doc)
    if statements is None:
        return None
    return [card_from_statement(i, s, kind) for i, s in enumerate(statements)]


def card_from_statement(index, statement, kind):
    why = _inexpressible(statement, kind)
    if why:
        return Card(index=index, raw=json.dumps(statement, indent=2), why_raw=why)
    principal = statement.get("Principal")
    if principal == "*":
        principals = ["*"]
    elif isinstance(principal, dict):
        principals = _strings(principal.get("AWS", [])) + _strings(principal.get("Service", []))
    else:
        principals = []
    conditions = [
        Condition(operator, key, _condition_values(value))
        for operator, block in statement.get("Condition", {}).items()
        for key, value in block.items()
    ]
    return Card(
        index=index,
        sid=statement.get("Sid", ""),
        effect=statement["Effect"],
        principals=principals,
        actions=_strings(statement.get("Action", [])),
        resources=_strings(statement.get("Resource", [])),
        conditions=conditions,
    )


def _inexpressible(statement, kind):
    """Why a statement cannot be shown as a card ("" when it can)."""
    if not isinstance(statement, dict):
        return "A statement must be a JSON object."
    extra = sorted(set(statement) - CARD_FIELDS)
    if extra:
        return f"The cards do not edit {', '.join(extra)}; edit this statement in the JSON view."
    if statement.get("Effect") not in ("Allow", "Deny"):
        return "Effect must be Allow or Deny."
    if not isinstance(statement.get("Sid", ""), str):
        return "Sid must be a string."
    for name in ("Action", "Resource"):
        if name in statement and _strings(statement[name]) is None:
            return f"{name} must be a string or a list of strings."
    if "Principal" in statement:
        if kind == IAM_POLICY:
            return "An IAM policy has no Principal: the principal is whoever holds the policy."
        principal = statement["Principal"]
        if principal != "*":
            if not isinstance(principal, dict) or not principal or set(principal) - {"AWS", "Service"}:
                return "The cards edit AWS and Service principals; edit this one in the JSON view."
            if any(_strings(v) is None for v in principal.values()):
                return "Each principal must be a string or a list of strings."
    condition = statement.get("Condition", {})
    if not isinstance(condition, dict) or not all(isinstance(b, dict) for b in condition.values()):
        return "Condition must map each operator to an object of condition keys."
    if any(_condition_values(v) is None for b in condition.values() for v in b.values()):
        return "Condition values must be strings, numbers, booleans or lists of them."
    return ""


# Cards -> JSON, merged onto the base document.


def _raw_statement(raw):
    # A raw card's JSON comes back from the browser: one that no longer parses
    # stays as its text, which the policy check then reports at its statement.
    try:
        return learner_json.loads(raw)
    except ValueError:
        return raw


def document_from_cards(base, cards, kind):
    """The base document with its statements replaced by what the cards say."""
    old = statements_of(base) or []
    statements = []
    for card in cards:
        previous = old[card.index] if card.index is not None and card.index < len(old) else None
        if card.raw is not None:
            statements.append(previous if previous is not None else _raw_statement(card.raw))
        else:
            statements.append(_statement(previous or {}, card, kind))
    doc = dict(base) if isinstance(base, dict) else {"Version": "2012-10-17"}
    if isinstance(doc.get("Statement"), dict) and len(statements) == 1:
        doc["Statement"] = statements[0]
    else:
        doc["Statement"] = statements
    return doc


def _statement(old, card, kind):
    new = {
        "Sid": card.sid or ("" if old.get("Sid") == "" else None),
        "Effect": card.effect,
        "Principal": _principal(old.get("Principal"), card.principals) if kind == KEY_POLICY else None,
        "Action": merge_values(old.get("Action"), card.actions),
        "Resource": merge_values(old.get("Resource"), card.resources),
        "Condition": _condition(old.get("Condition"), card.conditions),
    }
    return {k: new[k] for k in _order(old, new) if new[k] is not None}


def _order(old, new):
    """Fields in the usual order (Sid, Effect, Principal, ...), unless the old statement had its own."""
    usual = list(new)
    known = [k for k in old if k in new]
    if known == sorted(known, key=usual.index):
        return usual
    return known + [k for k in usual if k not in old]


def merge_values(old, new):
    """A string-or-list field after an edit: unchanged values keep their JSON, order and form."""
    if not old and not new:
        return old
    if old == []:
        old = None  # an emptied list refilled with one value reads as it would have new
    old_items = old if isinstance(old, list) else ([] if old is None else [old])
    if {text_of(v) for v in old_items} == set(new):
        return old
    kept = [v for v in old_items if text_of(v) in new]
    seen = {text_of(v) for v in kept}
    merged = kept + [v for v in dict.fromkeys(new) if v not in seen]
    if len(merged) == 1 and not isinstance(old, list):
        return merged[0]
    return merged


def _principal(old, values):
    # "*" alone is written as AWS's examples write it, unless the statement had {"AWS": "*"}.
    if values == ["*"] and not isinstance(old, dict):
        return "*"
    old_map = old if isinstance(old, dict) else {}
    new = {
        "AWS": merge_values(old_map.get("AWS"), [v for v in values if not is_service(v)]),
        "Service": merge_values(old_map.get("Service"), [v for v in values if is_service(v)]),
    }
    order = [k for k in old_map if k in new] + [k for k in new if k not in old_map]
    principal = {k: new[k] for k in order if new[k] is not None}
    return principal or None


def is_service(principal):
    return principal.endswith(SERVICE_SUFFIX) and not principal.startswith("arn:")


def _condition(old, rows):
    wanted = {}
    for row in rows:
        if row.operator and row.key:
            wanted.setdefault(row.operator, {}).setdefault(row.key, []).extend(row.values)
    old = old or {}
    merged = {}
    for operator in list(old) + [op for op in wanted if op not in old]:
        if operator not in wanted:
            continue
        old_block = old.get(operator, {})
        keys = list(old_block) + [k for k in wanted[operator] if k not in old_block]
        merged[operator] = {
            k: merge_values(old_block.get(k), wanted[operator][k]) or [] for k in keys if k in wanted[operator]
        }
    return merged or None


def dumps(doc):
    return json.dumps(doc, indent=2)


# The posted form: s{i}-… per card, s{i}-c{j}-… per condition row.


def cards_from_post(data):
    """Cards from the editor's form fields (name -> list of strings)."""

    def one(name, default=""):
        values = data.get(name) or [default]
        return values[-1]

    def lines(name):
        return [line for value in data.get(name, []) for line in value.splitlines() if line.strip()]

    # Only the cards and condition rows the post has fields of (every card posts its index, every row
    # its operator): a count beyond them (statements=1000000000) must not make the view build that many.
    rows = {}
    for name in data:
        posted = _POSTED.match(name)
        if posted:
            rows.setdefault(int(posted[1]), set()).add(int(posted[2]) if posted[2] else -1)

    def numbers(count, posted):
        limit = _number(count) or 0
        return sorted(n for n in posted if 0 <= n < limit)

    cards = []
    for i in numbers(one("statements", "0"), rows):
        p = f"s{i}-"
        card = Card(index=_number(one(p + "index")))
        if one(p + "raw"):
            card.raw = one(p + "raw")
            card.why_raw = one(p + "why_raw")
            cards.append(card)
            continue
        card.sid = one(p + "sid")
        card.effect = one(p + "effect", "Allow")
        card.principals = list(dict.fromkeys(data.get(p + "principal", []) + lines(p + "principal_other")))
        card.actions = list(dict.fromkeys(data.get(p + "action", []) + lines(p + "action_other")))
        card.resources = lines(p + "resource")
        pick = one(p + "resource_pick")  # a key ARN from the Resource field's picker
        if pick and pick not in card.resources:
            card.resources.append(pick)
        for j in numbers(one(p + "conditions", "0"), rows[i]):
            c = f"{p}c{j}-"
            # A value chosen in the row's picker joins the values; the picker then starts over.
            values, pick = lines(c + "values"), one(c + "pick")
            if pick and pick not in values:
                values.append(pick)
            card.conditions.append(Condition(one(c + "operator"), one(c + "key"), values))
        cards.append(card)
    return cards


_POSTED = re.compile(r"s(\d{1,6})-(?:c(\d{1,6})-)?")


def picked_a_value(data):
    """Whether a picker (a condition's value, a Resource's key) chose something: the view then
    re-renders the cards, so the field it went into shows it."""
    return any(name.endswith(("-pick", "-resource_pick")) and any(data[name]) for name in data)


def _number(text):
    """A posted count or index, or None. Not str.isdigit, which takes "²" (int() does not),
    and not long: int() refuses a number of over 4300 digits."""
    return int(text) if text.isdecimal() and len(text) < 20 else None


def apply_op(cards, op, kind):
    """The editor's buttons: add-statement, remove-statement:i, add-condition:i, remove-condition:i:j."""
    name, *args = op.split(":")
    try:
        args = [int(a) for a in args]
        if name == "add-statement":
            cards.append(new_card(kind))
        elif name == "remove-statement":
            del cards[args[0]]
        elif name == "add-condition":
            cards[args[0]].conditions.append(Condition())
        elif name == "remove-condition":
            del cards[args[0]].conditions[args[1]]
    except (ValueError, IndexError):
        pass  # a stale button from a page that changed since; the re-render shows the current cards
    return cards


def new_card(kind):
    # A key policy statement applies to its own key ("Resource": "*"); an IAM
    # statement must name keys by ARN, which the learner fills in.
    return Card(resources=["*"] if kind == KEY_POLICY else [])


# Where things are in the text, so problems show at their line.


def statement_lines(text):
    """The 1-based line on which each statement of a policy text starts ([] if it has none)."""
    decoder = json.JSONDecoder()
    try:
        pos = _skip(text, 0)
        if text[pos] != "{":
            return []
        pos = _skip(text, pos + 1)
        while pos < len(text) and text[pos] != "}":
            key, pos = decoder.raw_decode(text, pos)
            pos = _skip(text, _skip(text, pos) + 1)  # past the colon
            if key == "Statement":
                return _element_lines(text, pos, decoder)
            _, pos = decoder.raw_decode(text, pos)
            pos = _skip(text, pos)
            if text[pos] == ",":
                pos = _skip(text, pos + 1)
    except (ValueError, IndexError):
        pass
    return []


def _element_lines(text, pos, decoder):
    if text[pos] == "{":
        return [_line(text, pos)]
    starts = []
    pos = _skip(text, pos + 1)
    while text[pos] != "]":
        starts.append(_line(text, pos))
        _, pos = decoder.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
    return starts


def _skip(text, pos):
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _line(text, pos):
    return text.count("\n", 0, pos) + 1


def excerpt(text, line, around=2):
    """The lines around `line`, numbered, for showing a problem in place."""
    all_lines = text.splitlines() or [""]
    first = max(1, line - around)
    last = min(len(all_lines), line + around)
    return [{"number": n, "text": all_lines[n - 1], "here": n == line} for n in range(first, last + 1)]


# The condition builder's catalogue: each key, its type, and the operations that set it.


def condition_keys():
    """[{"name", "type", "set_by"}] for the key picker, read from the policy engine's catalogue."""
    names = list(catalogue.ALL_KEYS.items()) + list(catalogue.PREFIX_KEYS.items())
    return [{"name": name, "type": kind, "set_by": set_by_text(name)} for name, kind in names]


def set_by_text(key):
    """Which operations set a condition key, in words: "every operation", "Encrypt, Decrypt", ..."""
    actions = set_by(key)
    if not actions:
        return "no KMS operation: a condition on it can never hold"
    if actions == set_by("aws:CurrentTime"):
        return "every operation"
    if actions == [a.name.removeprefix("kms:") for a in catalogue.ACTIONS.values() if a.resource == "key"]:
        return "every operation on a key"
    return ", ".join(actions)


# Condition keys whose values come from an API enumeration: the picker reads it from
# AWS's own service model (botocore's, as shapes.py does for validation).
ENUM_SHAPES = {
    "kms:encryptionalgorithm": "EncryptionAlgorithmSpec", "kms:keyspec": "KeySpec", "kms:keyusage": "KeyUsageType",
    "kms:keyorigin": "OriginType", "kms:grantoperations": "GrantOperation", "kms:expirationmodel": "ExpirationModelType",
    "kms:multiregionkeytype": "MultiRegionKeyType", "kms:signingalgorithm": "SigningAlgorithmSpec",
    "kms:macalgorithm": "MacAlgorithmSpec", "kms:datakeypairspec": "DataKeyPairSpec",
    "kms:wrappingalgorithm": "AlgorithmSpec", "kms:wrappingkeyspec": "WrappingKeySpec", "kms:messagetype": "MessageType",
    "kms:keyagreementalgorithm": "KeyAgreementAlgorithmSpec",
}
VIA_SERVICES = ("s3", "dynamodb", "secretsmanager", "ec2", "rds", "lambda")


def value_options(key, sandbox):
    """Values the picker offers for a condition key: true/false, an API enumeration, or the
    sandbox's accounts, principals and aliases. `sandbox`: {"accounts", "principals", "aliases", "region"}."""
    lower = key.lower()
    if catalogue.key_type(key) == "Bool":
        return ["true", "false"]
    if lower in ENUM_SHAPES:
        return list(shapes.service_model("kms").shape_for(ENUM_SHAPES[lower]).enum)
    if lower in ("kms:calleraccount", "aws:principalaccount"):
        return sandbox["accounts"]
    if lower in ("aws:principalarn", "kms:granteeprincipal", "kms:retiringprincipal"):
        return sandbox["principals"]
    if lower in ("kms:requestalias", "kms:resourcealiases"):
        return sandbox["aliases"]
    if lower == "kms:viaservice":
        return [f"{service}.{sandbox['region']}.amazonaws.com" for service in VIA_SERVICES]
    return []


def set_by(key):
    """The KMS operations whose requests set condition key `key` (names without the kms: prefix)."""
    return [a.name.removeprefix("kms:") for a in catalogue.ACTIONS.values() if a.sets(key)]


# One round of the editor: what the learner changed -> both views, and what is wrong.


@dataclass
class EditorState:
    text: str
    cards: list
    cards_live: bool = True  # False while the JSON does not parse: the cards wait, greyed, for it
    json_problem: JSONProblem | None = None  # the JSON does not parse
    policy_problem: JSONProblem | None = None  # it parses, but KMS or IAM would refuse it
    statement_lines: list = field(default_factory=list)
    findings: list = field(default_factory=list)  # the linter's, for a policy that would be accepted

    def findings_for(self, index):
        """The findings about statement `index` (0-based); None gives those about the whole policy."""
        number = None if index is None else index + 1
        return [f for f in self.findings if f.statement == number]

    @property
    def problem(self):
        return self.json_problem or self.policy_problem


def start(text, kind, account=None, snippet=None):
    """The editor opening on a policy text as it is stored, unless it is stored on one
    line (as boto3 and the CLI often send it): that is laid out as the cards write it.
    `snippet`: (name, picked value) to insert on opening, as the key page's share panel
    asks (the view checks that the editor offers it)."""
    doc, problem = parse(text)
    cards = cards_from_document(doc, kind) if problem is None and snippet else None
    if cards is not None:
        text = dumps(document_from_cards(doc, insert_snippet(cards, *snippet, kind), kind))
    elif problem is None and "\n" not in text.strip():
        text = dumps(doc)
    return sync(text, {}, "json", "", kind, account)


def sync(text, posted, source, op, kind, account=None, offers=None):
    """Re-derive one view from the other.

    source "json": the learner typed in the JSON; the cards follow it (or wait,
    as they were, while it does not parse). source "cards": the learner changed
    a card or pressed a card button; the JSON is rewritten from the cards.
    op "snippet:NAME" inserts a snippet for the value posted as snippet-NAME
    when `offers` ({name: [values]}: what the editor offers; [""] for a snippet
    that picks nothing) has it; anything else is a stale button, and ignored.
    """
    doc, problem = parse(text)
    if source == "cards" and problem is None:
        cards = apply_op(cards_from_post(posted), op, kind)
        name = op.removeprefix("snippet:")
        picked = (posted.get(f"snippet-{name}") or [""])[-1]
        if op.startswith("snippet:") and picked in (offers or {}).get(name, ()):
            insert_snippet(cards, name, picked, kind)
        doc = document_from_cards(doc, cards, kind)
        text = dumps(doc)
        for i, card in enumerate(cards):
            card.index = i
    elif problem is None:
        cards = cards_from_document(doc, kind)
        if cards is None:
            return EditorState(text, cards_from_post(posted), cards_live=False,
                               policy_problem=JSONProblem(1, 1, "A policy is an object with a Statement list."))
    else:
        return EditorState(text, cards_from_post(posted), cards_live=False, json_problem=problem)
    state = EditorState(text, cards, statement_lines=statement_lines(text))
    state.policy_problem = validate(text, kind, state.statement_lines)
    if state.policy_problem is None:
        state.findings = lint.lint(text, kind, account)
    return state


def validate(text, kind, lines):
    """The policy engine's verdict on a text, placed at the statement it concerns, or None."""
    try:
        grammar.parse(text, kind)
    except AWSError as exc:
        message = exc.message.removeprefix(f"{exc.code}: ")
        number = re.match(r"Statement (\d+)", message)
        index = int(number.group(1)) - 1 if number else None
        line = lines[index] if index is not None and index < len(lines) else 1
        return JSONProblem(line, 1, message, index)
    return None


SEVERITY_BADGES = {"critical": "bad", "high": "bad", "error": "bad", "medium": "warn", "warning": "warn", "low": "warn"}


def card_views(cards, principal_options, state=None, sandbox=None):
    """What the card template needs: each card with its pickers ticked and the rest as free text.

    principal_options: [(group label, [(principal, label)])] — the sandbox's accounts, users,
    roles and services; a principal not among them is shown in the card's free-text field.
    sandbox: what the pickers offer from the sandbox (value_options; "keys": [(key ARN, label)]).
    """
    known = {value for _, options in principal_options for value, _ in options}
    views = []
    for i, card in enumerate(cards):
        views.append({
            "card": card,
            "findings": [(f, SEVERITY_BADGES.get(f.severity, "off")) for f in state.findings_for(i)] if state else [],
            "principal_groups": [
                (label, [(value, text, value in card.principals) for value, text in options])
                for label, options in principal_options
            ],
            "principal_other": "\n".join(p for p in card.principals if p not in known),
            "action_groups": [
                (label, [(action, action in card.actions) for action in group],
                 sum(action in card.actions for action in group))
                for label, group in ACTION_GROUPS
            ],
            "action_other": "\n".join(a for a in card.actions if a not in KNOWN_ACTIONS),
            "resources": "\n".join(card.resources),
            "key_options": [(arn, label) for arn, label in sandbox.get("keys", ()) if arn not in card.resources]
            if sandbox else [],
            "conditions": [
                {"condition": c, "values": "\n".join(c.values),
                 "value_options": [v for v in value_options(c.key, sandbox) if v not in c.values] if sandbox else []}
                for c in card.conditions
            ],
            "key_notes": [(key, set_by_text(key)) for key in dict.fromkeys(c.key for c in card.conditions if c.key)],
        })
    return views
