"""Console forms. Each one that makes a call says how its fields become the AWS request."""
import base64
import binascii

from django import forms

from kmslab.cloud import learner_json
from kmslab.cloud.clock import ClockLimitError, parse_duration
from kmslab.cloud.errors import AWSError
from kmslab.cloud.kms.keys import REGIONS
from kmslab.cloud.policy.authorize import key_aliases
from kmslab.sandboxes import runner

from . import access_preview, acting, envelope, share, simulator
from . import policy_form as pf


class CallForm(forms.Form):
    """A form whose fields are an AWS request's: each is labelled with the field's AWS name
    (PendingWindowInDays, not Django's "Pendingwindowindays"), so the API reference reads alongside."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.label is None:
                field.label = name

    def fit(self, meta):
        """Fit the form to the key of `meta` (its KeyMetadata) on a key page: choices that are the key's own."""


class SandboxForm(forms.Form):
    name = forms.CharField(max_length=80, required=False, help_text="Optional, for your own list.")


class ClockForm(forms.Form):
    STEPS = [("1h", "1 hour"), ("1d", "1 day"), ("7d", "7 days"), ("30d", "30 days")]
    advance = forms.CharField(max_length=12, help_text="A duration like 30d, 12h or 90m.")

    def clean_advance(self):
        try:
            seconds = parse_duration(self.cleaned_data["advance"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        if not 0 < seconds <= 400 * 86400:
            raise forms.ValidationError("Advance the clock by between 1 minute and 400 days.")
        return seconds

    def advance_clock(self, sandbox_id):
        """Advance the sandbox's clock: the records of what fell due, or [] and the refusal as this form's error.

        Only the sandbox's own clock tells how far it may still go (clock.LATEST)."""
        try:
            return runner.advance_clock(sandbox_id, self.cleaned_data["advance"])
        except ClockLimitError as exc:
            self.add_error("advance", str(exc))
            return []
        except runner.ReadOnly:
            self.add_error("advance", runner.READ_ONLY_MESSAGE)
            return []


class ActAsForm(forms.Form):
    principal = forms.ChoiceField(label="Principal")
    # The page explains "Assumed by" and the MFA code beside the form.
    via = forms.ChoiceField(label="Assumed by (roles)", required=False)
    mfa = forms.BooleanField(required=False, label="With an MFA session")
    token_code = forms.RegexField(regex=r"^\d{6}$", required=False, label="MFA code", max_length=6,
                                  widget=forms.TextInput(attrs={"size": 8, "inputmode": "numeric",
                                                                "autocomplete": "one-time-code"}))

    def __init__(self, *args, choices, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["principal"].choices = choices
        self.fields["via"].choices = [("", "—")] + users

    def clean(self):
        data = super().clean()
        principal = data.get("principal")
        if principal:
            data["account"], data["kind"], data["name"] = principal.split("/", 2)
            if data["kind"] == "role" and not data.get("via"):
                self.add_error("via", "A role is acted as through a session some user starts with AssumeRole.")
            if data["kind"] == "root" and data.get("mfa"):
                self.add_error("mfa", "The console acts as root directly; root MFA sessions are not simulated.")
        return data


def parse_tags(text):
    """'Key=Value' lines -> KMS's [{"TagKey", "TagValue"}]."""
    tags = []
    for line in text.splitlines():
        if line.strip():
            key, sep, value = line.partition("=")
            if not sep:
                # The page shows the text again in its field: the message names the line, not all of it.
                shown = line.strip() if len(line.strip()) <= 80 else line.strip()[:80] + "…"
                raise forms.ValidationError(f"'{shown}' is not Key=Value")
            tags.append({"TagKey": key.strip(), "TagValue": value.strip()})
    return tags


class TagsField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 2})

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "One Key=Value per line.")
        super().__init__(required=False, **kwargs)

    def clean(self, value):
        return parse_tags(super().clean(value))


