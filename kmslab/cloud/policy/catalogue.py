"""What the policy language knows about KMS: its actions and its condition keys.

Each KMS action records whether it can be used on a key in another account
(the "Cross-account use" line of each operation in the KMS API Reference),
what it is authorized against (a key, an alias, or "*"), and which condition
keys a request for it sets (KMS developer guide, "AWS KMS condition keys";
IAM user guide, "AWS global condition context keys"). Policy evaluation,
the linter and the console's condition builder all read from here.
"""
from dataclasses import dataclass

# Condition keys a request to any action sets, with their IAM types.
GLOBAL_KEYS = {
    "aws:CurrentTime": "Date",
    "aws:EpochTime": "Numeric",
    "aws:SecureTransport": "Bool",
    "aws:SourceIp": "IPAddress",
    "aws:PrincipalArn": "ARN",
    "aws:PrincipalAccount": "String",
    "aws:PrincipalType": "String",
    "aws:userid": "String",
    "aws:username": "String",
    "aws:MultiFactorAuthPresent": "Bool",
    "aws:MultiFactorAuthAge": "Numeric",
    "aws:TokenIssueTime": "Date",
    "aws:ViaAWSService": "Bool",
    "aws:RequestedRegion": "String",
    "aws:PrincipalOrgID": "String",
}

# Keys whose name ends in a learner-chosen part: aws:PrincipalTag/<tag key>, ...
PREFIX_KEYS = {
    "aws:PrincipalTag/": "String",
    "aws:RequestTag/": "String",
    "aws:ResourceTag/": "String",
    "kms:EncryptionContext:": "String",
}

# The KMS condition keys and their types (developer guide, conditions-kms).
KMS_KEYS = {
    "kms:BypassPolicyLockoutSafetyCheck": "Bool",
    "kms:CallerAccount": "String",
    "kms:DataKeyPairSpec": "String",
    "kms:EncryptionAlgorithm": "String",
    "kms:EncryptionContextKeys": "ArrayOfString",
    "kms:ExpirationModel": "String",
    "kms:GrantConstraintType": "String",
    "kms:GrantIsForAWSResource": "Bool",
    "kms:GrantOperations": "ArrayOfString",
    "kms:GranteePrincipal": "String",
    "kms:KeyAgreementAlgorithm": "String",
    "kms:KeyOrigin": "String",
    "kms:KeySpec": "String",
    "kms:KeyUsage": "String",
    "kms:MacAlgorithm": "String",
    "kms:MessageType": "String",
    "kms:MultiRegion": "Bool",
    "kms:MultiRegionKeyType": "String",
    "kms:PrimaryRegion": "String",
    "kms:ReEncryptOnSameKey": "Bool",
    "kms:ReplicaRegion": "String",
    "kms:RequestAlias": "String",
    "kms:ResourceAliases": "ArrayOfString",
    "kms:RetiringPrincipal": "String",
    "kms:RotationPeriodInDays": "Numeric",
    "kms:ScheduleKeyDeletionPendingWindowInDays": "Numeric",
    "kms:SigningAlgorithm": "String",
    "kms:ValidTo": "Date",
    "kms:ViaService": "String",
    "kms:WrappingAlgorithm": "String",
    "kms:WrappingKeySpec": "String",
    "aws:TagKeys": "ArrayOfString",
}

ALL_KEYS = {**GLOBAL_KEYS, **KMS_KEYS}
GLOBAL_LOWER = frozenset(name.lower() for name in GLOBAL_KEYS)
KEY_TYPES = {name.lower(): kind for name, kind in ALL_KEYS.items()}
PREFIX_TYPES = tuple((prefix.lower(), kind) for prefix, kind in PREFIX_KEYS.items())
MULTIVALUED = frozenset(name for name, kind in KEY_TYPES.items() if kind.startswith("ArrayOf"))

