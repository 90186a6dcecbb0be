"""The visual policy editors: cards and JSON in sync, problems in place, the access preview, saving for real."""
import json
import re

from kmslab.console import acting
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import TrailRecord

from .html_forms import fields
from .personas import A, B, codes, is_fragment


def key_editor(learner):
    key_id = learner.create_key().rstrip("/").rsplit("/", 1)[1]
    return key_id, f"{learner.home}policies/key/{key_id}/"


def sync(learner, url, data, source, op=""):
    return learner.post(url + "sync/", {**data, "source": source, "op": op}, htmx=True)


def test_the_editor_opens_on_the_policy_in_force_as_cards_and_json(alice):
    key_id, url = key_editor(alice)
    page = alice.get(url).content.decode()
    policy = runner.load_world(alice.sandbox.id).doc["kms"]["keys"][key_id]["Policy"]
    assert fields(page, "policy-form")["document"] == [policy]
    assert "Statement 1 · “Enable IAM User Permissions”" in page
    assert 'value="kms:*" checked' in page  # the console's wildcard, ticked in its group
    assert "Access preview" in page and "No change" in page


def test_the_cards_posted_back_unchanged_give_back_the_same_json(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    response = sync(alice, url, form, "cards")
    assert is_fragment(response)
    assert json.loads(fields(response.content.decode(), "document")["document"][0]) == json.loads(form["document"][0])


def test_ticking_an_action_on_a_card_rewrites_the_json_and_previews_who_gains(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    form["s0-principal"] = [f"arn:aws:iam::{B}:user/admin"]
    form["s0-action"] = ["kms:Decrypt"]
    response = sync(alice, url, form, "cards").content.decode()
    statement = json.loads(fields(response, "document")["document"][0])["Statement"][0]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{B}:user/admin"}
    assert statement["Action"] == "kms:Decrypt"
    assert 'hx-swap-oob="true"' in response
    assert f"<strong>admin ({B})</strong> gains <code>kms:Decrypt</code>" in response
    assert f"<strong>admin ({A})</strong> loses <code>kms:PutKeyPolicy</code>" in response
    assert 'id="cards"' not in response  # a plain card edit leaves the cards (and the learner's focus) alone
    # ... but what the card's summaries say follows it.
    assert f'id="s0-principal-chosen" hx-swap-oob="true"><code>arn:aws:iam::{B}:user/admin</code></span>' in response
    assert 'id="s0-g2-chosen" class="badge ok" hx-swap-oob="true">1 chosen</span>' in response


def test_the_card_buttons_add_a_statement_and_a_condition(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    response = sync(alice, url, form, "cards", op="add-statement").content.decode()
    assert "Statement 2" in response and 'name="s1-resource"' in response
    form = fields(response, "cards") | {"document": fields(response, "document")["document"]}
    response = sync(alice, url, form, "cards", op="add-condition:1").content.decode()
    assert 'name="s1-c0-key"' in response


def test_invalid_json_is_shown_at_its_line_and_the_learners_text_is_kept(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    broken = form["document"][0].replace('"Effect"', '"Effect" "Allow",', 1)
    response = sync(alice, url, {**form, "document": broken}, "json")
    page = response.content.decode()
    assert is_fragment(response)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if '"Effect" "Allow"' in text)
    assert f"Not valid JSON</span>\n            line {line}, column" in page
    assert f'<span class="here"><span class="ln">{line}</span>' in page
    assert 'id="document"' not in page  # the textarea is the learner's: never overwritten while they type
    assert "inert" in page and 'name="s0-sid"' in page  # the cards wait, as they were


def test_a_policy_kms_would_refuse_is_shown_on_its_statement(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    doc = json.loads(form["document"][0])
    doc["Statement"].append({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})
    text = json.dumps(doc, indent=2)
    page = sync(alice, url, {**form, "document": text}, "json").content.decode()
    assert "PutKeyPolicy would refuse this" in page
    assert "Statement 2: a key policy statement must have a Principal" in page
    assert 'class="card  has-problem" id="card-1"' in page
    assert "Waiting" in page  # no preview of a policy that cannot be saved


def test_a_statement_the_cards_cannot_express_is_left_to_the_json(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    doc = json.loads(form["document"][0])
    doc["Statement"].append({"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"})
    page = sync(alice, url, {**form, "document": json.dumps(doc)}, "json").content.decode()
    assert "The cards do not edit NotPrincipal" in page
    form = fields(page, "cards") | {"document": [json.dumps(doc)]}
    rewritten = fields(sync(alice, url, form, "cards").content.decode(), "document")["document"][0]
    assert json.loads(rewritten) == doc


def test_saving_is_a_real_put_key_policy_as_the_acting_principal(alice):
    key_id, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    doc = json.loads(form["document"][0])
    doc["Statement"][0]["Sid"] = "Root delegates to IAM"
    response = alice.post(url, {"document": json.dumps(doc)}, htmx=True)
    page = response.content.decode()
    assert is_fragment(response) and "Succeeded" in page and "PutKeyPolicy" in page
    assert json.loads(runner.load_world(alice.sandbox.id).doc["kms"]["keys"][key_id]["Policy"]) == doc
    record = TrailRecord.objects.filter(sandbox=alice.sandbox, event_name="PutKeyPolicy").get()
    assert record.record["userIdentity"]["arn"] == f"arn:aws:iam::{A}:user/admin"


def test_the_lockout_check_refuses_a_policy_that_shuts_the_caller_out(alice):
    key_id, url = key_editor(alice)
    locked = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "kms:*", "Resource": "*"}]}
    response = alice.post(url, {"document": json.dumps(locked)})
    assert codes(response) == ["MalformedPolicyDocumentException"]
    assert b"<html" in response.content  # without htmx, the whole page
    assert "111122223333:root" in runner.load_world(alice.sandbox.id).doc["kms"]["keys"][key_id]["Policy"]


def test_an_iam_inline_policy_is_written_with_put_user_policy(alice):
    page = alice.get(alice.home + "policies/").content.decode()
    assert f'action="/s/{alice.sandbox.id}/policies/{A}/user/admin/"' in page
    response = alice.get(f"{alice.home}policies/{A}/user/admin/?PolicyName=kms-read")
    url = response["Location"]
    assert url == f"{alice.home}policies/{A}/user/admin/kms-read/"
    page = alice.get(url).content.decode()
    assert "Inline policy kms-read of user admin" in page
    assert 'name="s0-principal"' not in page  # an IAM policy has no Principal
    form = fields(page, "policy-form")
    response = alice.post(url, {"document": form["document"][0]}, htmx=True)
    assert "Succeeded" in response.content.decode() and "PutUserPolicy" in response.content.decode()
    user = runner.load_world(alice.sandbox.id).account(A)["users"]["admin"]
    assert user["InlinePolicies"]["kms-read"] == form["document"][0]


def test_the_iam_preview_is_per_key_for_the_policys_holder(alice):
    alice.create_key()
    url = f"{alice.home}policies/{A}/user/admin/AdministratorAccess/"
    form = fields(alice.get(url).content.decode(), "policy-form")
    deny = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}]})
    page = sync(alice, url, {**form, "document": deny}, "json").content.decode()
    assert "loses <code>kms:Decrypt</code>" in page and "loses <code>kms:Encrypt</code>" in page


