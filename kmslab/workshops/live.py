"""What a workshop's open pages hear: every call and every change of progress in its learners' runs.

The runner calls `call_committed` after each commit and the labs app calls
`progress_changed` after a run's objectives change; both tell the workshop's
dashboards which learner to look at again (consumers.DashboardConsumer reads
that learner's rows afresh and sends only the cells that changed). The message
names the learner and nothing else, so a dashboard that misses one is put
right by the next, or by its periodic refresh.
"""
import threading
from collections import OrderedDict

from kmslab.labs.models import LabRun
from kmslab.sandboxes import runner

# sandbox id -> (workshop id, learner id), or None for a sandbox that is no workshop's: a run's learner never changes.
_runs = OrderedDict()
_lock = threading.Lock()
CACHE = 4096


def dashboard_group(workshop_id):
    return f"workshop.{workshop_id}.dashboard"


def learners_group(workshop_id):
    return f"workshop.{workshop_id}.learners"


def call_committed(sandbox_id, world_changed, records):
    found = _learner_of(sandbox_id)
    if found is not None:
        learner_changed(*found)


def progress_changed(run):
    found = _learner_of(run.sandbox_id) if run.learner_id is not None else None
    if found is not None:
        learner_changed(*found)


def learner_changed(workshop_id, learner_id):
    runner.send_to_group(dashboard_group(workshop_id), {"type": "dashboard.learner", "learner": learner_id})


def announce(workshop_id):
    runner.send_to_group(learners_group(workshop_id), {"type": "workshop.announcement"})


def _learner_of(sandbox_id):
    with _lock:
        if sandbox_id in _runs:
            return _runs[sandbox_id]
    row = LabRun.objects.filter(pk=sandbox_id, learner__isnull=False).values_list(
        "learner__workshop_id", "learner_id").first()
    with _lock:
        _runs[sandbox_id] = row
        if len(_runs) > CACHE:
            _runs.popitem(last=False)
    return row
