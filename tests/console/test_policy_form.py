"""The visual editor's model: policy JSON <-> statement cards, exact both ways."""
import fnmatch
import json

import pytest

from kmslab.console import policy_form as pf

KEY_POLICY = {
    "Version": "2012-10-17",
    "Id": "key-consolepolicy-3",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "Allow use of the key",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111122223333:role/bob"], "Service": "s3.amazonaws.com"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:EncryptionContext:tenant": "acme", "kms:CallerAccount": ["111122223333"]},
                "Bool": {"kms:GrantIsForAWSResource": True},
                "NumericLessThan": {"aws:MultiFactorAuthAge": 300},
            },
        },
        {"Effect": "Deny", "Principal": "*", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"},
    ],
}


def round_trip(doc, kind=pf.KEY_POLICY):
    return pf.document_from_cards(doc, pf.cards_from_document(doc, kind), kind)


def test_every_field_survives_json_to_cards_to_json_exactly():
    assert json.dumps(round_trip(KEY_POLICY)) == json.dumps(KEY_POLICY)


def test_a_policy_saved_on_one_line_opens_laid_out_and_unchanged():
    one_line = json.dumps(KEY_POLICY)
    state = pf.start(one_line, pf.KEY_POLICY)
    assert state.text == json.dumps(KEY_POLICY, indent=2)
    assert json.loads(state.text) == KEY_POLICY


def test_a_single_statement_object_stays_an_object():
    doc = {"Version": "2012-10-17", "Statement": KEY_POLICY["Statement"][0]}
    assert round_trip(doc) == doc


