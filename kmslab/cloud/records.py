"""CloudTrail records, in CloudTrail's own record format (eventVersion 1.11).

Every call yields exactly one record, success or failure. Secrets are never
written: plaintext, ciphertext, data keys, imported material, secret access
keys, session tokens and MFA seeds are dropped from requestParameters and
responseElements (AWS does the same: see ct-encrypt, ct-decrypt in the KMS guide).
"""
import os
from functools import lru_cache

from . import shapes
from .clock import iso

EVENT_VERSION = "1.11"

# Fields that carry secrets or raw bytes; CloudTrail never logs them. STS's Credentials
# keep their AccessKeyId and Expiration, as AWS's AssumeRole record does (IAM User Guide,
# cloudtrail-integration, "Example AWS STS API events"; GetSessionToken returns the same
# Credentials shape): the key id ties the session's later calls to the call that made it.
# AWS's example also shows the session token ("<encoded session token blob>"); kmslab
# drops it with SecretAccessKey, so a record never holds what authenticates a request.
SECRET_FIELDS = frozenset(
    {
        "Plaintext", "CiphertextBlob", "SourceCiphertextBlob", "CiphertextForRecipient",
        "EncryptedKeyMaterial", "ImportToken", "PublicKey", "PrivateKeyPlaintext",
        "PrivateKeyCiphertextBlob", "Message", "Signature", "Mac", "SharedSecret", "SharedSecretCiphertextBlob",
        "SecretAccessKey",
        "SessionToken", "Base32StringSeed", "QRCodePNG",
        "AuthenticationCode1", "AuthenticationCode2", "TokenCode", "Password",
        "GrantToken", "GrantTokens",
        # CreateCustomKeyStore, UpdateCustomKeyStore: the kmsuser password, the XKS proxy's secret.
        "KeyStorePassword", "RawSecretAccessKey",
    }
)

# Operations whose response CloudTrail logs as null (the KMS cryptographic operations).
NULL_RESPONSE = frozenset(
    {
        "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateRandom",
        "Sign", "Verify", "GenerateMac", "VerifyMac", "GetPublicKey", "LookupEvents",
        # ct-encapsulate, ct-decapsulate; DeriveSharedSecret as the other cryptographic operations.
        "DeriveSharedSecret", "Encapsulate", "Decapsulate",
        # ct-getparametersforimport, ct-importkeymaterial: logged with a null response.
        "GetParametersForImport", "ImportKeyMaterial",
        # ct-getkeylastusage: a null response, although the operation only reads.
        "GetKeyLastUsage",
    }
)

SOURCES = {
    "kms": "kms.amazonaws.com",
    "sts": "sts.amazonaws.com",
    "iam": "iam.amazonaws.com",
    "cloudtrail": "cloudtrail.amazonaws.com",
}


@lru_cache(maxsize=None)
def _camel(name):
    return name[0].lower() + name[1:] if name else name


