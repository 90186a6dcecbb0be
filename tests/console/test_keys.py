"""The keys list and a key's page: every lifecycle action is a real call, and errors are AWS's."""
import base64
import html
import json
import re

from .html_forms import fields
from .personas import A, B, codes, is_fragment

from kmslab.cloud import principals
from kmslab.console import acting
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import TrailRecord


def test_create_key_makes_the_call_and_opens_the_key(alice):
    key_page = alice.create_key(Description="payroll", Tags="team=blue")
    page = alice.get(key_page).content.decode()
    assert "payroll" in page and "<code>team</code>" in page and "<code>blue</code>" in page
    assert 'aria-current="page">Keys' in page


def test_create_key_failure_stays_on_the_form_with_the_aws_error(alice):
    response = alice.post(alice.home + "keys/", {"Origin": "AWS_KMS", "Policy": "{not json"}, htmx=True)
    assert is_fragment(response)
    assert codes(response) == ["MalformedPolicyDocumentException"]


def test_an_htmx_action_returns_the_key_body_only(alice):
    key_page = alice.create_key()
    response = alice.post(key_page + "DisableKey/", htmx=True)
    assert is_fragment(response)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="key-body">')
    assert "Succeeded" in body and ">Disabled<" in body


def test_without_htmx_an_action_renders_the_whole_page(alice):
    key_page = alice.create_key()
    response = alice.post(key_page + "DisableKey/")
    assert b"<html" in response.content and b"Succeeded" in response.content


def test_schedule_key_deletion_shows_the_countdown_on_the_sandbox_clock(alice):
    key_page = alice.create_key()
    body = alice.post(key_page + "ScheduleKeyDeletion/", {"PendingWindowInDays": "7"}, htmx=True).content.decode()
    assert ">PendingDeletion<" in body
    assert "in <strong>7 d</strong> on the sandbox clock" in body
    runner.advance_clock(alice.sandbox.id, 2 * 86400)
    assert "in <strong>5 d</strong>" in alice.get(key_page).content.decode()
    body = alice.post(key_page + "CancelKeyDeletion/", htmx=True).content.decode()
    assert ">Disabled<" in body


def test_a_window_aws_refuses_shows_aws_error(alice):
    key_page = alice.create_key()
    response = alice.post(key_page + "ScheduleKeyDeletion/", {"PendingWindowInDays": "3"}, htmx=True)
    assert codes(response) == ["ValidationException"]
    assert "pendingWindowInDays" in response.content.decode() or "PendingWindowInDays" in response.content.decode()


def test_a_state_the_action_forbids_gives_kms_invalid_state(alice):
    key_page = alice.create_key()
    alice.post(key_page + "ScheduleKeyDeletion/", {"PendingWindowInDays": "7"})
    assert codes(alice.post(key_page + "EnableKey/", htmx=True)) == ["KMSInvalidStateException"]


def test_rotation_aliases_tags_and_grants(alice):
    key_page = alice.create_key()
    key_id = key_page.rstrip("/").rsplit("/", 1)[1]
    assert codes(alice.post(key_page + "EnableKeyRotation/", {"RotationPeriodInDays": "90"}, htmx=True)) == []
    body = alice.post(key_page + "RotateKeyOnDemand/", htmx=True).content.decode()
    assert "ON_DEMAND" in body and "every 90 days" in body
    assert codes(alice.post(key_page + "CreateAlias/", {"AliasName": "alias/payroll"}, htmx=True)) == []
    assert codes(alice.post(key_page + "TagResource/", {"Tags": "env=prod"}, htmx=True)) == []
    body = alice.post(key_page + "CreateGrant/", {
        "GranteePrincipal": f"arn:aws:iam::{A}:user/admin", "Operations": ["Decrypt", "Encrypt"],
        "EncryptionContextSubset": "app=payroll",
    }, htmx=True).content.decode()
    assert codes_of(body) == []
    assert "alias/payroll" in body and "<code>env</code>" in body and "Decrypt, Encrypt" in body
    assert "payroll" in alice.get(alice.home).content.decode()  # the alias on the home page
    world = runner.load_world(alice.sandbox.id)
    assert world.doc["kms"]["keys"][key_id]["Rotation"]["Enabled"] is True


def codes_of(html):
    return [c for c in html.split('class="code">')[1:]]


