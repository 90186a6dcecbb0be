"""Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.

A grant lives in `world.doc["kms"]["grants"][GrantId]` with the fields of
AWS's GrantListEntry (KeyId as the key ARN, GrantId, Name, CreationDate,
GranteePrincipal, RetiringPrincipal, IssuingAccount, Operations, Constraints)
plus the GrantToken CreateGrant returned. Enforcement (grantee, operation,
constraint) is part of the authorization algorithm in access.py.

KMS developer guide: grants, create-grant-overview, grant-manage; API
Reference: CreateGrant, RetireGrant, RevokeGrant, ListGrants,
ListRetirableGrants. kmslab has no eventual consistency: a grant works as
soon as CreateGrant returns, with or without its grant token.
"""
import base64
import os

from ..errors import (
    AccessDeniedException,
    InvalidGrantIdException,
    InvalidGrantTokenException,
    NotFoundException,
    ValidationException,
)
from .. import shapes
from ..operations import operation
from ..policy.explain import ALLOW, IMPLICIT_DENY, Decision
from ..iam import principal_exists
from ..policy.authorize import authorize_account, decide_account, enforce
from .access import authorize_key, grantee_matches, key_for
from .keys import page, refuse_dry_run, require_enabled, resolve

TOKEN_PREFIX = b"kmslab-grant:"
ENTRY_FIELDS = (
    "KeyId", "GrantId", "Name", "CreationDate", "GranteePrincipal", "RetiringPrincipal",
    "IssuingAccount", "Operations", "Constraints",
)


def _grants(world):
    return world.doc["kms"]["grants"]


def entry(grant):
    """The GrantListEntry ListGrants shows: the record without its token."""
    return {k: grant[k] for k in ENTRY_FIELDS if k in grant}


def new_token(grant_id):
    return base64.b64encode(TOKEN_PREFIX + grant_id.encode() + b":" + os.urandom(48)).decode()


def grant_of_token(world, token):
    """The grant a token names, or None; InvalidGrantTokenException if it is not a grant token."""
    try:
        raw = base64.b64decode(token, validate=True)
    except ValueError:
        raw = b""
    if not raw.startswith(TOKEN_PREFIX):
        raise InvalidGrantTokenException("The grant token is not valid.")
    grant_id = raw[len(TOKEN_PREFIX):].split(b":", 1)[0].decode()
    grant = _grants(world).get(grant_id)
    return grant if grant is not None and grant.get("GrantToken") == token else None


def check_grant_tokens(world, tokens):
    """GrantTokens of any request must be well-formed grant tokens (InvalidGrantTokenException)."""
    for token in tokens or ():
        grant_of_token(world, token)


def _check_principal(world, name, field):
    # A grantee or retiring principal is an account, user, role or role session,
    # in any account; never a service principal or a group (create-grant-overview).
    if not name.startswith("arn:") or not principal_exists(world, name) or ":group/" in name:
        raise ValidationException(f"{field} {name} is not a valid principal: give the ARN of an AWS account, "
                                  "IAM user, IAM role or assumed-role session that exists.")


def _constraint_context(constraints):
    return constraints.get("EncryptionContextEquals") or constraints.get("EncryptionContextSubset") or {}


def _require_narrower(parent, operations, constraints):
    """A grant that allows CreateGrant can only make grants with a subset of its
    operations and constraints at least as strict (grants, "grant constraints")."""
    extra = sorted(set(operations) - set(parent["Operations"]))
    if extra:
        raise AccessDeniedException(
            f"Grant {parent['GrantId']} allows CreateGrant only for its own operations; {', '.join(extra)} is not one."
        )
    parent_constraints = parent.get("Constraints") or {}
    if "EncryptionContextEquals" in parent_constraints and (
        constraints.get("EncryptionContextEquals") != parent_constraints["EncryptionContextEquals"]
    ):
        raise AccessDeniedException(
            f"Grant {parent['GrantId']} has an EncryptionContextEquals constraint; a grant it makes needs the same one."
        )