KEY_SPECS = [
    ("SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT — AES-256-GCM: encrypt and decrypt inside KMS"),
    *[(f"RSA_{n}", f"RSA_{n} — encrypt and decrypt, or sign and verify") for n in (2048, 3072, 4096)],
    *[(f"ECC_NIST_P{n}", f"ECC_NIST_P{n} — ECDSA signatures, or ECDH key agreement") for n in (256, 384, 521)],
    ("ECC_SECG_P256K1", "ECC_SECG_P256K1 — ECDSA signatures on secp256k1 (cryptocurrencies)"),
    ("ECC_NIST_EDWARDS25519", "ECC_NIST_EDWARDS25519 — Ed25519 signatures"),
    *[(f"ML_DSA_{n}", f"ML_DSA_{n} — post-quantum signatures (FIPS 204)") for n in (44, 65, 87)],
    *[(f"ML_KEM_{n}", f"ML_KEM_{n} — post-quantum key encapsulation (FIPS 203)") for n in (768, 1024)],
    *[(f"HMAC_{n}", f"HMAC_{n} — generate and verify MACs") for n in (224, 256, 384, 512)],
]
KEY_USAGES = ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "ENCAPSULATE_DECAPSULATE"]


class CreateKeyForm(CallForm):
    operation = "CreateKey"
    Description = forms.CharField(max_length=8192, required=False)
    KeySpec = forms.ChoiceField(choices=KEY_SPECS, initial="SYMMETRIC_DEFAULT", required=False,
                                help_text="Cannot change after the key is made.")
    KeyUsage = forms.ChoiceField(choices=[(u, u) for u in KEY_USAGES], initial="ENCRYPT_DECRYPT", required=False,
                                 help_text="What the key is for; each KeySpec allows only some. Try a wrong pair to see why.")
    Origin = forms.ChoiceField(
        choices=[("AWS_KMS", "AWS_KMS — KMS generates the key material"),
                 ("EXTERNAL", "EXTERNAL — you import the key material")],
        initial="AWS_KMS",
    )
    Tags = TagsField()
    MultiRegion = forms.BooleanField(
        required=False, label="MultiRegion",
        help_text="A multi-Region primary key (id mrk-…): ReplicateKey then makes keys with the same key "
                  "material in other Regions.",
    )
    Policy = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Leave empty for the default key policy (the account's root gets kms:*).",
    )
    # Not CreateKey's: CreateAlias's, made right after it (AWS's console does the same two calls).
    AliasName = forms.CharField(max_length=256, required=False, label="Alias (optional)",
                                widget=forms.TextInput(attrs={"placeholder": "alias/payroll"}),
                                help_text="Begins with alias/. CreateAlias runs right after CreateKey.")

    def request(self):
        return {k: v for k, v in self.cleaned_data.items() if v and k != "AliasName"}


# Forms for the key page: each names its operation and builds the request for one key.


class ContextField(forms.CharField):
    """An encryption context typed as a JSON object of strings (how the API takes it)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        kwargs.setdefault("help_text", 'A JSON object of strings, e.g. {"tenant": "acme"}; {} for none.')
        super().__init__(required=False, strip=False, **kwargs)

    def clean(self, value):
        text = super().clean(value).strip() or "{}"
        try:
            context = learner_json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None
        if not isinstance(context, dict) or not all(isinstance(v, str) for v in context.values()):
            raise forms.ValidationError("An encryption context is an object whose values are strings.")
        return context


class Base64Field(forms.CharField):
    """Bytes typed as base64, as the CLI and boto3's base64 encoding print them."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        kwargs.setdefault("help_text", "Base64, as the CLI and boto3's base64 encoding print it.")
        super().__init__(**kwargs)

    def clean(self, value):
        try:
            return base64.b64decode("".join(super().clean(value).split()), validate=True)
        except (ValueError, binascii.Error):
            raise forms.ValidationError("That is not base64.") from None


class KeyAlgorithmForm(CallForm):
    """A form with an algorithm field whose choices are the key's own: `algorithms` names the
    DescribeKey field that lists them (SigningAlgorithms, MacAlgorithms, EncryptionAlgorithms)."""

    algorithm_field = algorithms = None

    def fit(self, meta):
        super().fit(meta)
        names = meta.get(self.algorithms) or []
        field = self.fields[self.algorithm_field]
        field.choices = [(name, name) for name in names]
        field.initial = names[0] if names else None


def _context(context):
    # An empty context is left out of the request, as the SDKs do.
    return {"EncryptionContext": context} if context else {}


