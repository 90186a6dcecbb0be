"""JSON a learner wrote — policies, encryption contexts — is parsed by one parser with limits:
text nested thousands deep is AWS's malformed-policy error, never a crash."""
import json

import pytest

from kmslab.cloud import learner_json

from .factories import fails, ok

DEEP_LISTS = "[" * 5000 + "]" * 5000
DEEP_OBJECTS = '{"a":' * 5000 + "1" + "}" * 5000
# Deep enough to break what walks a parsed document, shallow enough for Python's parser.
HUNDREDS_DEEP = '{"Version": "2012-10-17", "Statement": ' + "[" * 600 + "]" * 600 + "}"


@pytest.mark.parametrize("text", [DEEP_LISTS, DEEP_OBJECTS, HUNDREDS_DEEP])
def test_text_nested_deeper_than_the_limit_is_a_json_error_at_its_place(text):
    with pytest.raises(json.JSONDecodeError) as raised:
        learner_json.loads(text)
    assert "nested more than 32 levels deep" in raised.value.msg
    assert raised.value.lineno == 1 and raised.value.colno < 200


def test_brackets_inside_strings_do_not_count_and_a_policy_parses_as_before():
    doc = {"Statement": [{"Sid": "[[[[{{{{" * 50, "Condition": {"StringEquals": {"k": ["v"]}}}]}
    assert learner_json.loads(json.dumps(doc)) == doc


def test_text_longer_than_the_limit_and_nan_are_refused():
    with pytest.raises(ValueError):
        learner_json.loads('"' + "x" * 200_000 + '"')
    with pytest.raises(ValueError):
        learner_json.loads('{"a": NaN}')


@pytest.mark.parametrize("text", [DEEP_LISTS, DEEP_OBJECTS, HUNDREDS_DEEP])
def test_alice_creating_a_key_with_a_deep_policy_gets_malformed_policy_document(world, admin, text):
    message = fails(world, admin, "kms:CreateKey", "MalformedPolicyDocumentException", Policy=text[:32000]).message
    assert "not valid JSON" in message


@pytest.mark.parametrize("text", [DEEP_LISTS, DEEP_OBJECTS, HUNDREDS_DEEP])
def test_alice_putting_a_deep_key_policy_gets_malformed_policy_document(world, admin, text):
    key_id = ok(world, admin, "kms:CreateKey")["KeyMetadata"]["KeyId"]
    fails(world, admin, "kms:PutKeyPolicy", "MalformedPolicyDocumentException", KeyId=key_id, Policy=text[:32000]).message


@pytest.mark.parametrize("text", [DEEP_LISTS, DEEP_OBJECTS, HUNDREDS_DEEP])
def test_alice_putting_a_deep_user_policy_gets_malformed_policy_document(world, admin, text):
    ok(world, admin, "iam:CreateUser", UserName="bob")
    message = fails(world, admin, "iam:PutUserPolicy", "MalformedPolicyDocument",
                    UserName="bob", PolicyName="p", PolicyDocument=text).message
    assert "nested" in message
