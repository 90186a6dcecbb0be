"""The sandbox list, creating and claiming sandboxes, the home page, the clock, reset, and who may see what."""
import json
import re
import time
from types import SimpleNamespace

import pytest
from django.core import signing
from django.db.models import F
from django.test import Client

from kmslab.cloud import principals
from kmslab.cloud.clock import LATEST
from kmslab.console import learner as learners
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import Sandbox, WorldEntity

from .personas import A, B, codes, is_fragment


def test_a_new_learner_sees_no_sandboxes_and_can_create_one(client, transactional_db):
    assert b"You have no sandboxes yet" in client.get("/").content
    response = client.post("/", {"name": "week 1"})
    sandbox = Sandbox.objects.get()
    assert response["Location"] == f"/s/{sandbox.id}/"
    assert sandbox.name == "week 1"
    assert b"week 1" in client.get("/").content


def test_the_list_shows_only_the_learners_own_sandboxes(alice, mallory):
    page = alice.get("/").content.decode()
    assert str(alice.sandbox.id) in page
    assert str(mallory.sandbox.id) not in page


SANDBOX_GETS = ["", "keys/", "iam/", "trail/", "trail.json", "trail.csv", f"iam/{A}/users/admin/"]
SANDBOX_POSTS = [("clock/", {"advance": "1d"}), ("act-as/", {"principal": f"{A}/root/root"}), ("reset/", {}),
                 ("keys/", {"Origin": "AWS_KMS"}), ("iam/call/CreateUser/", {"UserName": "eve"}),
                 (f"iam/{A}/users/admin/access-keys/", {}), (f"iam/{A}/users/admin/mfa/", {})]


@pytest.mark.parametrize("path", SANDBOX_GETS)
def test_another_learners_sandbox_is_not_found(alice, mallory, path):
    assert alice.get(alice.home + path).status_code == 200
    assert mallory.get(alice.home + path).status_code == 404


@pytest.mark.parametrize("path,data", SANDBOX_POSTS)
def test_another_learner_cannot_act_in_a_sandbox(alice, mallory, path, data):
    version = Sandbox.objects.get(id=alice.sandbox.id).version
    assert mallory.post(alice.home + path, data).status_code == 404
    assert Sandbox.objects.get(id=alice.sandbox.id).version == version


def test_a_key_page_of_another_learners_sandbox_is_not_found(alice, mallory):
    key_page = alice.create_key()
    assert mallory.get(key_page).status_code == 404
    assert mallory.post(key_page + "DisableKey/").status_code == 404


def cli_sandbox():
    """A sandbox as `manage.py sandbox create` makes it, owned by no browser."""
    sandbox, _ = runner.create_sandbox(owner="made-by-the-cli")
    return sandbox


def confirm(client, link):
    """Open a console link and press its Open sandbox button, as a learner does."""
    page = client.get(link)
    assert page.status_code == 200 and b"Open sandbox" in page.content
    return client.post(link)


def test_a_console_link_shows_the_sandbox_it_offers_and_adds_it_only_when_confirmed(transactional_db, client):
    sandbox = cli_sandbox()
    link = learners.claim_path(sandbox)
    page = client.get(link)
    assert page.status_code == 200
    assert str(sandbox.id) in page.content.decode() and b'<form method="post"' in page.content
    assert client.get(f"/s/{sandbox.id}/").status_code == 404  # looking at the offer took nothing

    response = client.post(link)
    assert response["Location"] == f"/s/{sandbox.id}/"
    assert client.get(f"/s/{sandbox.id}/").status_code == 200
    assert str(sandbox.id) in client.get("/").content.decode()
    assert client.get(link)["Location"] == f"/s/{sandbox.id}/"  # opened again, it goes straight there


def test_another_site_cannot_add_mallorys_sandbox_to_alices_browser(transactional_db):
    # mallory's page navigates alice's browser to mallory's console link, or posts its form: alice's
    # browser shows the offer, and the post, without alice's CSRF token, is refused.
    mallorys = cli_sandbox()
    alice = Client(enforce_csrf_checks=True)
    link = learners.claim_path(mallorys)
    assert alice.get(link, headers={"Referer": "https://evil.example/"}).status_code == 200
    assert alice.post(link, headers={"Origin": "https://evil.example"}).status_code == 403
    assert alice.get(f"/s/{mallorys.id}/").status_code == 404
    assert str(mallorys.id) not in alice.get("/").content.decode()


def test_a_forged_console_url_is_not_found(transactional_db, client):
    sandbox = cli_sandbox()
    forged = learners.claim_path(sandbox)[:-3] + "xx/"
    assert client.get(forged).status_code == 404
    assert client.post(forged).status_code == 404
    assert client.get(f"/s/{sandbox.id}/").status_code == 404