class EncryptionForm(KeyAlgorithmForm):
    """Encrypt and Decrypt on a key page: an RSA key takes its RSAES_OAEP algorithm and no encryption
    context (that is for symmetric keys); a symmetric key's SYMMETRIC_DEFAULT is left out, as the SDKs do."""

    algorithm_field, algorithms = "EncryptionAlgorithm", "EncryptionAlgorithms"
    EncryptionAlgorithm = forms.ChoiceField(choices=[("SYMMETRIC_DEFAULT", "SYMMETRIC_DEFAULT")], required=False)

    def fit(self, meta):
        super().fit(meta)
        if meta["KeySpec"] == "SYMMETRIC_DEFAULT":
            del self.fields["EncryptionAlgorithm"]
        else:
            del self.fields["EncryptionContext"]

    def common(self):
        data = self.cleaned_data
        algorithm = {"EncryptionAlgorithm": data["EncryptionAlgorithm"]} if data.get("EncryptionAlgorithm") else {}
        return {**algorithm, **_context(data.get("EncryptionContext"))}


class EncryptForm(EncryptionForm):
    operation = "Encrypt"
    Plaintext = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 2}),
                                help_text="Text, sent as its UTF-8 bytes. KMS takes 1 to 4096 bytes (an RSA key, fewer).")
    EncryptionContext = ContextField()

    def request(self, key_id):
        return {"KeyId": key_id, "Plaintext": self.cleaned_data["Plaintext"].encode(), **self.common()}


class DecryptForm(EncryptionForm):
    operation = "Decrypt"
    CiphertextBlob = Base64Field()
    EncryptionContext = ContextField(help_text="The context it was encrypted with, exactly: {} for none.")

    def request(self, key_id=None):
        """With a KeyId (the key page's), KMS checks the blob is that key's: IncorrectKeyException if not."""
        request = {"CiphertextBlob": self.cleaned_data["CiphertextBlob"], **self.common()}
        return {"KeyId": key_id, **request} if key_id else request


class MessageForm(KeyAlgorithmForm):
    """Sign, Verify, GenerateMac and VerifyMac: a message typed as text, sent as its UTF-8 bytes."""

    Message = forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="Text, sent as its UTF-8 bytes: 1 to 4096 bytes.")

    def clean(self):
        data = super().clean()
        if "Message" in data:
            data["Message"] = data["Message"].encode()
        return data


class SignForm(MessageForm):
    operation = "Sign"
    algorithm_field, algorithms = "SigningAlgorithm", "SigningAlgorithms"
    MessageType = forms.ChoiceField(
        choices=[("RAW", "RAW — KMS hashes the message"), ("DIGEST", "DIGEST — the message is already a hash")],
        help_text="With DIGEST, type the digest as hex, e.g. the output of sha256sum.",
    )
    SigningAlgorithm = forms.ChoiceField()

    def clean(self):
        data = super().clean()
        if data.get("MessageType") == "DIGEST" and "Message" in data:
            try:
                data["Message"] = bytes.fromhex(data["Message"].decode().strip())
            except ValueError:
                self.add_error("Message", "With MessageType DIGEST, type the digest in hex.")
        return data

    def request(self, key_id):
        data = self.cleaned_data
        return {"KeyId": key_id, "Message": data["Message"], "MessageType": data["MessageType"],
                "SigningAlgorithm": data["SigningAlgorithm"]}


class VerifyForm(SignForm):
    operation = "Verify"
    Signature = Base64Field()

    def request(self, key_id):
        return {**super().request(key_id), "Signature": self.cleaned_data["Signature"]}


class GenerateMacForm(MessageForm):
    operation = "GenerateMac"
    algorithm_field, algorithms = "MacAlgorithm", "MacAlgorithms"
    MacAlgorithm = forms.ChoiceField()

    def request(self, key_id):
        data = self.cleaned_data
        return {"KeyId": key_id, "Message": data["Message"], "MacAlgorithm": data["MacAlgorithm"]}


class VerifyMacForm(GenerateMacForm):
    operation = "VerifyMac"
    Mac = Base64Field()

    def request(self, key_id):
        return {**super().request(key_id), "Mac": self.cleaned_data["Mac"]}