def test_imported_material_is_wrapped_and_imported_with_two_real_calls(alice):
    key_page = alice.create_key(Origin="EXTERNAL")
    assert ">PendingImport<" in alice.get(key_page).content.decode()
    body = alice.post(key_page + "import/", {"ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidForDays": "10"},
                      htmx=True).content.decode()
    assert codes_of(body) == []
    assert ">Enabled<" in body
    names = [r["eventName"] for r in alice.get(alice.home + "trail.json").json()["Records"]]
    assert names[-2:] == ["GetParametersForImport", "ImportKeyMaterial"]
    assert "Imported key material expires" in alice.get(alice.home).content.decode()


def test_an_access_denial_shows_the_error_and_why(alice):
    # A user with no policies: the key policy delegates to IAM in its account, and no IAM policy allows.
    alice.post(alice.home + "iam/call/CreateUser/", {"UserName": "bob"})
    key_page = alice.create_key()
    alice.act_as(f"{A}/user/bob")
    body = alice.post(key_page + "DisableKey/", htmx=True).content.decode()
    assert codes_of(body) and "AccessDeniedException" in body
    assert "Implicitly denied" in body
    assert "no IAM policy allows it" in body or "no identity-based policy" in body


def test_a_key_of_the_other_account_is_listed_and_its_actions_denied_cross_account(alice):
    alice.act_as(f"{B}/root/root")
    key_page = alice.create_key()
    alice.act_as(f"{A}/user/admin")
    assert f"<td>{B}</td>" in alice.get(alice.home + "keys/").content.decode()
    # From another account the console names the key by its ARN (an id would resolve in the caller's own
    # account): the call reaches the key, and its key policy, which names no one of account A, denies it.
    assert codes(alice.post(key_page + "DisableKey/", htmx=True)) == ["AccessDeniedException"]


