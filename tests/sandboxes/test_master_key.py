"""The master key file: created once, private, whole."""
import stat
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ImproperlyConfigured

from kmslab.sandboxes.master_key import load_or_create, master_key


def test_the_first_start_creates_a_private_32_byte_key(tmp_path):
    path = tmp_path / "master.key"

    key = load_or_create(path)

    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]  # no temporary file left behind


def test_later_starts_read_the_same_key(tmp_path):
    path = tmp_path / "master.key"

    assert load_or_create(path) == load_or_create(path)


def test_a_file_that_is_not_a_key_is_refused(tmp_path):
    path = tmp_path / "master.key"
    path.write_bytes(b"too short")

    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        load_or_create(path)


def test_kmslab_master_key_file_names_where_the_server_keeps_it(settings, tmp_path):
    settings.KMSLAB_MASTER_KEY_FILE = tmp_path / "secrets" / "kmslab.key"
    master_key.cache_clear()
    try:
        key = master_key()
    finally:
        master_key.cache_clear()  # the next caller reads the suite's own key again

    assert (tmp_path / "secrets" / "kmslab.key").read_bytes() == key


def test_requests_racing_on_the_first_start_all_get_the_one_key(tmp_path):
    # A server's first requests come on threads of their own, all finding no key file.
    path = tmp_path / "master.key"
    start = threading.Barrier(16)

    def first_use():
        start.wait()
        return load_or_create(path)

    with ThreadPoolExecutor(16) as pool:
        keys = list(pool.map(lambda _: first_use(), range(16)))
    assert len(set(keys)) == 1 and keys[0] == path.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]