def made_hours_ago(sandbox, hours, monkeypatch):
    now = time.time()
    with monkeypatch.context() as patched:
        patched.setattr(signing, "time", SimpleNamespace(time=lambda: now - hours * 3600))
        return learners.claim_path(sandbox)


def test_a_console_link_expires_after_a_day(transactional_db, client, monkeypatch):
    sandbox = cli_sandbox()
    yesterdays, todays = made_hours_ago(sandbox, 25, monkeypatch), made_hours_ago(sandbox, 23, monkeypatch)
    response = client.get(yesterdays)
    assert response.status_code == 404 and b"This console link has expired" in response.content
    assert client.post(yesterdays).status_code == 404
    assert confirm(client, todays).status_code == 302


def test_how_long_a_console_link_works_is_a_setting(transactional_db, client, settings, monkeypatch):
    settings.KMSLAB_CLAIM_LINK_HOURS = 2
    response = client.get(made_hours_ago(cli_sandbox(), 3, monkeypatch))
    assert response.status_code == 404 and b"console links work for 2 hours" in response.content


def test_a_reset_ends_the_console_links_made_before_it(transactional_db, client):
    sandbox = cli_sandbox()
    before = learners.claim_path(sandbox)
    runner.reset(sandbox.id)
    response = client.get(before)
    assert response.status_code == 404 and b"was reset since the link was made" in response.content
    assert client.post(before).status_code == 404
    assert confirm(client, learners.claim_path(Sandbox.objects.get(id=sandbox.id))).status_code == 302


def test_a_deleted_sandboxs_console_link_is_not_found(transactional_db, client):
    sandbox = cli_sandbox()
    link = learners.claim_path(sandbox)
    runner.delete(sandbox.id)
    assert client.get(link).status_code == 404
    assert client.post(link).status_code == 404


def test_home_shows_accounts_principals_and_keys_at_a_glance(alice):
    alice.create_key(Description="payroll")
    page = alice.get(alice.home).content.decode()
    assert f"Account {A}" in page and f"Account {B}" in page
    assert f"/iam/{A}/users/admin/" in page
    assert "payroll" in page


def test_the_header_always_shows_who_acts_and_the_sandbox_clock(alice):
    page = alice.get(alice.home + "keys/").content.decode()
    header = page[page.index('id="status"'):page.index("</header>")]
    assert "Acting as" in header and "admin" in header and A in header and "no MFA" in header
    assert "Sandbox clock" in header


def test_advancing_the_clock_runs_a_deletion_that_fell_due(alice):
    key_page = alice.create_key()
    alice.post(key_page + "ScheduleKeyDeletion/", {"PendingWindowInDays": "7"})
    home = alice.get(alice.home).content.decode()
    assert "Deletion" in home and "7 d" in home

    response = alice.post(alice.home + "clock/", {"advance": "8d"}, htmx=True)
    assert is_fragment(response)
    fragment = response.content.decode()
    assert "<code>DeleteKey</code>" in fragment
    assert 'hx-swap-oob="true"' in fragment  # the header's clock follows
    assert "(+8 d)" in fragment
    assert alice.get(key_page).status_code == 404


def test_after_advancing_the_clock_the_home_page_lists_what_the_advance_did(alice):
    key_page = alice.create_key(Description="payroll")
    alice.create_key(Description="billing")
    alice.post(key_page + "ScheduleKeyDeletion/", {"PendingWindowInDays": "7"})
    alice.act_as(f"{A}/user/admin", mfa=True)
    assert "PendingDeletion" in alice.get(alice.home).content.decode()

    fragment = alice.post(alice.home + "clock/", {"advance": "8d"}, htmx=True).content.decode()
    keys = fragment[fragment.index('<section class="panel" id="home-keys"'):]
    keys = keys[:keys.index("</section>")]
    assert 'hx-swap-oob="true"' in keys
    assert "billing" in keys and "payroll" not in keys and "PendingDeletion" not in keys
    # admin's MFA session (12 hours) ended: the sessions list and the Act as panel say so too.
    sessions = fragment[fragment.index('<section class="panel gap-above" id="sessions"'):]
    assert 'hx-swap-oob="true"' in sessions[:200] and "No STS sessions" in sessions[:sessions.index("</section>")]
    act_as = fragment[fragment.index('<section class="panel" id="act-as"'):]
    assert 'hx-swap-oob="true"' in act_as[:200] and "The STS session of admin ended" in act_as


def test_the_custom_clock_step_is_validated(alice):
    response = alice.post(alice.home + "clock/", {"advance": "tomorrow"}, htmx=True)
    assert "is not a duration" in response.content.decode()


