"""A console form that fails keeps what the learner typed, to fix and send again — on every page.

Failing is either of two things: the form itself is invalid, or the call it
made was refused (denied, or an AWS error). Only a call that worked clears
its form.
"""
import html
import json
import re

import pytest

from .html_forms import fields
from .personas import A, B


def shown(page, action, name):
    """What the form posting to `action` shows in its field `name`: an input's value, a textarea's text,
    a select's chosen option, a checkbox's state."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>', page, re.S)
    assert form, f"no form posts to {action}"
    form = form.group(0)
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', form, re.S)
    if select:
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
        return html.unescape(chosen.group(1)) if chosen else None
    textarea = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', form, re.S)
    if textarea:
        return html.unescape(textarea.group(1)).removeprefix("\n")
    field = re.search(rf'<input[^>]*name="{name}"[^>]*>', form)
    assert field, f"no field {name} in the form posting to {action}"
    if 'type="checkbox"' in field.group(0):
        return " checked" in field.group(0)
    value = re.search(r'value="([^"]*)"', field.group(0))
    return html.unescape(value.group(1)) if value else ""


def codes(page):
    """The AWS error codes a page shows."""
    return re.findall(r'class="code">([^<]*)<', page)


def as_bob(learner):
    """Act as bob, a user of account A with no policies: every call on a key is denied."""
    learner.post(learner.home + "iam/call/CreateUser/", {"UserName": "bob"})
    learner.act_as(f"{A}/user/bob")


# Every key action with a field, with what the learner typed.
KEY_ACTIONS = [
    ("ScheduleKeyDeletion", {"PendingWindowInDays": "7"}),
    ("EnableKeyRotation", {"RotationPeriodInDays": "180"}),
    ("UpdateKeyDescription", {"Description": "payroll, 2026"}),
    ("CreateAlias", {"AliasName": "alias/payroll"}),
    ("DeleteAlias", {"AliasName": "alias/payroll"}),
    ("TagResource", {"Tags": "team=blue\ncost=42"}),
    ("UntagResource", {"TagKeys": "team, cost"}),
    ("CreateGrant", {"GranteePrincipal": f"arn:aws:iam::{A}:user/bob", "Name": "reader",
                     "EncryptionContextSubset": "tenant=acme"}),
    ("RetireGrant", {"GrantId": "0123abcd"}),
    ("RevokeGrant", {"GrantId": "0123abcd"}),
]


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
def test_a_denied_schedule_key_deletion_keeps_the_window_the_learner_typed(alice, htmx):
    key_page = alice.create_key()
    as_bob(alice)

    page = alice.post(key_page + "ScheduleKeyDeletion/", {"PendingWindowInDays": "7"}, htmx=htmx).content.decode()

    assert codes(page) == ["AccessDeniedException"]
    assert shown(page, key_page + "ScheduleKeyDeletion/", "PendingWindowInDays") == "7"


@pytest.mark.parametrize("operation, typed", KEY_ACTIONS, ids=[op for op, _ in KEY_ACTIONS])
def test_every_refused_key_action_keeps_what_was_typed(alice, operation, typed):
    key_page = alice.create_key()
    as_bob(alice)

    page = alice.post(key_page + f"{operation}/", {**typed, "Operations": ["Decrypt", "Encrypt"]},
                      htmx=True).content.decode()

    # Denied, or refused before the policies are read (no such alias, no such grant): an AWS error either way.
    assert codes(page) in (["AccessDeniedException"], ["NotFoundException"], ["InvalidGrantIdException"])
    for name, value in typed.items():
        assert shown(page, key_page + f"{operation}/", name) == value


def test_a_window_kms_refuses_stays_in_the_field_and_one_it_accepts_clears_it(alice):
    key_page = alice.create_key()
    action = key_page + "ScheduleKeyDeletion/"

    refused = alice.post(action, {"PendingWindowInDays": "3"}, htmx=True).content.decode()
    assert codes(refused) == ["ValidationException"]
    assert shown(refused, action, "PendingWindowInDays") == "3"

    accepted = alice.post(action, {"PendingWindowInDays": "7"}, htmx=True).content.decode()
    assert codes(accepted) == []
    assert shown(accepted, action, "PendingWindowInDays") == "30"


def test_a_denied_import_keeps_the_expiry_the_learner_chose(alice):
    key_page = alice.create_key(Origin="EXTERNAL")
    as_bob(alice)

    page = alice.post(key_page + "import/", {"ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidForDays": "10"},
                      htmx=True).content.decode()

    assert codes(page) == ["AccessDeniedException"]
    assert shown(page, key_page + "import/", "ExpirationModel") == "KEY_MATERIAL_EXPIRES"
    assert shown(page, key_page + "import/", "ValidForDays") == "10"


def test_a_refused_create_key_keeps_its_description_tags_and_policy(alice):
    typed = {"Origin": "EXTERNAL", "Description": "payroll", "Tags": "team=blue", "Policy": "{not json"}

    page = alice.post(alice.home + "keys/", typed, htmx=True).content.decode()

    assert codes(page) == ["MalformedPolicyDocumentException"]
    for name, value in typed.items():
        assert shown(page, alice.home + "keys/", name) == value


IAM_CALLS = [
    ("CreateUser", {"UserName": "admin"}, "EntityAlreadyExists"),
    ("CreateGroup", {"GroupName": "bad name!"}, "ValidationError"),
    ("CreateRole", {"RoleName": "auditor", "AssumeRolePolicyDocument": '{"Statement": ['}, "MalformedPolicyDocument"),
    ("AddUserToGroup", {"UserName": "admin", "GroupName": "nobody"}, "NoSuchEntity"),
]


@pytest.mark.parametrize("operation, typed, code", IAM_CALLS, ids=[op for op, _, _ in IAM_CALLS])
def test_a_refused_iam_call_keeps_what_was_typed(alice, operation, typed, code):
    action = alice.home + f"iam/call/{operation}/"

    page = alice.post(action, typed, htmx=True).content.decode()

    assert codes(page) == [code]
    for name, value in typed.items():
        assert shown(page, action, name) == value


def test_after_a_role_is_created_its_form_offers_the_default_trust_policy_again(alice):
    action = alice.home + "iam/call/CreateRole/"
    default = shown(alice.get(alice.home + "iam/").content.decode(), action, "AssumeRolePolicyDocument")

    page = alice.post(action, {"RoleName": "auditor", "AssumeRolePolicyDocument": default}, htmx=True).content.decode()

    assert codes(page) == []
    assert shown(page, action, "RoleName") == ""
    assert shown(page, action, "AssumeRolePolicyDocument") == default


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
def test_a_clock_step_that_is_no_duration_stays_in_the_field_with_its_error(alice, htmx):
    response = alice.post(alice.home + "clock/", {"advance": "2 weeks"}, htmx=htmx)
    page = response.content.decode()

    assert "not a duration" in page
    assert 'name="advance" value="2 weeks"' in page
    if not htmx:
        assert response.status_code == 422


def test_a_refused_act_as_keeps_the_principal_the_mfa_box_and_the_code(alice):
    alice.act_as(f"{A}/user/admin", mfa=True)  # gives admin a device
    alice.act_as(f"{A}/root/root")
    action = alice.home + "act-as/"

    page = alice.post(action, {"principal": f"{A}/user/admin", "mfa": "on", "token_code": "000000"},
                      htmx=True).content.decode()

    assert "AccessDenied" in page
    assert shown(page, action, "principal") == f"{A}/user/admin"
    assert shown(page, action, "mfa") is True
    assert shown(page, action, "token_code") == "000000"


def test_a_refused_policy_name_stays_in_its_row(alice):
    page = alice.get(f"{alice.home}policies/{A}/user/admin/?PolicyName=no%20spaces").content.decode()

    assert shown(page, f"{alice.home}policies/{A}/user/admin/", "PolicyName") == "no spaces"
    assert shown(page, f"{alice.home}policies/{B}/user/admin/", "PolicyName") == "kms-access"


def test_a_denied_envelope_encryption_keeps_the_key_context_and_message(alice):
    key_arn = alice.get(alice.create_key()).content.decode()
    key_arn = re.search(r"arn:aws:kms:[\w-]+:\d{12}:key/[0-9a-f-]{36}", key_arn).group(0)
    as_bob(alice)
    typed = {"KeyId": key_arn, "EncryptionContext": '{"tenant": "acme"}', "message": "pay day\nis friday"}

    page = alice.post(alice.home + "envelope/encrypt/", typed).content.decode()

    assert "AccessDeniedException" in page
    for name, value in typed.items():
        assert shown(page, alice.home + "envelope/encrypt/", name) == value


def test_a_simulator_context_that_is_no_json_stays_as_typed(alice):
    typed = {"principal": f"{A}/user/admin", "action": "kms:Decrypt", "key": "alias/none", "context": '{"tenant": acme}'}

    page = alice.client.get(alice.home + "simulator/", typed).content.decode()

    assert "Not valid JSON" in page
    assert shown(page, alice.home + "simulator/", "context") == '{"tenant": acme}'
    assert shown(page, alice.home + "simulator/", "key") == "alias/none"


def test_a_key_policy_the_lockout_check_refuses_stays_in_the_editor(alice):
    key_id = alice.create_key().rstrip("/").rsplit("/", 1)[1]
    url = f"{alice.home}policies/key/{key_id}/"
    locked = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "kms:*", "Resource": "*"}]}

    page = alice.post(url, {"document": json.dumps(locked)}).content.decode()

    assert codes(page) == ["MalformedPolicyDocumentException"]
    assert json.loads(fields(page, "policy-form")["document"][0]) == locked


def test_a_sandbox_name_too_long_stays_in_the_field_with_its_error(transactional_db, client):
    name = "week " * 20

    page = client.post("/", {"name": name}).content.decode()

    assert "Ensure this value has at most 80 characters" in page
    assert shown(page, "/", "name") == name
