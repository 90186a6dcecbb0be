"""The lab pages: catalogue, a run (with hints and reset), its debrief and completion page, progress."""
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.core.exceptions import PermissionDenied
from django.http import Http404

from kmslab.console import learner
from kmslab.console import pages as console_pages
from kmslab.sandboxes import runner
from kmslab.console.trail import row as trail_row

from . import catalog, pages, runs


@require_GET
def catalogue(request):
    level, topic = request.GET.get("level", ""), request.GET.get("topic", "")
    labs = sorted(catalog.load().values(), key=lambda lab: catalog.LEVELS.index(lab.level))
    topics = sorted({t for lab in labs for t in lab.topics})
    latest = {}
    for run in pages.runs_of(request.session):  # newest first
        latest.setdefault(run.lab, run)
    cards = [{"lab": lab, "run": latest.get(lab.slug), "done": len(latest[lab.slug].progress) if lab.slug in latest else 0}
             for lab in labs
             if (not level or lab.level == level) and (not topic or topic in lab.topics)]
    context = {"cards": cards, "levels": catalog.LEVELS, "topics": topics, "level": level, "topic": topic}
    template = "labs/index.html#cards" if request.htmx else "labs/index.html"
    return render(request, template, context)


@require_POST
def start(request, slug):
    lab = catalog.get(slug)
    if lab is None:
        raise Http404("No such lab")
    run, *_ = runs.start(lab, owner=learner.token(request))
    return redirect("labs:run", run.sandbox_id)


@require_GET
def run_page(request, sandbox_id):
    run = pages.get_run(request, sandbox_id)
    return render(request, "labs/run.html", pages.run_context(request, run))


@require_POST
def hint(request, sandbox_id, objective_id):
    run = pages.get_run(request, sandbox_id)
    if catalog.get(run.lab).objective(objective_id) is None:
        raise Http404("No such objective")
    if run.learner is not None and run.learner.workshop.hints_locked:
        raise PermissionDenied("Your instructor has locked hints for now.")
    runs.reveal_hint(run, objective_id)
    if not request.htmx:
        return redirect("labs:run", run.sandbox_id)
    context = pages.progress_context(run)
    context["objective"] = next(o for o in context["objectives"] if o["id"] == objective_id)
    return render(request, "labs/_objective.html", context)


@require_POST
def reset(request, sandbox_id):
    run = pages.get_run(request, sandbox_id)
    runs.reset(run)
    request.session.get("act_as", {}).pop(run.sandbox_id.hex, None)
    request.session.modified = True
    return redirect("labs:run", run.sandbox_id)


@require_GET
def debrief(request, sandbox_id):
    run = pages.get_run(request, sandbox_id)
    calls = [{"record": r.record, "explanations": r.explanations, "principal": trail_row(r)["principal_short"],
              "after": console_pages.after_authorization(r.record, r.explanations)}
             for r in runs.decisive_calls(run)] if run.completed else []
    world = runner.load_world(run.sandbox_id)
    return render(request, "labs/debrief.html", {**console_pages.context(request, run.sandbox, world, "lab"),
                                                 **pages.progress_context(run), "calls": calls})


@require_GET
def certificate(request, sandbox_id):
    run = pages.get_run(request, sandbox_id)
    if run.completed is None:
        return redirect("labs:run", run.sandbox_id)
    return render(request, "labs/certificate.html", pages.progress_context(run))


@require_GET
def progress(request):
    shown = [{"run": run, "lab": catalog.get(run.lab), **pages.progress_context(run)}
             for run in pages.runs_of(request.session) if catalog.get(run.lab)]
    return render(request, "labs/progress.html", {"runs": shown})