def test_the_clock_refuses_to_pass_the_latest_time_kmslab_can_represent(alice):
    now = runner.load_world(alice.sandbox.id).now()
    runner.advance_clock(alice.sandbox.id, LATEST - 10 * 86400 - now)  # ten days short

    response = alice.post(alice.home + "clock/", {"advance": "30d"}, htmx=True)

    assert response.status_code == 200 and is_fragment(response)
    assert "cannot pass 9990-01-01T00:00:00Z, the latest time kmslab can represent" in response.content.decode()
    assert runner.load_world(alice.sandbox.id).now() < LATEST - 9 * 86400
    assert alice.post(alice.home + "clock/", {"advance": "30d"}).status_code == 422
    assert alice.get(alice.home).status_code == 200


def test_a_sandbox_whose_stored_clock_is_past_the_latest_time_still_opens(alice):
    # What 7,300 advances of 400 days committed before the clock had a limit: the year 10021.
    rest = WorldEntity.objects.get(sandbox_id=alice.sandbox.id, section="")
    far = json.loads(rest.body) | {"clock_offset": 7300 * 400 * 86400.0}
    WorldEntity.objects.filter(pk=rest.pk).update(body=json.dumps(far))
    Sandbox.objects.filter(pk=alice.sandbox.id).update(version=F("version") + 1)

    page = alice.get(alice.home)

    assert page.status_code == 200
    assert "9990-01-01" in page.content.decode()
    assert alice.get(alice.home + "keys/").status_code == 200


def admin_keys(sandbox_id):
    """Each admin's active access key id with its secret, as the world holds them (sealed)."""
    world = runner.load_world(sandbox_id)
    return {key_id: principals.secret_for_access_key(world, key_id)[0].decode()
            for key_id, key in world.doc["access_keys"].items() if key["UserName"] == "admin"}


def test_reset_starts_the_sandbox_over(alice):
    key_page = alice.create_key()
    alice.act_as(f"{B}/root/root")
    response = alice.post(alice.home + "reset/")
    assert response.status_code == 200
    assert alice.get(key_page).status_code == 404
    assert re.search(r"Acting as</span>\s*<b>admin", alice.get(alice.home).content.decode())


def test_reset_shows_both_admins_new_keys_once_and_says_the_old_ones_stop_working(alice):
    old = admin_keys(alice.sandbox.id)

    response = alice.post(alice.home + "reset/")
    page = response.content.decode()

    new = admin_keys(alice.sandbox.id)
    assert len(new) == 2 and not set(new) & set(old)
    assert "Sandbox reset" in page and "no longer work" in page
    for account in (A, B):
        assert f"<code>arn:aws:iam::{account}:user/admin</code>" in page
    for key_id, secret in new.items():
        assert f"export AWS_ACCESS_KEY_ID={key_id}\nexport AWS_SECRET_ACCESS_KEY={secret}" in page
    assert "--endpoint-url http://testserver/aws/" in page
    assert "no-store" in response["Cache-Control"]
    # Once: the sandbox page shows them no more, and the session cookie never held them.
    again = alice.get(alice.home).content.decode()
    assert "Sandbox reset" not in again
    assert not any(secret in again for secret in new.values())
    session = repr(dict(alice.client.session.items()))
    assert "act_as" in session or "learner" in session
    assert not any(secret in session for secret in new.values())


def test_a_reset_from_the_page_leaves_the_sandbox_url_to_reload(alice):
    response = alice.post(alice.home + "reset/", htmx=True)
    assert response["HX-Push-Url"] == alice.home
    assert "Sandbox reset" in response.content.decode()


def test_acting_as_root_of_the_other_account_makes_calls_as_that_root(alice):
    response = alice.act_as(f"{B}/root/root")
    assert is_fragment(response)
    alice.create_key()
    trail = alice.get(alice.home + "trail.json").json()["Records"]
    assert trail[-1]["eventName"] == "CreateKey"
    assert trail[-1]["userIdentity"]["arn"] == f"arn:aws:iam::{B}:root"


def test_acting_with_mfa_sets_up_a_device_and_a_session_token(alice):
    response = alice.act_as(f"{A}/user/admin", mfa=True).content.decode()
    assert re.findall(r"<strong>(\w+)</strong> as", response) == [
        "CreateVirtualMFADevice", "EnableMFADevice", "GetSessionToken"]
    assert 'class="qr" src="data:image/png;base64,' in response
    assert re.search(r'class="totp">\d{6}<', response)
    alice.create_key()
    identity = alice.get(alice.home + "trail.json").json()["Records"][-1]["userIdentity"]
    assert identity["accessKeyId"].startswith("ASIA")
    assert identity["sessionContext"]["attributes"]["mfaAuthenticated"] == "true"


