"""A learner does the encryption-context lab in Chromium: catalogue, start, a hint, reset, the console
and boto3, each objective ticking without a reload, then the debrief.

Debian's Chromium, driven by Playwright, against kmslab.serve on a free port (the
ticks come over a websocket). KMSLAB_SCREENSHOTS=<dir> saves the pictures
docs/screenshots/ holds.
"""
import base64
import json
import re

import pytest

from ..api.live import client_factory
from ..console.test_browser import chromium, server, shot, watch_content_security_policy  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.live]

A = "111122223333"


def credentials(page, name):
    row = page.locator(f'tr[data-principal="{name}"]').first
    return {"access_key_id": row.locator("[data-access-key-id]").inner_text(),
            "secret_access_key": row.locator("[data-secret-access-key]").inner_text()}


def objective(page, objective_id):
    return page.locator(f'#lab-progress [data-objective="{objective_id}"]')


def test_a_learner_completes_the_encryption_context_lab_in_the_console_and_with_boto3(chromium, server):  # noqa: F811
    from playwright.sync_api import expect

    base = f"http://127.0.0.1:{server.port}"
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("dialog", lambda dialog: dialog.accept())
    refused = watch_content_security_policy(page)

    page.goto(base + "/labs/")
    expect(page.locator('[data-lab="encryption-context"]')).to_contain_text("Not started")
    shot(page, "labs-catalogue")
    page.locator('[data-lab="encryption-context"]').get_by_role("button", name=re.compile("^Start")).click()
    expect(page.locator("h1")).to_contain_text("Encryption context")
    expect(page.locator("#lab-live")).to_have_text("live")

    # A hint, tier by tier.
    hint = objective(page, "bob-acme-only")
    hint.get_by_role("button", name="Show a hint (1 of 3)").click()
    expect(hint.locator(".hints li")).to_have_count(1)
    expect(hint.get_by_role("button", name="Show a hint (2 of 3)")).to_be_visible()
    shot(page, "lab-hint")

    # Reset: new access keys, nothing met.
    old_bob = credentials(page, "bob")
    page.get_by_role("button", name="Reset lab").click()
    expect(page.locator("#lab-live")).to_have_text("live")
    # (A locator's wait, not wait_for_function, whose polling evaluates a string: the CSP forbids that.)
    expect(page.locator('tr[data-principal="bob"] [data-access-key-id]').first).not_to_have_text(
        old_bob["access_key_id"])
    bob = credentials(page, "bob")
    assert bob["access_key_id"] != old_bob["access_key_id"]
    files = {name: page.locator(f'tr[data-file="{name}"] code').inner_text() for name in ("acme-record", "globex-record")}
    sandbox_id = re.search(r"/labs/runs/([0-9a-f-]+)/", page.url).group(1)

    # The console, as admin: bob's IAM policy gets the tenant condition, in the policy editor.
    page.get_by_role("link", name="Open the console").click()
    page.goto(f"{base}/s/{sandbox_id}/policies/{A}/user/bob/tenant-app/")
    expect(page.locator(".lab-panel #lab-live")).to_have_text("live")
    key_arn = page.locator('.lab-panel tr[data-key="alias/tenant-data"] td code').inner_text()
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}}]}
    page.locator("#document").fill(json.dumps(policy, indent=2))
    expect(page.locator("#json-status")).to_contain_text("Valid")
    page.evaluate("window.stillThisPage = true")
    page.get_by_role("button", name=re.compile("Save: PutUserPolicy")).click()
    expect(page.locator("#saved")).to_contain_text("Succeeded")
    expect(objective(page, "bob-acme-only")).to_have_attribute("data-done", "true")
    expect(objective(page, "bob-decrypts-acme")).to_have_attribute("data-done", "false")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "lab-side-panel")

    # boto3, as bob: the acme record opens, the globex one is denied; the panel ticks each, no reload.
    kms = client_factory(server.url, bob)("kms")
    opened = kms.decrypt(CiphertextBlob=base64.b64decode(files["acme-record"]), EncryptionContext={"tenant": "acme"})
    assert opened["Plaintext"] == b"acme: invoice 1001"
    expect(objective(page, "bob-decrypts-acme")).to_have_attribute("data-done", "true")
    with pytest.raises(kms.exceptions.ClientError) as denied:
        kms.decrypt(CiphertextBlob=base64.b64decode(files["globex-record"]), EncryptionContext={"tenant": "globex"})
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    expect(objective(page, "globex-denied")).to_have_attribute("data-done", "true")
    assert page.evaluate("window.stillThisPage") is True

    page.locator("#lab-complete").get_by_role("link", name="Read the debrief").click()
    expect(page.locator("h1")).to_contain_text("Debrief")
    expect(page.locator("#calls-h")).to_be_visible()
    calls = page.locator("#decisive-calls > li")
    expect(calls.filter(has_text="PutUserPolicy")).to_have_count(1)
    denied = calls.filter(has_text="AccessDeniedException")
    denied.locator("summary").first.click()
    expect(denied.locator(".why")).to_contain_text("denied")
    expect(page.locator("[data-hints-used]")).to_have_text("1")
    shot(page, "lab-debrief")
    page.get_by_role("link", name="Completion page").click()
    expect(page.locator("h1")).to_have_text("Lab completed")
    shot(page, "lab-certificate")
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")  # no print dialog in a test
    page.get_by_role("button", name="Print").click()
    expect(page.locator("body")).to_have_attribute("data-printed", "yes")
    page.goto(base + "/labs/progress/")
    expect(page.locator(f'[data-run="{sandbox_id}"]')).to_contain_text("Completed")
    shot(page, "lab-progress")
    context.close()
    assert refused == []