@operation("kms", "CreateGrant")
def create_grant(ctx, request):
    check_grant_tokens(ctx.world, request.get("GrantTokens"))
    key, _ = resolve(ctx.world, request["KeyId"], ctx.caller.account, ctx.region, ctx.time)
    meta = key["KeyMetadata"]
    ctx.add_resource(meta["Arn"])
    # Not key_for: the principals are checked after the key is recorded and before authorizing.
    grantee = request["GranteePrincipal"]
    retiring = request.get("RetiringPrincipal")
    _check_principal(ctx.world, grantee, "GranteePrincipal")
    if retiring:
        _check_principal(ctx.world, retiring, "RetiringPrincipal")
    operations = list(request["Operations"])
    constraints = request.get("Constraints") or {}
    conditions = {
        "kms:GrantOperations": operations,
        "kms:GranteePrincipal": grantee,
        # True only when an integrated AWS service makes the grant for the caller.
        "kms:GrantIsForAWSResource": bool(ctx.caller.via_service),
    }
    if retiring:
        conditions["kms:RetiringPrincipal"] = retiring
    if constraints:
        conditions["kms:GrantConstraintType"] = next(iter(constraints))
        context = _constraint_context(constraints)
        conditions.update({f"kms:EncryptionContext:{k}": v for k, v in context.items()})
        if context:
            conditions["kms:EncryptionContextKeys"] = list(context)
    decision = authorize_key(ctx, "kms:CreateGrant", key, conditions)
    if decision.gate == "grant":
        _require_narrower(_grants(ctx.world)[decision.deciding[1]], operations, constraints)
    # key-state table: CreateGrant needs an Enabled key (DisabledException, or
    # KMSInvalidStateException pending import or deletion); ListGrants, RetireGrant and
    # RevokeGrant work in every state.
    require_enabled(key)
    if constraints and meta.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        raise ValidationException("Grant constraints are supported only for symmetric encryption KMS keys.")
    refuse_dry_run(request)
    name = request.get("Name")
    if name:
        # Retrying with the same Name and parameters returns the same grant (CreateGrant, "Name").
        grants = _grants(ctx.world)
        for grant in (grants[grant_id] for _, grant_id in grants.listing.group(meta["Arn"])):
            if (grant["KeyId"], grant.get("Name"), grant["GranteePrincipal"], grant.get("RetiringPrincipal"),
                    sorted(grant["Operations"]), grant.get("Constraints") or {}) == (
                    meta["Arn"], name, grantee, retiring, sorted(operations), constraints):
                return {"GrantToken": grant["GrantToken"], "GrantId": grant["GrantId"]}
    grant_id = os.urandom(32).hex()
    grant = {
        "KeyId": meta["Arn"],
        "GrantId": grant_id,
        "CreationDate": ctx.time,
        "GranteePrincipal": grantee,
        "IssuingAccount": f"arn:aws:iam::{ctx.caller.account}:root",
        "Operations": operations,
        "GrantToken": new_token(grant_id),
    }
    # GrantListEntry shows Name only when CreateGrant was given one.
    if name:
        grant["Name"] = name
    if retiring:
        grant["RetiringPrincipal"] = retiring
    if constraints:
        grant["Constraints"] = dict(constraints)
    _grants(ctx.world)[grant_id] = grant
    return {"GrantToken": grant["GrantToken"], "GrantId": grant_id}


@operation("kms", "ListGrants", read_only=True)
def list_grants(ctx, request):
    key = key_for(ctx, request["KeyId"], "kms:ListGrants", {"kms:GrantIsForAWSResource": bool(ctx.caller.via_service)})
    arn = key["KeyMetadata"]["Arn"]
    # The key's own grants, by (CreationDate, GrantId) (world.LISTINGS), not every grant in the world.
    grants = _grants(ctx.world)
    listed = [grants.peek(grant_id) for _, grant_id in grants.listing.group(arn)]
    listed = [
        g for g in listed
        if request.get("GrantId") in (None, g["GrantId"])
        and request.get("GranteePrincipal") in (None, g["GranteePrincipal"])
    ]
    chunk, tail = page(listed, request, 50, 100)
    return {"Grants": [entry(g) for g in chunk], **tail}