def test_another_learner_cannot_open_or_sync_the_editor(alice, mallory):
    _, url = key_editor(alice)
    assert mallory.get(url).status_code == 404
    assert mallory.post(url + "sync/", {"source": "json", "document": "{}"}, htmx=True).status_code == 404
    assert mallory.post(url, {"document": "{}"}).status_code == 404


def test_linter_findings_follow_a_card_edit_onto_the_statement_they_concern(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    assert "KMS-005" not in form  # nothing public yet
    form["s0-principal"] = ["*"]
    form["s0-action"] = ["kms:Decrypt"]
    page = sync(alice, url, form, "cards").content.decode()
    notes = page.split('<div class="card-notes" id="notes-0" hx-swap-oob="true">')[1].split("</div>")[0]
    assert "KMS-005" in notes and "critical" in notes
    assert '<div id="policy-notes" hx-swap-oob="true">' in page


def test_the_editor_opens_with_the_findings_on_the_default_policy(alice):
    _, url = key_editor(alice)
    page = alice.get(url).content.decode()
    policy_notes = page.split('<div id="policy-notes" >')[1].split("</div>")[0]
    assert "KMS-024" in policy_notes


def test_the_preview_asks_with_the_context_the_learner_sets(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    doc = json.loads(form["document"][0])
    doc["Statement"].append({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:user/admin"}, "Action": "kms:Decrypt",
                             "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}})
    form["document"] = [json.dumps(doc)]
    assert "No change" in sync(alice, url, form, "json").content.decode()
    page = sync(alice, url, {**form, "preview_context": '{"tenant": "acme"}'}, "preview").content.decode()
    assert f"<strong>admin ({B})</strong> gains <code>kms:Decrypt</code>" in page
    assert 'id="cards"' not in page and 'id="document"' not in page  # neither view changes
    page = sync(alice, url, {**form, "preview_context": "tenant=acme"}, "preview").content.decode()
    assert "Encryption context: Not valid JSON" in page and "No change" in page


def test_a_role_inline_policy_is_written_with_put_role_policy(alice):
    alice.post(alice.home + "iam/call/CreateRole/", {
        "RoleName": "app",
        "AssumeRolePolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}]}),
    })
    assert "app" in runner.load_world(alice.sandbox.id).account(A)["roles"]
    url = f"{alice.home}policies/{A}/role/app/decrypt/"
    form = fields(alice.get(url).content.decode(), "policy-form")
    response = alice.post(url, {"document": form["document"][0]}, htmx=True)
    assert "Succeeded" in response.content.decode() and "PutRolePolicy" in response.content.decode()
    assert runner.load_world(alice.sandbox.id).account(A)["roles"]["app"]["InlinePolicies"]["decrypt"]
    assert alice.get(f"{alice.home}policies/{A}/group/app/decrypt/").status_code == 404


def test_a_policy_name_iam_would_refuse_is_said_so_on_the_policies_page(alice):
    response = alice.get(f"{alice.home}policies/{A}/user/admin/?PolicyName=no%20spaces")
    assert response.status_code == 400
    assert "Policy name “no spaces”: Enter a valid value." in response.content.decode()


def test_choosing_a_condition_key_offers_its_values_and_a_pick_lands_in_the_json(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    page = sync(alice, url, form, "cards", op="add-condition:0").content.decode()
    form = fields(page, "cards") | {"document": fields(page, "document")["document"]}
    form["s0-c0-operator"], form["s0-c0-key"] = ["Bool"], ["aws:MultiFactorAuthPresent"]
    page = sync(alice, url, form, "cards").content.decode()  # a plain edit: the row's picker follows out of band
    assert '<span id="s0-c0-picker" hx-swap-oob="true">' in page and '<option value="true">true</option>' in page
    assert "<code>aws:MultiFactorAuthPresent</code> is set by every operation." in page
    form = {**form, "document": fields(page, "document")["document"], "s0-c0-pick": ["true"]}
    page = sync(alice, url, form, "cards").content.decode()
    statement = json.loads(fields(page, "document")["document"][0])["Statement"][0]
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert '<option value="true">' not in page  # offered no more once chosen


def test_a_plain_link_to_a_new_inline_policy_opens_kms_access(alice):
    response = alice.get(f"{alice.home}policies/{A}/user/admin/")
    assert response["Location"] == f"{alice.home}policies/{A}/user/admin/kms-access/"


def as_admin(learner, operation, request):
    """An IAM call the console has no form for, made as account A's admin (e.g. CreatePolicy)."""
    outcome = runner.run(learner.sandbox.id, acting.Identity(A, "user", "admin").who(), "iam", operation, request)
    assert outcome.error is None, outcome.error
    return outcome.response


def make_group(learner, name, members=()):
    as_admin(learner, "CreateGroup", {"GroupName": name})
    for user in members:
        as_admin(learner, "AddUserToGroup", {"GroupName": name, "UserName": user})


def test_a_group_inline_policy_is_written_with_put_group_policy(alice):
    make_group(alice, "readers", ["admin"])
    page = alice.get(alice.home + "policies/").content.decode()
    assert f'action="/s/{alice.sandbox.id}/policies/{A}/group/readers/"' in page
    url = alice.get(f"{alice.home}policies/{A}/group/readers/?PolicyName=kms-read")["Location"]
    assert url == f"{alice.home}policies/{A}/group/readers/kms-read/"
    page = alice.get(url).content.decode()
    assert "Inline policy kms-read of group readers" in page and "Save: PutGroupPolicy as admin" in page
    assert "Rows are the members of group readers" in page
    form = fields(page, "policy-form")
    response = alice.post(url, {"document": form["document"][0]}, htmx=True)
    assert is_fragment(response) and "Succeeded" in response.content.decode()
    group = runner.load_world(alice.sandbox.id).account(A)["groups"]["readers"]
    assert group["InlinePolicies"]["kms-read"] == form["document"][0]
    record = TrailRecord.objects.filter(sandbox=alice.sandbox, event_name="PutGroupPolicy").get()
    assert record.record["requestParameters"]["groupName"] == "readers"
    assert record.record["userIdentity"]["arn"] == f"arn:aws:iam::{A}:user/admin"


def test_the_group_preview_shows_each_member_and_an_empty_group_says_so(alice):
    key_id = alice.create_key().rstrip("/").rsplit("/", 1)[1]
    as_admin(alice, "CreateUser", {"UserName": "bob"})
    make_group(alice, "readers", ["bob"])
    make_group(alice, "nobody")
    url = f"{alice.home}policies/{A}/group/readers/kms-read/"
    form = fields(alice.get(url).content.decode(), "policy-form")
    decrypt = json.dumps({"Version": "2012-10-17",
                          "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]})
    response = sync(alice, url, {**form, "document": decrypt}, "json")
    page = response.content.decode()
    assert is_fragment(response) and '<div id="preview" aria-live="polite" hx-swap-oob="true">' in page
    assert f"<strong>user bob · {key_id}</strong> gains <code>kms:Decrypt</code>" in page
    assert "user admin" not in page  # admin is no member
    page = alice.get(f"{alice.home}policies/{A}/group/nobody/kms-read/").content.decode()
    assert "Group nobody has no members: its policies apply to nobody yet." in page


def managed_policy(learner, name="kms-read"):
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}]})
    return as_admin(learner, "CreatePolicy", {"PolicyName": name, "PolicyDocument": document})["Policy"]["Arn"]


def test_a_managed_policy_is_listed_and_saved_as_a_new_default_version(alice):
    arn = managed_policy(alice)
    as_admin(alice, "CreateUser", {"UserName": "bob"})
    as_admin(alice, "AttachUserPolicy", {"UserName": "bob", "PolicyArn": arn})
    url = f"{alice.home}policies/{A}/managed/kms-read/"
    page = alice.get(alice.home + "policies/").content.decode()
    assert f'<a href="{url}">kms-read</a>' in page and "user bob" in page
    assert f'Managed: <a href="{url}">kms-read</a>' in page  # on bob's row too
    page = alice.get(url).content.decode()
    assert "Managed policy kms-read (111122223333), default version v1 of 1" in page
    assert "Save: CreatePolicyVersion as admin" in page
    form = fields(page, "policy-form")
    doc = json.loads(form["document"][0])
    doc["Statement"][0]["Action"] = ["kms:DescribeKey", "kms:Decrypt"]
    response = alice.post(url, {"document": json.dumps(doc)}, htmx=True)
    assert is_fragment(response) and "Succeeded" in response.content.decode()
    policy = runner.load_world(alice.sandbox.id).account(A)["policies"]["kms-read"]
    assert policy["DefaultVersionId"] == "v2" and json.loads(policy["Versions"]["v2"]["Document"]) == doc
    record = TrailRecord.objects.filter(sandbox=alice.sandbox, event_name="CreatePolicyVersion").get()
    assert record.record["requestParameters"]["policyArn"] == arn
    assert record.record["requestParameters"]["setAsDefault"] is True


def test_the_managed_preview_shows_everyone_it_is_attached_to(alice):
    key_id = alice.create_key().rstrip("/").rsplit("/", 1)[1]
    arn = managed_policy(alice)
    as_admin(alice, "CreateUser", {"UserName": "bob"})
    make_group(alice, "readers", ["bob"])
    as_admin(alice, "AttachGroupPolicy", {"GroupName": "readers", "PolicyArn": arn})
    url = f"{alice.home}policies/{A}/managed/kms-read/"
    form = fields(alice.get(url).content.decode(), "policy-form")
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]})
    response = sync(alice, url, {**form, "document": deny}, "json")
    page = response.content.decode()
    assert is_fragment(response) and 'id="cards"' in page  # a JSON edit re-renders the cards
    assert f"<strong>user bob · {key_id}</strong> loses <code>kms:DescribeKey</code>" in page  # through its group
    assert "user admin" not in page


