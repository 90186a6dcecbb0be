"""A learner in a real browser: Debian's Chromium, driven by Playwright, against kmslab.serve on a free port.

The learner opens the console link `manage.py sandbox create` printed and confirms it, creates
a key, edits its policy in the visual editor and reads the access preview,
saves it, runs the envelope step-through, and watches a boto3 call arrive in
the live CloudTrail feed (a websocket: hence the ASGI server, not pytest-django's WSGI
live_server).

Without /usr/bin/chromium these tests are skipped with the reason, unless
KMSLAB_REQUIRE_BROWSER=1 (set by .ci/run), which makes a missing browser a
failure. KMSLAB_SCREENSHOTS=<dir> saves a screenshot of each page there
(docs/screenshots/ holds the committed ones).
"""
import json
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ..api.live import Server, client_factory

pytestmark = [pytest.mark.browser, pytest.mark.live]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = os.environ.get("KMSLAB_SCREENSHOTS")


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        message = "needs Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)"
        if os.environ.get("KMSLAB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"KMSLAB_REQUIRE_BROWSER=1: the browser tests are mandatory, and this machine {message}")
        pytest.skip(f"browser tests skipped: this machine {message}; KMSLAB_REQUIRE_BROWSER=1 makes them mandatory")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(chromium, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("kmslab-browser")
    Server.migrate_database(var_dir)
    running = Server(var_dir).wait_until_ready()
    yield running
    running.stop()


@pytest.fixture
def learner(chromium, server):
    """A browser page, signed in to a fresh sandbox through its console link; and the sandbox."""
    sandbox = json.loads(server.manage("sandbox", "create", "--json"))
    base = f"http://127.0.0.1:{server.port}"
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    refused = watch_content_security_policy(page)
    page.goto(base + urlsplit(sandbox["console_url"]).path)
    shot(page, "claim")
    page.get_by_role("button", name="Open sandbox").click()
    page.wait_for_url(re.compile(r"/s/[0-9a-f-]{36}/$"))
    page.base = base
    page.home = page.url
    yield page, sandbox
    context.close()
    assert refused == []


def watch_content_security_policy(page):
    """What the page's Content-Security-Policy refused (Chromium says so on the console): nothing, for kmslab's pages."""
    refused = []

    def note(message):
        if "Content Security Policy" in message.text:
            refused.append((page.url, message.text))

    page.on("console", note)
    return refused


def shot(page, name):
    """Save a screenshot of the whole page (the viewport stretched to it, so sticky parts stay put)."""
    if SHOTS:
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": 1280, "height": min(height, 4000)})
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), caret="initial")  # hiding it injects a style the CSP refuses
        page.set_viewport_size({"width": 1280, "height": 900})


def create_key(page):
    """CreateKey from the keys page, which goes on to the new key's page; its id."""
    page.goto(page.home + "keys/")
    page.locator("#create summary").click()
    page.locator("#create button[type=submit]").click()
    page.wait_for_url(re.compile(r"/keys/[0-9a-f-]{36}/$"))
    return page.url.rstrip("/").rsplit("/", 1)[1]


