"""Lab runs: start, reset, evaluate their objectives on their world and trail, reveal hints.

The checks are pure (checks.py); this module feeds them a sandbox's current
world and the CloudTrail records they read, and keeps what was met.
"""
import json
import logging

from django.db import transaction
from django.utils import timezone

from kmslab.sandboxes import runner
from kmslab.sandboxes.master_key import master_key
from kmslab.sandboxes.models import TrailRecord

from . import catalog, checks, setup
from .models import LabRun

logger = logging.getLogger(__name__)

# What a debrief shows beside the records the lab's checks read: the calls that change who may do what.
CHANGES_ACCESS = {
    "PutKeyPolicy", "PutUserPolicy", "PutGroupPolicy", "PutRolePolicy", "DeleteUserPolicy", "DeleteGroupPolicy",
    "DeleteRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy",
    "AttachRolePolicy", "DetachRolePolicy", "CreatePolicyVersion", "AddUserToGroup", "RemoveUserFromGroup",
    "CreateGrant", "RetireGrant", "RevokeGrant", "UpdateAlias", "CreateAlias", "DeleteAlias", "DisableKey",
    "EnableKey", "ScheduleKeyDeletion", "CancelKeyDeletion", "EnableKeyRotation", "RotateKeyOnDemand",
    "CreateAccessKey", "DeleteAccessKey", "GetSessionToken",
}


# Called with a run after its progress changed (objectives met, or a reset), in the thread that changed it;
# the workshops app updates its dashboards from here. A hook must be quick.
progress_hooks = []


def _progress_changed(run):
    for hook in progress_hooks:
        try:
            hook(run)
        except Exception:
            logger.exception("a hook after a lab run's progress changed failed")


def start(lab, owner="", learner=None, read_only_from=None):
    """A new run of a lab (a workshop learner's, when `learner` is given; read-only from
    `read_only_from`, when its workshop closes then). -> (LabRun, principals with secrets, keys {alias: ARN}, files)."""
    world, made, keys, files = setup.build(lab, master_key())
    history = setup.seeded_trail(world)
    with transaction.atomic():
        sandbox, _ = runner.create_sandbox(owner, name=lab.title, seeded=(world, made), history=history,
                                           read_only_from=read_only_from)
        run = LabRun.objects.create(sandbox=sandbox, lab=lab.slug, baseline=checks.baseline_for(lab, world),
                                    learner=learner, seeded=len(history))
    return run, made, keys, files


def reset(run):
    """Back to the lab's setup: a fresh world with new credentials, the trail emptied, nothing met."""
    lab = catalog.get(run.lab)
    world, made, _, _ = setup.build(lab, master_key())
    history = setup.seeded_trail(world)
    runner.reset(run.sandbox_id, seeded=(world, made), history=history)
    run.progress, run.completed, run.started = {}, None, timezone.now()
    run.baseline, run.seeded = checks.baseline_for(lab, world), len(history)
    run.save(update_fields=["progress", "completed", "started", "baseline", "seeded"])
    _progress_changed(run)


def records(sandbox_id, lab, after=0):
    """The run's trail records the lab's checks read, oldest first, as [(sequence, record)]:
    all of them, or those after sequence `after`."""
    rows = TrailRecord.objects.filter(sandbox_id=sandbox_id, event_name__in=lab.trail_events,
                                      sequence__gt=after).order_by("sequence")
    return [(sequence, json.loads(text)) for sequence, text in rows.values_list("sequence", "record_json")]


def evaluate(run, trail=None):
    """Check the run's objectives now; keep those newly met. -> (status {id: bool}, newly met ids).

    `trail`: the records `records` gives, if the caller keeps them already (live.py does)."""
    lab = catalog.get(run.lab)
    world = runner.load_world(run.sandbox_id)
    if trail is None:
        trail = [record for _, record in records(run.sandbox_id, lab)]
    status = checks.evaluate(lab, world, trail, set(run.progress), run.baseline)
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
        _progress_changed(run)
    return status, met


def status(run):
    lab = catalog.get(run.lab)
    state, _ = evaluate(run)
    return {
        "lab": lab.slug,
        "complete": all(state.values()),
        "objectives": [{"id": o.id, "title": o.title, "done": state[o.id]} for o in lab.objectives],
    }


def reveal_hint(run, objective_id):
    """Reveal the next of an objective's three hint tiers; -> how many are now shown."""
    with transaction.atomic():
        current = LabRun.objects.select_for_update().get(pk=run.pk)
        shown = min(current.hints.get(objective_id, 0) + 1, 3)
        current.hints[objective_id] = shown
        current.save(update_fields=["hints"])
    run.hints = current.hints
    return shown


def credentials(lab, world):
    """The lab's principals with their access keys, as `labs start --json` lists them."""
    found = []
    for account in catalog.ACCOUNTS.values():
        for key in world.doc["access_keys"].values():
            if key["Account"] != account or key["Status"] != "Active":
                continue
            name = key["UserName"]
            if account != catalog.ACCOUNTS["A"] and name == "admin":
                name = "admin@B"
            if name not in catalog.principal_names(lab):
                continue
            found.append({"name": name, "arn": f"arn:aws:iam::{account}:user/{key['UserName']}",
                          "access_key_id": key["AccessKeyId"],
                          "secret_access_key": world.unseal("secret-access-key", key["SecretAccessKey"]).decode()})
    return found


def decisive_calls(run):
    """The trail records a debrief shows: those the lab's checks read and those that change access."""
    lab = catalog.get(run.lab)
    return TrailRecord.objects.filter(sandbox_id=run.sandbox_id,
                                      event_name__in=lab.trail_events | CHANGES_ACCESS).order_by("sequence")
