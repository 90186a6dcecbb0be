"""What the lab pages show of a run: its steps, objectives with hints, principals, keys and files."""
from django.core.exceptions import PermissionDenied
from django.http import Http404

from kmslab.console import learner
from kmslab.console import pages as console_pages
from kmslab.sandboxes import runner
from kmslab.sandboxes.runner import READ_ONLY_MESSAGE

from . import catalog, runs, setup, text
from .models import LabRun


def runs_of(session):
    """Every lab run a browser session may see (its own sandboxes and those it claimed)."""
    return LabRun.objects.filter(sandbox__in=learner.visible(session)).select_related("sandbox", "learner__workshop")


def get_run(request, sandbox_id):
    """The session's lab run; a POST to a read-only one (its workshop closed) is refused."""
    run = runs_of(request.session).filter(pk=sandbox_id).first()
    if run is None or catalog.get(run.lab) is None:
        raise Http404("No such lab run")
    if request.method == "POST" and run.sandbox.read_only:
        raise PermissionDenied(READ_ONLY_MESSAGE)
    return run


def objectives(lab, run):
    return [{
        "id": o.id, "title": o.title, "failure": o.failure, "done": o.id in run.progress,
        "hints": o.hints[:run.hints.get(o.id, 0)], "more_hints": run.hints.get(o.id, 0) < len(o.hints),
        "next_hint": run.hints.get(o.id, 0) + 1,
    } for o in lab.objectives]


def steps(lab, run):
    """The steps with their HTML; the current one is the first with an objective not yet met."""
    shown, current_found = [], False
    for number, step in enumerate(lab.steps, 1):
        done = all(i in run.progress for i in step.objectives)
        current = not current_found and (not done or number == len(lab.steps))
        current_found = current_found or current
        shown.append({"number": number, "title": step.title, "html": text.html(step.text), "done": done,
                      "current": current})
    return shown


def progress_context(run):
    """What the objectives partial needs; the websocket consumer renders it too."""
    lab = catalog.get(run.lab)
    return {"run": run, "lab": lab, "objectives": objectives(lab, run),
            "complete": run.completed is not None, "steps": steps(lab, run),
            "workshop": run.learner.workshop if run.learner_id else None}


def lab_context(request, run, world):
    """What the side panel and the lab page show of a run: its progress, principals, keys and files."""
    principals = runs.credentials(catalog.get(run.lab), world)
    return {
        **progress_context(run),
        "world": world,
        "principals": principals,
        "snippet_principal": next((p for p in principals if p["name"] not in ("admin", "admin@B")), principals[0]),
        "keys": setup.lab_keys(world),
        "files": setup.lab_files(world),
        "endpoint": request.build_absolute_uri("/aws/"),
    }


def run_context(request, run):
    """The lab page: a console page of the run's sandbox (header, clock) with the run on it."""
    world = runner.load_world(run.sandbox_id)
    return {**console_pages.context(request, run.sandbox, world, "lab"), **lab_context(request, run, world)}
