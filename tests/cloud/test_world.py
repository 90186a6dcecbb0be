"""World: one sandbox as one JSON document, with secrets sealed under the master key."""
import os

import pytest
from cryptography.exceptions import InvalidTag

from kmslab.cloud.world import World


def test_a_sealed_secret_is_not_in_the_document_and_unseals_after_a_reload(master_key, clock):
    world = World.new(master_key, clock)
    world.doc["kms"]["probe"] = world.seal("kms-key-material", b"very secret bytes")

    reloaded = World.from_json(world.to_json(), master_key, clock)

    assert "very secret bytes" not in world.to_json()
    assert reloaded.unseal("kms-key-material", reloaded.doc["kms"]["probe"]) == b"very secret bytes"


def test_a_secret_sealed_for_one_purpose_does_not_unseal_for_another(master_key, clock):
    world = World.new(master_key, clock)
    sealed = world.seal("mfa-seed", b"seed")
    reloaded = World.from_json(world.to_json(), master_key, clock)

    with pytest.raises(InvalidTag):
        reloaded.unseal("kms-key-material", sealed)


def test_another_master_key_cannot_unseal(master_key, clock):
    world = World.new(master_key, clock)
    sealed = world.seal("kms-key-material", b"material")

    stranger = World.from_json(world.to_json(), os.urandom(32), clock)

    with pytest.raises(InvalidTag):
        stranger.unseal("kms-key-material", sealed)


def test_the_clock_offset_is_saved_with_the_world(master_key, clock):
    world = World.new(master_key, clock)
    world.clock.advance(3600)

    reloaded = World.from_json(world.to_json(), master_key)

    assert reloaded.clock.offset == 3600


def test_a_document_of_an_unknown_format_is_refused(master_key):
    with pytest.raises(ValueError, match="unsupported world format 2"):
        World.from_json('{"format": 2}', master_key)
