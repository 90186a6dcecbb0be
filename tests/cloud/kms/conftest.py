"""Fixtures for every KMS core test."""
import pytest

from kmslab.cloud.kms import imports, specs


def pooled(generate, pool):
    """`generate(kind)` drawing on a session's pool: within one test the n-th call for a kind gets
    the n-th key of the pool, made on first need, so two calls of one test never share a key."""
    taken = {}

    def next_key(kind):
        keys = pool.setdefault(kind, [])
        n = taken[kind] = taken.get(kind, -1) + 1
        if n == len(keys):
            keys.append(generate(kind))
        return keys[n]

    return next_key


@pytest.fixture(scope="session")
def wrapping_key_pool():
    """RSA wrapping keys by size, made on first need and kept for the whole session."""
    return {}


@pytest.fixture(autouse=True)
def pooled_wrapping_keys(monkeypatch, wrapping_key_pool):
    """GetParametersForImport takes its RSA key pairs from the session's pool instead of
    generating them: key generation was most of the time of every test that imports
    material, and every key-state case of a PendingImport key (test_key_states.py).

    Every call within a test still gets a key no other call of the test has, as in
    production: material wrapped for one call's public key stays unusable with another's
    token. Only tests, each with its own fresh world, share keys."""
    monkeypatch.setattr(imports, "new_wrapping_key", pooled(imports.new_wrapping_key, wrapping_key_pool))


@pytest.fixture(scope="session")
def private_key_pool():
    """Asymmetric private keys by KeySpec, made on first need and kept for the whole session."""
    return {}


@pytest.fixture(autouse=True)
def pooled_private_keys(monkeypatch, private_key_pool):
    """CreateKey takes asymmetric private keys from the session's pool, as GetParametersForImport
    takes its wrapping keys: RSA_4096 generation alone takes seconds."""
    monkeypatch.setattr(specs, "new_private_key", pooled(specs.new_private_key, private_key_pool))
