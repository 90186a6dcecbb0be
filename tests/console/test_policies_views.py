"""The visual policy editors: cards and JSON in sync, problems in place, the access preview, saving for real."""
import json

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
    page = sync(alice, url, form, "cards", op="add-value:0:0").content.decode()
    statement = json.loads(fields(page, "document")["document"][0])["Statement"][0]
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert '<option value="true">' not in page  # offered no more once chosen


def test_a_plain_link_to_a_new_inline_policy_opens_kms_access(alice):
    response = alice.get(f"{alice.home}policies/{A}/user/admin/")
    assert response["Location"] == f"{alice.home}policies/{A}/user/admin/kms-access/"