def test_a_learner_edits_a_key_policy_and_sees_who_gains_and_loses(learner):
    from playwright.sync_api import expect

    page, _ = learner
    key_id = create_key(page)
    page.goto(page.home + "policies/")
    shot(page, "policies")
    page.get_by_role("link", name=key_id).click()
    expect(page.locator("#card-0 > legend")).to_contain_text("Enable IAM User Permissions")
    expect(page.locator("#preview")).to_contain_text("No change")

    # A second statement, built on its card: account B's admin may Decrypt.
    page.get_by_role("button", name="+ Statement").click()
    expect(page.locator("#card-1")).to_be_visible()
    page.locator("#card-1 summary", has_text="Principal").click()
    page.locator("#card-1").get_by_label("user admin").nth(1).check()
    page.locator("#card-1 summary", has_text="Cryptographic use").click()
    page.locator("#card-1 input[value='kms:Decrypt']").check()
    page.locator("#card-1 input[value='kms:Encrypt']").check()
    expect(page.locator("#document")).to_have_value(re.compile(r'"Action": \[\s*"kms:Decrypt",\s*"kms:Encrypt"\s*\]'))
    expect(page.locator("#preview .changes")).to_contain_text("admin (444455556666) gains kms:Decrypt")
    expect(page.locator("#preview td.gain")).to_have_count(2)
    # The picker the learner is using stayed open through the sync.
    expect(page.locator("#card-1 details.picker").nth(2)).to_have_attribute("open", "")

    shot(page, "policy-editor")

    # A condition from the catalogue: the card says which operations set the key, and the
    # preview shows the effect once its requests carry that encryption context.
    page.locator("#card-1").get_by_role("button", name="+ Condition").click()
    page.locator("#s1-c0-key").fill("kms:EncryptionContext:tenant")
    page.locator("#s1-c0-values").fill("acme")
    page.locator("#s1-c0-values").blur()
    expect(page.locator("#document")).to_have_value(re.compile(r'"kms:EncryptionContext:tenant": "acme"'))
    expect(page.locator("#notes-1 .set-by")).to_contain_text("is set by CreateGrant, Decrypt, Encrypt, GenerateDataKey")
    expect(page.locator("#preview")).to_contain_text("No change")
    page.locator("#preview_context").fill('{"tenant": "acme"}')
    page.locator("#preview_context").blur()
    expect(page.locator("#preview .changes")).to_contain_text("admin (444455556666) gains kms:Decrypt")
    shot(page, "policy-editor-condition")

    # A second condition, its value picked from what the key can be; the preview needs MFA to show it.
    page.locator("#card-1").get_by_role("button", name="+ Condition").click()
    page.locator("#s1-c1-operator").fill("Bool")
    page.locator("#s1-c1-key").fill("aws:MultiFactorAuthPresent")
    page.locator("#s1-c1-key").blur()
    page.locator("#s1-c1-pick").select_option("true")
    expect(page.locator("#document")).to_have_value(re.compile(r'"Bool": \{\s*"aws:MultiFactorAuthPresent": "true"'))
    expect(page.locator("#preview")).to_contain_text("No change")
    page.locator("#preview_mfa").check()
    expect(page.locator("#preview .changes")).to_contain_text("admin (444455556666) gains kms:Decrypt")

    # A typo in the JSON: shown at its line, the text kept, the cards waiting.
    text = page.locator("#document").input_value()
    page.locator("#document").fill(text.replace('"Effect": "Allow"', '"Effect": "Allow",,', 1))
    expect(page.locator("#json-status")).to_contain_text("Not valid JSON")
    expect(page.locator("#json-status .here")).to_contain_text(',,')
    expect(page.locator("#cards")).to_have_attribute("inert", "")
    shot(page, "policy-editor-json-error")
    page.locator("#document").fill(text)
    expect(page.locator("#json-status")).to_contain_text("Valid")

    page.get_by_role("button", name=re.compile("Save: PutKeyPolicy")).click()
    expect(page.locator("#saved")).to_contain_text("Succeeded")
    expect(page.locator("#preview")).to_contain_text("No change")  # what was proposed is now in force


