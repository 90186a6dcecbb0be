"""AWS KMS: one module per group of operations, each registering its operations."""
from . import aliases, cryptography, data_key_pairs, grants, imports, lifecycle, policies, public_keys, rotation, tags  # noqa: F401
