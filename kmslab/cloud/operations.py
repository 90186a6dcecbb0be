"""The registry of operations: (service, AWS operation name) -> function.

Each operation is `fn(ctx, request) -> response`, with AWS's field names in
both dicts, raising an AWSError to fail. Register it with @operation.
"""
from dataclasses import dataclass
from typing import Callable

REGISTRY = {}


@dataclass(frozen=True)
class Operation:
    service: str
    name: str
    fn: Callable
    read_only: bool


def operation(service, name, read_only=False):
    def register(fn):
        REGISTRY[(service, name)] = Operation(service, name, fn, read_only)
        return fn

    return register