def test_a_wrong_mfa_code_is_refused_and_the_identity_stays(alice):
    alice.act_as(f"{A}/user/admin", mfa=True)  # gives admin a device
    alice.act_as(f"{A}/user/admin")
    response = alice.post(alice.home + "act-as/", {"principal": f"{A}/user/admin", "mfa": "on",
                                                   "token_code": "000000"}, htmx=True).content.decode()
    assert "AccessDenied" in response and "invalid MFA one time pass code" in response
    assert "no MFA" in alice.get(alice.home).content.decode()


def test_a_role_is_acted_as_through_assume_role_by_the_chosen_user(alice):
    alice.post(alice.home + "iam/call/CreateRole/", {
        "RoleName": "auditor",
        "AssumeRolePolicyDocument": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                                    f'"Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"sts:AssumeRole"}}]}}',
    })
    response = alice.act_as(f"{A}/role/auditor", via=f"{A}/admin").content.decode()
    assert "<strong>AssumeRole</strong>" in response
    assert "Succeeded" in response
    # The role has no permissions policy yet: its session is denied, and the console says why.
    denied = alice.post(alice.home + "keys/", {"Origin": "AWS_KMS"}).content.decode()
    assert "AccessDeniedException" in denied and "Implicitly denied" in denied
    identity = alice.get(alice.home + "trail.json").json()["Records"][-1]["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == f"arn:aws:sts::{A}:assumed-role/auditor/console-admin"


def test_a_role_needs_a_user_to_assume_it(alice):
    response = alice.post(alice.home + "act-as/", {"principal": f"{A}/role/none"}, htmx=True)
    assert "Select a valid choice" in response.content.decode()


def test_when_the_session_ends_on_the_sandbox_clock_the_console_says_so(alice):
    alice.act_as(f"{A}/user/admin", mfa=True)
    assert "MFA-authenticated" in alice.get(alice.home).content.decode()
    runner.advance_clock(alice.sandbox.id, 13 * 3600)  # GetSessionToken sessions last 12 hours
    page = alice.get(alice.home).content.decode()
    assert "The STS session of admin ended on the sandbox clock" in page
    assert '<span class="badge warn"' in page and "no MFA" in page


PAGES_WITH_THE_SWITCHER = ["", "keys/", "iam/", "trail/", "policies/", "simulator/", "envelope/", "anatomy/",
                           f"iam/{A}/users/admin/"]


@pytest.mark.parametrize("path", PAGES_WITH_THE_SWITCHER)
def test_every_sandbox_page_can_switch_identity_from_its_header(alice, path):
    page = alice.get(alice.home + path).content.decode()
    header = page[page.index('id="status"'):page.index("</header>")]
    assert f'hx-post="{alice.home}act-as/" hx-target="#status"' in header
    assert 'name="switch-principal"' in header and f'value="{B}/root/root"' in header
    assert f'name="next" value="{alice.home}{path}"' in header


def test_switching_in_the_header_answers_with_the_header_alone(alice):
    key_page = alice.create_key()
    response = alice.post(alice.home + "act-as/", {"from": "header", "switch-principal": f"{B}/user/admin"}, htmx=True)
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div class="status" id="status"')
    assert re.search(r"Acting as</span>\s*<b>admin</b>\s*<span>IAM user · 444455556666", fragment)
    # The page's own mentions of who acts follow, out of band.
    assert f'hx-swap-oob="innerHTML:.acting-account">{B}<' in fragment
    assert 'id="act-as-who" hx-swap-oob="true"' in fragment
    assert f'<span class="acting-account">{B}</span>' in alice.get(key_page).content.decode()
    assert codes(alice.post(key_page + "DisableKey/", htmx=True)) == ["AccessDeniedException"]  # not shared with B


def test_a_switch_the_form_refuses_stays_open_in_the_header_with_its_error(alice):
    response = alice.post(alice.home + "act-as/", {"from": "header", "switch-principal": f"{A}/root/root",
                                                   "switch-mfa": "on"}, htmx=True)
    fragment = response.content.decode()
    assert '<details class="switcher" open>' in fragment
    assert "root MFA sessions are not simulated" in fragment
    assert "no MFA" in fragment and "<b>admin</b>" in fragment


def test_without_javascript_the_header_switch_goes_back_to_the_page(alice):
    response = alice.post(alice.home + "act-as/", {"from": "header", "switch-principal": f"{A}/root/root",
                                                   "next": alice.home + "trail/"})
    assert response["Location"] == alice.home + "trail/"
    response = alice.post(alice.home + "act-as/", {"from": "header", "switch-principal": f"{A}/root/root",
                                                   "next": "https://elsewhere.example/"})
    assert response["Location"] == alice.home
