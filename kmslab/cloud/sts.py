"""STS: GetCallerIdentity, GetSessionToken, AssumeRole."""
from .operations import operation


@operation("sts", "GetCallerIdentity", read_only=True)
def get_caller_identity(ctx, request):
    caller = ctx.caller
    return {"UserId": caller.principal_id, "Account": caller.account, "Arn": caller.arn}
