"""KMS authorization: who may do what to which key.

`authorize_key(ctx, action, key, conditions)` is called by every operation on
a key, after the key is resolved and before anything changes; it raises
AccessDeniedException with AWS's message or returns. `authorize_account(ctx,
action, conditions)` is the same for operations on no key (CreateKey, ListKeys,
ListAliases, GenerateRandom): IAM policies only, on Resource "*".

`conditions` holds the request-specific condition keys the operation sets
(kms:EncryptionContext:<k>, kms:EncryptionAlgorithm, ...); the global ones
(aws:*) and the key properties (kms:KeySpec, kms:CallerAccount, ...) are added
here. Each decision, with its explanation, is appended to ctx.explanations.
"""
from ..errors import AccessDeniedException


def authorize_key(ctx, action, key, conditions=None):
    # Interim rule until the policy engine lands (issue 3): same account only.
    arn = key["KeyMetadata"]["Arn"]
    allowed = key["KeyMetadata"]["AWSAccountId"] == ctx.caller.account
    ctx.explanations.append({"action": action, "resource": arn, "decision": "Allow" if allowed else "ImplicitDeny"})
    if not allowed:
        raise AccessDeniedException(
            f"User: {ctx.caller.arn} is not authorized to perform: {action} on resource: {arn} "
            "because no resource-based policy allows the " + action + " action"
        )


def authorize_account(ctx, action, conditions=None):
    ctx.explanations.append({"action": action, "resource": "*", "decision": "Allow"})


def check_key_policy(ctx, key_arn, policy_text, bypass_lockout_check=False):
    """Validate a key policy about to be set by CreateKey or PutKeyPolicy.

    Raises MalformedPolicyDocumentException (or LimitExceededException for
    size) when KMS would refuse it, including the lockout safety check.
    """
    import json

    from ..errors import LimitExceededException, MalformedPolicyDocumentException

    if len(policy_text.encode()) > 32768:
        raise LimitExceededException("Policy exceeds the maximum size of 32768 bytes.")
    try:
        json.loads(policy_text)
    except ValueError:
        raise MalformedPolicyDocumentException("The new key policy is not valid JSON.") from None