def test_a_sixth_version_is_refused_with_limit_exceeded_and_nothing_is_deleted(alice):
    managed_policy(alice)
    url = f"{alice.home}policies/{A}/managed/kms-read/"
    document = fields(alice.get(url).content.decode(), "policy-form")["document"][0]
    for _ in range(4):
        assert "Succeeded" in alice.post(url, {"document": document}, htmx=True).content.decode()
    response = alice.post(url, {"document": document})
    assert codes(response) == ["LimitExceeded"] and b"<html" in response.content
    assert "A managed policy can have up to 5 versions." in response.content.decode()
    policy = runner.load_world(alice.sandbox.id).account(A)["policies"]["kms-read"]
    assert sorted(policy["Versions"]) == ["v1", "v2", "v3", "v4", "v5"] and policy["DefaultVersionId"] == "v5"
    assert TrailRecord.objects.filter(sandbox=alice.sandbox, event_name="CreatePolicyVersion",
                                      error_code="LimitExceeded").count() == 1


def test_another_learner_cannot_open_or_sync_a_group_or_managed_policy(alice, mallory):
    make_group(alice, "readers", ["admin"])
    managed_policy(alice)
    for url in (f"{alice.home}policies/{A}/group/readers/kms-read/", f"{alice.home}policies/{A}/managed/kms-read/"):
        assert mallory.get(url).status_code == 404
        assert mallory.post(url + "sync/", {"source": "json", "document": "{}"}, htmx=True).status_code == 404
        assert mallory.post(url, {"document": "{}"}).status_code == 404
    assert mallory.get(f"{alice.home}policies/{A}/group/readers/").status_code == 404


