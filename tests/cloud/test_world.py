"""World: one sandbox's cloud, stored as one row per entity, with secrets sealed under the master key."""
import copy
import json
import os

import pytest
from cryptography.exceptions import InvalidTag

from kmslab.cloud import iam
from kmslab.cloud import world as world_module
from kmslab.cloud.world import World


def reload(world, master_key, clock=None):
    return World.from_rows(world.rows(), master_key, clock)


def test_a_sealed_secret_is_not_in_the_stored_rows_and_unseals_after_a_reload(master_key, clock):
    world = World.new(master_key, clock)
    world.doc["kms"]["probe"] = world.seal("kms-key-material", b"very secret bytes")

    reloaded = reload(world, master_key, clock)

    assert not any("very secret bytes" in text for _, _, text in world.rows())
    assert reloaded.unseal("kms-key-material", reloaded.doc["kms"]["probe"]) == b"very secret bytes"


def test_a_secret_sealed_for_one_purpose_does_not_unseal_for_another(master_key, clock):
    world = World.new(master_key, clock)
    sealed = world.seal("mfa-seed", b"seed")
    reloaded = reload(world, master_key, clock)

    with pytest.raises(InvalidTag):
        reloaded.unseal("kms-key-material", sealed)


def test_another_master_key_cannot_unseal(master_key, clock):
    world = World.new(master_key, clock)
    sealed = world.seal("kms-key-material", b"material")

    stranger = reload(world, os.urandom(32), clock)

    with pytest.raises(InvalidTag):
        stranger.unseal("kms-key-material", sealed)


def test_the_clock_offset_is_saved_with_the_world(master_key, clock):
    world = World.new(master_key, clock)
    world.clock.advance(3600)

    reloaded = reload(world, master_key)

    assert reloaded.clock.offset == 3600


def test_a_world_of_an_unknown_format_is_refused(master_key):
    with pytest.raises(ValueError, match="unsupported world format 2"):
        World.from_rows([("", "", '{"format": 2}')], master_key)


def test_each_entity_is_a_row_of_its_own(world):
    sections = {section for section, _, _ in world.rows()}

    assert {"", "access_keys", "accounts.111122223333.users", "accounts.444455556666.users"} <= sections
    user = next(json.loads(text) for section, name, text in world.rows()
                if section == "accounts.111122223333.users" and name == "admin")
    assert user["Arn"] == "arn:aws:iam::111122223333:user/admin"


def loaded(world, master_key, clock):
    """The world as a process holds it after loading it: nothing to save yet."""
    fresh = reload(world, master_key, clock)
    assert fresh.take_changes() == []
    return fresh


def test_a_change_inside_an_entity_is_found_and_nothing_else(world, master_key, clock):
    world = loaded(world, master_key, clock)

    world.doc["accounts"]["111122223333"]["users"]["admin"]["Tags"].append({"Key": "team", "Value": "blue"})
    changes = world.take_changes()

    assert [(section, name) for section, name, _ in changes] == [("accounts.111122223333.users", "admin")]
    assert json.loads(changes[0][2])["Tags"] == [{"Key": "team", "Value": "blue"}]
    assert world.take_changes() == []


def test_every_later_change_to_an_entity_is_found_too(world, master_key, clock):
    world = loaded(world, master_key, clock)
    admin = world.doc["accounts"]["111122223333"]["users"]["admin"]
    assert world.take_changes() == []  # compared once: the world now holds a copy of what is stored

    for path in ("/one/", "/two/"):
        world.doc["accounts"]["111122223333"]["users"]["admin"]["Path"] = path
        assert [json.loads(text)["Path"] for _, _, text in world.take_changes()] == [path]
    admin["Tags"].append({"Key": "team", "Value": "blue"})  # a reference kept from before the changes
    world.doc["accounts"]["111122223333"]["users"].get("admin")

    assert [json.loads(text)["Tags"] for _, _, text in world.take_changes()] == [[{"Key": "team", "Value": "blue"}]]
    assert world.take_changes() == []


def test_past_its_copies_a_world_still_finds_every_change(world, master_key, clock, monkeypatch):
    monkeypatch.setattr(world_module, "COPIES", 1)
    world = loaded(world, master_key, clock)
    users = world.doc["accounts"]["111122223333"]["users"]
    keys = world.doc["access_keys"]
    list(users.values()), list(keys.values())
    assert world.take_changes() == [] and len(world._copies) == 1

    for _ in range(2):  # changed, and changed back: a copy must follow each change
        for user in users.values():
            user["Path"] = "/moved/" if user["Path"] == "/" else "/"
        for key in keys.values():
            key["Status"] = "Inactive" if key["Status"] == "Active" else "Active"
        changed = {(section, name) for section, name, _ in world.take_changes()}
        assert changed == {("accounts.111122223333.users", name) for name in users} | {("access_keys", k) for k in keys}
    assert len(world._copies) == 1


def test_reading_entities_changes_nothing(world, master_key, clock):
    world = loaded(world, master_key, clock)

    list(world.doc["access_keys"].values())
    world.doc["accounts"]["111122223333"]["users"].get("admin")
    dict(world.doc["accounts"]["111122223333"]["users"])

    assert world.take_changes() == []


def test_added_and_removed_entities_are_found(world, master_key, clock):
    world = loaded(world, master_key, clock)
    key, _ = iam.add_access_key(world, "111122223333", "admin")
    gone = next(name for name in world.doc["access_keys"] if name != key["AccessKeyId"])

    del world.doc["access_keys"][gone]
    changes = {(section, name): text for section, name, text in world.take_changes()}

    assert set(changes) == {("access_keys", key["AccessKeyId"]), ("access_keys", gone)}
    assert changes["access_keys", gone] is None
    assert set(reload(world, master_key, clock).doc["access_keys"]) == set(world.doc["access_keys"])


@pytest.mark.parametrize("copied", [
    lambda users: {**users},
    dict,
    lambda users: users.copy(),
    copy.copy,
    lambda users: dict(users.items()),
    lambda users: {"admin": next(iter(users.values()))},
])
def test_an_entity_reached_through_a_copy_of_its_section_is_still_found(world, master_key, clock, copied):
    world = loaded(world, master_key, clock)
    users = world.doc["accounts"]["111122223333"]["users"]

    copied(users)["admin"]["Path"] = "/moved/"

    assert [json.loads(text)["Path"] for _, _, text in world.take_changes()] == ["/moved/"]


def test_a_deep_copy_of_a_section_is_a_copy(world, master_key, clock):
    world = loaded(world, master_key, clock)

    copy.deepcopy(world.doc["accounts"]["111122223333"]["users"])["admin"]["Path"] = "/moved/"

    assert world.take_changes() == []


def test_the_rest_of_the_world_is_found_when_it_changes(world, master_key, clock):
    world = loaded(world, master_key, clock)

    world.add_account("777788889999")
    world.doc["lab"] = {"slug": "demo"}
    world.clock.advance(60)
    changes = world.take_changes()

    assert [(section, name) for section, name, _ in changes] == [("", "")]
    rest = json.loads(changes[0][2])
    assert "777788889999" in rest["accounts"] and rest["lab"] == {"slug": "demo"} and rest["clock_offset"] == 60


def test_a_world_reloads_in_the_order_its_entities_were_made(world, master_key, clock):
    for name in ("carol", "bob", "dave"):
        iam.add_user(world, "111122223333", name)

    users = reload(world, master_key, clock).doc["accounts"]["111122223333"]["users"]

    assert list(users) == ["admin", "carol", "bob", "dave"]
