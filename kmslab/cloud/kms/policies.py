"""Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies (key-policy-overview).

A key has exactly one key policy, named "default", stored as the text it was
given (GetKeyPolicy returns it unchanged).
"""
from ..errors import NotFoundException
from ..operations import operation
from .access import check_key_policy, key_for
from .keys import page, refuse_aws_managed

POLICY_NAME = "default"


def _require_default(request):
    # The only valid policy name is "default" (GetKeyPolicy and PutKeyPolicy API reference).
    if request.get("PolicyName", POLICY_NAME) != POLICY_NAME:
        raise NotFoundException("No such policy exists")


@operation("kms", "GetKeyPolicy", read_only=True)
def get_key_policy(ctx, request):
    key = key_for(ctx, request["KeyId"], "kms:GetKeyPolicy")
    _require_default(request)
    return {"Policy": key["Policy"], "PolicyName": POLICY_NAME}


@operation("kms", "PutKeyPolicy")
def put_key_policy(ctx, request):
    conditions = {}
    if "BypassPolicyLockoutSafetyCheck" in request:
        conditions["kms:BypassPolicyLockoutSafetyCheck"] = request["BypassPolicyLockoutSafetyCheck"]
    key = key_for(ctx, request["KeyId"], "kms:PutKeyPolicy", conditions)
    # The key policy of an AWS managed key cannot be changed (key-policy-default).
    refuse_aws_managed(ctx, key, "kms:PutKeyPolicy")
    _require_default(request)
    check_key_policy(ctx, key["KeyMetadata"]["Arn"], request["Policy"], request.get("BypassPolicyLockoutSafetyCheck", False))
    key["Policy"] = request["Policy"]
    return {}


@operation("kms", "ListKeyPolicies", read_only=True)
def list_key_policies(ctx, request):
    key_for(ctx, request["KeyId"], "kms:ListKeyPolicies")
    names, tail = page([POLICY_NAME], request, 100, 1000)
    return {"PolicyNames": names, **tail}
