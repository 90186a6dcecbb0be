"""Lab runs: start one, and evaluate its objectives on its world and trail.

The checks are pure (checks.py); this module feeds them a sandbox's current
world and the CloudTrail records they read, and keeps what was met.
"""
import json

from django.db import transaction
from django.utils import timezone

from kmslab.sandboxes import runner
from kmslab.sandboxes.master_key import master_key
from kmslab.sandboxes.models import TrailRecord

from . import catalog, checks, setup
from .models import LabRun


def start(lab, owner=""):
    """A new run of a lab. -> (LabRun, principals with secrets, keys {alias: ARN}, files)."""
    world, made, keys, files = setup.build(lab, master_key())
    baseline = checks.baseline_for(lab, world)
    with transaction.atomic():
        sandbox, _ = runner.create_sandbox(owner, name=lab.title, seeded=(world, made))
        run = LabRun.objects.create(sandbox=sandbox, lab=lab.slug, baseline=baseline)
    return run, made, keys, files


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