@pytest.mark.parametrize(
    "statement, why",
    [
        ({"Effect": "Deny", "NotPrincipal": {"AWS": "x"}, "Action": "kms:*", "Resource": "*"}, "NotPrincipal"),
        ({"Effect": "Allow", "Principal": {"AWS": "x"}, "NotAction": "kms:Decrypt", "Resource": "*"}, "NotAction"),
        ({"Effect": "Allw", "Principal": "*", "Action": "kms:Decrypt"}, "Allow or Deny"),
        ({"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "kms:*"}, "AWS and Service"),
        ({"Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", 3]}, "list of strings"),
        ({"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Condition": {"Bool": "true"}}, "operator"),
    ],
)
def test_what_the_cards_cannot_express_stays_json_and_survives(statement, why):
    doc = {"Version": "2012-10-17", "Statement": [statement, KEY_POLICY["Statement"][0]]}
    cards = pf.cards_from_document(doc, pf.KEY_POLICY)
    assert cards[0].raw is not None and why in cards[0].why_raw
    assert cards[1].raw is None
    assert round_trip(doc) == doc


def test_an_iam_policy_statement_with_a_principal_is_left_to_the_json_view():
    doc = {"Version": "2012-10-17", "Statement": [KEY_POLICY["Statement"][0]]}
    (card,) = pf.cards_from_document(doc, pf.IAM_POLICY)
    assert "no Principal" in card.why_raw


def test_unchanged_values_keep_their_json_type_and_order_while_edits_are_merged():
    cards = pf.cards_from_document(KEY_POLICY, pf.KEY_POLICY)
    use = cards[1]
    use.actions = [a for a in use.actions if a != "kms:ReEncrypt*"] + ["kms:GenerateMac"]
    use.conditions[0].values = ["acme", "globex"]
    doc = pf.document_from_cards(KEY_POLICY, cards, pf.KEY_POLICY)
    statement = doc["Statement"][1]
    assert statement["Action"] == ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:GenerateMac"]
    assert statement["Condition"]["StringEquals"]["kms:EncryptionContext:tenant"] == ["acme", "globex"]
    assert statement["Condition"]["Bool"]["kms:GrantIsForAWSResource"] is True
    assert statement["Condition"]["NumericLessThan"]["aws:MultiFactorAuthAge"] == 300


def test_principals_split_into_aws_and_service_and_star_stays_a_string():
    cards = pf.cards_from_document(KEY_POLICY, pf.KEY_POLICY)
    assert cards[1].principals == ["arn:aws:iam::111122223333:role/bob", "s3.amazonaws.com"]
    assert cards[2].principals == ["*"]
    cards[2].principals = ["*", "arn:aws:iam::444455556666:root"]
    cards[1].principals = ["arn:aws:iam::111122223333:role/bob", "logs.us-east-1.amazonaws.com"]
    doc = pf.document_from_cards(KEY_POLICY, cards, pf.KEY_POLICY)
    assert doc["Statement"][2]["Principal"] == {"AWS": ["*", "arn:aws:iam::444455556666:root"]}
    assert doc["Statement"][1]["Principal"] == {
        "AWS": ["arn:aws:iam::111122223333:role/bob"],
        "Service": "logs.us-east-1.amazonaws.com",
    }


def test_a_new_key_policy_statement_applies_to_its_key_and_an_iam_one_waits_for_a_key_arn():
    assert pf.new_card(pf.KEY_POLICY).resources == ["*"]
    assert pf.new_card(pf.IAM_POLICY).resources == []


def test_the_posted_form_gives_back_the_cards():
    data = {
        "statements": ["2"],
        "s0-index": ["0"],
        "s0-sid": ["Allow use"],
        "s0-effect": ["Deny"],
        "s0-principal": ["arn:aws:iam::111122223333:user/admin"],
        "s0-principal_other": ["arn:aws:iam::444455556666:root\r\n\r\n"],
        "s0-action": ["kms:Decrypt", "kms:Encrypt"],
        "s0-action_other": ["kms:GenerateDataKey*\nkms:Decrypt"],
        "s0-resource": ["*"],
        "s0-conditions": ["1"],
        "s0-c0-operator": ["StringEquals"],
        "s0-c0-key": ["kms:EncryptionContext:tenant"],
        "s0-c0-values": ["acme\nglobex"],
        "s1-index": ["4"],
        "s1-raw": ['{"Effect": "Deny"}'],
        "s1-why_raw": ["Effect must be Allow or Deny."],
    }
    first, second = pf.cards_from_post(data)
    assert first.index == 0 and first.sid == "Allow use" and first.effect == "Deny"
    assert first.principals == ["arn:aws:iam::111122223333:user/admin", "arn:aws:iam::444455556666:root"]
    assert first.actions == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"]
    assert first.conditions == [pf.Condition("StringEquals", "kms:EncryptionContext:tenant", ["acme", "globex"])]
    assert second.index == 4 and second.raw == '{"Effect": "Deny"}'


def test_the_buttons_add_and_remove_statements_and_conditions():
    cards = pf.cards_from_document(KEY_POLICY, pf.KEY_POLICY)
    pf.apply_op(cards, "add-condition:0", pf.KEY_POLICY)
    assert cards[0].conditions == [pf.Condition()]
    pf.apply_op(cards, "remove-condition:1:2", pf.KEY_POLICY)
    assert [c.operator for c in cards[1].conditions] == ["StringEquals", "StringEquals", "NumericLessThan"]
    pf.apply_op(cards, "remove-statement:0", pf.KEY_POLICY)
    pf.apply_op(cards, "add-statement", pf.KEY_POLICY)
    assert len(cards) == 3 and cards[-1].index is None
    pf.apply_op(cards, "remove-statement:9", pf.KEY_POLICY)  # stale button: nothing happens
    assert len(cards) == 3


def test_a_condition_row_without_a_key_is_not_written():
    cards = pf.cards_from_document(KEY_POLICY, pf.KEY_POLICY)
    cards[0].conditions.append(pf.Condition())
    assert "Condition" not in pf.document_from_cards(KEY_POLICY, cards, pf.KEY_POLICY)["Statement"][0]


def test_a_json_mistake_is_located_by_line_and_column():
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow",}\n  ]\n}'
    doc, problem = pf.parse(text)
    assert doc is None and (problem.line, problem.column) == (4, 24)
    here = [line for line in pf.excerpt(text, problem.line) if line["here"]]
    assert here == [{"number": 4, "text": '    {"Effect": "Allow",}', "here": True}]


def test_statement_lines_point_at_each_statement():
    text = pf.dumps(KEY_POLICY)
    lines = text.splitlines()
    starts = pf.statement_lines(text)
    assert len(starts) == 3
    assert [lines[n] for n in starts] == ['      "Sid": "Enable IAM User Permissions",', '      "Sid": "Allow use of the key",', '      "Effect": "Deny",']
    assert pf.statement_lines('{"Statement": {"Effect": "Allow"}}') == [1]
    assert pf.statement_lines("[1, 2]") == []


def test_the_action_groups_cover_every_kms_action_once():
    from kmslab.cloud.policy import catalogue

    grouped = pf.ADMIN_ACTIONS + pf.USE_ACTIONS + pf.GRANT_ACTIONS
    assert sorted(grouped) == sorted(catalogue.ACTIONS)
    assert "kms:PutKeyPolicy" in pf.ADMIN_ACTIONS and "kms:Decrypt" in pf.USE_ACTIONS


def test_the_value_picker_offers_what_a_key_can_be():
    sandbox = {"accounts": ["111122223333"], "principals": ["arn:aws:iam::111122223333:user/admin"],
               "aliases": ["alias/payroll"], "region": "us-east-1"}
    assert pf.value_options("aws:MultiFactorAuthPresent", sandbox) == ["true", "false"]
    assert "SYMMETRIC_DEFAULT" in pf.value_options("kms:EncryptionAlgorithm", sandbox)  # from botocore's model
    assert "Decrypt" in pf.value_options("kms:GrantOperations", sandbox)
    assert pf.value_options("kms:CallerAccount", sandbox) == ["111122223333"]
    assert pf.value_options("aws:PrincipalArn", sandbox) == ["arn:aws:iam::111122223333:user/admin"]
    assert pf.value_options("kms:RequestAlias", sandbox) == ["alias/payroll"]
    assert "s3.us-east-1.amazonaws.com" in pf.value_options("kms:ViaService", sandbox)
    assert pf.value_options("kms:EncryptionContext:tenant", sandbox) == []


def test_a_picked_value_joins_the_values_once():
    data = {"statements": ["1"], "s0-conditions": ["2"],
            "s0-c0-operator": ["Bool"], "s0-c0-key": ["aws:MultiFactorAuthPresent"], "s0-c0-pick": ["true"],
            "s0-c1-operator": ["StringEquals"], "s0-c1-key": ["kms:CallerAccount"],
            "s0-c1-values": ["111122223333"], "s0-c1-pick": ["111122223333"]}
    (card,) = pf.cards_from_post(data)
    assert card.conditions == [pf.Condition("Bool", "aws:MultiFactorAuthPresent", ["true"]),
                               pf.Condition("StringEquals", "kms:CallerAccount", ["111122223333"])]


# Snippets.

BOB = "arn:aws:iam::111122223333:user/bob"
CAROL = "arn:aws:iam::444455556666:user/carol"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def snippet_document(base, name, picked, kind=pf.KEY_POLICY):
    cards = pf.insert_snippet(pf.cards_from_document(base, kind), name, picked, kind)
    return pf.document_from_cards(base, cards, kind)


def test_the_key_administrators_snippet_is_awss_statement_and_grants_no_cryptographic_use():
    doc = snippet_document(KEY_POLICY, "key-administrators", BOB)
    assert doc["Statement"][-1] == {
        "Sid": "Allow access for Key Administrators", "Effect": "Allow", "Principal": {"AWS": BOB},
        "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
                   "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
                   "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand"],
        "Resource": "*",
    }
    assert doc["Statement"][:3] == KEY_POLICY["Statement"]  # the policy's own statements stay as they were
    granted = {a for a in pf.catalogue.CRYPTO_ACTIONS
               if any(fnmatch.fnmatchcase(a.lower(), p.lower()) for p in doc["Statement"][-1]["Action"])}
    assert granted == set()


