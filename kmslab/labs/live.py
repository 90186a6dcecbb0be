"""Every call in a lab run's sandbox, from any source, gets the run's objectives evaluated; a tick is pushed.

The runner calls `call_committed` after each commit. A call that changes
neither the world nor writes a record the lab's trail checks could match
(checks.reads) cannot change an objective, and is passed over. Evaluating reads the world and the trail
afresh, so in the ASGI server it runs on a background thread, coalesced per
sandbox: calls committed while an evaluation runs are all covered by one more
evaluation after it, so its cost does not grow with the call rate. Each
process keeps the trail records it has read per run and reads only newer
ones, so an evaluation's cost does not grow with the trail's length either
(scripts/bench_labs.py). In a management command or a test (no serving
loop) it runs inline, at once.
Newly met objectives go to the run's pages over the channel layer's
`lab.<sandbox>` group (consumers.LabConsumer).
"""
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections

from kmslab.sandboxes import runner

from . import catalog, checks, runs
from .models import LabRun

logger = logging.getLogger(__name__)

# Evaluations of one sandbox start at most this often while calls keep coming.
MIN_INTERVAL = 0.25
_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lab-evaluation")
_lock = threading.Lock()
_busy, _dirty = set(), set()
# sandbox id -> lab slug ("" for a plain sandbox): a sandbox's lab never changes.
_labs = OrderedDict()
LABS_CACHE = 4096
# sandbox id -> (the run's start, the last sequence read, the records read): a reset run starts anew.
_trails = OrderedDict()
TRAILS_CACHE = 256


def group_name(sandbox_id):
    return f"lab.{sandbox_id.hex}"


def call_committed(sandbox_id, world_changed, records):
    lab = _lab_of(sandbox_id)
    if lab is None or not (world_changed or any(checks.reads(lab, r) for r in records)):
        return
    if not runner.serving():
        evaluate(sandbox_id)
        return
    with _lock:
        if sandbox_id in _busy:
            _dirty.add(sandbox_id)
            return
        _busy.add(sandbox_id)
    _executor.submit(_work, sandbox_id)


def _work(sandbox_id):
    while True:
        started = time.monotonic()
        try:
            evaluate(sandbox_id)
        except Exception:
            logger.exception("evaluating the lab run in sandbox %s failed", sandbox_id)
        finally:
            close_old_connections()
        with _lock:
            if sandbox_id not in _dirty:
                _busy.discard(sandbox_id)
                return
            _dirty.discard(sandbox_id)
        time.sleep(max(0.0, MIN_INTERVAL - (time.monotonic() - started)))


def evaluate(sandbox_id):
    """Evaluate the run's objectives; announce any newly met."""
    run = LabRun.objects.filter(pk=sandbox_id).first()
    if run is None or run.completed is not None:
        return
    _, met = runs.evaluate(run, _trail(run))
    if met:
        announce(run)


def _trail(run):
    """The run's records its checks read, oldest first: those kept from earlier evaluations, then newer ones."""
    with _lock:
        kept = _trails.pop(run.sandbox_id, None)  # taken out while in use, as runner's world cache does
    started, last, found = kept if kept and kept[0] == run.started else (run.started, 0, [])
    newer = runs.records(run.sandbox_id, catalog.get(run.lab), after=last)
    if newer:
        last = newer[-1][0]
        found.extend(record for _, record in newer)
    with _lock:
        _trails[run.sandbox_id] = (started, last, found)
        if len(_trails) > TRAILS_CACHE:
            _trails.popitem(last=False)
    return found


def announce(run):
    runner.send_to_group(group_name(run.sandbox_id), {"type": "lab.progress"})


def _lab_of(sandbox_id):
    with _lock:
        slug = _labs.get(sandbox_id)
    if slug is None:
        slug = LabRun.objects.filter(pk=sandbox_id).values_list("lab", flat=True).first() or ""
        with _lock:
            _labs[sandbox_id] = slug
            if len(_labs) > LABS_CACHE:
                _labs.popitem(last=False)
    return catalog.get(slug) if slug else None
