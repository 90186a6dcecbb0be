"""Fixtures for every KMS core test."""
import pytest

from kmslab.cloud.kms import imports, specs


@pytest.fixture(scope="session")
def wrapping_key_pool():
    """RSA wrapping keys by size, made on first need and kept for the whole session."""
    return {}


@pytest.fixture(autouse=True)
def pooled_wrapping_keys(monkeypatch, wrapping_key_pool):
    """GetParametersForImport takes its RSA key pairs from the session's pool instead of
    generating them: key generation was most of the time of every test that imports
    material, and every key-state case of a PendingImport key (test_key_states.py).

    Within one test the n-th GetParametersForImport of a size gets the n-th key of that
    size, so every call still gets a key no other call of the test has, as in production:
    material wrapped for one call's public key stays unusable with another's token. Only
    tests, each with its own fresh world, share keys."""
    generate = imports.new_wrapping_key
    taken = {}

    def next_key(bits):
        pool = wrapping_key_pool.setdefault(bits, [])
        n = taken[bits] = taken.get(bits, -1) + 1
        if n == len(pool):
            pool.append(generate(bits))
        return pool[n]

    monkeypatch.setattr(imports, "new_wrapping_key", next_key)


@pytest.fixture(scope="session")
def private_key_pool():
    """Asymmetric private keys by KeySpec, made on first need and kept for the whole session."""
    return {}


@pytest.fixture(autouse=True)
def pooled_private_keys(monkeypatch, private_key_pool):
    """CreateKey takes asymmetric private keys from the session's pool, on the rule of
    pooled_wrapping_keys: the n-th key of a spec in a test is the n-th of the pool, so two
    keys of one test never share a private key. RSA_4096 generation alone takes seconds."""
    generate = specs.new_private_key
    taken = {}

    def next_key(spec):
        pool = private_key_pool.setdefault(spec, [])
        n = taken[spec] = taken.get(spec, -1) + 1
        if n == len(pool):
            pool.append(generate(spec))
        return pool[n]

    monkeypatch.setattr(specs, "new_private_key", next_key)
