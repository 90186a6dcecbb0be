"""Lab runs: start one, evaluate its objectives on its world and trail, reset it.

The checks are pure (checks.py); this module feeds them a sandbox's current
world and the CloudTrail records they read, and keeps what was met.
"""
import json
import time

from django.db import transaction
from django.utils import timezone

from kmslab.cloud import mfa as totp
from kmslab.cloud import principals as cloud_principals
from kmslab.sandboxes import runner
from kmslab.sandboxes.master_key import master_key
from kmslab.sandboxes.models import TrailRecord

from . import catalog, checks, setup, solve
from .models import LabRun


def start(lab, owner=""):
    """A new run of a lab. -> (LabRun, principals with secrets, keys {alias: ARN}, files)."""
    world, made, keys, files = setup.build(lab, master_key())
    baseline = checks.baseline_for(lab, world)
    with transaction.atomic():
        sandbox, _ = runner.create_sandbox(owner, name=lab.title, seeded=(world, made))
        run = LabRun.objects.create(sandbox=sandbox, lab=lab.slug, baseline=baseline)
    return run, made, keys, files


def reset(run):
    """Back to the lab's setup: a fresh world with new credentials, the trail emptied, progress cleared."""
    lab = catalog.get(run.lab)
    world, made, keys, files = setup.build(lab, master_key())
    runner.reset(run.sandbox_id, seeded=(world, made))
    run.baseline = checks.baseline_for(lab, world)
    run.progress, run.hints, run.completed, run.started = {}, {}, None, timezone.now()
    run.save()
    return made, keys, files


def records(sandbox_id, lab):
    """The run's trail records the lab's checks read, oldest first."""
    rows = TrailRecord.objects.filter(sandbox_id=sandbox_id, event_name__in=lab.trail_events).order_by("sequence")
    return [json.loads(text) for text in rows.values_list("record_json", flat=True)]


def evaluate(run):
    """Check the run's objectives now; keep those newly met. -> (status {id: bool}, newly met ids)."""
    lab = catalog.get(run.lab)
    world = runner.load_world(run.sandbox_id)
    status = checks.evaluate(lab, world, records(run.sandbox_id, lab), set(run.progress), run.baseline)
    met = [i for i, ok in status.items() if ok and i not in run.progress]
    if met:
        now = timezone.now()
        with transaction.atomic():
            current = LabRun.objects.select_for_update().get(pk=run.pk)
            for objective_id in met:
                current.progress.setdefault(objective_id, now.isoformat())
            if current.completed is None and all(o.id in current.progress for o in lab.objectives):
                current.completed = now
            current.save(update_fields=["progress", "completed"])
        run.progress, run.completed = current.progress, current.completed
    return status, met


def status(run):
    lab = catalog.get(run.lab)
    state, _ = evaluate(run)
    return {
        "lab": lab.slug,
        "complete": all(state.values()),
        "objectives": [{"id": o.id, "title": o.title, "done": state[o.id]} for o in lab.objectives],
    }


def solve_with_runner(run, made, keys, files):
    """Run the lab's solve script through the sandboxes runner, as its principals' access keys."""
    lab = catalog.get(run.lab)
    by_name = {p["name"]: p for p in made}
    sessions = {}

    def call(name, service, operation, request, mfa):
        key_id = by_name[name]["access_key_id"]
        if mfa:
            key_id = sessions.get(name) or _mfa_session(run.sandbox_id, key_id, name, files)
            sessions[name] = key_id
        who = lambda world: cloud_principals.caller_for_access_key(world, key_id, user_agent="kmslab-labs-solve")  # noqa: E731
        outcome = runner.run(run.sandbox_id, who, service, operation, request)
        return (outcome.error.code if outcome.error else ""), outcome.response

    solve.run(lab, keys, files, call, lambda seconds: runner.advance_clock(run.sandbox_id, seconds))


def _mfa_session(sandbox_id, key_id, name, files):
    who = lambda world: cloud_principals.caller_for_access_key(world, key_id)  # noqa: E731
    outcome = runner.run(sandbox_id, who, "sts", "GetSessionToken", {
        "SerialNumber": files[f"{name}-mfa-serial"], "TokenCode": totp.totp(files[f"{name}-mfa-seed"], time.time())})
    if outcome.error:
        raise solve.SolveFailed(f"GetSessionToken with MFA for {name}: {outcome.error.code}")
    return outcome.response["Credentials"]["AccessKeyId"]