def test_a_learner_steps_through_envelope_encryption(learner):
    from playwright.sync_api import expect

    page, _ = learner
    create_key(page)
    page.goto(page.home + "envelope/")
    page.get_by_role("button", name="Try Encrypt directly").click()
    expect(page.locator("#direct")).to_contain_text("ValidationException")
    page.get_by_role("button", name="Encrypt with a data key").click()
    expect(page.locator("#plaintext-key")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    expect(page.locator("code.gone")).to_be_visible()
    page.get_by_label("Encryption context for Decrypt").fill('{"purpose": "kmslab-lesson", "tenant": "globex"}')
    page.get_by_role("button", name="Decrypt the data key, then the message").click()
    expect(page.locator("#decrypted")).to_contain_text("InvalidCiphertextException")
    expect(page.locator("#decrypted [data-note=after-authorization]")).to_contain_text(
        "kmslab note: Allowed by the policies; the ciphertext did not authenticate")
    # Its record: the Allowed box says the call failed after authorization.
    page.locator("#decrypted a", has_text="Its CloudTrail record").click()
    expect(page.locator("section.why.after")).to_contain_text("Allowed by the policies")
    page.goto(page.home + "envelope/")
    page.get_by_role("button", name="Encrypt with a data key").click()
    page.get_by_label("Encryption context for Decrypt").fill('{"purpose": "kmslab-lesson", "tenant": "acme"}')
    page.get_by_role("button", name="Decrypt the data key, then the message").click()
    expect(page.locator("#decrypted")).to_contain_text("identical to the message you encrypted")
    shot(page, "envelope")
    page.locator("#steps details summary", has_text="Anatomy").click()
    expect(page.locator("#steps .anatomy div.range-key-id")).to_be_visible()

    # A megabyte pasted in: the page posts it as multipart, and it goes round.
    page.locator("#id_message").fill("0123456789abcdef" * 65536)
    page.get_by_role("button", name="Encrypt with a data key").click()
    expect(page.locator("#steps")).to_contain_text("1048576-byte message")
    page.get_by_role("button", name="Decrypt the data key, then the message").click()
    expect(page.locator("#decrypted")).to_contain_text("1048576 bytes, identical to the message you encrypted")

    # Any blob, pasted into the anatomy page.
    blob = page.locator("input[name=encrypted_data_key]").input_value()
    page.goto(page.home + "anatomy/")
    page.get_by_label("CiphertextBlob").fill(blob)
    page.get_by_role("button", name="Show its parts").click()
    expect(page.locator("#parts div.range-gcm-tag")).to_contain_text("16 B")
    shot(page, "anatomy")


def test_a_learner_simulates_a_denied_call_live(learner):
    from playwright.sync_api import expect

    page, _ = learner
    create_key(page)
    page.goto(page.home + "simulator/")
    page.get_by_label("Principal").select_option("444455556666/user/admin")
    expect(page.locator("#decision")).to_contain_text("Implicitly denied")
    expect(page.locator("#decision")).to_contain_text("Nearest miss")
    expect(page.locator("#decision .sides")).to_contain_text("Cross-account: two halves must both allow")
    assert "principal=444455556666" in page.url  # the decision has a URL
    page.get_by_label("Principal").select_option("111122223333/user/admin")
    expect(page.locator("#decision")).to_contain_text("Allowed")
    shot(page, "simulator")


def test_a_boto3_call_appears_in_the_live_feed(learner, server):
    from playwright.sync_api import expect

    page, sandbox = learner
    page.goto(page.home + "trail/")
    expect(page.locator("#live-state")).to_have_text(re.compile("live|connected", re.I))
    kms = client_factory(server.url, sandbox["principals"][0])("kms")
    kms.generate_random(NumberOfBytes=16)
    expect(page.locator("#feed-rows")).to_contain_text("GenerateRandom")


def test_a_learner_adds_an_explicit_deny_to_an_iam_policy(learner):
    from playwright.sync_api import expect

    page, _ = learner
    create_key(page)
    page.goto(page.home + "policies/")
    page.get_by_role("link", name="AdministratorAccess").first.click()
    expect(page.locator("h1")).to_contain_text("Inline policy AdministratorAccess of user admin")
    page.get_by_role("button", name="+ Statement").click()
    page.locator("#s1-deny").check()
    page.locator("#card-1 summary", has_text="Key administration").click()
    page.locator("#card-1 input[value='kms:ScheduleKeyDeletion']").check()
    page.locator("#s1-resource").fill("*")
    page.locator("#s1-resource").blur()
    expect(page.locator("#preview .changes")).to_contain_text("loses kms:ScheduleKeyDeletion")
    expect(page.locator("#preview td.loss")).to_have_count(1)
    shot(page, "iam-policy-editor")
    page.get_by_role("button", name=re.compile("Save: PutUserPolicy")).click()
    expect(page.locator("#saved")).to_contain_text("Succeeded")


def test_a_learner_writes_a_group_policy_and_sees_what_its_members_gain(learner, server):
    from playwright.sync_api import expect

    page, sandbox = learner
    iam = client_factory(server.url, sandbox["principals"][0])("iam")
    iam.create_user(UserName="bob")
    iam.create_group(GroupName="readers")
    iam.add_user_to_group(GroupName="readers", UserName="bob")
    create_key(page)
    page.goto(page.home + "policies/")
    page.get_by_role("row", name=re.compile("group readers")).get_by_role("button", name="Write").click()
    expect(page.locator("h1")).to_contain_text("Inline policy kms-access of group readers")
    expect(page.locator("#preview .changes")).to_contain_text(re.compile(r"user bob · \S+ gains kms:DescribeKey"))
    page.locator("#card-0 summary", has_text="Cryptographic use").click()
    page.locator("#card-0 input[value='kms:Decrypt']").check()
    expect(page.locator("#preview .changes")).to_contain_text("gains kms:Decrypt")
    expect(page.locator("#preview td.gain")).to_have_count(2)
    page.get_by_role("button", name=re.compile("Save: PutGroupPolicy")).click()
    expect(page.locator("#saved")).to_contain_text("Succeeded")
    expect(page.locator("#preview")).to_contain_text("No change")  # saved: the edit is the policy in force


def test_advancing_the_clock_updates_the_home_page_without_a_reload(learner):
    from playwright.sync_api import expect

    page, _ = learner
    key_id = create_key(page)
    page.locator("summary", has_text="Deletion").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="ScheduleKeyDeletion").click()
    expect(page.locator("#key-body .lede")).to_contain_text("PendingDeletion")
    page.goto(page.home)
    expect(page.locator("#home-keys")).to_contain_text("PendingDeletion")
    page.evaluate("window.notReloaded = true")
    page.locator("#clock").get_by_role("textbox", name="Advance").fill("35d")
    page.locator("#clock").get_by_role("button", name="Advance", exact=True).click()
    expect(page.locator("#clock .result")).to_contain_text("DeleteKey")
    expect(page.locator("#home-keys")).not_to_contain_text(key_id)
    expect(page.locator("#home-keys")).to_contain_text("No keys yet")
    expect(page.locator("#status")).to_contain_text("+35 d")
    assert page.evaluate("window.notReloaded") is True
    shot(page, "sandbox-home")


