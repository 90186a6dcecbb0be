"""Tags on keys: TagResource, UntagResource, ListResourceTags (tagging-keys)."""
from ..errors import TagException
from ..operations import operation
from .access import key_for
from .keys import page, refuse_aws_managed, require_not

MAX_TAGS = 50  # resource-limits: 50 tags per KMS key


def tag_conditions(tags):
    """aws:RequestTag/<key> and aws:TagKeys, set by CreateKey and TagResource."""
    conditions = {f"aws:RequestTag/{tag['TagKey']}": tag["TagValue"] for tag in tags}
    if tags:
        conditions["aws:TagKeys"] = [tag["TagKey"] for tag in tags]
    return conditions


def check_tags(tags, existing=()):
    """The tag rules the model cannot express, with KMS's messages."""
    keys = [tag["TagKey"] for tag in tags]
    if any(key.startswith("aws:") for key in keys):
        raise TagException("Tags beginning with aws: are reserved")
    if len(set(keys)) != len(keys):
        raise TagException("Duplicate tag keys")
    if len({tag["TagKey"] for tag in existing} | set(keys)) > MAX_TAGS:
        raise TagException("Too many tags")


def _tagged_key(ctx, request, action, conditions):
    key = key_for(ctx, request["KeyId"], action, conditions)
    # TagResource API reference: you cannot tag an AWS managed key.
    refuse_aws_managed(ctx, key, action)
    require_not(key, "PendingDeletion")
    return key


@operation("kms", "TagResource")
def tag_resource(ctx, request):
    tags = request["Tags"]
    key = _tagged_key(ctx, request, "kms:TagResource", tag_conditions(tags))
    check_tags(tags, key["Tags"])
    values = {tag["TagKey"]: tag["TagValue"] for tag in key["Tags"]}
    values.update((tag["TagKey"], tag["TagValue"]) for tag in tags)
    key["Tags"] = [{"TagKey": k, "TagValue": v} for k, v in values.items()]
    return {}


@operation("kms", "UntagResource")
def untag_resource(ctx, request):
    names = request["TagKeys"]
    key = _tagged_key(ctx, request, "kms:UntagResource", {"aws:TagKeys": list(names)})
    if any(name.startswith("aws:") for name in names):
        raise TagException("Tags beginning with aws: are reserved")
    # A tag key the key does not have is not an error (UntagResource API reference).
    key["Tags"] = [tag for tag in key["Tags"] if tag["TagKey"] not in names]
    return {}


@operation("kms", "ListResourceTags", read_only=True)
def list_resource_tags(ctx, request):
    key = key_for(ctx, request["KeyId"], "kms:ListResourceTags")
    chunk, tail = page(key["Tags"], request, 50, 50)
    return {"Tags": [dict(tag) for tag in chunk], **tail}