class GenerateDataKeyForm(CallForm):
    operation = "GenerateDataKey"
    KeySpec = forms.ChoiceField(choices=[("AES_256", "AES_256"), ("AES_128", "AES_128")])
    EncryptionContext = ContextField()

    def request(self, key_id):
        return {"KeyId": key_id, "KeySpec": self.cleaned_data["KeySpec"],
                **_context(self.cleaned_data["EncryptionContext"])}


class KeyOnlyForm(CallForm):
    """Operations whose request is just the KeyId."""

    def __init__(self, *args, operation, **kwargs):
        super().__init__(*args, **kwargs)
        self.operation = operation

    def request(self, key_id):
        return {"KeyId": key_id}


class ScheduleKeyDeletionForm(CallForm):
    operation = "ScheduleKeyDeletion"
    PendingWindowInDays = forms.IntegerField(
        min_value=1, initial=30, help_text="AWS accepts 7 to 30 days; try 3 to see the error it gives.",
    )

    def request(self, key_id):
        return {"KeyId": key_id, **self.cleaned_data}


class EnableKeyRotationForm(CallForm):
    operation = "EnableKeyRotation"
    RotationPeriodInDays = forms.IntegerField(initial=365, help_text="90 to 2560 days.")

    def request(self, key_id):
        return {"KeyId": key_id, **self.cleaned_data}


class UpdateKeyDescriptionForm(CallForm):
    operation = "UpdateKeyDescription"
    Description = forms.CharField(max_length=8192, required=False)

    def request(self, key_id):
        return {"KeyId": key_id, "Description": self.cleaned_data["Description"]}


class CreateAliasForm(CallForm):
    operation = "CreateAlias"
    AliasName = forms.CharField(max_length=256, initial="alias/", help_text="Begins with alias/; not alias/aws/.")

    def request(self, key_id):
        return {"AliasName": self.cleaned_data["AliasName"], "TargetKeyId": key_id}


class DeleteAliasForm(CallForm):
    operation = "DeleteAlias"
    AliasName = forms.CharField(max_length=256)

    def request(self, key_id):
        return {"AliasName": self.cleaned_data["AliasName"]}


class TagResourceForm(CallForm):
    operation = "TagResource"
    Tags = TagsField()

    def request(self, key_id):
        return {"KeyId": key_id, "Tags": self.cleaned_data["Tags"]}


class UntagResourceForm(CallForm):
    operation = "UntagResource"
    TagKeys = forms.CharField(help_text="Tag keys, separated by commas.")

    def request(self, key_id):
        return {"KeyId": key_id, "TagKeys": [k.strip() for k in self.cleaned_data["TagKeys"].split(",") if k.strip()]}


GRANT_OPERATIONS = ["Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom",
                    "ReEncryptTo", "DescribeKey", "CreateGrant", "RetireGrant"]


class CreateGrantForm(CallForm):
    operation = "CreateGrant"
    GranteePrincipal = forms.CharField(help_text="An ARN: a user, a role, or an account's root.")
    Operations = forms.MultipleChoiceField(
        choices=[(op, op) for op in GRANT_OPERATIONS], widget=forms.CheckboxSelectMultiple, initial=["Decrypt"],
    )
    RetiringPrincipal = forms.CharField(required=False)
    Name = forms.CharField(required=False, max_length=256)
    EncryptionContextSubset = TagsField(label="Encryption context subset (constraint)")

    def request(self, key_id):
        data = self.cleaned_data
        request = {"KeyId": key_id, "GranteePrincipal": data["GranteePrincipal"], "Operations": data["Operations"]}
        if data["RetiringPrincipal"]:
            request["RetiringPrincipal"] = data["RetiringPrincipal"]
        if data["Name"]:
            request["Name"] = data["Name"]
        if data["EncryptionContextSubset"]:
            subset = {t["TagKey"]: t["TagValue"] for t in data["EncryptionContextSubset"]}
            request["Constraints"] = {"EncryptionContextSubset": subset}
        return request