def test_switching_identity_in_the_header_keeps_the_stored_envelope(learner):
    from playwright.sync_api import expect

    page, _ = learner
    create_key(page)
    page.goto(page.home + "envelope/")
    page.get_by_role("button", name="Encrypt with a data key").click()
    expect(page.locator("#plaintext-key")).to_be_visible()
    stored = page.locator("input[name=encrypted_data_key]").input_value()

    # Account B's admin, chosen in the header: only the header changes.
    page.locator("#status summary").click()
    page.get_by_label("Act as").select_option("444455556666/user/admin")
    page.locator("#status").get_by_role("button", name="Act as").click()
    expect(page.locator("#status summary")).to_contain_text("444455556666")
    expect(page.locator(".lede .acting-label")).to_have_text("admin")
    assert page.locator("input[name=encrypted_data_key]").input_value() == stored
    expect(page.locator("#plaintext-key")).to_be_visible()
    page.get_by_role("button", name="Decrypt the data key, then the message").click()
    expect(page.locator("#decrypted")).to_contain_text("AccessDeniedException")
    expect(page.locator("#decrypted")).to_contain_text("arn:aws:iam::444455556666:user/admin")

    # Back to account A's admin, from the header again: the same envelope opens.
    page.locator("#status summary").click()
    page.get_by_label("Act as").select_option("111122223333/user/admin")
    shot(page, "identity-switcher")
    page.locator("#status").get_by_role("button", name="Act as").click()
    expect(page.locator("#status summary")).to_contain_text("111122223333")
    page.get_by_role("button", name="Decrypt the data key, then the message").click()
    expect(page.locator("#decrypted")).to_contain_text("identical to the message you encrypted")


