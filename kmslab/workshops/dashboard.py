"""The instructor's grid: one row a learner, one cell an objective of the workshop's labs, and where the room is.

A row is a dict of pieces, each the value one element of the page shows:
("cell", lab, objective) -> the time it was met or None, and "where", "hints",
"progress", "call", "stuck". The page renders every piece; a dashboard's
websocket keeps the pieces it sent and, when a learner changes, sends only
the pieces whose value changed (consumers.py), so an event costs a few
elements, never the grid.
"""
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from kmslab.labs import catalog, pages
from kmslab.labs.models import LabRun
from kmslab.sandboxes.models import TrailRecord


DENIALS = ("AccessDeniedException", "AccessDenied")
STUCK_DENIALS = 3  # denied calls in a row on one operation
RECENT = 10  # the newest records of a run a row reads


@dataclass(frozen=True)
class Column:
    lab: object  # catalog.Lab
    objective: object  # catalog.Objective

    @property
    def key(self):
        return ("cell", self.lab.slug, self.objective.id)


def labs(workshop):
    return [catalog.get(slug) for slug in workshop.labs if catalog.get(slug) is not None]


def columns(workshop):
    return [Column(lab, objective) for lab in labs(workshop) for objective in lab.objectives]


def rows(workshop, learners=None, now=None):
    """{learner id: row} for the workshop's learners, or for `learners` (Learner objects) of it."""
    now = now or timezone.now()
    learners = {learner.id: learner for learner in (workshop.learners.all() if learners is None else learners)}
    runs_by_learner = {}
    for run in LabRun.objects.filter(learner_id__in=learners).defer("baseline").order_by("started"):
        runs_by_learner.setdefault(run.learner_id, []).append(run)
    calls = recent_calls([run for runs in runs_by_learner.values() for run in runs])
    return {learner_id: row(workshop, learner, runs_by_learner.get(learner_id, []), calls, now)
            for learner_id, learner in learners.items()}


