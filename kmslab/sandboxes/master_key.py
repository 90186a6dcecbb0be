"""The server master key: 32 random bytes that seal every world's secrets.

It lives in var/master.key (or the file KMSLAB_MASTER_KEY_FILE names), is
created on first use with mode 0600, and never enters the database: a copy
of the database alone reveals no key material.
"""
import os
import threading
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SIZE = 32


def load_or_create(path):
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    create_once(path, os.urandom(SIZE))
    return _read(path)


def create_once(path, content):
    """Make the file at `path` hold `content`, unless it exists: mode 0600, and whole.

    A private temporary file is written, then linked into place: the file
    appears whole or not at all, and if two processes (or two requests'
    threads of one) race on first start, all end up with the one that won."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def _read(path):
    key = path.read_bytes()
    if len(key) != SIZE:
        raise ImproperlyConfigured(f"{path} must hold exactly {SIZE} bytes (it holds {len(key)})")
    return key


@lru_cache(maxsize=1)
def master_key():
    path = settings.KMSLAB_MASTER_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    return load_or_create(path)