def test_an_unknown_group_or_managed_policy_is_not_found(alice):
    assert alice.get(f"{alice.home}policies/{A}/group/nobody/kms-read/").status_code == 404
    assert alice.get(f"{alice.home}policies/{A}/managed/nothing/").status_code == 404
    sync_url = f"{alice.home}policies/{A}/managed/nothing/sync/"
    assert alice.post(sync_url, {"source": "json"}, htmx=True).status_code == 404


def test_json_nested_thousands_deep_is_a_problem_in_place_when_synced_and_refused_when_saved(alice):
    _, url = key_editor(alice)
    deep = "[" * 5000 + "]" * 5000
    response = sync(alice, url, {"document": deep}, "json")
    assert response.status_code == 200 and "nested more than 32 levels deep" in response.content.decode()
    response = sync(alice, url, {"document": deep}, "cards")
    assert response.status_code == 200
    response = alice.post(url, {"document": deep}, htmx=True)
    assert response.status_code == 200 and codes(response) == ["MalformedPolicyDocumentException"]


def test_a_raw_card_whose_json_was_tampered_with_is_a_policy_problem(alice):
    _, url = key_editor(alice)
    form = {"document": '{"Statement": []}', "statements": "1", "s0-raw": "[" * 5000, "s0-why_raw": "x"}
    response = sync(alice, url, form, "cards")
    assert response.status_code == 200 and "Statement" in response.content.decode()