class GrantIdForm(CallForm):
    """RevokeGrant (the key's administrators) and RetireGrant (the retiring principal)."""

    GrantId = forms.CharField(max_length=128)

    def __init__(self, *args, operation, **kwargs):
        super().__init__(*args, **kwargs)
        self.operation = operation

    def request(self, key_id):
        return {"KeyId": key_id, "GrantId": self.cleaned_data["GrantId"]}


class ImportKeyMaterialForm(CallForm):
    operation = "ImportKeyMaterial"
    ExpirationModel = forms.ChoiceField(
        choices=[("KEY_MATERIAL_DOES_NOT_EXPIRE", "Does not expire"), ("KEY_MATERIAL_EXPIRES", "Expires")],
    )
    ValidForDays = forms.IntegerField(
        min_value=1, max_value=365, required=False, initial=30, label="Valid for (days)",
        help_text="Only when the material expires; counted on the sandbox clock.",
    )


class ReplicateKeyForm(CallForm):
    operation = "ReplicateKey"
    ReplicaRegion = forms.ChoiceField(choices=[(region, region) for region in sorted(REGIONS)])
    Description = forms.CharField(max_length=8192, required=False, help_text="The replica's own; optional.")
    Tags = TagsField(help_text="The replica's own (it copies none of the primary's). One Key=Value per line.")
    Policy = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The replica's own key policy; leave empty for the default one (the account's root gets kms:*).",
    )

    def request(self, key_id):
        optional = {name: value for name, value in self.cleaned_data.items()
                    if name in ("Description", "Tags", "Policy") and value}
        return {"KeyId": key_id, "ReplicaRegion": self.cleaned_data["ReplicaRegion"], **optional}


class UpdatePrimaryRegionForm(CallForm):
    operation = "UpdatePrimaryRegion"
    PrimaryRegion = forms.ChoiceField(help_text="One of the replicas' Regions: that replica becomes the primary.")

    def fit(self, meta):
        replicas = meta.get("MultiRegionConfiguration", {}).get("ReplicaKeys", [])
        self.fields["PrimaryRegion"].choices = [(r["Region"], r["Region"]) for r in replicas]

    def request(self, key_id):
        return {"KeyId": key_id, "PrimaryRegion": self.cleaned_data["PrimaryRegion"]}


KEY_ACTIONS = {
    "EnableKey": lambda data=None: KeyOnlyForm(data, operation="EnableKey"),
    "DisableKey": lambda data=None: KeyOnlyForm(data, operation="DisableKey"),
    "ScheduleKeyDeletion": ScheduleKeyDeletionForm,
    "CancelKeyDeletion": lambda data=None: KeyOnlyForm(data, operation="CancelKeyDeletion"),
    "EnableKeyRotation": EnableKeyRotationForm,
    "DisableKeyRotation": lambda data=None: KeyOnlyForm(data, operation="DisableKeyRotation"),
    "RotateKeyOnDemand": lambda data=None: KeyOnlyForm(data, operation="RotateKeyOnDemand"),
    "UpdateKeyDescription": UpdateKeyDescriptionForm,
    "CreateAlias": CreateAliasForm,
    "DeleteAlias": DeleteAliasForm,
    "TagResource": TagResourceForm,
    "UntagResource": UntagResourceForm,
    "CreateGrant": CreateGrantForm,
    "RevokeGrant": lambda data=None: GrantIdForm(data, operation="RevokeGrant"),
    "RetireGrant": lambda data=None: GrantIdForm(data, operation="RetireGrant"),
    "DeleteImportedKeyMaterial": lambda data=None: KeyOnlyForm(data, operation="DeleteImportedKeyMaterial"),
    "Encrypt": EncryptForm,
    "Decrypt": DecryptForm,
    "GenerateDataKey": GenerateDataKeyForm,
    "Sign": SignForm,
    "Verify": VerifyForm,
    "GenerateMac": GenerateMacForm,
    "VerifyMac": VerifyMacForm,
    "ReplicateKey": ReplicateKeyForm,
    "UpdatePrimaryRegion": UpdatePrimaryRegionForm,
}