def test_a_trail_record_has_its_own_url_and_long_lines_stay_in_their_cards(learner, server):
    from playwright.sync_api import expect

    page, sandbox = learner
    key_id = create_key(page)
    admin_a, admin_b = (client_factory(server.url, p)("kms") for p in sandbox["principals"][:2])
    key_arn = admin_a.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    long_arn = "arn:aws:iam::444455556666:role/an-application-role-with-a-long-descriptive-name-for-payroll"
    admin_a.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*",
             "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:Decrypt",
             "Resource": "*", "Condition": {
                 "ArnEquals": {"aws:PrincipalArn": long_arn},
                 "StringEquals": {"kms:EncryptionContext:department-of-payroll-and-benefits": "payroll-2026-q4"}}},
        ],
    }))
    with pytest.raises(Exception, match="AccessDeniedException"):
        admin_b.describe_key(KeyId=key_arn)

    page.goto(page.home + "trail/")
    page.locator("#feed-rows tr", has_text="DescribeKey").first.get_by_role("link").click()
    expect(page.locator("#record")).to_contain_text("AccessDeniedException")
    assert re.search(r"/trail/[0-9a-f-]{36}/$", page.url)  # shareable
    fits = "el => el.scrollWidth <= el.clientWidth"
    assert page.locator("#record pre.json").evaluate(fits)
    shot(page, "trail-why")
    page.go_back()
    expect(page).to_have_url(page.home + "trail/")
    expect(page.locator("#record")).to_be_empty()
    page.go_forward()
    expect(page.locator("#record")).to_contain_text("AccessDeniedException")

    # The simulator's conditions table, with a long ARN and a long condition key, stays in its card.
    page.goto(page.home + f"simulator/?principal=444455556666/user/admin&action=kms:Decrypt&key={key_arn}&context=%7B%7D")
    table = page.locator("#decision table").first
    expect(table).to_contain_text("department-of-payroll-and-benefits")
    card = page.locator("#decision").bounding_box()
    box = table.bounding_box()
    assert box["x"] + box["width"] <= card["x"] + card["width"]


def test_a_learner_encrypts_on_the_key_page_then_disables_and_is_asked_before_deletion(learner):
    from playwright.sync_api import expect

    page, _ = learner
    create_key(page)
    page.locator("summary", has_text="Encrypt, decrypt, data keys").click()
    page.locator("#Encrypt_Plaintext").fill("card 4111 1111 1111 1111")
    page.locator("#Encrypt_EncryptionContext").fill('{"app": "billing"}')
    page.get_by_role("button", name="Encrypt", exact=True).click()
    expect(page.locator("#ciphertext")).to_have_text(re.compile(r"^[A-Za-z0-9+/]+=*$"))
    page.locator("#crypto-output summary", has_text="Anatomy").click()
    expect(page.locator("#crypto-output div.range-key-id")).to_be_visible()
    shot(page, "key")
    page.get_by_role("button", name="Decrypt it").click()
    expect(page.locator("#plaintext")).to_have_value("card 4111 1111 1111 1111")

    page.locator("summary", has_text="Enable or disable").click()
    page.get_by_role("button", name="DisableKey").click()
    expect(page.locator("#disabled-note")).to_contain_text("reversible: re-enable at any time")

    # Asked first: dismissing makes no call.
    asked = []
    page.locator("summary", has_text="Deletion").click()
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="ScheduleKeyDeletion").click()
    expect(page.locator("#disabled-note")).to_be_visible()
    assert "cannot be undone" in asked[0] and "The trail shows 1 call that made ciphertexts" in asked[0]
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="ScheduleKeyDeletion").click()
    expect(page.locator("#key-body .lede")).to_contain_text("PendingDeletion")
    shot(page, "key-pending-deletion")


def test_a_learner_creates_a_key_with_an_alias_and_looks_around(learner, server):
    from playwright.sync_api import expect

    page, sandbox = learner
    page.goto(page.base + "/")
    shot(page, "sandboxes")
    page.goto(page.home + "keys/")
    page.locator("#create summary").click()
    page.get_by_label("Description").fill("payroll")
    page.get_by_label("Alias (optional)").fill("alias/payroll")
    shot(page, "keys")
    page.locator("#create button[type=submit]").click()
    page.wait_for_url(re.compile(r"/keys/[0-9a-f-]{36}/$"))
    expect(page.locator("#key-body .lede")).to_contain_text("alias/payroll")

    # The same alias again: KMS refuses it, and the second key is there all the same.
    page.goto(page.home + "keys/")
    page.locator("#create summary").click()
    page.get_by_label("Description").fill("billing")
    page.get_by_label("Alias (optional)").fill("alias/payroll")
    page.locator("#create button[type=submit]").click()
    expect(page.locator("#create")).to_contain_text("AlreadyExistsException")
    expect(page.locator("#create")).to_contain_text("The key was created without its alias.")
    expect(page.locator("#all-keys")).to_contain_text("billing")

    page.goto(page.home + "iam/")
    shot(page, "iam")
    page.goto(page.home + "iam/111122223333/users/admin/")
    shot(page, "iam-user")
    page.goto(page.home + "trail/")
    expect(page.locator("#feed-rows")).to_contain_text("CreateAlias")
    shot(page, "trail")


