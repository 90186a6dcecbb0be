"""TagResource, UntagResource, ListResourceTags."""
import pytest
from ..factories import call, fails, make_key, ok


def tags(**pairs):
    return [{"TagKey": k, "TagValue": v} for k, v in pairs.items()]


def test_tagging_adds_and_overwrites_and_untagging_removes(world, admin):
    key_id = make_key(world, admin, Tags=tags(team="red", cost="1"))["KeyId"]

    ok(world, admin, "TagResource", KeyId=key_id, Tags=tags(team="blue", env="prod"))
    ok(world, admin, "UntagResource", KeyId=key_id, TagKeys=["cost", "never-there"])

    assert ok(world, admin, "ListResourceTags", KeyId=key_id) == {"Tags": tags(team="blue", env="prod"), "Truncated": False}


def test_cloudtrail_logs_the_tags_a_call_sets(world, admin):
    key_id = make_key(world, admin)["KeyId"]

    outcome = call(world, admin, "TagResource", KeyId=key_id, Tags=tags(team="red"))

    assert outcome.error is None
    assert outcome.record["requestParameters"]["tags"] == [{"tagKey": "team", "tagValue": "red"}]


@pytest.mark.parametrize(
    "new_tags, message",
    [
        (tags(**{"aws:owner": "me"}), "Tags beginning with aws: are reserved"),
        (tags(a="1") + tags(a="2"), "Duplicate tag keys"),
        (tags(**{f"k{n}": "v" for n in range(50)}), "Too many tags"),
    ],
    ids=["reserved", "duplicate", "fifty-first"],
)
def test_tag_rules(world, admin, new_tags, message):
    key_id = make_key(world, admin, Tags=tags(existing="x"))["KeyId"]

    error = fails(world, admin, "TagResource", KeyId=key_id, Tags=new_tags)

    assert (error.code, error.message) == ("TagException", message)
    assert ok(world, admin, "ListResourceTags", KeyId=key_id)["Tags"] == tags(existing="x")


def test_untagging_a_reserved_key_is_refused(world, admin):
    key_id = make_key(world, admin)["KeyId"]

    error = fails(world, admin, "UntagResource", KeyId=key_id, TagKeys=["aws:owner"])

    assert (error.code, error.message) == ("TagException", "Tags beginning with aws: are reserved")


def test_list_resource_tags_in_pages(world, admin):
    key_id = make_key(world, admin, Tags=tags(a="1", b="2", c="3"))["KeyId"]

    first = ok(world, admin, "ListResourceTags", KeyId=key_id, Limit=2)
    second = ok(world, admin, "ListResourceTags", KeyId=key_id, Marker=first["NextMarker"])

    assert first == {"Tags": tags(a="1", b="2"), "Truncated": True, "NextMarker": first["NextMarker"]}
    assert second == {"Tags": tags(c="3"), "Truncated": False}