def test_create_policy_makes_a_customer_managed_policy_and_opens_its_editor(alice):
    page = alice.get(alice.home + "policies/").content.decode()
    assert f'action="{alice.home}policies/create/"' in page
    response = alice.post(alice.home + "policies/create/", {
        "PolicyName": "kms-use", "Description": "for the app",
        "PolicyDocument": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", '
                          '"Resource": "*"}]}',
    })
    assert response["Location"] == f"{alice.home}policies/{A}/managed/kms-use/"
    record = alice.get(alice.home + "trail.json").json()["Records"][-1]
    assert record["eventName"] == "CreatePolicy" and "errorCode" not in record
    assert "kms-use" in alice.get(alice.home + "policies/").content.decode()


def test_create_policy_shows_iams_error_and_keeps_the_form(alice):
    data = {"PolicyName": "kms-use", "PolicyDocument": '{"Version": "2012-10-17", "Statement": []}'}
    response = alice.post(alice.home + "policies/create/", data)
    assert codes(response) == ["MalformedPolicyDocument"]
    page = response.content.decode()
    assert re.search(r'<details class="action gap-above" id="create-policy" [^>]*open>', page) and 'value="kms-use"' in page


# Snippets, the key ARN picker and the principal picker.


def iam_call(learner, account, operation, request):
    """An IAM call made as that account's admin (IAM calls change the caller's own account)."""
    outcome = runner.run(learner.sandbox.id, acting.Identity(account, "user", "admin").who(), "iam", operation,
                         request)
    assert outcome.error is None, outcome.error


