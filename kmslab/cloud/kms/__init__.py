"""AWS KMS: one module per group of operations, each registering its operations."""
from . import aliases, cryptography, grants, imports, lifecycle, policies, public_keys, rotation, signing, tags  # noqa: F401