def key_action_form(operation, meta, data=None, initial=None):
    """A key page's form for one operation on the key of `meta` (its KeyMetadata), its field ids its own:
    the page holds them all, and several share field names (EncryptionContext, AliasName, GrantId), which
    must not share ids and labels."""
    form = KEY_ACTIONS[operation](data)
    if initial:
        form.initial = initial
    form.fit(meta)
    form.auto_id = f"{operation}_%s"
    return form


# IAM. Each call goes to the acting identity's own account, as IAM calls do.

TRUST_ACCOUNT = """{{
  "Version": "2012-10-17",
  "Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{account}:root"}}, "Action": "sts:AssumeRole"}}]
}}"""


class CreateUserForm(CallForm):
    operation = "CreateUser"
    UserName = forms.CharField(max_length=64)

    def request(self):
        return dict(self.cleaned_data)


class CreateGroupForm(CallForm):
    operation = "CreateGroup"
    GroupName = forms.CharField(max_length=128)

    def request(self):
        return dict(self.cleaned_data)


class CreateRoleForm(CallForm):
    operation = "CreateRole"
    RoleName = forms.CharField(max_length=64)
    AssumeRolePolicyDocument = forms.CharField(
        label="Trust policy", widget=forms.Textarea(attrs={"rows": 7}),
        help_text="Who may assume the role. The default trusts the account, leaving it to IAM policies.",
    )

    def request(self):
        return dict(self.cleaned_data)


class AddUserToGroupForm(CallForm):
    operation = "AddUserToGroup"
    UserName = forms.CharField(max_length=64)
    GroupName = forms.CharField(max_length=128)

    def request(self):
        return dict(self.cleaned_data)


class DeleteAccessKeyForm(CallForm):
    operation = "DeleteAccessKey"
    UserName = forms.CharField(max_length=64, widget=forms.HiddenInput)
    AccessKeyId = forms.CharField(max_length=128, widget=forms.HiddenInput)

    def request(self):
        return dict(self.cleaned_data)


IAM_ACTIONS = {
    "CreateUser": CreateUserForm,
    "CreateGroup": CreateGroupForm,
    "CreateRole": CreateRoleForm,
    "AddUserToGroup": AddUserToGroupForm,
    "DeleteAccessKey": DeleteAccessKeyForm,
}


# The key page's "Share this key" panel.


class ShareForm(forms.Form):
    """Share with: another account of the sandbox, and optionally one of its users or roles."""

    account = forms.ChoiceField()
    principal = forms.CharField(required=False)

    def __init__(self, world, key_account, data=None):
        others = [a for a in world.doc["accounts"] if a != key_account]
        super().__init__(data or ({"account": others[0]} if others else None))
        self.fields["account"].choices = [(a, a) for a in others]

    def principals(self, world):
        """The chosen account's users and roles, as the principal picker offers them."""
        return share.principals_of(world, self.cleaned_data["account"])


# The policy simulator (a GET form: a decision has a URL).


