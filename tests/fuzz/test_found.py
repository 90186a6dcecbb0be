"""What the fuzz found, each pinned by a plain test."""
import tracemalloc
from urllib.parse import parse_qsl

import pytest

from kmslab.api import endpoint, query
from kmslab.cloud import errors, learner_json
from kmslab.console import forms as console_forms
from kmslab.console import policy_form as pf


def peak_of(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_query_body_of_percent_escapes_parses_in_a_few_times_its_size():
    # Python's unquote splits a run of escapes into one object per escape: a 1 MB body
    # of %7B took some 75 MB to parse, for every request mallory sent.
    body = b"Action=ListUsers&Version=2010-05-08&PathPrefix=" + b"%7B" * (endpoint.MAX_BODY // 3 - 20)
    assert peak_of(lambda: query.parse_form(body)) < 8 * len(body)


@pytest.mark.parametrize("body", [
    b"Action=GetCallerIdentity&Version=2011-06-15",
    b"a=1&a=2&b=&c&&d=x+y%20z&e=%zz%4&f=%C3%A9%e2%82%ac&g=%2B%26%3D",
    b"=v&k==&%41%42=%61",
    b"",
])
def test_a_query_body_parses_as_pythons_form_parser_reads_it(body):
    expected = {}
    for name, value in parse_qsl(body.decode(), keep_blank_values=True, errors="strict"):
        expected.setdefault(name, value)
    assert query.parse_form(body) == expected


@pytest.mark.parametrize("body", [b"Action=GetCallerIdentity&x=\xff", b"x=%ff", b"%c3=1"])
def test_a_query_body_that_is_not_utf8_even_once_unescaped_is_an_invalid_parameter_value(body):
    with pytest.raises(errors.InvalidParameterValue):
        query.parse_form(body)


@pytest.mark.parametrize("string", [" " * 150_000, "\\n" * 75_000, "a\\u00e9" * 25_000])
def test_a_long_json_string_is_checked_for_depth_in_a_few_times_its_size(string):
    # The depth check's pattern for a string pushed a backtracking state per character:
    # any 150 KB string member (of any operation, even one it ignores) took 20 MB.
    text = '{"Description": "' + string + '"}'
    assert peak_of(lambda: learner_json.loads(text, max_chars=len(text))) < 8 * len(text)


def test_a_policy_editor_post_has_only_the_cards_and_conditions_it_sends():
    # "statements=1000000000" made the sync view build a billion empty cards: one request
    # held a worker (and its memory) for good. A count beyond the posted cards counts for nothing.
    posted = {"statements": ["100000"], "s0-effect": ["Deny"], "s0-conditions": ["100000"],
              "s0-c0-operator": ["Bool"], "s0-c0-key": ["aws:SecureTransport"], "s0-c0-values": ["false"]}
    cards = pf.cards_from_post(posted)
    assert [(c.effect, [(x.operator, x.key, x.values) for x in c.conditions]) for c in cards] == [
        ("Deny", [("Bool", "aws:SecureTransport", ["false"])])]


def test_a_policy_editor_post_keeps_a_card_whose_only_field_is_its_effect():
    cards = pf.cards_from_post({"statements": ["2"], "s0-effect": ["Allow"], "s1-effect": ["Deny"]})
    assert [c.effect for c in cards] == ["Allow", "Deny"]


def test_a_policy_editor_post_of_one_far_numbered_card_makes_one_card():
    cards = pf.cards_from_post({"statements": ["1000000000"], "s999999-effect": ["Deny"]})
    assert [c.effect for c in cards] == ["Deny"]


@pytest.mark.parametrize("number", ["²", "1" * 5000])
def test_a_policy_editor_post_with_a_number_int_cannot_read_counts_as_none(number):
    # str.isdigit takes "²", and int() refuses both: the sync view answered 500.
    cards = pf.cards_from_post({"statements": ["1"], "s0-index": [number], "s0-effect": ["Deny"],
                                "s0-conditions": [number], "s0-c0-operator": ["Bool"]})
    assert [(c.index, c.effect, c.conditions) for c in cards] == [(None, "Deny", [])]


def test_a_tag_line_without_an_equals_sign_is_named_in_the_error_but_not_repeated_whole():
    # The message quoted the whole line: a 600 KB line was on the page twice over (in its field and
    # in the error), escaped, some 30 times the body.
    with pytest.raises(console_forms.forms.ValidationError) as refused:
        console_forms.parse_tags("team=blue\n" + "x" * 600_000)
    assert refused.value.messages == [f"'{'x' * 80}…' is not Key=Value"]
    with pytest.raises(console_forms.forms.ValidationError) as refused:
        console_forms.parse_tags("nokey")
    assert refused.value.messages == ["'nokey' is not Key=Value"]
