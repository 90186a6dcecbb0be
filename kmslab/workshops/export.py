"""A workshop's progress as rows: one per learner, lab and objective, for CSV and JSON."""
import csv
import io
import json

from django.db.models import Count, F

from kmslab.labs.models import LabRun
from kmslab.sandboxes.models import TrailRecord

from . import dashboard

FIELDS = ["learner", "lab", "objective", "done", "time_done", "hints_used", "denied_calls"]


def rows(workshop):
    runs = {(run.learner_id, run.lab): run for run in LabRun.objects.filter(learner__workshop=workshop)}
    denied = dict(TrailRecord.objects.filter(sandbox__lab_run__learner__workshop=workshop,
                                             error_code__in=dashboard.DENIALS,
                                             sequence__gt=F("sandbox__lab_run__seeded"))
                  .values_list("sandbox_id").annotate(n=Count("id")).values_list("sandbox_id", "n"))
    found = []
    for learner in workshop.learners.all():
        for lab in dashboard.labs(workshop):
            run = runs.get((learner.id, lab.slug))
            for objective in lab.objectives:
                done_at = run.progress.get(objective.id) if run else None
                found.append({
                    "learner": learner.display_name,
                    "lab": lab.slug,
                    "objective": objective.id,
                    "done": done_at is not None,
                    "time_done": done_at,
                    "hints_used": run.hints.get(objective.id, 0) if run else 0,
                    "denied_calls": denied.get(run.sandbox_id, 0) if run else 0,
                })
    return found


def as_json(workshop):
    return json.dumps(rows(workshop), indent=1)


def as_csv(workshop):
    out = io.StringIO()
    writer = csv.DictWriter(out, FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows(workshop):
        writer.writerow({**row, "learner": spreadsheet_safe(row["learner"]), "done": "true" if row["done"] else "false",
                         "time_done": row["time_done"] or ""})
    return out.getvalue()


def spreadsheet_safe(text):
    """A display name a spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