def test_the_key_users_snippet_inserts_awss_statement_and_the_preview_shows_who_gains(alice):
    iam_call(alice, A, "CreateUser", {"UserName": "bob"})
    _, url = key_editor(alice)
    page = alice.get(url).content.decode()
    assert "+ Statement from a snippet" in page and "Require MFA for destructive actions" in page
    form = fields(page, "policy-form") | {"snippet-key-users": [f"arn:aws:iam::{A}:user/bob"]}
    response = sync(alice, url, form, "cards", op="snippet:key-users").content.decode()
    statement = json.loads(fields(response, "document")["document"][0])["Statement"][-1]
    assert statement["Sid"] == "Allow use of the key"
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{A}:user/bob"}
    assert 'id="card-1"' in response  # the cards re-render with the new one
    assert f"<strong>bob ({A})</strong> gains <code>kms:Decrypt</code>" in response
    assert f"<strong>bob ({A})</strong> gains <code>kms:PutKeyPolicy</code>" not in response


def test_a_snippet_for_a_principal_the_editor_does_not_offer_inserts_nothing(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    form["snippet-allow-account"] = ["arn:aws:iam::999999999999:root"]
    response = sync(alice, url, form, "cards", op="snippet:allow-account").content.decode()
    assert json.loads(fields(response, "document")["document"][0]) == json.loads(form["document"][0])


def test_a_link_opens_the_key_policy_editor_with_a_snippet_inserted_not_saved(alice):
    key_id, url = key_editor(alice)
    page = alice.get(f"{url}?snippet=allow-account&snippet-allow-account=arn:aws:iam::{B}:root").content.decode()
    statement = json.loads(fields(page, "policy-form")["document"][0])["Statement"][-1]
    assert statement["Sid"] == "Allow an external account to use this KMS key"
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{B}:root"}
    assert "Inserted “Allow another account (the root model)”" in page
    assert f"<strong>admin ({B})</strong> gains <code>kms:Decrypt</code>" in page
    assert f"arn:aws:iam::{B}:root" not in runner.load_world(alice.sandbox.id).doc["kms"]["keys"][key_id]["Policy"]


def test_a_new_inline_policy_opened_for_a_snippet_holds_just_the_snippet(alice):
    key_arn = f"arn:aws:kms:us-east-1:{A}:key/" + key_editor(alice)[0]
    url = f"{alice.home}policies/{B}/user/admin/kms-access/?snippet=key-users&snippet-key-users={key_arn}"
    doc = json.loads(fields(alice.get(url).content.decode(), "policy-form")["document"][0])
    actions = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    assert doc["Statement"] == [{"Sid": "AllowUseOfTheKey", "Effect": "Allow", "Action": actions, "Resource": key_arn}]


def test_the_iam_editors_resource_field_picks_the_sandboxs_keys_by_alias_and_description(alice):
    key_id = alice.create_key(Description="payroll data").rstrip("/").rsplit("/", 1)[1]
    alice.post(f"{alice.home}keys/{key_id}/CreateAlias/", {"AliasName": "alias/payroll"})
    key_arn = f"arn:aws:kms:us-east-1:{A}:key/{key_id}"
    url = f"{alice.home}policies/{A}/user/admin/kms-access/"
    page = alice.get(url).content.decode()
    assert f'<option value="{key_arn}">alias/payroll — payroll data ({A}, Enabled)</option>' in page
    form = fields(page, "policy-form") | {"s0-resource_pick": [key_arn]}
    response = sync(alice, url, form, "cards").content.decode()
    assert json.loads(fields(response, "document")["document"][0])["Statement"][0]["Resource"] == ["*", key_arn]
    # The cards re-render, so the Resource field shows the ARN and the picker starts over without it.
    assert f">*\n{key_arn}</textarea>" in response
    assert f'<option value="{key_arn}">' not in response


def test_the_principal_picker_lists_every_user_and_role_of_both_accounts(alice):
    iam_call(alice, B, "CreateUser", {"UserName": "carol"})
    iam_call(alice, A, "CreateRole", {"RoleName": "app", "AssumeRolePolicyDocument": json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                                                "Action": "sts:AssumeRole"}]})})
    _, url = key_editor(alice)
    page = alice.get(url).content.decode()
    # The policy names account A's root only, and that alone is ticked ...
    assert fields(page, "s0-principals")["s0-principal"] == [f"arn:aws:iam::{A}:root"]
    # ... yet every user and role of both accounts is there to tick.
    for arn in (f"arn:aws:iam::{A}:user/admin", f"arn:aws:iam::{A}:role/app", f"arn:aws:iam::{B}:user/admin",
                f"arn:aws:iam::{B}:user/carol", f"arn:aws:iam::{B}:root"):
        assert f'name="s0-principal" value="{arn}"' in page