def new_event_id():
    """A random (version 4) UUID string, made without uuid.uuid4's object (one per record, on the hot path)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def scrub(value, shape=None):
    """AWS-cased request or response -> CloudTrail's camelCase, secrets dropped.

    Member names of structures become camelCase; the keys of maps (an
    encryption context, say) are the learner's data and stay as they are.
    """
    if type(value) is str:  # most values, so the cheapest test comes first
        return value
    kind = shape.type_name if shape is not None else None
    if isinstance(value, dict):
        if kind == "map":
            return {k: scrub(v, shape.value) for k, v in value.items()}
        members = shape.members if kind == "structure" else {}
        return {_camel(k): scrub(v, members.get(k)) for k, v in value.items() if k not in SECRET_FIELDS}
    if isinstance(value, list):
        return [scrub(v, shape.member if kind == "list" else None) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return None
    return value


def user_identity(caller):
    identity = {
        "type": caller.kind,
        "principalId": caller.principal_id,
        "arn": caller.arn,
        "accountId": caller.account,
    }
    if caller.access_key_id:
        identity["accessKeyId"] = caller.access_key_id
    if caller.kind == "IAMUser":
        identity["userName"] = caller.user_name
    if caller.session_created is not None:
        context = {
            "attributes": {
                "creationDate": iso(caller.session_created),
                "mfaAuthenticated": "true" if caller.mfa_authenticated else "false",
            }
        }
        if caller.kind == "AssumedRole":
            context["sessionIssuer"] = {
                "type": "Role",
                "principalId": caller.role_id,
                "arn": caller.role_arn,
                "accountId": caller.account,
                "userName": caller.role_name,
            }
        identity["sessionContext"] = context
    if caller.via_service:
        identity["invokedBy"] = caller.via_service
    return identity


def resource_type(arn):
    """CloudTrail's resource type for an ARN: AWS::KMS::Key, AWS::KMS::Alias (alias operations),
    or the IAM role AssumeRole names."""
    if arn.startswith("arn:aws:iam:") and ":role/" in arn:
        return "AWS::IAM::Role"
    if arn.startswith("arn:aws:kms:") and ":alias/" in arn:
        return "AWS::KMS::Alias"
    return "AWS::KMS::Key"


def api_call_record(ctx, response, error):
    """The AwsApiCall record for one call, made with the context it ran in."""
    record = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": user_identity(ctx.caller),
        "eventTime": iso(ctx.time),
        "eventSource": SOURCES[ctx.service],
        "eventName": ctx.operation,
        "awsRegion": ctx.region,
        "sourceIPAddress": ctx.caller.source_ip,
        "userAgent": ctx.caller.user_agent,
    }
    if error is not None:
        record["errorCode"] = error.code
        record["errorMessage"] = error.message
    model = shapes.operation_model(ctx.service, ctx.operation)
    if ctx.logged_request:
        record["requestParameters"] = scrub(ctx.logged_request, model and model.input_shape)
    else:
        record["requestParameters"] = None
    if error is not None or ctx.operation in NULL_RESPONSE or not response:
        record["responseElements"] = None
    else:
        record["responseElements"] = scrub(response, model and model.output_shape)
    if ctx.additional_event_data:
        record["additionalEventData"] = ctx.additional_event_data
    record["requestID"] = ctx.request_id
    record["eventID"] = ctx.event_id
    record["readOnly"] = ctx.read_only
    if ctx.resources:
        record["resources"] = [
            {"accountId": arn.split(":")[4], "type": resource_type(arn), "ARN": arn} for arn in ctx.resources
        ]
    record["eventType"] = "AwsApiCall"
    record["managementEvent"] = True
    record["recipientAccountId"] = ctx.recipient_account or ctx.caller.account
    record["eventCategory"] = "Management"
    if ctx.caller.secure_transport:
        record["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"}
    return record


def service_event_record(event_name, key_arn, time, response=None, additional=None, details=None):
    """An AwsServiceEvent: something KMS did by itself (a key deleted when its window ended).

    `details` is CloudTrail's serviceEventDetails (ct-rotatekey, ct-deleteexpiredkeymaterial)."""
    account = key_arn.split(":")[4]
    record = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": {"accountId": account, "invokedBy": "AWS Internal"},
        "eventTime": iso(time),
        "eventSource": "kms.amazonaws.com",
        "eventName": event_name,
        "awsRegion": key_arn.split(":")[3],
        "sourceIPAddress": "AWS Internal",
        "userAgent": "AWS Internal",
        "requestParameters": None,
        "responseElements": response,
    }
    if additional:
        record["additionalEventData"] = additional
    record.update(
        {
            "requestID": new_event_id(),
            "eventID": new_event_id(),
            "readOnly": False,
            "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}],
            "eventType": "AwsServiceEvent",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
    )
    if details:
        record["serviceEventDetails"] = details
    return record
