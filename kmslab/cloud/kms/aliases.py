"""Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases (kms-alias).

An alias lives in `world.doc["kms"]["aliases"][alias ARN]`, so its name is
unique per account and Region, with ListAliases' fields:
{"AliasName", "AliasArn", "TargetKeyId", "CreationDate", "LastUpdatedDate"}.
"""
from ..errors import (
    AlreadyExistsException,
    LimitExceededException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from ..operations import operation
from ..policy.authorize import authorize_account
from .access import authorize_key, key_for
from .keys import AWS_MANAGED_SERVICES, alias_arn, page, refuse_aws_managed, require_not, resolve

MAX_ALIASES_PER_KEY = 50  # resource-limits: aliases per KMS key
# CreateAlias API reference, AliasName: "It can contain only alphanumeric characters, forward
# slashes (/), underscores (_), and dashes (-)". botocore's pattern (^[a-zA-Z0-9:/_-]+$) also
# lets colons through, so shapes.validate refuses every other character but that one.
NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-")


def _checked_name(ctx, name):
    """The alias ARN for a name the caller may manage: alias/ prefix, alias/aws/ reserved."""
    if not name.startswith("alias/"):
        raise ValidationException(
            'Alias must start with the prefix "alias/". '
            "Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
        )
    if name.startswith("alias/aws/"):
        # alias/aws/ names belong to AWS managed keys; no one may create, move or delete them.
        raise NotAuthorizedException("")
    return alias_arn(ctx.region, ctx.caller.account, name)


def _existing(ctx, request, action):
    """(ARN, alias, the key it points to now) of an alias the caller may change: changing
    an alias needs permission on the alias and on that key. The record names the key."""
    arn = _checked_name(ctx, request["AliasName"])
    alias = ctx.world.doc["kms"]["aliases"].get(arn)
    if alias is None:
        raise NotFoundException(f"Alias {arn} is not found.")
    key = ctx.world.doc["kms"]["keys"][alias["TargetKeyId"]]
    ctx.add_resource(key["KeyMetadata"]["Arn"])
    # Permission on the alias itself only IAM policies can give (alias-access): aliases have no policy.
    authorize_account(ctx, action, resource=arn)
    authorize_key(ctx, action, key)
    return arn, alias, key


def _target(ctx, request, action):
    """The key an alias is to point to: a customer managed key, not pending deletion."""
    key = key_for(ctx, request["TargetKeyId"], action)
    refuse_aws_managed(ctx, key, action)
    require_not(key, "PendingDeletion")
    return key


def _require_room(ctx, key):
    key_id = key["KeyMetadata"]["KeyId"]
    count = sum(1 for alias in ctx.world.doc["kms"]["aliases"].values() if alias["TargetKeyId"] == key_id)
    if count >= MAX_ALIASES_PER_KEY:
        raise LimitExceededException(f"A KMS key can have at most {MAX_ALIASES_PER_KEY} aliases.")


@operation("kms", "CreateAlias")
def create_alias(ctx, request):
    name = request["AliasName"]
    if not NAME_CHARACTERS.issuperset(name):
        # The wording moto's tests pin for a colon; AWS's own is not documented.
        raise ValidationException(f"{name} contains invalid characters for an alias")
    arn = _checked_name(ctx, name)
    # CreateAlias needs permission on the alias (IAM) and on the key (key policy).
    authorize_account(ctx, "kms:CreateAlias", resource=arn)
    key = _target(ctx, request, "kms:CreateAlias")
    # ct-createalias: the record names the key, then the alias.
    ctx.add_resource(arn)
    if arn in ctx.world.doc["kms"]["aliases"]:
        raise AlreadyExistsException(f"An alias with the name {arn} already exists")
    _require_room(ctx, key)
    ctx.world.doc["kms"]["aliases"][arn] = {
        "AliasName": name,
        "AliasArn": arn,
        "TargetKeyId": key["KeyMetadata"]["KeyId"],
        "CreationDate": ctx.time,
        "LastUpdatedDate": ctx.time,
    }
    return {}


@operation("kms", "UpdateAlias")
def update_alias(ctx, request):
    # UpdateAlias needs permission on the alias, the current key and the new one.
    arn, alias, current = _existing(ctx, request, "kms:UpdateAlias")
    key = _target(ctx, request, "kms:UpdateAlias")
    ctx.add_resource(arn)
    if key is not current:
        _require_room(ctx, key)
    alias["TargetKeyId"] = key["KeyMetadata"]["KeyId"]
    alias["LastUpdatedDate"] = ctx.time
    return {}


@operation("kms", "DeleteAlias")
def delete_alias(ctx, request):
    arn, _, _ = _existing(ctx, request, "kms:DeleteAlias")
    ctx.add_resource(arn)
    del ctx.world.doc["kms"]["aliases"][arn]
    return {}


@operation("kms", "ListAliases", read_only=True)
def list_aliases(ctx, request):
    target = None
    if request.get("KeyId"):
        key, _ = resolve(ctx.world, request["KeyId"], ctx.caller.account, ctx.region, ctx.time)
        target = key["KeyMetadata"]["KeyId"]
    authorize_account(ctx, "kms:ListAliases")
    aliases = ctx.world.doc["kms"]["aliases"]
    # The account's aliases in this Region, by name (world.LISTINGS): a page is read, not every alias.
    listed = aliases.listing.group(f"arn:aws:kms:{ctx.region}:{ctx.caller.account}")
    if target is not None:
        listed = [entry for entry in listed if aliases.peek(entry[1])["TargetKeyId"] == target]
    else:
        # ListAliases API reference: "The response might include several aliases that do not
        # have a TargetKeyId field. These are predefined aliases that AWS has created but has
        # not yet associated with a KMS key": alias/aws/<service> before its key is made.
        predefined = [alias_arn(ctx.region, ctx.caller.account, f"alias/aws/{service}") for service in AWS_MANAGED_SERVICES]
        listed = sorted([*listed, *((arn, arn) for arn in predefined if arn not in aliases)])
    chunk, tail = page(listed, request, 50, 100)
    return {"Aliases": [_entry(aliases, arn) for _, arn in chunk], **tail}


def _entry(aliases, arn):
    alias = aliases.peek(arn)
    if alias is None:
        return {"AliasName": "alias/" + arn.split(":alias/", 1)[1], "AliasArn": arn}
    return dict(alias)