def test_a_learner_shares_a_key_with_carol_in_another_account_through_the_share_panel(learner, server):
    from playwright.sync_api import expect

    page, sandbox = learner
    B = "444455556666"
    # Account B has only its admin: B's admin adds carol, as a partner application would have.
    client_factory(server.url, sandbox["principals"][1])("iam").create_user(UserName="carol")
    key_id = create_key(page)
    share = page.locator("#share")
    expect(share.locator("#share-key-policy")).to_contain_text("does not allow account 444455556666")

    # The key policy half: the panel opens the editor with the account snippet in place, not saved.
    share.get_by_role("link", name=re.compile("Open the key policy")).click()
    expect(page.locator("[role=status]").first).to_contain_text("Inserted “Allow another account (the root model)”")
    expect(page.locator("#card-1 > legend")).to_contain_text("Allow an external account to use this KMS key")
    expect(page.locator("#preview .changes")).to_contain_text(f"admin ({B}) gains kms:Decrypt")
    # A second snippet, from the editor's own list: carol joins the statement the first one wrote.
    page.locator("#snippets summary").click()
    page.get_by_label("Allow a principal of another account: for").select_option(label=f"user carol ({B})")
    page.get_by_role("button", name="Insert: Allow a principal of another account").click()
    expect(page.locator("#document")).to_have_value(re.compile(
        rf'"AWS": \[\s*"arn:aws:iam::{B}:root",\s*"arn:aws:iam::{B}:user/carol"\s*\]'))
    expect(page.locator("#card-2")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "policy-editor-snippets")
    page.get_by_role("button", name=re.compile("Save: PutKeyPolicy")).click()
    expect(page.locator("#saved")).to_contain_text("Succeeded")

    # The IAM half, for whom: B's admin already may (allow-all), carol not yet.
    page.goto(f"{page.home}keys/{key_id}/")
    expect(share.locator("#share-key-policy")).to_contain_text("allows account 444455556666 to use the key")
    carol = share.locator("tr", has_text="user carol")
    expect(carol).to_contain_text("✗ no")
    expect(share.locator("tr", has_text="user admin")).to_contain_text("✓ yes")
    shot_element(share, "share-panel")
    carol.get_by_role("link", name="Write carol's IAM policy").click()
    expect(page.locator("h1")).to_contain_text(f"Inline policy kms-access of user carol ({B})")
    expect(page.locator("#preview .changes")).to_contain_text("gains kms:Decrypt")

    # Saving is an IAM call of account B: act as its admin, then save carol's policy.
    page.goto(page.home)
    page.locator("#act-as select[name=principal]").select_option(f"{B}/user/admin")
    page.locator("#act-as").get_by_role("button", name="Act as").click()
    expect(page.locator("#status")).to_contain_text(B)
    page.go_back()
    page.reload()
    page.get_by_role("button", name=re.compile("Save: PutUserPolicy as admin")).click()
    expect(page.locator("#saved")).to_contain_text("Succeeded")

    page.goto(f"{page.home}keys/{key_id}/")
    expect(share.locator("tr", has_text="user carol")).to_contain_text("✓ yes")
    # Only carol, now: the panel asks about her alone.
    share.locator("#share-principal").select_option(label="user carol")
    expect(share.locator("tbody tr")).to_have_count(1)
    expect(share.locator("#share-key-policy")).to_contain_text(f"allows arn:aws:iam::{B}:user/carol to use the key")


