"""Evaluation traces are reused across calls: a reused trace must never answer
for a request whose condition values differ, nor show another request's values."""
import json

from kmslab.cloud import iam, principals
from kmslab.cloud.kms import access

from ..factories import make_key

A = "111122223333"


def key_record(world, admin):
    return world.doc["kms"]["keys"][make_key(world, admin)["KeyId"]]


def key_policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_the_same_caller_with_another_encryption_context_is_decided_afresh(world, admin):
    key = key_record(world, admin)
    bob = principals.user_caller(A, iam.add_user(world, A, "bob"))
    key["Policy"] = key_policy(
        {"Effect": "Allow", "Principal": {"AWS": bob.arn}, "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}}
    )
    acme = {"kms:EncryptionContext:tenant": "acme", "kms:EncryptionContextKeys": ["tenant"]}
    globex = {"kms:EncryptionContext:tenant": "globex", "kms:EncryptionContextKeys": ["tenant"]}

    assert access.decide(world, bob, "kms:Decrypt", key, acme).decision == "Allow"
    refused = access.decide(world, bob, "kms:Decrypt", key, globex)
    assert refused.decision == "ImplicitDeny"
    condition = refused.to_dict()["policies"][0]["statements"][0]["conditions"][0]
    assert (condition["requestValue"], condition["matches"]) == ("globex", False)
    assert access.decide(world, bob, "kms:Decrypt", key, acme).decision == "Allow"


def test_an_explanation_shows_the_value_the_request_sent_not_an_equal_one_of_another_type(world, admin):
    key = key_record(world, admin)
    bob = principals.user_caller(A, iam.add_user(world, A, "bob"))
    key["Policy"] = key_policy(
        {"Effect": "Allow", "Principal": {"AWS": bob.arn}, "Action": "kms:ScheduleKeyDeletion", "Resource": "*",
         "Condition": {"NumericGreaterThanEquals": {"kms:ScheduleKeyDeletionPendingWindowInDays": "1"}}}
    )
    as_number = access.decide(world, bob, "kms:ScheduleKeyDeletion", key,
                              {"kms:ScheduleKeyDeletionPendingWindowInDays": 1})
    as_bool = access.decide(world, bob, "kms:ScheduleKeyDeletion", key,
                            {"kms:ScheduleKeyDeletionPendingWindowInDays": True})

    def shown(decision):
        return decision.to_dict()["policies"][0]["statements"][0]["conditions"][0]["requestValue"]

    assert shown(as_number) == 1 and shown(as_number) is not True
    assert shown(as_bool) is True
