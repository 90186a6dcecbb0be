"""CloudTrail records, in CloudTrail's own record format (eventVersion 1.11).

Every call yields exactly one record, success or failure. Secrets are never
written: plaintext, ciphertext, data keys, imported material, secret access
keys, session tokens and MFA seeds are dropped from requestParameters and
responseElements (AWS does the same: see ct-encrypt, ct-decrypt in the KMS guide).
"""
import os
from datetime import datetime, timezone
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

# Services whose read-only operations CloudTrail logs with a null response: every ct- page
# of a read-only KMS operation (DescribeKey, GetKeyPolicy, ListGrants, Encrypt, Decrypt ...)
# shows "responseElements": null, and LookupEvents' answer is the trail itself. STS's
# read-only AssumeRole and GetSessionToken log their credentials (see SECRET_FIELDS).
NULL_RESPONSE_SERVICES = frozenset({"kms", "cloudtrail"})

# KMS operations whose record names the key in responseElements.keyId (its ARN) although
# the operation does not return it: "CloudTrail log entries for this operation recorded on
# or after December 2022 include the key ARN of the affected KMS key in the
# responseElements.keyId value" (ct-createalias, ct-updatealias, ct-deletealias,
# ct-disablekey, ct-enablekey, ct-enablekeyrotation, ct-creategrant; ct-untagresource's
# example shows it too). Other pages (ct-disable-key-rotation, ct-put-key-policy,
# ct-tagresource, ct-update-key-description, ct-revoke-grant) show a null response.
KEY_ARN_RESPONSE = frozenset(
    {"CreateAlias", "UpdateAlias", "DeleteAlias", "DisableKey", "EnableKey", "EnableKeyRotation",
     "CreateGrant", "UntagResource"}
)

SOURCES = {
    "kms": "kms.amazonaws.com",
    "sts": "sts.amazonaws.com",
    "iam": "iam.amazonaws.com",
    "cloudtrail": "cloudtrail.amazonaws.com",
}


@lru_cache(maxsize=None)
def _camel(name):
    """CloudTrail's member names, by the JavaBeans rule AWS's records follow: the first letter
    lowered, unless the first two are capitals (keyMetadata.AWSAccountId, ct-createkey)."""
    if not name or name[1:2].isupper():
        return name
    return name[0].lower() + name[1:]


def trail_date(epoch):
    """A timestamp inside requestParameters or responseElements, as AWS's records write one:
    "Aug 10, 2022, 10:38:27 PM", in UTC (ct-createkey's creationDate, ct-importkeymaterial's validTo)."""
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    hour = moment.hour % 12 or 12
    return f"{moment:%b} {moment.day}, {moment.year}, {hour}:{moment:%M:%S} {'AM' if moment.hour < 12 else 'PM'}"


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
    if kind == "timestamp" and isinstance(value, (int, float)):
        return trail_date(value)
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
    """CloudTrail's resource type for an ARN: the IAM role AssumeRole names, else AWS::KMS::Key,
    an alias's ARN too (ct-createalias and ct-updatealias type theirs AWS::KMS::Key)."""
    if arn.startswith("arn:aws:iam:") and ":role/" in arn:
        return "AWS::IAM::Role"
    return "AWS::KMS::Key"


def _response_elements(ctx, response, model):
    if ctx.read_only and ctx.service in NULL_RESPONSE_SERVICES:
        return None
    logged = scrub(response, model and model.output_shape) if response else {}
    if ctx.operation in KEY_ARN_RESPONSE and ctx.service == "kms":
        logged["keyId"] = next(arn for arn in ctx.resources if ":key/" in arn)
    return logged or None


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
    # A request whose every parameter is a secret (RetireGrant's GrantToken) logs null (ct-retiregrant).
    record["requestParameters"] = (ctx.logged_request and scrub(ctx.logged_request, model and model.input_shape)) or None
    record["responseElements"] = None if error is not None else _response_elements(ctx, response, model)
    if ctx.additional_event_data:
        record["additionalEventData"] = ctx.additional_event_data
    record["requestID"] = ctx.request_id
    record["eventID"] = new_event_id()
    record["readOnly"] = ctx.read_only
    # A KMS call that succeeded lists its resources even when there are none (ct-generaterandom,
    # ct-listaliases: []); no example shows a failed one without a key, which kmslab leaves without.
    if ctx.resources or (ctx.service == "kms" and error is None):
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


def synchronize_record(primary_arn, time):
    """KMS copying a multi-Region primary's shared properties to its replicas
    (ct-synchronize-multi-region-key): in the primary's Region, naming the primary,
    written by "AWS Internal" but typed AwsApiCall and with a requestID, as AWS's example is."""
    return service_event_record("SynchronizeMultiRegionKey", primary_arn, time, as_call=True)


def service_event_record(event_name, key_arn, time, response=None, additional=None, details=None, as_call=False):
    """An AwsServiceEvent: something KMS did by itself (a key deleted when its window ended).

    `details` is CloudTrail's serviceEventDetails (ct-rotatekey, ct-deleteexpiredkeymaterial).
    No request made it, so it has no requestID (ct-delete-key, ct-rotatekey, ct-deleteexpiredkeymaterial),
    unless AWS writes it `as_call`: an AwsApiCall with a requestID (SynchronizeMultiRegionKey)."""
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
    if as_call:
        record["requestID"] = new_event_id()
    record.update(
        {
            "eventID": new_event_id(),
            "readOnly": False,
            "resources": [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_arn}],
            "eventType": "AwsApiCall" if as_call else "AwsServiceEvent",
            "managementEvent": True,
            "recipientAccountId": account,
            "eventCategory": "Management",
        }
    )
    if details:
        record["serviceEventDetails"] = details
    return record
