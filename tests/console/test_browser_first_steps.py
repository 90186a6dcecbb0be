"""A new learner's first steps in a real browser: resetting a sandbox, a refused form, a link that leads nowhere.

The browser, server and learner fixtures are test_browser.py's (its module
docstring says how they run and when they skip).
"""
import re

import pytest
from botocore.exceptions import ClientError

from ..api.live import client_factory
from .personas import A
from .test_browser import chromium, create_key, learner, server, shot  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_a_reset_shows_the_admins_new_keys_once_and_the_old_ones_stop_working(learner, server):
    from playwright.sync_api import expect

    page, sandbox = learner
    old = sandbox["principals"][0]
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset sandbox").click()

    shown = page.locator("[aria-labelledby=reset-h]")
    expect(shown).to_contain_text("the ones printed or made before no longer work")
    assert page.url == page.home  # a reload shows the sandbox, not a second reset
    shot(page, "sandbox-reset")
    snippet = shown.locator("pre").first.inner_text()
    new = {"access_key_id": re.search(r"AWS_ACCESS_KEY_ID=(\S+)", snippet).group(1),
           "secret_access_key": re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", snippet).group(1)}

    assert client_factory(server.url, new)("sts").get_caller_identity()["Arn"] == f"arn:aws:iam::{A}:user/admin"
    with pytest.raises(ClientError, match="UnrecognizedClientException|InvalidClientTokenId"):
        client_factory(server.url, old)("sts").get_caller_identity()
    page.reload()
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("[aria-labelledby=reset-h]")).to_have_count(0)


def test_a_denied_schedule_key_deletion_keeps_the_seven_day_window(learner):
    from playwright.sync_api import expect

    page, _ = learner
    key_id = create_key(page)
    page.goto(page.home + "iam/")
    create_user = page.locator("form[action$='/iam/call/CreateUser/']")
    page.locator("details.action summary", has_text="CreateUser").click()
    create_user.locator("input[name=UserName]").fill("bob")
    create_user.get_by_role("button").click()
    expect(page.locator("#iam-body")).to_contain_text("Succeeded")
    page.goto(page.home)
    page.locator("#act-as select[name=principal]").select_option(f"{A}/user/bob")
    page.locator("#act-as").get_by_role("button", name="Act as").click()
    expect(page.locator("#act-as")).to_contain_text("made as bob")

    page.goto(f"{page.home}keys/{key_id}/")
    page.locator("details.action summary", has_text="Deletion").click()
    schedule = page.locator("form[action$='/ScheduleKeyDeletion/']")
    schedule.locator("input[name=PendingWindowInDays]").fill("7")
    page.once("dialog", lambda dialog: dialog.accept())  # the console asks before ScheduleKeyDeletion
    schedule.get_by_role("button").click()

    expect(page.locator("#key-body")).to_contain_text("AccessDeniedException")
    expect(page.locator("form[action$='/ScheduleKeyDeletion/'] input[name=PendingWindowInDays]")).to_have_value("7")


def test_a_link_to_a_key_that_is_gone_shows_a_page_that_says_so_and_leads_home(learner):
    from playwright.sync_api import expect

    page, _ = learner
    response = page.goto(page.home + "keys/1234abcd-12ab-34cd-56ef-1234567890ab/")

    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Nothing here")
    expect(page.locator("main")).to_contain_text("No such key.")
    shot(page, "not-found")
    page.get_by_role("link", name="Your sandboxes").click()
    expect(page.locator("h1")).to_have_text("Your sandboxes")


def test_an_action_on_a_key_that_is_gone_shows_the_error_page_in_place(learner, server):
    from playwright.sync_api import expect

    page, sandbox = learner
    create_key(page)
    server.manage("sandbox", "reset", sandbox["id"])  # in another window, say: the key is gone

    page.locator("form[action$='/DisableKey/']").get_by_role("button").click()

    expect(page.locator("main h1")).to_have_text("Nothing here")
    expect(page.locator("main")).to_contain_text("No such key.")
    expect(page.locator("header nav")).to_contain_text("Keys")  # the sandbox's header stays