@operation("kms", "ListRetirableGrants", read_only=True)
def list_retirable_grants(ctx, request):
    principal = shapes.require(request, "RetiringPrincipal")
    authorize_account(ctx, "kms:ListRetirableGrants")
    # The retiring principal must be in the caller's account (ListRetirableGrants, "Cross-account use").
    if principal.split(":")[4:5] != [ctx.caller.account]:
        raise AccessDeniedException(
            f"User: {ctx.caller.arn} is not authorized to perform: kms:ListRetirableGrants for {principal}, "
            "which is not in the caller's account"
        )
    grants = [entry(g) for g in _grants(ctx.world).values() if g.get("RetiringPrincipal") == principal]
    grants.sort(key=lambda g: (g["CreationDate"], g["GrantId"]))
    chunk, tail = page(grants, request, 50, 100)
    return {"Grants": chunk, **tail}


def _find(ctx, request):
    if request.get("GrantToken"):
        grant = grant_of_token(ctx.world, request["GrantToken"])
        if grant is None:
            raise NotFoundException("The grant token does not name a grant that exists.")
        return grant
    if not (request.get("KeyId") and request.get("GrantId")):
        raise ValidationException("RetireGrant needs a GrantToken, or both KeyId and GrantId.")
    key, _ = resolve(ctx.world, request["KeyId"], ctx.caller.account, ctx.region, ctx.time)
    return _on_key(ctx, key, request["GrantId"])


def _on_key(ctx, key, grant_id):
    if len(grant_id) != 64 or any(c not in "0123456789abcdef" for c in grant_id):
        raise InvalidGrantIdException(f"Invalid grant ID {grant_id}")
    grant = _grants(ctx.world).get(grant_id)
    if grant is None or grant["KeyId"] != key["KeyMetadata"]["Arn"]:
        raise NotFoundException(f"Grant ID {grant_id} not found")
    return grant


def _retire_gate(caller, grant, iam_allows):
    """Who may retire a grant (grant-delete, "RetireGrant"): the retiring principal; the
    grantee, if the grant includes RetireGrant; the account that created the grant; and IAM
    principals an IAM policy allows kms:RetireGrant, in the key's account, or in the account
    named as retiring principal or grantee. kms:RetireGrant in a key policy counts for nothing."""
    key_account = grant["KeyId"].split(":")[4]
    if grant.get("RetiringPrincipal") and grantee_matches(grant["RetiringPrincipal"], caller, iam_allows):
        return "retiring-principal"
    if "RetireGrant" in grant["Operations"] and grantee_matches(grant["GranteePrincipal"], caller, iam_allows):
        return "grant"
    if caller.is_root and grant["IssuingAccount"] == f"arn:aws:iam::{caller.account}:root":
        return "issuing-account"
    if iam_allows and caller.account == key_account:
        return "iam"
    return "not-retiring-principal"


@operation("kms", "RetireGrant")
def retire_grant(ctx, request):
    grant = _find(ctx, request)
    ctx.add_resource(grant["KeyId"])
    caller = ctx.caller
    iam = decide_account(ctx.world, caller, "kms:RetireGrant", None, ctx.region, ctx.time, grant["KeyId"])
    if iam.gate == "explicit-deny":
        # grant-delete: "To deny permission to retire a grant, you can use a Deny action with
        # the kms:RetireGrant permission in your IAM policies."
        enforce(ctx, iam)
    gate = _retire_gate(caller, grant, iam.allowed)
    decision = Decision(ALLOW if gate != "not-retiring-principal" else IMPLICIT_DENY, gate, "kms:RetireGrant",
                        grant["KeyId"], caller.arn, caller.account, grant["KeyId"].split(":")[4])
    decision.policies = iam.policies
    decision.deciding = iam.deciding if gate == "iam" else ("grant", grant["GrantId"], grant.get("Name") or None)
    enforce(ctx, decision, message=(
        f"User: {caller.arn} is not authorized to perform: kms:RetireGrant on resource: {grant['KeyId']} "
        "because it is not the grant's retiring principal, a grantee allowed RetireGrant, or its issuing account, "
        "and no identity-based policy allows the kms:RetireGrant action"
    ))
    refuse_dry_run(request)
    del _grants(ctx.world)[grant["GrantId"]]
    return {}


@operation("kms", "RevokeGrant")
def revoke_grant(ctx, request):
    key = key_for(ctx, request["KeyId"], "kms:RevokeGrant", {"kms:GrantIsForAWSResource": bool(ctx.caller.via_service)})
    grant = _on_key(ctx, key, request["GrantId"])
    refuse_dry_run(request)
    del _grants(ctx.world)[grant["GrantId"]]
    return {}
