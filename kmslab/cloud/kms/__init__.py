"""AWS KMS: one module per group of operations, each registering its operations."""
from . import cryptography, lifecycle  # noqa: F401