def shot_element(locator, name):
    """Save a screenshot of one part of a page, cut from the whole page (so the sticky header stays on top)."""
    if SHOTS:
        locator.page.evaluate("window.scrollTo(0, 0)")
        locator.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True, clip=locator.bounding_box(),
                                 caret="initial")


def test_a_learner_replicates_a_multi_region_key_and_decrypts_in_the_replicas_region(learner):
    from playwright.sync_api import expect

    page, _ = learner
    page.goto(page.home + "keys/")
    page.locator("#create summary").click()
    page.get_by_label("Description").fill("payments")
    page.get_by_label("MultiRegion").check()
    page.locator("#create button[type=submit]").click()
    page.wait_for_url(re.compile(r"/keys/mrk-[0-9a-f]{32}/$"))
    primary = page.url
    expect(page.locator("#multi-region")).to_contain_text("No replicas yet")
    page.locator("summary", has_text="Multi-Region").click()
    page.locator("#ReplicateKey_ReplicaRegion").select_option("eu-west-1")
    page.get_by_role("button", name="ReplicateKey").click()
    expect(page.locator("#multi-region")).to_contain_text("Creating")

    # A few seconds of sandbox time make the replica Enabled.
    page.goto(page.home)
    page.locator("#clock").get_by_role("textbox", name="Advance").fill("1m")
    page.locator("#clock").get_by_role("button", name="Advance", exact=True).click()
    expect(page.locator("#clock .result")).to_be_visible()
    page.goto(primary)
    expect(page.locator("#multi-region tbody tr").nth(1)).to_contain_text("Enabled")
    page.locator("summary", has_text="Encrypt, decrypt, data keys").click()
    page.locator("#Encrypt_Plaintext").fill("invoice 2026-118")
    page.get_by_role("button", name="Encrypt", exact=True).click()
    ciphertext = page.locator("#ciphertext").inner_text()
    page.locator("summary", has_text="Multi-Region").click()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "key-multi-region-primary")

    page.locator("#multi-region").get_by_role("link", name="eu-west-1").click()
    page.wait_for_url(re.compile(r"/keys/mrk-[0-9a-f]{32}/\?region=eu-west-1$"))
    expect(page.locator("#multi-region")).to_contain_text("replica key in eu-west-1")
    page.locator("summary", has_text="Encrypt, decrypt, data keys").click()
    page.locator("#Decrypt_CiphertextBlob").fill(ciphertext)
    page.get_by_role("button", name="Decrypt", exact=True).click()
    expect(page.locator("#plaintext")).to_have_value("invoice 2026-118")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "key-multi-region-replica")

    # The keys list: one row per Region, each linking to its own page.
    page.goto(page.home + "keys/")
    expect(page.locator("#all-keys tbody tr")).to_have_count(2)
    shot(page, "keys-multi-region")


def test_a_learner_signs_with_an_ecc_key_verifies_and_sees_a_tampered_message_refused(learner):
    from playwright.sync_api import expect

    page, _ = learner
    page.goto(page.home + "keys/")
    page.locator("#create summary").click()
    page.get_by_label("Description").fill("release signing")
    page.get_by_label("KeySpec").select_option("ECC_NIST_P256")
    page.get_by_label("KeyUsage").select_option("SIGN_VERIFY")
    page.locator("#create button[type=submit]").click()
    page.wait_for_url(re.compile(r"/keys/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("link", name="Download the public key (PEM)")).to_be_visible()

    page.locator("summary", has_text="Sign and verify").click()
    page.locator("#Sign_Message").fill("release-1.4.2.tar.gz sha256=9f2c…")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#signature")).to_have_text(re.compile(r"^[A-Za-z0-9+/]+=*$"))
    # The signature is in the Verify form, ready to send.
    expect(page.locator("#Verify_Signature")).to_have_value(page.locator("#signature").inner_text())
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "key-sign-verify")

    # A changed message: KMS refuses the signature, and the form keeps what was typed.
    page.locator("#Verify_Message").fill("release-1.4.3.tar.gz sha256=9f2c…")
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.locator("#result")).to_contain_text("KMSInvalidSignatureException")
    page.locator("#Verify_Message").fill("release-1.4.2.tar.gz sha256=9f2c…")
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.locator("#result")).to_contain_text("Succeeded")
