"""STS: GetCallerIdentity, GetSessionToken, AssumeRole.

Temporary credentials are kept in `world.doc["sessions"]` by access key id
(docs/architecture.md): the secret sealed, the session token only as its
SHA-256, the expiry on the sandbox clock. `principals.session_caller` turns a
session back into a Caller; the wire endpoint answers ExpiredTokenException
for a session where `session_expired` holds.

MFA: a valid TokenCode makes the session MFA-authenticated at the sandbox
time of the call (aws:MultiFactorAuthPresent true, aws:MultiFactorAuthAge
counted from then); a session without one has MultiFactorAuthPresent false.
Codes are checked against the real time (mfa.py).
"""
import base64
import hashlib
import os

from . import iam, mfa, records
from .errors import AccessDenied, MalformedPolicyDocumentException, ValidationError
from .operations import operation
from .policy import grammar
from .policy.authorize import decide_account, enforce
from .policy.evaluate import DIRECT, PolicyTrace, Request, StatementTrace, evaluate_policy
from .policy.explain import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Decision
from .principals import new_id, new_secret

# GetSessionToken (API reference): 12 hours by default; the root user's are capped at one hour.
SESSION_TOKEN_DEFAULT = 43200
ROOT_SESSION_MAX = 3600
# AssumeRole: one hour by default, and at most one hour when a role session assumes a role.
ASSUME_ROLE_DEFAULT = 3600
ROLE_CHAINING_MAX = 3600


def session_expired(world, session):
    return session["Expiration"] <= world.now()


def _issue(ctx, fields, duration, mfa_time):
    """Store a session and return its Credentials, the only time the secret and token are shown."""
    access_key_id = new_id("ASIA", 20)
    secret = new_secret()
    token = base64.b64encode(os.urandom(256)).decode()
    session = {
        "AccessKeyId": access_key_id,
        **fields,
        "SecretAccessKey": ctx.world.seal("secret-access-key", secret.encode()),
        "SessionTokenHash": hashlib.sha256(token.encode()).hexdigest(),
        "Expiration": ctx.time + duration,
        "CreationDate": ctx.time,
        "MfaAuthenticated": mfa_time is not None,
        "MfaAuthTime": mfa_time,
    }
    ctx.world.doc["sessions"][access_key_id] = session
    return {
        "AccessKeyId": access_key_id,
        "SecretAccessKey": secret,
        "SessionToken": token,
        "Expiration": session["Expiration"],
    }


def _mfa_time(ctx, request):
    """When MFA was last proven for the new session, or None.

    With SerialNumber and TokenCode, now (the code must be valid for one of the
    caller's devices); without them, whatever the calling session carries.
    """
    if not request.get("SerialNumber") and not request.get("TokenCode"):
        return ctx.caller.mfa_auth_time if ctx.caller.mfa_authenticated else None
    caller = ctx.caller
    device = None
    if caller.kind == "IAMUser" and request.get("SerialNumber"):
        device = iam.mfa_device(ctx.world, caller.account, request["SerialNumber"])
    if device is None or device["UserName"] != caller.user_name:
        raise AccessDenied(
            "MultiFactorAuthentication failed, unable to validate MFA code.  "
            "Please verify your MFA serial number is valid and associated with this user."
        )
    code = request.get("TokenCode") or ""
    if not mfa.verify(iam.mfa_seed(ctx.world, device), code, ctx.world.clock.real()):
        raise AccessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code.")
    return ctx.time


@operation("sts", "GetCallerIdentity", read_only=True)
def get_caller_identity(ctx, request):
    # Needs no permission: even a caller denied everything can ask who it is.
    caller = ctx.caller
    return {"UserId": caller.principal_id, "Account": caller.account, "Arn": caller.arn}


@operation("sts", "GetSessionToken", read_only=True)
def get_session_token(ctx, request):
    # GetSessionToken authenticates; no policy can allow or deny it (API reference).
    caller = ctx.caller
    if caller.session_created is not None:
        raise AccessDenied("Cannot call GetSessionToken with session credentials")
    duration = request.get("DurationSeconds", SESSION_TOKEN_DEFAULT)
    if caller.is_root:
        duration = min(duration, ROOT_SESSION_MAX)
    mfa_time = _mfa_time(ctx, request)
    fields = {"Account": caller.account, "Kind": "SessionToken", "UserName": caller.user_name}
    return {"Credentials": _issue(ctx, fields, duration, mfa_time)}


