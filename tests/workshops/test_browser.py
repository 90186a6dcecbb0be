"""An instructor runs a workshop in Chromium: learners join in browsers of their own, meet an objective with
boto3 and in the console, one gets stuck, and the dashboard shows each as it happens, without a reload;
then a reset, an announcement every open lab page hears, and the progress export.

Debian's Chromium, driven by Playwright, against kmslab.serve on a free port (the dashboard and the lab pages
are websockets). One browser context each: the instructor, alice, ben and carol. KMSLAB_SCREENSHOTS=<dir>
saves the pictures docs/screenshots/ holds.
"""
import csv
import io
import json
import re

import pytest

from ..api.live import client_factory
from ..console.test_browser import chromium, server, shot, watch_content_security_policy  # noqa: F401  (fixtures)
from ..labs.test_browser import credentials

pytestmark = [pytest.mark.browser, pytest.mark.live]

A = "111122223333"
PASSWORD = "correct horse battery staple"
LAB = "encryption-context"
OBJECTIVE = "bob-acme-only"


def cell(page, learner, objective=OBJECTIVE):
    return page.locator(f'td.cell[data-learner="{learner}"][data-lab="{LAB}"][data-objective="{objective}"]')


def tenant_policy(key_arn):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}}]}, indent=2)


def test_an_instructor_watches_the_room_resets_a_run_announces_and_exports(chromium, server):  # noqa: F811
    from playwright.sync_api import expect

    base = f"http://127.0.0.1:{server.port}"
    contexts, refused = [], []  # refused: each page's list of what its Content-Security-Policy refused

    def browser():
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.on("dialog", lambda dialog: dialog.accept())
        refused.append(watch_content_security_policy(page))
        return page

    # 1. The instructor: created on the command line, logged in, a workshop of two labs, its dashboard live.
    server.manage("instructor", "create", "iris", "--password", PASSWORD)
    iris = browser()
    iris.goto(base + "/login/")
    iris.get_by_label("Username").fill("iris")
    iris.get_by_label("Password").fill(PASSWORD)
    iris.get_by_role("button", name="Log in").click()
    iris.goto(base + "/instructor/")
    expect(iris.locator("h1")).to_have_text("Your workshops")
    iris.get_by_label("Title").fill("KMS basics, December")
    iris.locator("input[name=labs][value='encryption-context']").check()
    iris.locator("input[name=labs][value='explicit-deny']").check()
    iris.get_by_role("button", name="Create workshop").click()
    iris.wait_for_url(re.compile(r"/instructor/workshops/\d+/$"))
    workshop_id = int(re.search(r"/instructor/workshops/(\d+)/", iris.url).group(1))
    dashboard_url = iris.url
    code = iris.locator("[data-join-code]").get_attribute("data-join-code")
    assert re.fullmatch(r"KMS-[0-9A-Z]+", code), code
    expect(iris.locator("#dashboard-live")).to_have_text("live")
    expect(iris.locator("#nobody")).to_be_visible()
    iris.evaluate("window.stillThisPage = true")  # gone if the dashboard reloads

    # 2. Two learners join, each in a browser of their own, and start encryption-context.
    def join(name, picture=None):
        page = browser()
        page.goto(base + "/join/")
        page.get_by_label("Join code").fill(code)
        page.get_by_label("Display name").fill(name)
        if picture:
            shot(page, picture)
        page.get_by_role("button", name="Join").click()
        page.wait_for_url(f"{base}/workshops/{workshop_id}/")
        expect(page.locator("[data-display-name]")).to_have_text(name)
        expect(page.locator("[data-resume-url]")).to_be_visible()
        expect(iris.locator(f'tr[data-learner-row="{name}"]')).to_be_visible()  # a new row, live
        return page

    def start(page):
        page.locator(f'li[data-lab="{LAB}"]').get_by_role("button", name=re.compile("^Start ")).click()  # "Start lab", named for its lab
        page.wait_for_url(re.compile(r"/labs/runs/[0-9a-f-]{36}/$"))
        expect(page.locator("#lab-live")).to_have_text("live")
        return re.search(r"/labs/runs/([0-9a-f-]+)/", page.url).group(1)

    alice = join("alice", picture="workshop-join")
    expect(iris.locator("#nobody")).to_have_count(0)  # "Nobody has joined yet" goes with the first row
    shot(alice, "workshop-learner-page")
    ben = join("ben")
    start(alice)
    ben_sandbox = start(ben)
    expect(iris.locator("#learner-count")).to_have_text("2 learners")
    expect(cell(iris, "alice")).to_have_attribute("data-done", "false")
    expect(cell(iris, "ben")).to_have_attribute("data-done", "false")
    key_arn = alice.locator('tr[data-key="alias/tenant-data"] td code').inner_text()

    # alice, with boto3 as admin: PutUserPolicy as the lab's solve script does.
    iam = client_factory(server.url, credentials(alice, "admin"))("iam")
    iam.put_user_policy(UserName="bob", PolicyName="tenant-app", PolicyDocument=tenant_policy(key_arn))
    expect(alice.locator(f'#lab-progress [data-objective="{OBJECTIVE}"]')).to_have_attribute("data-done", "true")
    expect(cell(iris, "alice")).to_have_attribute("data-done", "true")
    expect(cell(iris, "ben")).to_have_attribute("data-done", "false")

    # ben, in the console: bob's policy in the IAM policy editor.
    ben.get_by_role("link", name="Open the console").click()
    ben.goto(f"{base}/s/{ben_sandbox}/policies/{A}/user/bob/tenant-app/")
    expect(ben.locator(".lab-panel #lab-live")).to_have_text("live")
    ben_key_arn = ben.locator('.lab-panel tr[data-key="alias/tenant-data"] td code').inner_text()
    ben.locator("#document").fill(tenant_policy(ben_key_arn))
    expect(ben.locator("#json-status")).to_contain_text("Valid")
    ben.get_by_role("button", name=re.compile("Save: PutUserPolicy")).click()
    expect(ben.locator("#saved")).to_contain_text("Succeeded")
    expect(ben.locator(f'.lab-panel [data-objective="{OBJECTIVE}"]')).to_have_attribute("data-done", "true")
    expect(cell(iris, "ben")).to_have_attribute("data-done", "true")
    expect(iris.locator(f'td.total[data-lab="{LAB}"][data-objective="{OBJECTIVE}"]')).to_have_attribute(
        "data-total", "2")
    ben.goto(f"{base}/labs/runs/{ben_sandbox}/")  # back on his lab page, to hear the announcement
    expect(ben.locator("#lab-live")).to_have_text("live")

    # 3. carol: three denied calls in a row on one operation (bob's policy allows Encrypt and Decrypt, not ListKeys).
    carol = join("carol")
    start(carol)
    kms = client_factory(server.url, credentials(carol, "bob"))("kms")
    for _ in range(3):
        with pytest.raises(kms.exceptions.ClientError) as denied:
            kms.list_keys()
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    stuck = iris.locator('td.stuck[data-learner="carol"]')
    expect(stuck).to_have_attribute("data-stuck", "true")
    expect(stuck).to_contain_text("3 denied ListKeys calls in a row")
    expect(iris.locator('td.call[data-last-call="ListKeys"]')).to_have_attribute("data-denied", "true")
    expect(iris.locator('td.stuck[data-learner="alice"]')).to_have_attribute("data-stuck", "false")
    assert iris.evaluate("window.stillThisPage") is True
    shot(iris, "workshop-dashboard")

    # 4. The instructor looks at alice's runs and resets her encryption-context run.
    iris.locator('tr[data-learner-row="alice"] th.who a').click()
    expect(iris.locator("h1")).to_have_text("alice")
    expect(iris.locator(f'.objectives [data-objective="{OBJECTIVE}"]')).to_have_attribute("data-done", "true")
    expect(iris.locator('ol.decisive > li[data-event="PutUserPolicy"]')).to_be_visible()
    shot(iris, "workshop-learner-inspect")
    iris.locator(f'[data-run] form').get_by_role("button", name=re.compile("^Reset alice's run")).click()  # "Reset this run"
    iris.wait_for_url(re.compile(r"/instructor/workshops/\d+/(#controls)?$"))
    expect(iris.locator("#control-result")).to_contain_text("alice's run of encryption-context starts over")
    expect(iris.locator("#dashboard-live")).to_have_text("live")
    expect(cell(iris, "alice")).to_have_attribute("data-done", "false")
    expect(cell(iris, "ben")).to_have_attribute("data-done", "true")
    expect(alice.locator(f'#lab-progress [data-objective="{OBJECTIVE}"]')).to_have_attribute("data-done", "false")

    # 5. An announcement: alice's and ben's open lab pages show it, without a reload.
    for page in (alice, ben):
        page.evaluate("window.stillThisPage = true")
        expect(page.locator("[data-announcement]")).to_have_count(0)
    message = "Ten minutes left: finish the objective you are on."
    iris.get_by_label("Message").fill(message)
    iris.get_by_role("button", name="Announce").click()
    expect(iris.locator("#control-result")).to_contain_text("Announced to every learner")
    for page in (alice, ben):
        expect(page.locator("[data-announcement]")).to_contain_text(message)
        assert page.evaluate("window.stillThisPage") is True

    # 6. The export, as the instructor's browser downloads it.
    href = iris.get_by_role("link", name="Export CSV").get_attribute("href")
    assert href == f"/instructor/workshops/{workshop_id}/progress.csv"
    response = iris.context.request.get(base + href)
    assert response.ok, response.status
    text = response.text()
    assert text.splitlines()[0] == "learner,lab,objective,done,time_done,hints_used,denied_calls"
    rows = {(r["learner"], r["lab"], r["objective"]): r for r in csv.DictReader(io.StringIO(text))}
    assert rows[("alice", LAB, OBJECTIVE)]["done"] == "false"  # reset
    assert rows[("ben", LAB, OBJECTIVE)]["done"] == "true"
    assert rows[("ben", LAB, OBJECTIVE)]["time_done"]
    assert rows[("carol", LAB, OBJECTIVE)]["done"] == "false"
    assert int(rows[("carol", LAB, OBJECTIVE)]["denied_calls"]) >= 3
    assert {lab for _, lab, _ in rows} == {"encryption-context", "explicit-deny"}

    for context in contexts:
        context.close()
    assert [r for page_refused in refused for r in page_refused] == []