def test_an_unknown_action_or_key_is_not_found(alice):
    key_page = alice.create_key()
    assert alice.post(key_page + "DeleteEverything/").status_code == 404
    assert alice.get(alice.home + "keys/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_learner_text_is_escaped(alice):
    key_page = alice.create_key(Description="<script>alert(1)</script>")
    page = alice.get(key_page).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_key_policy_is_shown(alice):
    key_page = alice.create_key()
    page = alice.get(key_page).content.decode()
    policy = page[page.index('<pre class="json">') + 18:page.index("</pre>")]
    assert json.loads(policy.replace("&quot;", '"'))["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{A}:root"}


def test_the_fold_of_the_action_just_made_stays_open(alice):
    key_page = alice.create_key()
    body = alice.post(key_page + "EnableKeyRotation/", {"RotationPeriodInDays": "90"}, htmx=True).content.decode()
    assert '<details class="action" open><summary>Rotation</summary>' in body
    assert '<details class="action" ><summary>Enable or disable</summary>' in body


def test_a_disabled_key_says_disabling_is_reversible_and_preferred_to_deletion(alice):
    key_page = alice.create_key()
    assert 'id="disabled-note"' not in alice.get(key_page).content.decode()
    body = alice.post(key_page + "DisableKey/", htmx=True).content.decode()
    assert "Disabled — reversible: re-enable at any time with <code>EnableKey</code>. Prefer this to deletion." in body
    body = alice.post(key_page + "EnableKey/", htmx=True).content.decode()
    assert 'id="disabled-note"' not in body


def test_schedule_key_deletion_asks_first_saying_what_deletion_strands(alice):
    key_page = alice.create_key()
    key_id = key_page.rstrip("/").rsplit("/", 1)[1]
    who = acting.default(runner.load_world(alice.sandbox.id)).who()
    for _ in range(2):
        runner.run(alice.sandbox.id, who, "kms", "Encrypt", {"KeyId": key_id, "Plaintext": b"payroll"})
    page = alice.get(key_page).content.decode()
    form = page[page.index('action="' + key_page + 'ScheduleKeyDeletion/"'):]
    confirm = html.unescape(re.search(r'hx-confirm="([^"]*)"', form[:form.index(">")]).group(1))
    assert "7 to 30 days" in confirm
    assert "cannot be undone" in confirm
    assert "The trail shows 2 calls that made ciphertexts under this key." in confirm
    assert "DisableKey instead: it is reversible" in confirm


def test_create_key_can_name_an_alias_with_a_second_real_call(alice):
    key_page = alice.create_key(Description="payroll", AliasName="alias/payroll")
    assert "<code>alias/payroll</code>" in alice.get(key_page).content.decode()
    names = [r["eventName"] for r in alice.get(alice.home + "trail.json").json()["Records"]]
    assert names[-2:] == ["CreateKey", "CreateAlias"]


def test_an_alias_kms_refuses_is_shown_and_the_key_is_still_created(alice):
    alice.create_key(AliasName="alias/payroll")
    response = alice.post(alice.home + "keys/", {"Origin": "AWS_KMS", "Description": "second",
                                                 "AliasName": "alias/payroll"}, htmx=True)
    assert is_fragment(response)
    assert codes(response) == ["AlreadyExistsException"]
    fragment = response.content.decode()
    assert "The key was created without its alias." in fragment
    assert 'id="all-keys" aria-labelledby="all-h" hx-swap-oob="true"' in fragment and "second" in fragment
    assert 'name="Description" maxlength="8192" id="id_Description">' in fragment  # a fresh form: no second key
    records = alice.get(alice.home + "trail.json").json()["Records"]
    assert [r["eventName"] for r in records[-2:]] == ["CreateKey", "CreateAlias"]
    assert "errorCode" not in records[-2] and records[-1]["errorCode"] == "AlreadyExistsException"
    page = alice.post(alice.home + "keys/", {"Origin": "AWS_KMS", "AliasName": "alias/payroll"}).content.decode()
    assert page.count('id="all-keys"') == 1 and "The key was created without its alias." in page


def test_the_key_page_encrypts_and_decrypts_what_it_encrypted(alice):
    key_page = alice.create_key()
    body = alice.post(key_page + "Encrypt/", {"Plaintext": "card 4111", "EncryptionContext": '{"app": "billing"}'},
                      htmx=True).content.decode()
    assert '<details class="action" open><summary>Encrypt, decrypt, data keys</summary>' in body
    assert "Anatomy of the CiphertextBlob" in body and "range-key-id" in body
    decrypt = fields(body, "crypto-output")
    assert decrypt["EncryptionContext"] == ['{"app": "billing"}']
    body = alice.post(key_page + "Decrypt/", decrypt, htmx=True).content.decode()
    assert codes_of(body) == [] and ">card 4111</textarea>" in body
    decrypt["EncryptionContext"] = ['{"app": "payroll"}']
    assert codes(alice.post(key_page + "Decrypt/", decrypt, htmx=True)) == ["InvalidCiphertextException"]


def test_decrypt_on_another_keys_page_is_refused_with_incorrect_key(alice):
    first, second = alice.create_key(), alice.create_key()
    body = alice.post(first + "Encrypt/", {"Plaintext": "x"}, htmx=True).content.decode()
    decrypt = fields(body, "crypto-output")
    assert codes(alice.post(second + "Decrypt/", decrypt, htmx=True)) == ["IncorrectKeyException"]
    assert "That is not base64." in alice.post(second + "Decrypt/", {"CiphertextBlob": "%%%"}, htmx=True).content.decode()


def test_generate_data_key_on_the_key_page_shows_the_data_key_once_and_its_encrypted_copy(alice):
    key_page = alice.create_key()
    body = alice.post(key_page + "GenerateDataKey/", {"KeySpec": "AES_256", "EncryptionContext": ""},
                      htmx=True).content.decode()
    data_key = body.split('id="plaintext">')[1].split("<")[0]
    assert len(base64.b64decode(data_key)) == 32
    assert "Anatomy of the CiphertextBlob" in body
    assert not any(data_key in r for r in TrailRecord.objects.values_list("record_json", flat=True))
    # Decrypting the encrypted copy gives the same data key back, as base64 (it is not text).
    body = alice.post(key_page + "Decrypt/", fields(body, "crypto-output"), htmx=True).content.decode()
    assert f'<code class="wrap" id="plaintext">{data_key}</code>' in body


def test_encrypt_on_the_key_page_as_a_principal_it_does_not_allow_says_why(alice):
    alice.post(alice.home + "iam/call/CreateUser/", {"UserName": "bob"})
    key_page = alice.create_key()
    alice.act_as(f"{A}/user/bob")
    body = alice.post(key_page + "Encrypt/", {"Plaintext": "x"}, htmx=True).content.decode()
    assert "AccessDeniedException" in body and "Implicitly denied" in body and 'id="crypto-output"' not in body
    assert "An encryption context is an object whose values are strings." in alice.post(
        key_page + "Encrypt/", {"Plaintext": "x", "EncryptionContext": "[1]"}, htmx=True).content.decode()


def test_from_another_account_the_key_page_names_the_key_by_its_arn(alice):
    key_page = alice.create_key()
    key_id = key_page.rstrip("/").rsplit("/", 1)[1]
    arn = f"arn:aws:kms:us-east-1:{A}:key/{key_id}"
    put_key_policy(alice, key_id, {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                                   "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"})
    alice.act_as("444455556666/user/admin")
    body = alice.post(key_page + "Encrypt/", {"Plaintext": "from B"}, htmx=True).content.decode()
    assert 'id="crypto-output"' in body and "NotFoundException" not in body
    record = TrailRecord.objects.filter(sandbox=alice.sandbox, event_name="Encrypt").latest("sequence").record
    assert record["requestParameters"]["keyId"] == arn and record["userIdentity"]["accountId"] == "444455556666"


# "Share this key": both halves from the policy engine.


def call_as(learner, account, service, operation, request):
    outcome = runner.run(learner.sandbox.id, acting.Identity(account, "user", "admin").who(), service, operation,
                         request)
    assert outcome.error is None, outcome.error


def put_key_policy(learner, key_id, *statements):
    root = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
            "Action": "kms:*", "Resource": "*"}
    call_as(learner, A, "kms", "PutKeyPolicy", {"KeyId": key_id, "PolicyName": "default", "Policy": json.dumps(
        {"Version": "2012-10-17", "Statement": [root, *statements]})})


USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
CAROL = f"arn:aws:iam::{B}:user/carol"


def shared_key(learner):
    """A key of account A, and carol, a user of account B with no policies yet."""
    key_page = learner.create_key()
    call_as(learner, B, "iam", "CreateUser", {"UserName": "carol"})
    return key_page, key_page.rstrip("/").rsplit("/", 1)[1]


def test_the_key_page_loads_its_share_panel(alice):
    key_page = alice.create_key()
    page = alice.get(key_page).content.decode()
    assert f'hx-get="{key_page}share/" hx-trigger="load"' in page


def test_a_new_key_is_not_shared_and_the_panel_opens_the_key_policy_with_the_account_snippet(alice):
    key_page, key_id = shared_key(alice)
    response = alice.get(key_page + "share/", htmx=True)
    assert response.status_code == 200 and is_fragment(response)
    panel = response.content.decode()
    assert '<span class="mark">✗</span> Key policy' in panel and f"does not allow account {B}" in panel
    assert (f'href="{alice.home}policies/key/{key_id}/?snippet=allow-account&amp;snippet-allow-account='
            f'arn%3Aaws%3Aiam%3A%3A{B}%3Aroot"') in panel
    # B's admin has IAM's allow-all, carol nothing; neither can use the key yet.
    assert panel.count('<td class="allow">✓ allows') == 1
    assert "no statement of the key policy allows the caller" in panel


