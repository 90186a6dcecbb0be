"""Parsing policies: the immutable parsed form, normalisation, and statement-numbered errors."""
import json

import pytest

from kmslab.cloud.errors import LimitExceededException, MalformedPolicyDocumentException
from kmslab.cloud.policy import grammar


def doc(*statements, **top):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements), **top})


STATEMENT = {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}


def test_parsing_is_cached_by_text():
    text = doc(STATEMENT)
    assert grammar.parse(text, "key") is grammar.parse(text, "key")


def test_a_bare_account_id_is_the_account_principal():
    [statement] = grammar.parse(doc(STATEMENT), "key").statements
    assert statement.aws_principals == {"arn:aws:iam::111122223333:root"}


def test_a_single_statement_object_and_string_elements_become_tuples():
    policy = grammar.parse(json.dumps({"Version": "2012-10-17", "Id": "key-default-1", "Statement": STATEMENT}), "key")
    [statement] = policy.statements
    assert (policy.id, statement.index, statement.actions, statement.resources) == ("key-default-1", 1, ("kms:*",), ("*",))


def test_principal_star_is_aws_star():
    [statement] = grammar.parse(doc({**STATEMENT, "Principal": "*"}), "key").statements
    assert statement.aws_principals == {"*"}


def test_conditions_keep_operator_parts_and_values_as_text():
    statement = {**STATEMENT, "Condition": {"ForAnyValue:StringLikeIfExists": {"kms:EncryptionContextKeys": ["a*", True, 3]}}}
    [cond] = grammar.parse(doc(statement), "key").statements[0].conditions
    assert (cond.base, cond.qualifier, cond.if_exists, cond.key_lower) == ("StringLike", "ForAnyValue", True, "kms:encryptioncontextkeys")
    assert cond.values == ("a*", "true", "3")


def test_variables_need_version_2012_10_17():
    statement = {**STATEMENT, "Condition": {"StringEquals": {"aws:username": "${aws:username}"}}}
    [new] = grammar.parse(doc(statement), "key").statements[0].conditions
    [old] = grammar.parse(doc(statement, Version="2008-10-17"), "key").statements[0].conditions
    assert new.prepared is None  # waits for the request
    assert old.prepared == ("${aws:username}",)


@pytest.mark.parametrize("statements,kind,words", [
    ([STATEMENT, {**STATEMENT, "Effect": "allow"}], "key", "Statement 2: Effect"),
    ([STATEMENT, {**STATEMENT, "Sid": "Use", "Action": "Encrypt"}], "key", 'Statement 2 (Sid "Use")'),
    ([{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Principal": "*"}], "identity", "cannot have Principal"),
])
def test_errors_say_which_statement_and_what_is_wrong(statements, kind, words):
    with pytest.raises(MalformedPolicyDocumentException) as caught:
        grammar.parse(doc(*statements), kind)
    assert words in caught.value.message


def test_the_key_policy_size_limit_is_a_limit_error():
    with pytest.raises(LimitExceededException):
        grammar.parse(doc({**STATEMENT, "Sid": "x" * 32768}), "key")


def test_an_identity_policy_has_no_size_or_character_rule_here():
    # IAM's own quotas (6,144 characters for a managed policy) are the IAM operations' business.
    grammar.parse(doc({"Sid": "x" * 40000, "Effect": "Allow", "Action": "kms:*", "Resource": "*"}), "identity")
