"""The lab pages: catalogue, start, a run with hints and reset, the side panel, debrief, progress."""
import base64
import json
import re

import pytest
from django.test import Client
from django.utils.html import escape

from kmslab.labs import catalog, runs, setup
from kmslab.labs.models import LabRun
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import Sandbox, TrailRecord
from kmslab.cloud import principals

pytestmark = pytest.mark.django_db(transaction=True)

HX = {"HX-Request": "true"}


def start(client, slug="encryption-context"):
    response = client.post(f"/labs/{slug}/start/")
    assert response.status_code == 302
    sandbox_id = re.search(r"/labs/runs/([0-9a-f-]+)/", response["Location"]).group(1)
    return LabRun.objects.get(pk=sandbox_id), response["Location"]


def call_as(run, name, operation, service="kms", **request):
    """A call as one of the lab's principals, through the runner as the AWS endpoint makes it."""
    world = runner.load_world(run.sandbox_id)
    key_id = next(p["access_key_id"] for p in runs.credentials(catalog.get(run.lab), world) if p["name"] == name)
    return runner.run(run.sandbox_id, lambda w: principals.caller_for_access_key(w, key_id), service, operation,
                      request)


def test_the_catalogue_lists_every_lab_with_its_level_minutes_and_status():
    client = Client()
    page = client.get("/labs/").content.decode()
    for lab in catalog.load().values():
        assert f'data-lab="{lab.slug}"' in page
        assert escape(lab.title) in page
    assert page.count('data-status="new"') == len(catalog.load())


def test_the_catalogue_filters_by_level_and_topic():
    client = Client()
    intro = client.get("/labs/?level=intro").content.decode()
    assert all(f'data-lab="{lab.slug}"' in intro for lab in catalog.load().values() if lab.level == "intro")
    assert not any(f'data-lab="{lab.slug}"' in intro for lab in catalog.load().values() if lab.level != "intro")
    mfa = client.get("/labs/?topic=MFA", headers=HX).content.decode()
    assert 'data-lab="mfa-for-destructive-operations"' in mfa and 'data-lab="encryption-context"' not in mfa
    assert "<html" not in mfa  # the htmx request gets the cards alone


def test_starting_a_lab_gives_a_run_page_with_steps_objectives_principals_keys_and_files():
    client = Client()
    run, location = start(client)
    page = client.get(location).content.decode()
    lab = catalog.get("encryption-context")
    assert lab.title in page and "One key, two tenants" in page
    for objective in lab.objectives:
        assert f'data-objective="{objective.id}" data-done="false"' in page
    for p in runs.credentials(lab, runner.load_world(run.sandbox_id)):
        assert p["access_key_id"] in page and p["secret_access_key"] in page
    assert 'data-key="alias/tenant-data"' in page
    assert 'data-file="acme-record"' in page and 'data-file="globex-record"' in page
    assert f"/ws/sandboxes/{run.sandbox_id}/lab/" in page


def test_a_step_text_is_rendered_markdown_and_sanitised():
    client = Client()
    _, location = start(client)
    page = client.get(location).content.decode()
    assert "<code>alias/tenant-data</code>" in page and "<strong>encryption context</strong>" in page


def test_hints_are_revealed_one_tier_at_a_time_and_counted():
    client = Client()
    run, _ = start(client)
    lab = catalog.get(run.lab)
    objective = lab.objectives[0]
    url = f"/labs/runs/{run.sandbox_id}/hints/{objective.id}/"
    first = client.post(url, headers=HX).content.decode()
    hints = [escape(h) for h in objective.hints]
    assert hints[0] in first and hints[1] not in first
    assert "Show a hint (2 of 3)" in first
    client.post(url, headers=HX)
    third = client.post(url, headers=HX).content.decode()
    assert all(h in third for h in hints) and "Show a hint" not in third
    client.post(url, headers=HX)  # a fourth reveal reveals nothing more
    run.refresh_from_db()
    assert run.hints == {objective.id: 3} and run.hints_used == 3
    assert client.post(f"/labs/runs/{run.sandbox_id}/hints/no-such/").status_code == 404