def test_the_key_users_snippet_in_an_iam_policy_names_the_key_instead_of_a_principal():
    doc = snippet_document({"Version": "2012-10-17", "Statement": []}, "key-users", KEY_ARN, pf.IAM_POLICY)
    assert doc["Statement"] == [{
        "Sid": "AllowUseOfTheKey", "Effect": "Allow",
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        "Resource": KEY_ARN,
    }]


def test_sharing_with_a_second_principal_joins_the_statement_a_snippet_already_wrote():
    base = snippet_document(KEY_POLICY, "allow-account", "arn:aws:iam::444455556666:root")
    doc = snippet_document(base, "allow-external-principal", CAROL)
    shared = [s for s in doc["Statement"] if s.get("Sid") == "Allow an external account to use this KMS key"]
    assert len(shared) == 1
    assert shared[0]["Principal"] == {"AWS": ["arn:aws:iam::444455556666:root", CAROL]}


def test_a_sid_already_used_by_another_statement_is_made_unique():
    doc = snippet_document(KEY_POLICY, "key-users", CAROL)  # KEY_POLICY's own "Allow use of the key" differs
    assert [s.get("Sid") for s in doc["Statement"]] == [
        "Enable IAM User Permissions", "Allow use of the key", None, "Allow use of the key 2"]
    assert pf.validate(pf.dumps(doc), pf.KEY_POLICY, pf.statement_lines(pf.dumps(doc))) is None


