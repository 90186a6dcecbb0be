import os

import pytest

from kmslab.cloud import principals, seed
from kmslab.cloud.clock import Clock

T0 = 1_795_000_000.0  # a fixed instant, so tests never depend on the real clock


class FrozenClock(Clock):
    def __init__(self, start=T0):
        self.t = start
        super().__init__(0.0, real=lambda: self.t)


@pytest.fixture
def master_key():
    return os.urandom(32)


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
def world(master_key, clock):
    w, creds = seed.default_world(master_key, clock)
    w.test_credentials = creds
    return w


@pytest.fixture
def admin(world):
    """The admin user of account 111122223333, signing with its long-term key."""
    return principals.caller_for_access_key(world, world.test_credentials[0]["access_key_id"])


@pytest.fixture
def admin_b(world):
    """The admin user of account 444455556666."""
    return principals.caller_for_access_key(world, world.test_credentials[1]["access_key_id"])


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """Test on an SQLite file rather than Django's default shared-cache memory database.

    Threads in the sandbox concurrency tests need what production has: real
    transactions with BEGIN IMMEDIATE and WAL, one connection each.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Each test starts with no creations counted against 127.0.0.1 (kmslab.security's per-minute limit)."""
    from django.core.cache import cache

    cache.clear()