def test_objectives_tick_after_calls_and_the_run_completes_with_a_debrief():
    client = Client()
    run, location = start(client)
    run.refresh_from_db()
    world = runner.load_world(run.sandbox_id)
    files = runs.setup.lab_files(world)
    key = runs.setup.lab_keys(world)["alias/tenant-data"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"],
              "Resource": key, "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}}}]}
    assert call_as(run, "admin", "PutUserPolicy", "iam", UserName="bob", PolicyName="tenant-app",
                   PolicyDocument=json.dumps(policy)).error is None
    run.refresh_from_db()
    assert list(run.progress) == ["bob-acme-only"]  # evaluated right after the call, with no page open
    assert call_as(run, "bob", "Decrypt", CiphertextBlob=base64.b64decode(files["acme-record"]),
                   EncryptionContext={"tenant": "acme"}).error is None
    assert call_as(run, "bob", "Decrypt", CiphertextBlob=base64.b64decode(files["globex-record"]),
                   EncryptionContext={"tenant": "globex"}).error.code == "AccessDeniedException"
    run.refresh_from_db()
    assert run.completed is not None and set(run.progress) == {o.id for o in catalog.get(run.lab).objectives}
    page = client.get(location).content.decode()
    assert 'id="lab-complete"' in page
    debrief = client.get(f"/labs/runs/{run.sandbox_id}/debrief/").content.decode()
    lab = catalog.get(run.lab)
    assert escape(lab.debrief["why"]) in debrief and escape(lab.debrief["mistake"]) in debrief
    assert "<strong>PutUserPolicy</strong>" in debrief and "AccessDeniedException" in debrief
    assert "Explicitly denied" in debrief or "Implicitly denied" in debrief  # the why of the denied Decrypt
    certificate = client.get(f"/labs/runs/{run.sandbox_id}/certificate/").content.decode()
    assert "Lab completed" in certificate and lab.title in certificate


def test_reset_empties_the_trail_and_progress_and_gives_new_keys():
    client = Client()
    run, location = start(client)
    world = runner.load_world(run.sandbox_id)
    before = {p["access_key_id"] for p in runs.credentials(catalog.get(run.lab), world)}
    call_as(run, "bob", "ListKeys")
    assert TrailRecord.objects.filter(sandbox_id=run.sandbox_id).exists()
    client.post(f"/labs/runs/{run.sandbox_id}/hints/bob-acme-only/")
    assert client.post(f"/labs/runs/{run.sandbox_id}/reset/").status_code == 302
    run.refresh_from_db()
    assert not TrailRecord.objects.filter(sandbox_id=run.sandbox_id).exists()
    assert run.progress == {} and run.completed is None and run.hints == {"bob-acme-only": 1}
    after = {p["access_key_id"] for p in runs.credentials(catalog.get(run.lab), runner.load_world(run.sandbox_id))}
    assert before.isdisjoint(after) and len(after) == len(before)


def test_console_pages_of_a_lab_run_show_the_side_panel_and_plain_sandboxes_do_not():
    client = Client()
    run, _ = start(client)
    for page in ("", "keys/", "iam/", "trail/", "policies/", "envelope/"):
        html = client.get(f"/s/{run.sandbox_id}/{page}").content.decode()
        assert 'class="lab-panel"' in html and 'data-objective="bob-acme-only"' in html, page
    client.post("/", {"name": "plain"})
    sandbox = Sandbox.objects.exclude(pk=run.sandbox_id).get()
    assert 'class="lab-panel"' not in client.get(f"/s/{sandbox.id}/").content.decode()


def test_starting_again_gives_a_new_run_and_progress_lists_both():
    client = Client()
    first, _ = start(client)
    second, _ = start(client)
    assert first.pk != second.pk
    page = client.get("/labs/progress/").content.decode()
    assert f'data-run="{first.sandbox_id}"' in page and f'data-run="{second.sandbox_id}"' in page
    catalogue = client.get("/labs/").content.decode()
    assert 'data-status="started"' in catalogue


def test_another_learner_can_never_see_a_run():
    owner, other = Client(), Client()
    run, location = start(owner)
    base = f"/labs/runs/{run.sandbox_id}/"
    for path in (base, base + "debrief/", base + "certificate/"):
        assert other.get(path).status_code == 404
    for path in (base + "reset/", base + "hints/bob-acme-only/"):
        assert other.post(path).status_code == 404
    assert str(run.sandbox_id) not in other.get("/labs/progress/").content.decode()
    run.refresh_from_db()
    assert run.hints == {}


def test_an_unknown_lab_is_a_404():
    assert Client().post("/labs/no-such-lab/start/").status_code == 404


def test_a_lab_with_a_seeded_trail_starts_with_it_in_the_feed_and_again_after_a_reset():
    client = Client()
    run, _ = start(client, "trail-forensics")
    seeded = setup.seeded_trail(runner.load_world(run.sandbox_id))
    rows = TrailRecord.objects.filter(sandbox_id=run.sandbox_id).order_by("sequence")
    assert [r.record["eventID"] for r in rows] == [record["eventID"] for record, _ in seeded]
    assert [r.explanations for r in rows] == [explanations for _, explanations in seeded]
    feed = client.get(f"/s/{run.sandbox_id}/trail/").content.decode()
    assert "user/mallory" in feed and "AccessDeniedException" in feed
    assert not any(runs.status(run)["objectives"][i]["done"] for i in range(len(catalog.get(run.lab).objectives)))
    runs.reset(run)
    assert TrailRecord.objects.filter(sandbox_id=run.sandbox_id).count() == len(seeded)
    # The next call's record follows the seeded ones.
    outcome = call_as(run, "dave", "ListKeys")
    assert TrailRecord.objects.get(sandbox_id=run.sandbox_id, event_id=outcome.record["eventID"]).sequence == len(seeded) + 1