class SimulatorForm(forms.Form):
    principal = forms.ChoiceField(label="Principal")
    mfa = forms.BooleanField(required=False, label="Signed in with MFA")
    source_ip = forms.GenericIPAddressField(required=False, label="Source IP", initial="127.0.0.1")
    via_service = forms.ChoiceField(required=False, label="Via service (kms:ViaService)", choices=simulator.VIA_SERVICES)
    action = forms.ChoiceField(label="Operation", choices=[(a, a) for a in simulator.ACTIONS], initial="kms:Decrypt")
    key = forms.CharField(required=False, label="Key", widget=forms.TextInput(attrs={"list": "key-refs", "size": 60}),
                          help_text="Key id, key ARN, alias name or alias ARN — resolved as KMS would, in the caller's account.")
    context = ContextField(label="Encryption context")

    def __init__(self, *args, world, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["principal"].choices = acting.choices(world)

    def identity(self):
        account, kind, name = self.cleaned_data["principal"].split("/", 2)
        return acting.Identity(account, kind, name, mfa=self.cleaned_data["mfa"])


# Envelope encryption and the anatomy of a ciphertext blob.


def key_choices(world):
    """Every key of the sandbox, named by ARN, so a key of another account works too."""
    choices = []
    for key_id, key in world.doc["kms"]["keys"].items():
        meta = key["KeyMetadata"]
        name = ", ".join(key_aliases(world, key_id)) or key_id
        choices.append((meta["Arn"], f"{name} ({meta['AWSAccountId']}, {meta['KeyState']})"))
    return choices


class EnvelopeEncryptForm(forms.Form):
    KeyId = forms.ChoiceField(label="KMS key")
    EncryptionContext = ContextField(label="Encryption context")
    message = forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 8}),
                              help_text="Any size: paste a megabyte if you like.")

    def __init__(self, *args, world, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["KeyId"].choices = key_choices(world)


class EnvelopeForm(forms.Form):
    """The stored envelope the page carries to step 5; the learner may change the context."""

    encrypted_data_key = forms.CharField(widget=forms.HiddenInput)
    nonce = forms.CharField(widget=forms.HiddenInput)
    ciphertext = forms.CharField(required=False, widget=forms.HiddenInput)
    tag = forms.CharField(widget=forms.HiddenInput)
    key_id = forms.CharField(widget=forms.HiddenInput)
    digest = forms.CharField(widget=forms.HiddenInput)
    context = ContextField(label="Encryption context for Decrypt")

    def clean(self):
        data = super().clean()
        try:
            self.envelope = envelope.Envelope(
                encrypted_data_key=base64.b64decode(data["encrypted_data_key"], validate=True),
                nonce=bytes.fromhex(data["nonce"]),
                ciphertext=base64.b64decode(data.get("ciphertext", ""), validate=True),
                tag=bytes.fromhex(data["tag"]),
                context=data["context"],
                key_id=data["key_id"],
                digest=data["digest"],
            )
        except (KeyError, ValueError, binascii.Error):
            raise forms.ValidationError("The envelope is damaged; encrypt again.") from None
        return data


class AnatomyForm(forms.Form):
    CiphertextBlob = forms.CharField(label="CiphertextBlob", widget=forms.Textarea(attrs={"rows": 3}),
                                     help_text="Base64, as the CLI and boto3's base64 encoding print it.")

    def clean_CiphertextBlob(self):
        try:
            blob = base64.b64decode("".join(self.cleaned_data["CiphertextBlob"].split()), validate=True)
            return blob, envelope.anatomy(blob)
        except (ValueError, binascii.Error):
            raise forms.ValidationError("That is not base64.") from None
        except AWSError as exc:
            raise forms.ValidationError(f"{exc.code}: not a kmslab ciphertext blob (its header does not parse).") from None


# The policy editors.

# A new inline policy starts as what most learners write first.
NEW_IDENTITY_POLICY = pf.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:DescribeKey"], "Resource": "*"}]}
)


class SaveForm(forms.Form):
    document = forms.CharField(strip=False)
    BypassPolicyLockoutSafetyCheck = forms.BooleanField(required=False)


class SyncForm(forms.Form):
    document = forms.CharField(strip=False, required=False)
    # Which part changed: the JSON, a card, or the preview's request options.
    source = forms.ChoiceField(choices=[("json", "json"), ("cards", "cards"), ("preview", "preview")], required=False)
    op = forms.CharField(required=False)


class PreviewForm(forms.Form):
    """The request the access preview asks about: an encryption context, MFA."""

    preview_context = ContextField()
    preview_mfa = forms.BooleanField(required=False)

    def request(self):
        if not self.is_valid():
            return access_preview.PLAIN
        return access_preview.Request(self.cleaned_data["preview_context"], self.cleaned_data["preview_mfa"])


class NewInlinePolicyForm(forms.Form):
    PolicyName = forms.RegexField(regex=r"^[\w+=,.@-]{1,128}$", initial="kms-access",
                                  help_text="Letters, digits and +=,.@-_ (IAM's rule for policy names).")


class CreatePolicyForm(forms.Form):
    PolicyName = forms.RegexField(regex=r"^[\w+=,.@-]{1,128}$", label="PolicyName",
                                  help_text="Letters, digits and +=,.@-_ (IAM's rule for policy names).")
    Description = forms.CharField(max_length=1000, required=False, label="Description")
    PolicyDocument = forms.CharField(strip=False, label="PolicyDocument", initial=NEW_IDENTITY_POLICY,
                                     widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}))

    def request(self):
        return {k: v for k, v in self.cleaned_data.items() if v}