# The key-property keys of a KMS key resource operation ("KRO" in the guide):
# every action authorized against one key sets them from the key itself.
RESOURCE_KEYS = (
    "kms:CallerAccount", "kms:KeySpec", "kms:KeyUsage", "kms:KeyOrigin", "kms:MultiRegion",
    "kms:MultiRegionKeyType", "kms:ViaService", "kms:ResourceAliases", "aws:ResourceTag/",
)
ENCRYPTION_CONTEXT = ("kms:EncryptionContext:", "kms:EncryptionContextKeys")
CREATE_KEY_PROPERTIES = ("kms:KeySpec", "kms:KeyUsage", "kms:KeyOrigin", "kms:MultiRegion")
TAGGING = ("aws:RequestTag/", "aws:TagKeys")


@dataclass(frozen=True)
class Action:
    name: str  # as policies name it: "kms:Encrypt"
    cross_account: bool
    resource: str  # "key", "alias" (and its key), or "*"
    keys: tuple  # request-specific condition keys (names, or prefixes ending in : or /)

    def sets(self, key):
        """Whether a request for this action can set condition key `key` (any case)."""
        key = key.lower()
        if key in GLOBAL_LOWER or key.startswith("aws:principaltag/"):
            return True
        for name in self.keys + (RESOURCE_KEYS if self.resource == "key" else ()):
            name = name.lower()
            if key == name or (name.endswith((":", "/")) and key.startswith(name)):
                return True
        return False


def _actions():
    crypto = ENCRYPTION_CONTEXT + ("kms:EncryptionAlgorithm", "kms:RequestAlias")
    # (name, cross-account, resource, keys)
    table = [
        ("CancelKeyDeletion", False, "key", ()),
        ("ConnectCustomKeyStore", False, "*", ("kms:CallerAccount",)),
        ("CreateAlias", False, "alias", ()),
        ("CreateCustomKeyStore", False, "*", ("kms:CallerAccount",)),
        ("CreateGrant", True, "key", ENCRYPTION_CONTEXT + (
            "kms:GrantOperations", "kms:GranteePrincipal", "kms:RetiringPrincipal",
            "kms:GrantConstraintType", "kms:GrantIsForAWSResource")),
        ("CreateKey", False, "*", CREATE_KEY_PROPERTIES + TAGGING + (
            "kms:BypassPolicyLockoutSafetyCheck", "kms:CallerAccount", "kms:MultiRegionKeyType")),
        ("Decapsulate", True, "key", ("kms:RequestAlias",)),
        ("Decrypt", True, "key", crypto),
        ("DeleteAlias", False, "alias", ()),
        ("DeleteCustomKeyStore", False, "*", ("kms:CallerAccount",)),
        ("DeleteImportedKeyMaterial", False, "key", ()),
        ("DeriveSharedSecret", True, "key", ("kms:KeyAgreementAlgorithm", "kms:RequestAlias")),
        ("DescribeCustomKeyStores", False, "*", ("kms:CallerAccount",)),
        ("DescribeKey", True, "key", ("kms:RequestAlias",)),
        ("DisableKey", False, "key", ()),
        ("DisableKeyRotation", False, "key", ()),
        ("DisconnectCustomKeyStore", False, "*", ("kms:CallerAccount",)),
        ("EnableKey", False, "key", ()),
        ("Encapsulate", True, "key", ("kms:RequestAlias",)),
        ("EnableKeyRotation", False, "key", ("kms:RotationPeriodInDays",)),
        ("Encrypt", True, "key", crypto),
        ("GenerateDataKey", True, "key", crypto),
        ("GenerateDataKeyPair", True, "key", crypto + ("kms:DataKeyPairSpec",)),
        ("GenerateDataKeyPairWithoutPlaintext", True, "key", crypto + ("kms:DataKeyPairSpec",)),
        ("GenerateDataKeyWithoutPlaintext", True, "key", crypto),
        ("GenerateMac", True, "key", ("kms:MacAlgorithm", "kms:RequestAlias")),
        ("GenerateRandom", False, "*", ()),
        ("GetKeyLastUsage", False, "key", ()),
        ("GetKeyPolicy", False, "key", ()),
        ("GetKeyRotationStatus", True, "key", ()),
        ("GetParametersForImport", False, "key", ("kms:WrappingAlgorithm", "kms:WrappingKeySpec")),
        ("GetPublicKey", True, "key", ("kms:RequestAlias",)),
        ("ImportKeyMaterial", False, "key", ("kms:ExpirationModel", "kms:ValidTo")),
        ("ListAliases", False, "*", ()),
        ("ListGrants", True, "key", ("kms:GrantIsForAWSResource",)),
        ("ListKeyPolicies", False, "key", ()),
        ("ListKeyRotations", False, "key", ()),
        ("ListKeys", False, "*", ()),
        ("ListResourceTags", False, "key", ()),
        ("ListRetirableGrants", False, "*", ()),
        ("PutKeyPolicy", False, "key", ("kms:BypassPolicyLockoutSafetyCheck",)),
        ("ReEncryptFrom", True, "key", crypto + ("kms:ReEncryptOnSameKey",)),
        ("ReEncryptTo", True, "key", crypto + ("kms:ReEncryptOnSameKey",)),
        ("ReplicateKey", False, "key", TAGGING + ("kms:ReplicaRegion",)),
        ("RetireGrant", True, "key", ()),
        ("RevokeGrant", True, "key", ("kms:GrantIsForAWSResource",)),
        ("RotateKeyOnDemand", False, "key", ()),
        ("ScheduleKeyDeletion", False, "key", ("kms:ScheduleKeyDeletionPendingWindowInDays",)),
        ("Sign", True, "key", ("kms:SigningAlgorithm", "kms:MessageType", "kms:RequestAlias")),
        ("SynchronizeMultiRegionKey", False, "key", ()),
        ("TagResource", False, "key", TAGGING),
        ("UntagResource", False, "key", ("aws:TagKeys",)),
        ("UpdateAlias", False, "alias", ()),
        ("UpdateCustomKeyStore", False, "*", ("kms:CallerAccount",)),
        ("UpdateKeyDescription", False, "key", ()),
        ("UpdatePrimaryRegion", False, "key", ("kms:PrimaryRegion",)),
        ("Verify", True, "key", ("kms:SigningAlgorithm", "kms:MessageType", "kms:RequestAlias")),
        ("VerifyMac", True, "key", ("kms:MacAlgorithm", "kms:RequestAlias")),
    ]
    return {f"kms:{name}": Action(f"kms:{name}", cross, resource, keys) for name, cross, resource, keys in table}