def row(workshop, learner, runs, recent, now):
    the_labs = labs(workshop)
    slugs = {lab.slug for lab in the_labs}
    runs = [run for run in runs if run.lab in slugs]
    by_lab = {run.lab: run for run in runs}
    pieces = {("cell", lab.slug, o.id): (by_lab[lab.slug].progress.get(o.id) if lab.slug in by_lab else None)
              for lab in the_labs for o in lab.objectives}
    # Record ids grow with every commit, whichever sandbox: they order calls across runs (each run's own clock does not).
    calls = sorted((call for run in runs for call in recent.get(run.sandbox_id, [])),
                   key=lambda call: call["id"], reverse=True)[:RECENT]
    current = _current_run(runs, calls)
    met_times = [t for run in runs for t in run.progress.values()]
    last_progress = max([datetime.fromisoformat(t) for t in met_times] + [learner.joined]
                        + [run.started for run in runs])
    complete = bool(the_labs) and all(by_lab.get(lab.slug) and by_lab[lab.slug].completed for lab in the_labs)
    pieces["where"] = _where(current)
    pieces["hints"] = sum(run.hints_used for run in runs)
    idle_minutes = int((now - last_progress).total_seconds() // 60)
    pieces["progress"] = idle_minutes
    pieces["call"] = _last_call(calls)
    pieces["stuck"] = "" if complete else stuck_reason(idle_minutes, workshop.stuck_minutes, calls)
    return pieces


# SQLite allows at most 500 terms in one compound SELECT.
RUNS_PER_QUERY = 200


def recent_calls(runs):
    """{sandbox id: the run's newest calls, newest first}: the learner's own calls, not the lab's seeded records
    or service events. Each {"run", "event", "error", "id"}.

    One query for all the runs, each run's part read backwards on the (sandbox, sequence) index and
    stopped after RECENT rows: a dashboard reads every busy learner several times a second, and a
    query per run through the ORM was most of that."""
    found = {run.sandbox_id: [] for run in runs}
    by_id = {run.sandbox_id: run for run in runs}
    sandbox_field = TrailRecord._meta.get_field("sandbox").target_field
    table = connection.ops.quote_name(TrailRecord._meta.db_table)
    for start in range(0, len(runs), RUNS_PER_QUERY):
        chunk = runs[start:start + RUNS_PER_QUERY]
        sql = " UNION ALL ".join(
            f"SELECT * FROM (SELECT sandbox_id, id, event_name, error_code FROM {table} WHERE sandbox_id = %s"
            f" AND sequence > %s AND event_type <> 'AwsServiceEvent' ORDER BY sequence DESC LIMIT {RECENT}) AS r{i}"
            for i in range(len(chunk)))
        params = [p for run in chunk for p in (sandbox_field.get_db_prep_value(run.sandbox_id, connection),
                                               run.seeded)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for sandbox_id, record_id, event, error in cursor.fetchall():
                sandbox_id = sandbox_field.to_python(sandbox_id)
                found[sandbox_id].append({"run": by_id[sandbox_id], "id": record_id, "event": event, "error": error})
    for calls in found.values():
        calls.sort(key=lambda call: call["id"], reverse=True)
    return found


def denied_streak(calls):
    """(operation, how many of the newest calls in a row were denied on it)."""
    if not calls or calls[0]["error"] not in DENIALS:
        return None, 0
    event, count = calls[0]["event"], 0
    for call in calls:
        if call["event"] != event or call["error"] not in DENIALS:
            break
        count += 1
    return event, count


def stuck_reason(idle_minutes, stuck_minutes, calls):
    event, count = denied_streak(calls)
    if count >= STUCK_DENIALS:
        return f"{count}{'+' if count == RECENT else ''} denied {event} calls in a row"
    if idle_minutes >= stuck_minutes:
        return f"no progress for {idle_minutes} min"
    return ""


def _current_run(runs, calls):
    """The run of the learner's newest call, else the one they started last."""
    if calls:
        return calls[0]["run"]
    return runs[-1] if runs else None


def _where(run):
    if run is None:
        return None
    lab = catalog.get(run.lab)
    steps = pages.steps(lab, run)
    current = next(s["number"] for s in steps if s["current"])
    return (lab.slug, lab.title, current, len(steps), run.completed is not None, str(run.sandbox_id))


def _last_call(calls):
    if not calls:
        return None
    call = calls[0]
    return (call["event"], call["error"], call["error"] in DENIALS, call["id"], str(call["run"].sandbox_id))


def explanations(rows):
    """{record id: the authorization decision that denied it} for the rows' last calls that were
    denied (the rows' "why"), in one query however many rows."""
    denied = [row["call"][3] for row in rows if row["call"] and row["call"][2]]
    if not denied:
        return {}
    decisions = {record_id: json.loads(text or "[]")
                 for record_id, text in TrailRecord.objects.filter(id__in=denied).values_list("id", "explanations_json")}
    return {record_id: found[-1] for record_id, found in decisions.items() if found}


def totals(workshop, all_rows):
    """{("total", lab, objective): how many learners have met it}."""
    return {("total",) + column.key[1:]: sum(1 for r in all_rows.values() if r[column.key])
            for column in columns(workshop)}


def changed_since(workshop, since, at):
    """The learners whose rows may differ from a page that showed the trail up to record `since`, at time `at`:
    a call since, an objective met or a run started (or reset) since."""
    changed = set(TrailRecord.objects.filter(id__gt=since, sandbox__lab_run__learner__workshop=workshop)
                  .values_list("sandbox__lab_run__learner_id", flat=True).distinct())
    for run in LabRun.objects.filter(learner__workshop=workshop).only("learner_id", "started", "progress"):
        if run.started >= at or any(datetime.fromisoformat(t) >= at for t in run.progress.values()):
            changed.add(run.learner_id)
    return changed
