"""Condition operators on their own: one Condition entry against request values."""
import json

import pytest

from kmslab.cloud.policy import conditions, grammar, variables


def condition(block):
    text = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*", "Condition": block}]})
    [cond] = grammar.parse(text, "key").statements[0].conditions
    return cond


def test_the_result_carries_the_request_value_and_whether_the_key_was_missing():
    cond = condition({"StringEquals": {"kms:CallerAccount": "111122223333"}})
    assert conditions.evaluate(cond, {"kms:calleraccount": "111122223333"}) == (cond, True, "111122223333", False, None)
    assert conditions.evaluate(cond, {}) == (cond, False, None, True, None)


@pytest.mark.parametrize("block,value,expected", [
    ({"NumericLessThan": {"kms:RotationPeriodInDays": "90"}}, 89, True),
    ({"NumericLessThan": {"kms:RotationPeriodInDays": "90"}}, "89.5", True),
    ({"NumericLessThan": {"kms:RotationPeriodInDays": "90"}}, "ninety", False),
    ({"NumericEquals": {"kms:RotationPeriodInDays": "90"}}, 90.0, True),
])
def test_numbers_compare_as_numbers(block, value, expected):
    assert conditions.evaluate(condition(block), {"kms:rotationperiodindays": value})[1] is expected


@pytest.mark.parametrize("policy_value,request_value,expected", [
    ("2026-11-18T11:06:40Z", 1795000000, True),
    ("2026-11-18", 1795000000 - 40000, True),
    ("1795000000", "2026-11-18T11:06:40Z", True),
    ("2026-11-18T12:06:40+01:00", 1795000000.0, True),
])
def test_dates_accept_iso_8601_and_epoch_on_either_side(policy_value, request_value, expected):
    cond = condition({"DateEquals": {"aws:CurrentTime": policy_value}})
    assert conditions.evaluate(cond, {"aws:currenttime": request_value})[1] is expected


def test_a_variable_with_no_value_fails_the_comparison_and_says_so():
    cond = condition({"StringNotEquals": {"aws:PrincipalTag/team": "${aws:PrincipalTag/owner}"}})
    _, result, _, _, note = conditions.evaluate(cond, {"aws:principaltag/team": "blue"})
    assert result is False and "policy variable" in note


def test_tokens_keep_escapes_literal_and_parse_defaults():
    assert variables.tokens("a${*}b${aws:username, 'x'}*", True) == (
        ("lit", "a"), ("lit", "*"), ("lit", "b"), ("var", "aws:username", "x"), ("glob", "*"))


def test_arn_wildcards_stay_within_a_segment_but_the_resource_part_spans_colons():
    regex = variables.regex(variables.tokens("arn:aws:*:us-east-1:*:*", False), {}, arn=True)
    assert regex.fullmatch("arn:aws:logs:us-east-1:111122223333:log-group:/a/b:*")
    assert not regex.fullmatch("arn:aws:kms:extra:us-east-1:111122223333:key/x")


def test_ip_addresses_of_the_other_family_never_match():
    cond = condition({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "::1/128"]}})
    assert conditions.evaluate(cond, {"aws:sourceip": "::1"})[1] is True
    assert conditions.evaluate(cond, {"aws:sourceip": "not-an-ip"})[1] is False
