"""AWS KMS: one module per group of operations, each registering its operations."""
from . import (  # noqa: F401
    aliases, cryptography, custom_key_stores, data_key_pairs, grants, imports, lifecycle, policies, public_keys,
    rotation, tags,
)