def test_with_the_account_in_the_key_policy_its_iam_decides_who_and_the_panel_writes_carols_policy(alice):
    key_page, key_id = shared_key(alice)
    put_key_policy(alice, key_id, {"Sid": "Allow an external account to use this KMS key", "Effect": "Allow",
                                   "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": USE, "Resource": "*"})
    panel = alice.get(key_page + "share/").content.decode()
    assert '<span class="mark">✓</span> Key policy' in panel and f"allows account {B} to use the key" in panel
    admin, carol = panel.split('id="share-row-')[1:3]
    assert "✓ yes" in admin
    assert '<td class="deny">✗ does not' in carol and "✗ no" in carol
    key_arn = f"arn:aws:kms:us-east-1:{A}:key/{key_id}"
    link = (f'{alice.home}policies/{B}/user/carol/kms-access/?snippet=key-users&amp;snippet-key-users='
            + key_arn.replace(":", "%3A"))
    assert f'href="{link}"' in carol
    # The link opens carol's new inline policy with the key users statement on this key ...
    editor = alice.get(link.replace("&amp;", "&")).content.decode()
    assert "Inline policy kms-access of user carol (444455556666)" in editor
    assert "gains <code>kms:Decrypt</code>" in editor
    # ... and once it is saved (by an admin of B), carol can use the key.
    call_as(alice, B, "iam", "PutUserPolicy", {"UserName": "carol", "PolicyName": "kms-access", "PolicyDocument":
            json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": USE, "Resource": key_arn}]})})
    carol = alice.get(key_page + "share/").content.decode().split('id="share-row-')[2]
    assert "✓ yes" in carol and "Write carol" not in carol


def test_a_principal_named_in_the_key_policy_passes_its_half_while_its_account_does_not(alice):
    key_page, key_id = shared_key(alice)
    put_key_policy(alice, key_id, {"Effect": "Allow", "Principal": {"AWS": CAROL}, "Action": USE, "Resource": "*"})
    whole_account = alice.get(key_page + "share/").content.decode()
    assert f"does not allow account {B}" in whole_account
    panel = alice.get(f"{key_page}share/?account={B}&principal={CAROL.replace(':', '%3A')}").content.decode()
    assert f"allows <code>{CAROL}</code> to use the key" in panel
    assert panel.count('id="share-row-') == 1 and f'<option value="{CAROL}" selected>' in panel


def test_the_answer_is_the_evaluators_not_the_policy_texts(alice):
    # The key policy names account B, under a condition no request meets: the text looks shared, the key is not.
    key_page, key_id = shared_key(alice)
    never = {"StringEquals": {"kms:CallerAccount": "999999999999"}}
    put_key_policy(alice, key_id, {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": USE,
                                   "Resource": "*", "Condition": never})
    panel = alice.get(key_page + "share/").content.decode()
    assert f"does not allow account {B}" in panel


def test_an_explicit_deny_in_the_other_accounts_iam_is_named(alice):
    key_page, key_id = shared_key(alice)
    put_key_policy(alice, key_id, {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": USE,
                                   "Resource": "*"})
    deny = {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}
    call_as(alice, B, "iam", "PutUserPolicy", {"UserName": "carol", "PolicyName": "no-kms", "PolicyDocument":
            json.dumps({"Version": "2012-10-17", "Statement": [deny]})})
    carol = alice.get(key_page + "share/").content.decode().split('id="share-row-')[2]
    assert "an explicit Deny in user/carol inline policy no-kms" in carol


def test_a_bad_account_is_refused_and_another_learner_sees_nothing(alice, mallory):
    key_page, _ = shared_key(alice)
    response = alice.get(key_page + "share/?account=999999999999")
    assert response.status_code == 400 and b"Select a valid choice" in response.content
    assert mallory.get(key_page + "share/").status_code == 404


def test_no_two_fields_of_the_key_page_share_an_id(alice):
    page = alice.get(alice.create_key()).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_a_sandbox_of_many_keys_lists_them_a_hundred_to_a_page(alice):
    world = runner.load_world(alice.sandbox.id)
    admin = next(name for name, key in world.doc["access_keys"].items() if key["Account"] == A)

    def as_admin(w):
        return principals.caller_for_access_key(w, admin)

    made = runner.run_all([(alice.sandbox.id, as_admin, "kms", "CreateKey", {"Description": f"key {n}"}, None)
                           for n in range(150)])
    assert [error for _, error in made] == [None] * 150
    key_ids = [outcome.response["KeyMetadata"]["KeyId"] for outcome, _ in made]

    def listed(page):
        return re.findall(r"<code>([0-9a-f-]{36})</code></a>", page)

    first = alice.get(alice.home + "keys/").content.decode()
    assert listed(first) == key_ids[:100]
    assert "Keys 1–100 of 150" in first and 'href="/s/%s/keys/?page=2" rel="next"' % alice.sandbox.id in first
    second = alice.get(alice.home + "keys/?page=2").content.decode()
    assert listed(second) == key_ids[100:] and "Keys 101–150 of 150" in second and 'rel="next"' not in second
    assert listed(alice.get(alice.home + "keys/?page=9").content.decode()) == key_ids[100:]  # past the end: the last
    assert listed(alice.get(alice.home + "keys/?page=x").content.decode()) == key_ids[:100]
    home = alice.get(alice.home).content.decode()
    assert listed(home) == key_ids[:100] and "Keys 1–100 of 150" in home
