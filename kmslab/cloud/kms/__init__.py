"""AWS KMS: one module per group of operations, each registering its operations."""
from . import aliases, cryptography, grants, imports, lifecycle, policies, rotation, tags  # noqa: F401