def test_a_picked_condition_value_shows_in_its_field_so_the_next_edit_keeps_it(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    page = sync(alice, url, form, "cards", op="add-condition:0").content.decode()
    form = fields(page, "cards") | {"document": fields(page, "document")["document"]}
    form |= {"s0-c0-operator": ["Bool"], "s0-c0-key": ["aws:MultiFactorAuthPresent"], "s0-c0-pick": ["true"]}
    page = sync(alice, url, form, "cards").content.decode()
    form = fields(page, "cards") | {"document": fields(page, "document")["document"]}
    assert form["s0-c0-values"] == ["true"] and form["s0-c0-pick"] == [""]
    form["s0-sid"] = ["Renamed"]  # the learner's next edit, on another field
    statement = json.loads(fields(sync(alice, url, form, "cards").content.decode(), "document")["document"][0])
    assert statement["Statement"][0]["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def test_a_second_snippet_of_the_same_sid_joins_the_statement_the_first_one_wrote(alice):
    iam_call(alice, B, "CreateUser", {"UserName": "carol"})
    _, url = key_editor(alice)
    page = alice.get(f"{url}?snippet=allow-account&snippet-allow-account=arn:aws:iam::{B}:root").content.decode()
    form = fields(page, "policy-form") | {"snippet-allow-external-principal": [f"arn:aws:iam::{B}:user/carol"]}
    response = sync(alice, url, form, "cards", op="snippet:allow-external-principal").content.decode()
    statements = json.loads(fields(response, "document")["document"][0])["Statement"]
    assert len(statements) == 2
    assert statements[1]["Principal"] == {"AWS": [f"arn:aws:iam::{B}:root", f"arn:aws:iam::{B}:user/carol"]}


def test_the_mfa_snippet_denies_callers_without_mfa_and_not_those_with_it(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    response = sync(alice, url, form, "cards", op="snippet:require-mfa").content.decode()
    # BoolIfExists: the console's admin calls with long-term credentials, which carry no MFA key at all.
    assert f"<strong>admin ({A})</strong> loses <code>kms:PutKeyPolicy</code>" in response
    assert f"<strong>admin ({A})</strong> loses <code>kms:Decrypt</code>" not in response
    form = fields(response, "cards") | {"document": fields(response, "document")["document"], "preview_mfa": ["on"]}
    assert "loses" not in sync(alice, url, form, "preview").content.decode()


def test_the_via_service_snippet_denies_direct_use(alice):
    _, url = key_editor(alice)
    form = fields(alice.get(url).content.decode(), "policy-form")
    response = sync(alice, url, form, "cards", op="snippet:deny-outside-via-service").content.decode()
    statement = json.loads(fields(response, "document")["document"][0])["Statement"][-1]
    assert statement["Condition"] == {"StringNotEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
    assert f"<strong>admin ({A})</strong> loses <code>kms:Encrypt</code>" in response
    assert f"<strong>admin ({A})</strong> loses <code>kms:DescribeKey</code>" not in response


def test_the_editor_names_the_kind_of_policy_it_reads_with_the_right_article(alice):
    key_page = alice.create_key()
    key_id = key_page.rstrip("/").rsplit("/", 1)[1]
    assert "reads it as a key policy." in alice.get(f"{alice.home}policies/key/{key_id}/").content.decode()
    inline = alice.get(f"{alice.home}policies/{A}/user/admin/AdministratorAccess/").content.decode()
    assert "reads it as an IAM policy." in inline and "a IAM" not in inline
