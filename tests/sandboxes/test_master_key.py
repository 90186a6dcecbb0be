"""The master key file: created once, private, whole."""
import stat

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