def test_the_mfa_snippet_denies_destructive_actions_with_bool_if_exists():
    statement = snippet_document(KEY_POLICY, "require-mfa", "")["Statement"][-1]
    assert statement == {
        "Sid": "DenyDestructiveActionsWithoutMFA", "Effect": "Deny", "Principal": "*",
        "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DeleteAlias", "kms:DeleteImportedKeyMaterial"],
        "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    }
    assert "not Bool" in pf.SNIPPETS_BY_NAME["require-mfa"].note


@pytest.mark.parametrize("name, picked, condition", [
    ("require-encryption-context", BOB, {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}),
    ("deny-outside-via-service", "s3.us-east-1.amazonaws.com",
     {"StringNotEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}),
])
def test_the_condition_snippets_write_their_condition(name, picked, condition):
    for kind, base in ((pf.KEY_POLICY, KEY_POLICY), (pf.IAM_POLICY, {"Version": "2012-10-17", "Statement": []})):
        doc = snippet_document(base, name, KEY_ARN if kind == pf.IAM_POLICY and name.startswith("require") else picked,
                               kind)
        assert doc["Statement"][-1]["Condition"] == condition
        assert pf.validate(pf.dumps(doc), kind, pf.statement_lines(pf.dumps(doc))) is None


def test_a_snippet_button_inserts_only_what_the_editor_offers():
    text = pf.dumps(KEY_POLICY)
    posted = {"statements": ["0"], "snippet-key-users": [BOB]}
    offers = {"key-users": [BOB]}
    state = pf.sync(text, {**posted, **_posted_cards(text)}, "cards", "snippet:key-users", pf.KEY_POLICY, offers=offers)
    assert json.loads(state.text)["Statement"][-1]["Principal"] == {"AWS": BOB}
    stale = pf.sync(text, {**_posted_cards(text), "snippet-key-users": [CAROL]}, "cards", "snippet:key-users",
                    pf.KEY_POLICY, offers=offers)
    assert json.loads(stale.text) == KEY_POLICY


def test_the_resource_picker_adds_a_key_arn_once():
    data = {"statements": ["1"], "s0-index": ["0"], "s0-effect": ["Allow"], "s0-action": ["kms:Decrypt"],
            "s0-resource": [KEY_ARN], "s0-resource_pick": [KEY_ARN.replace("1234abcd", "5678abcd")]}
    assert pf.cards_from_post(data)[0].resources == [KEY_ARN, KEY_ARN.replace("1234abcd", "5678abcd")]
    assert pf.picked_a_value(data)
    data["s0-resource_pick"] = [KEY_ARN]
    assert pf.cards_from_post(data)[0].resources == [KEY_ARN]
    assert not pf.picked_a_value({**data, "s0-resource_pick": [""]})


def _posted_cards(text):
    """The form fields the editor renders for a policy's cards (what the browser posts back)."""
    cards = pf.cards_from_document(json.loads(text), pf.KEY_POLICY)
    data = {"statements": [str(len(cards))]}
    for i, card in enumerate(cards):
        p = f"s{i}-"
        data |= {p + "index": [str(i)], p + "sid": [card.sid], p + "effect": [card.effect],
                 p + "principal_other": ["\n".join(card.principals)], p + "action_other": ["\n".join(card.actions)],
                 p + "resource": ["\n".join(card.resources)], p + "conditions": [str(len(card.conditions))]}
        for j, c in enumerate(card.conditions):
            row = f"{p}c{j}-"
            data |= {row + "operator": [c.operator], row + "key": [c.key], row + "values": ["\n".join(c.values)]}
    return data
