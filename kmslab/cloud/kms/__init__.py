"""AWS KMS: one module per group of operations, each registering its operations."""
from . import aliases, cryptography, grants, imports, lifecycle, multi_region, policies, public_keys, rotation, tags  # noqa: F401
