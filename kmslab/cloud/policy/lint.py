"""Best-practice findings for key policies and IAM policies.

`lint(text, kind, account=None)` -> [Finding]. Rule ids and triggers are the
spec's §6 (shared/research/policy-eval.md), drawn from the KMS best-practices
whitepaper, the KMS developer guide (iam-policies-best-practices, abac,
conditions-kms), the IAM user guide (MFA condition keys) and Access
Analyzer's policy checks; KMS-028 (an encryption-context condition on
operations that never carry a context) is kmslab's own, after the guide's
kms:EncryptionContext:context-key. `account` is the key's account, for the
rules that tell the owning account from external ones.
"""
import re
from dataclasses import asdict, dataclass

from ..errors import AWSError
from . import catalogue, conditions, grammar
from .catalogue import ACTIONS, ADMIN_ACTIONS, CRYPTO_ACTIONS, MFA_ACTIONS, MULTIVALUED
from .evaluate import Values, match_action

LIMITING_KEYS = frozenset(
    {"kms:calleraccount", "aws:principalorgid", "aws:principalaccount", "aws:principalarn", "kms:viaservice",
     "aws:sourceaccount", "aws:sourcearn", "aws:principalorgpaths"}
)
MFA_KEYS = frozenset({"aws:multifactorauthpresent", "aws:multifactorauthage"})
GRANT_LIMITS = frozenset({"kms:grantisforawsresource", "kms:grantoperations", "kms:granteeprincipal"})
TAG_AND_ALIAS_ACTIONS = frozenset(
    {"kms:TagResource", "kms:UntagResource", "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"}
)
CONTEXT_KEYS = ("kms:encryptioncontext:", "kms:encryptioncontextkeys")
FIRST_NOTICED = ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy")
VIA_SERVICE = re.compile(r"^[a-z0-9-]+\.[a-z0-9-]+\.amazonaws\.com$")
# Operator families and the key types they can compare (IAM guide, condition_operators).
FAMILY_TYPES = {
    "numeric": ("Numeric",),
    "date": ("Date",),
    "bool": ("Bool",),
    "ip": ("IPAddress",),
    "binary": ("Binary",),
    "arn": ("ARN", "String"),
}


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    message: str
    statement: int | None  # 1-based index, None for the policy as a whole
    sid: str | None
    why: str

    def to_dict(self):
        return asdict(self)


def _covered(statement):
    """The KMS actions a statement covers (after NotAction)."""
    return {name for name in ACTIONS if match_action(statement, name)}


def _keys(statement):
    return {c.key_lower for c in statement.conditions}


def _account_principal(name):
    return name.endswith(":root") and name.startswith("arn:aws:iam::")


def _writes_kms_star(statement):
    return not statement.not_action and any(a.lower() in ("kms:*", "*") for a in statement.actions or ())