# CloudTrail counts STS's credential calls as read-only events.
@operation("sts", "AssumeRole", read_only=True)
def assume_role(ctx, request):
    caller = ctx.caller
    arn, session_name = request["RoleArn"], request["RoleSessionName"]
    if records.resource_type(arn) == "AWS::IAM::Role":
        ctx.add_resource(arn)
    if caller.is_root:
        raise AccessDenied("Roles may not be assumed by root accounts.")
    for unsupported in ("Policy", "PolicyArns", "Tags", "TransitiveTagKeys", "ProvidedContexts"):
        if request.get(unsupported):
            raise ValidationError(f"kmslab does not support {unsupported} in AssumeRole: session policies and "
                                  "session tags are not simulated.")
    duration = request.get("DurationSeconds", ASSUME_ROLE_DEFAULT)
    if caller.kind == "AssumedRole" and duration > ROLE_CHAINING_MAX:
        raise ValidationError(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )
    mfa_time = _mfa_time(ctx, request)
    role = _role(ctx, arn)
    _authorize_assume_role(ctx, role, arn, request, mfa_time)
    if duration > role["MaxSessionDuration"]:
        raise ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    account = role["Arn"].split(":")[4]
    fields = {
        "Account": account,
        "Kind": "AssumedRole",
        "RoleName": role["RoleName"],
        "RoleSessionName": session_name,
    }
    credentials = _issue(ctx, fields, duration, mfa_time)
    return {
        "Credentials": credentials,
        "AssumedRoleUser": {
            "AssumedRoleId": f"{role['RoleId']}:{session_name}",
            "Arn": f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/{session_name}",
        },
    }


def _role(ctx, arn):
    """The role an ARN names, or None: a missing role is denied like a forbidden one."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    account = ctx.world.account(parts[4])
    role = account and account["roles"].get(parts[5].rsplit("/", 1)[-1])
    return role if role and role["Arn"] == arn else None


def _authorize_assume_role(ctx, role, arn, request, mfa_time):
    """The trust policy and the caller's IAM policies, as for a resource policy (IAM user
    guide, reference_policies_evaluation-logic-cross-account and id_roles_compare-resource-policies):

    - an explicit Deny in either denies;
    - same account: a trust statement naming the caller (user, role, session
      or "*") allows by itself; one naming the caller's account delegates to
      the caller's IAM policies, which must then allow sts:AssumeRole;
    - another account: the trust policy must allow the caller or its account,
      and the caller's IAM policies must allow sts:AssumeRole on the role.
    """
    caller = ctx.caller
    conditions = {"sts:RoleSessionName": request["RoleSessionName"]}
    if request.get("ExternalId"):
        conditions["sts:ExternalId"] = request["ExternalId"]
    if mfa_time is not None:
        conditions["aws:MultiFactorAuthPresent"] = True
        conditions["aws:MultiFactorAuthAge"] = int(ctx.time - mfa_time)
    role_account = arn.split(":")[4] if arn.count(":") >= 5 else None
    identity = decide_account(ctx.world, caller, "sts:AssumeRole", conditions, ctx.region, ctx.time, arn)
    decision = Decision(IMPLICIT_DENY, "no-trust-policy-allow", "sts:AssumeRole", arn, caller.arn, caller.account,
                        role_account, policies=list(identity.policies))
    if role is not None:
        trust = _trust_trace(ctx, role, identity.request_values)
        decision.policies.insert(0, trust)
        _decide_trust(decision, trust, identity, same_account=role_account == caller.account)
    enforce(ctx, decision, AccessDenied,
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {arn}")


def _trust_trace(ctx, role, values):
    """The trust policy evaluated as a key policy is (principal, action, conditions), except
    that it has no Resource: the role it belongs to is the resource."""
    source = f"role/{role['RoleName']} trust policy"
    try:
        policy = grammar.parse(role["AssumeRolePolicyDocument"], "key")
    except MalformedPolicyDocumentException as exc:
        return PolicyTrace(source, "trust", None, (), exc.message)
    evaluated = evaluate_policy(policy, Request("sts:AssumeRole", role["Arn"], ctx.caller, values), source, "key")
    trace = PolicyTrace(source, "trust", policy, ())
    statements = []
    for t in evaluated.statements:
        applies = t.principal is not None and t.action and all(c[1] for c in t.conditions or ())
        t = StatementTrace(t.statement, t.principal, t.principal_link, t.action, True, t.conditions, applies)
        statements.append(t)
        if not applies:
            continue
        if t.statement.effect == "Deny":
            trace.deny = trace.deny or t
        elif t.principal == DIRECT:
            trace.allow_direct = trace.allow_direct or t
        else:
            trace.allow_delegating = trace.allow_delegating or t
    trace.statements = tuple(statements)
    return trace


def _decide_trust(decision, trust, identity, same_account):
    """Gates, as explanations name them: explicit-deny, trust-policy (it names the caller),
    trust-policy-and-iam, trust-policy-no-iam-allow, and no-trust-policy-allow (the default)."""
    if trust.deny or identity.decision == EXPLICIT_DENY:
        decision.decision, decision.gate = EXPLICIT_DENY, "explicit-deny"
        decision.deciding = _deciding(trust.source, trust.deny) if trust.deny else identity.deciding
        return
    allowed_by = trust.allow_direct or trust.allow_delegating
    if allowed_by is None:
        return
    if same_account and trust.allow_direct:
        decision.decision, decision.gate = ALLOW, "trust-policy"
    elif identity.allowed:
        decision.decision, decision.gate = ALLOW, "trust-policy-and-iam"
    else:
        decision.gate = "trust-policy-no-iam-allow"
        return
    decision.deciding = _deciding(trust.source, allowed_by)


def _deciding(source, statement_trace):
    return (source, statement_trace.statement.index, statement_trace.statement.sid)
