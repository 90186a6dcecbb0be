"""AWS KMS: one module per group of operations, each registering its operations."""
from . import (  # noqa: F401
    agreement, aliases, cryptography, custom_key_stores, data_key_pairs, encapsulation, grants, imports, lifecycle,
    macs, multi_region, policies, public_keys, rotation, signing, tags,
)