class _Linter:
    def __init__(self, policy, kind, account):
        self.policy = policy
        self.kind = kind
        self.account = account
        self.findings = []

    def add(self, rule, severity, statement, message, why):
        self.findings.append(
            Finding(rule, severity, message, statement.index if statement else None,
                    statement.sid if statement else None, why)
        )

    def run(self):
        per_principal = {}
        for s in self.policy.statements:
            covered = _covered(s) if s.actions else set()
            self.statement_rules(s, covered)
            for c in s.conditions:
                self.condition_rules(s, c, covered)
            if s.effect == "Allow" and not s.conditions:
                for name in s.aws_principals if self.kind == "key" else ("the policy's holder",):
                    if not _account_principal(name):
                        per_principal.setdefault(name, [set(), s])[0].update(covered)
        for name, (actions, first) in per_principal.items():
            admin = actions & ADMIN_ACTIONS
            crypto = actions & CRYPTO_ACTIONS
            if admin and crypto:
                self.add("KMS-008", "medium", first,
                         f"{name} gets both key administration ({sorted(admin)[0]}, …) and key use ({sorted(crypto)[0]}, …).",
                         "Separation of duties: whoever can change the policy or delete the key should not also "
                         "use it for data (KMS best practices whitepaper, least privilege).")
        if self.kind == "key":
            self.key_policy_rules()
        self.tag_gating_rule()
        return self.findings

    def statement_rules(self, s, covered):
        keys = _keys(s)
        allow = s.effect == "Allow"
        principals = s.aws_principals
        delegating_only = bool(principals) and all(_account_principal(p) for p in principals)
        if self.kind == "key":
            if s.actions is None or s.resources is None:
                self.add("KMS-018", "error", s, "This key-policy statement has no Action or no Resource.",
                         "KMS saves it, but a statement without Action or Resource never applies.")
            elif s.resources != ("*",):
                self.add("KMS-018", "error", s, 'A key policy statement\'s Resource should be "*".',
                         'In a key policy "*" means "this key"; anything else may never match.')
            if allow and _writes_kms_star(s) and principals and not delegating_only and "*" not in principals:
                self.add("KMS-002", "high", s, "kms:* is given to a principal other than the account.",
                         "kms:* merges administration and use of the key; give named principals only what they need.")
            if allow and "*" in principals and not (keys & LIMITING_KEYS):
                self.add("KMS-005", "critical", s,
                         'Principal "*" with no condition on kms:CallerAccount, aws:PrincipalOrgID, '
                         "aws:PrincipalAccount, aws:PrincipalArn or kms:ViaService.",
                         "Anyone in any AWS account can then use the key.")
            for name in principals:
                if grammar.UNIQUE_ID.match(name):
                    self.add("KMS-025", "warning", s, f"Principal {name} is a unique id, not an ARN.",
                             "AWS shows a deleted user or role as its unique id; it matches nobody, even a "
                             "new principal of the same name.")
            if self.account:
                external = [p for p in principals if p.split(":")[4:5] not in ([self.account], [""]) and p != "*"]
                local_only = covered - {a for a, spec in ACTIONS.items() if spec.cross_account}
                if allow and external and local_only:
                    self.add("KMS-017", "info", s,
                             f"{external[0]} is in another account, but {sorted(local_only)[0]} cannot be used "
                             "across accounts.", "Those permissions have no effect for an external principal.")
                elif allow and any(_account_principal(p) for p in external):
                    self.add("KMS-017", "info", s,
                             f"The external account {external[0]} is trusted as a whole.",
                             "Trust then moves to that account's IAM policies; naming its roles is narrower.")
        else:
            if allow and any(a.lower() == "kms:*" for a in s.actions or ()) and not s.not_action:
                self.add("KMS-003", "high", s, "kms:* in an IAM policy.",
                         "The KMS best practices whitepaper says never to allow kms:* in IAM policies: it "
                         "grants every administrative and cryptographic action.")
            cross = {a for a in covered if ACTIONS[a].cross_account}
            broad = [r for r in s.resources or () if r == "*" or re.fullmatch(r"arn:aws:kms:[^:]*:\*:key/\*", r)]
            if allow and cross and broad and not s.not_resource:
                self.add("KMS-004", "medium", s,
                         f"{sorted(cross)[0]} is allowed on {broad[0]}.",
                         "Cross-account actions on every key also reach other accounts' keys shared with you.")
            key_ops = {a for a in covered if ACTIONS[a].resource == "key"}
            for r in s.resources or ():
                if ":alias/" in r and key_ops and not s.not_resource:
                    self.add("KMS-019", "error", s, f"{r} is an alias ARN; it does not cover the key for "
                             f"{sorted(key_ops)[0]}.",
                             "IAM matches the key's ARN; alias ARNs only serve Create/Update/DeleteAlias. "
                             "Use kms:ResourceAliases or kms:RequestAlias to control keys by alias.")
                elif re.fullmatch(r"[0-9a-f-]{36}", r):
                    self.add("KMS-019", "error", s, f"{r} is a key id, not a key ARN.",
                             "IAM policies must name the key ARN; a key id never matches.")
        if allow and s.not_principal:
            self.add("KMS-006", "high", s, "Allow with NotPrincipal.",
                     "It allows everyone not listed, in every account.")
        if not allow and s.not_principal and not any(_account_principal(p) for p in principals):
            self.add("KMS-007", "medium", s, "Deny with NotPrincipal that does not list the account ARN.",
                     "AWS may test the account before the principal, so the Deny can hit the principals you "
                     "meant to exempt; list their account ARN too.")
        if allow and not delegating_only:
            mfa_actions = [a for a in MFA_ACTIONS if a in covered]
            if mfa_actions and not (keys & MFA_KEYS):
                self.add("KMS-009", "low", s, f"{mfa_actions[0]} is allowed without an MFA condition.",
                         "The whitepaper asks for MFA on destructive actions (aws:MultiFactorAuthPresent).")
            if "kms:CreateGrant" in covered and not (keys & GRANT_LIMITS):
                self.add("KMS-016", "medium", s, "CreateGrant is allowed without a limit on who or what for.",
                         "A grant re-delegates the key; limit it with kms:GrantIsForAWSResource, "
                         "kms:GrantOperations or kms:GranteePrincipal.")
        self.context_on_contextless_rule(s, covered)
        broad_use = ("*" in principals or any(_account_principal(p) and self.account and
                     p.split(":")[4] != self.account for p in principals)) if self.kind == "key" \
            else "*" in (s.resources or ())
        if allow and broad_use and covered & CRYPTO_ACTIONS and not any(
                k.startswith("kms:encryptioncontext") or k == "kms:viaservice" for k in keys):
            self.add("KMS-027", "info", s, "Cryptographic use is allowed broadly with no encryption context "
                     "or kms:ViaService condition.",
                     "Requiring an encryption context or a calling service narrows what a leaked credential can do.")

    def context_on_contextless_rule(self, s, covered):
        """KMS-028: an encryption-context condition on a statement that also covers operations
        that never carry a context. Only the operations with an EncryptionContext parameter set
        kms:EncryptionContext:<k> and kms:EncryptionContextKeys, and CreateGrant through its
        constraints (developer guide, kms:EncryptionContext:context-key); for the others the
        keys are absent, so the condition reads as it reads on absence: an Allow whose condition
        is then false never allows them, a Deny whose condition is then true always denies them.
        IfExists, Null true and negated operators keep an Allow open to them; a Null false or
        a plain operator keeps a Deny off them."""
        context = [c for c in s.conditions if c.key_lower.startswith(CONTEXT_KEYS)]
        if not context:
            return
        without = [a for a in covered if not ACTIONS[a].sets("kms:EncryptionContextKeys")]
        if not without or len(without) == len(covered):
            return  # all or none of them carry a context (none: KMS-021)
        # The ones a learner notices first lead the list.
        without.sort(key=lambda a: (FIRST_NOTICED.index(a) if a in FIRST_NOTICED else len(FIRST_NOTICED), a))
        names = ", ".join(without[:3]) + (f" and {len(without) - 3} more" if len(without) > 3 else "")
        # Each condition as it reads on a request without a context (it has none of these keys).
        no_context = Values(lambda name: None)
        they = "it carries" if len(without) == 1 else "they carry"
        on_absence = [conditions.evaluate(c, no_context)[1] for c in context]
        fix = ("Give the encryption-context condition its own statement with only the cryptographic "
               "operations, and the other operations a statement without it.")
        if s.effect == "Allow" and not all(on_absence):
            self.add("KMS-028", "warning", s,
                     f"This Allow never allows {names}: {they} no encryption context.",
                     "Only operations with an EncryptionContext parameter (and CreateGrant, through its "
                     "constraints) set kms:EncryptionContext keys; without them the condition is false. " + fix)
        elif s.effect == "Deny" and all(on_absence):
            self.add("KMS-028", "high", s,
                     f"This Deny always denies {names}: {they} no encryption context.",
                     "Without an encryption context in the request the condition is true (a negated "
                     "operator or …IfExists on a missing key), so the Deny hits every such call, "
                     "PutKeyPolicy included if listed. " + fix)

    def condition_rules(self, s, c, covered):
        key = c.key_lower
        allow = s.effect == "Allow"
        key_type = catalogue.key_type(c.key)
        multivalued = key in MULTIVALUED
        if key == "aws:multifactorauthpresent":
            if not allow and c.base == "Bool" and not c.if_exists and "false" in c.values:
                self.add("KMS-010", "medium", s, "Deny on Bool aws:MultiFactorAuthPresent false.",
                         "Long-term access keys carry no aws:MultiFactorAuthPresent, so the Deny skips them; "
                         "use BoolIfExists.")
            if allow and c.base == "Null" and "false" in c.values:
                self.add("KMS-011", "medium", s, "Allow on Null aws:MultiFactorAuthPresent false.",
                         "Any temporary credentials have the key, with or without MFA; test Bool true.")
        if c.qualifier and key_type and not multivalued and c.base != "Null":
            self.add("KMS-012", "high", s, f"{c.operator} on {c.key}, a single-valued key.",
                     "Set qualifiers are for multivalued keys; on a single value they read wrongly and "
                     "ForAllValues lets requests without the key through.")
        if allow and c.qualifier == "ForAllValues" and multivalued:
            guarded = any(o.key_lower == key and o.base == "Null" and "false" in o.values for o in s.conditions)
            if not guarded:
                self.add("KMS-013", "medium", s, f"ForAllValues on {c.key} without a Null false guard.",
                         "ForAllValues is true when the request has no values at all; add "
                         f'"Null": {{"{c.key}": "false"}}.')
        if multivalued and c.qualifier is None and c.base != "Null":
            self.add("KMS-014", "medium", s, f"{c.operator} on {c.key}, a multivalued key, without "
                     "ForAnyValue or ForAllValues.", "How a bare operator treats several values is undocumented; "
                     "it usually does not match.")
        if c.base in ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
                      "ArnEquals", "ArnNotEquals") and any(("*" in v or "?" in v) for v in c.values):
            like = "ArnLike" if c.base.startswith("Arn") else "StringLike"
            self.add("KMS-015", "low", s, f"{c.operator} with a wildcard in its value.",
                     f"{c.base} compares * and ? literally" if c.base.startswith("String")
                     else f"{c.base} does expand wildcards but reads as exact; write {like}.")
        if self.kind == "key" and (key.startswith("aws:resourcetag/") or key == "kms:resourcealiases"):
            self.add("KMS-020", "error", s, f"{c.key} in a key policy.",
                     "KMS refuses to save a key policy with it: control keys by tag or alias in IAM policies.")
        if key_type and covered and s.actions and all(a.lower().startswith("kms:") for a in s.actions):
            if not any(ACTIONS[a].sets(c.key) for a in covered):
                self.add("KMS-021", "warning", s, f"None of the statement's actions sets {c.key}.",
                         "A condition on a key the request never has cannot match (or always matches "
                         "with …IfExists and negated operators).")
        if key == "kms:viaservice":
            for v in c.values:
                if c.base in ("StringEquals", "StringNotEquals") and not VIA_SERVICE.match(v):
                    self.add("KMS-022", "error", s, f'kms:ViaService value "{v}" is not service.region.amazonaws.com.',
                             "kms:ViaService holds lower-case service.region.amazonaws.com; anything else never matches.")
        if key.startswith(("aws:", "kms:")) and key_type is None:
            self.add("KMS-023", "error", s, f"Unknown condition key {c.key}.",
                     "A key no request sets never matches; check spelling and spaces.")
        elif key_type and c.family.split("_")[0] in FAMILY_TYPES:
            family = c.family.split("_")[0]
            allowed = FAMILY_TYPES[family]
            if key_type not in allowed and not (family == "arn" and key_type == "ArrayOfString"):
                self.add("KMS-023", "error", s, f"{c.base} on {c.key}, whose type is {key_type}.",
                         "An operator of the wrong type never matches.")

    def key_policy_rules(self):
        statements = self.policy.statements
        delegates = [s for s in statements if s.effect == "Allow" and not s.not_principal and any(
            _account_principal(p) and (not self.account or p.split(":")[4] == self.account) for p in s.aws_principals)]
        admins = [s for s in statements if s.effect == "Allow" and "kms:PutKeyPolicy" in (_covered(s) if s.actions else ())]
        if not delegates and not admins:
            self.add("KMS-001", "medium", None, "No statement allows the owning account or a key administrator.",
                     "IAM policies then have no effect, and deleting the named principals locks the key.")
        denies_bypass = any(s.effect == "Deny" and any(c.key_lower == "kms:bypasspolicylockoutsafetycheck"
                                                       for c in s.conditions) for s in statements)
        if not denies_bypass:
            self.add("KMS-024", "info", None, "No Deny on kms:BypassPolicyLockoutSafetyCheck true.",
                     "A guardrail: without it, anyone allowed PutKeyPolicy can lock everyone out.")
        guards_window = any(any(c.key_lower == "kms:schedulekeydeletionpendingwindowindays" for c in s.conditions)
                            for s in statements)
        if not guards_window:
            self.add("KMS-024", "info", None, "No minimum for kms:ScheduleKeyDeletionPendingWindowInDays.",
                     "A guardrail: a 30-day window leaves time to notice a deletion and cancel it.")

    def tag_gating_rule(self):
        statements = self.policy.statements
        gating = any(c.key_lower.startswith("aws:resourcetag/") or c.key_lower == "kms:resourcealiases"
                     for s in statements for c in s.conditions)
        for s in statements if gating else ():
            if s.effect == "Allow" and not s.conditions and _covered(s) & TAG_AND_ALIAS_ACTIONS:
                self.add("KMS-026", "info", s, "Tag or alias management is allowed while tags or aliases "
                         "gate access.", "Whoever can retag or re-alias a key can grant themselves its use (ABAC).")


def lint(text, kind, account=None):
    """Findings for a key policy (kind "key") or an IAM policy (kind "identity")."""
    try:
        policy = grammar.parse(text, kind)
    except AWSError as exc:
        return [Finding("KMS-023", "error", exc.message, None, None, "AWS refuses a policy it cannot parse.")]
    return _Linter(policy, kind, account).run()