ACTIONS = _actions()

# Grant constraints apply only to the operations that take an encryption
# context (API Reference, GrantConstraints); others ignore them.
ENCRYPTION_CONTEXT_OPERATIONS = frozenset(
    {
        "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair",
        "kms:GenerateDataKeyPairWithoutPlaintext", "kms:CreateGrant",
    }
)

# Actions that give control over a key rather than use of it (KMS best
# practices whitepaper, least privilege and separation of duties).
ADMIN_ACTIONS = frozenset(
    {
        "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:DisableKey",
        "kms:DisableKeyRotation", "kms:DeleteAlias", "kms:DeleteImportedKeyMaterial",
        "kms:CreateAlias", "kms:UpdateAlias", "kms:TagResource", "kms:UntagResource",
        "kms:EnableKey", "kms:ImportKeyMaterial", "kms:UpdateKeyDescription", "kms:RevokeGrant",
    }
)
CRYPTO_ACTIONS = frozenset(
    {
        "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair",
        "kms:GenerateDataKeyPairWithoutPlaintext", "kms:Sign", "kms:Verify", "kms:GenerateMac",
        "kms:VerifyMac", "kms:DeriveSharedSecret", "kms:Encapsulate", "kms:Decapsulate",
    }
)
# Destructive actions the whitepaper asks to protect with MFA.
MFA_ACTIONS = ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DeleteAlias", "kms:DeleteImportedKeyMaterial")


def key_type(name):
    """The IAM type of a condition key (any case), or None if kmslab does not know it."""
    lower = name.lower()
    found = KEY_TYPES.get(lower)
    if found:
        return found
    for prefix, kind in PREFIX_TYPES:
        if lower.startswith(prefix) and len(lower) > len(prefix):
            return kind
    return None
