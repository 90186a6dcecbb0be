"""Workshops: learners join and work through its labs; instructors log in, run the dashboard and its controls."""
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kmslab import security
from kmslab.console import learner as console_learner
from kmslab.console import pages as console_pages
from kmslab.console import snapshot
from kmslab.console.trail import row as trail_row
from kmslab.labs import catalog
from kmslab.labs.models import LabRun
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import TrailRecord

from . import cohort, controls, dashboard, export, grid
from .forms import (AnnounceForm, ClosesForm, JoinForm, LearnerClockForm, RetentionForm, StuckForm,
                    WorkshopForm)
from .models import Learner, Workshop


# Learners.


@require_http_methods(["GET", "POST"])
def join(request):
    form = JoinForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if request.method == "POST":
        refused = security.guessing_refused(request, "join")
        if refused:
            return refused
        if form.is_valid():
            workshop = cohort.by_code(form.cleaned_data["code"])
            if workshop is None:
                security.count_failed_guess(request, "join")
                form.add_error("code", "No workshop has this join code. Check it with your instructor.")
            else:
                try:
                    learner, secret = cohort.join(workshop, form.cleaned_data["display_name"],
                                                  console_learner.token(request))
                except cohort.Refused as refusal:
                    form.add_error(None, str(refusal))
                else:
                    if secret:
                        request.session["resume_link"] = [learner.id, secret]
                    return redirect("workshops:learn", workshop.id)
    return render(request, "workshops/join.html", {"form": form}, status=422 if form.errors else 200)


def _learner(request, workshop_id):
    """The session's learner in a workshop; 404 for anyone else (the workshop's existence included)."""
    workshop = Workshop.objects.filter(pk=workshop_id).first()
    found = cohort.learner_of(request.session, workshop) if workshop else None
    if found is None:
        raise Http404("No such workshop")
    return found


@require_GET
def learn(request, workshop_id):
    learner = _learner(request, workshop_id)
    workshop = learner.workshop
    runs = cohort.runs_of(learner)
    shown = request.session.pop("resume_link", None)
    resume_url = (request.build_absolute_uri(reverse("workshops:resume", args=[shown[1]]))
                  if shown and shown[0] == learner.id else None)
    labs = [{"lab": lab, "run": runs.get(lab.slug),
             "done": len(runs[lab.slug].progress) if lab.slug in runs else 0} for lab in dashboard.labs(workshop)]
    return render(request, "workshops/learn.html", {"workshop": workshop, "learner": learner, "labs": labs,
                                                    "resume_url": resume_url})


@require_POST
def start(request, workshop_id, slug):
    learner = _learner(request, workshop_id)
    try:
        run = cohort.start_run(learner, slug)
    except cohort.Refused as refusal:
        if slug not in learner.workshop.labs:
            raise Http404(str(refusal)) from None
        raise PermissionDenied(str(refusal)) from None
    return redirect("labs:run", run.sandbox_id)


@require_POST
def new_resume_link(request, workshop_id):
    learner = _learner(request, workshop_id)
    request.session["resume_link"] = [learner.id, cohort.new_resume_secret(learner)]
    return redirect("workshops:learn", learner.workshop_id)


@require_http_methods(["GET", "POST"])
def resume(request, secret):
    try:
        learner = cohort.resumable(secret)
    except cohort.Refused as refusal:
        raise Http404(str(refusal)) from None
    if request.method == "POST":
        cohort.resume(request.session, learner)
        return redirect("workshops:learn", learner.workshop_id)
    return render(request, "workshops/resume.html", {"learner": learner, "workshop": learner.workshop})


# Instructors.


@require_http_methods(["GET", "POST"])
def login(request):
    if request.method == "POST":
        refused = security.guessing_refused(request, "login")
        if refused:
            return refused
    response = auth_views.LoginView.as_view(template_name="workshops/login.html",
                                            redirect_authenticated_user=True)(request)
    if request.method == "POST" and response.status_code == 200:  # the form came back: the password was wrong
        security.count_failed_guess(request, "login")
    return response


def _workshops(request):
    found = Workshop.objects.all()
    return found if request.user.is_superuser else found.filter(instructor=request.user)


def _workshop(request, workshop_id):
    """The instructor's own workshop (any, for a superuser); 404 for another's."""
    return get_object_or_404(_workshops(request), pk=workshop_id)


@login_required
@require_http_methods(["GET", "POST"])
def workshops(request):
    form = WorkshopForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        workshop = cohort.create(request.user, data["title"], form.ordered_labs(), data["opens"], data["closes"],
                                 data["max_learners"])
        controls.record(workshop, request.user, "create", f"labs {', '.join(workshop.labs)}")
        return redirect("workshops:dashboard", workshop.id)
    shown = _workshops(request).select_related("instructor")
    return render(request, "workshops/list.html", {"workshops": shown, "form": form,
                                                   "join_url": request.build_absolute_uri(reverse("workshops:join"))},
                  status=422 if form.errors else 200)


def dashboard_context(request, workshop):
    # What the page shows is as of `since` (the newest trail record) and `at`: the socket catches up from there.
    since = TrailRecord.objects.aggregate(m=Max("id"))["m"] or 0
    at = timezone.now()
    learners = {learner.id: learner for learner in workshop.learners.all()}
    rows = dashboard.rows(workshop, learners.values(), now=at)
    totals = dashboard.totals(workshop, rows)
    whys = dashboard.explanations(rows.values())
    return {
        "workshop": workshop,
        "labs": dashboard.labs(workshop),
        "columns": len(dashboard.columns(workshop)),
        "grid": [grid.row_context(workshop, learners[i], r, whys) for i, r in rows.items()],
        "totals": grid.total_contexts(workshop, totals),
        "count": len(rows),
        "since": since,
        "at": at.isoformat(),
        "stuck_denials": dashboard.STUCK_DENIALS,
        "join_url": request.build_absolute_uri(reverse("workshops:join")),
        "actions": workshop.actions.all()[:50],
        "clock_form": LearnerClockForm(),
        "announce_form": AnnounceForm(),
        "stuck_form": StuckForm(initial={"stuck_minutes": workshop.stuck_minutes}),
        "retention_form": RetentionForm(initial={"retention_days": workshop.retention_days}),
        "closes_form": ClosesForm(initial={"closes": workshop.closes}),
    }


@login_required
@require_GET
def dashboard_page(request, workshop_id):
    workshop = _workshop(request, workshop_id)
    context = dashboard_context(request, workshop)
    context["control_result"] = request.session.pop("control_result", None)
    return render(request, "workshops/dashboard.html", context)


@login_required
@require_GET
def learner_page(request, workshop_id, learner_id):
    """One learner's runs, trail and world, read-only, with every decision's why."""
    workshop = _workshop(request, workshop_id)
    learner = get_object_or_404(Learner, workshop=workshop, pk=learner_id)
    runs = list(LabRun.objects.filter(learner=learner).select_related("sandbox").order_by("started"))
    chosen = next((r for r in runs if str(r.sandbox_id) == request.GET.get("run")), runs[-1] if runs else None)
    context = {"workshop": workshop, "learner": learner, "runs": runs, "run": chosen,
               "row": dashboard.rows(workshop, [learner])[learner.id]}
    if chosen is not None:
        world = runner.load_world(chosen.sandbox_id)
        records = TrailRecord.objects.filter(sandbox_id=chosen.sandbox_id).order_by("-sequence")[:200]
        context.update({
            "lab": catalog.get(chosen.lab),
            "objectives": [{"id": o.id, "title": o.title, "done": chosen.progress.get(o.id)}
                           for o in catalog.get(chosen.lab).objectives],
            "clock": console_pages.clock(world),
            "keys": snapshot.keys(world),
            "policies": [(meta["meta"]["Arn"], meta["policy"])  # the ARN: a multi-Region key has one per Region
                         for meta in snapshot.keys(world) if meta["meta"]["KeyManager"] == "CUSTOMER"],
            "identities": _identities(world),
            "calls": [{"id": r.id, "record": r.record, "explanations": r.explanations, "row": trail_row(r),
                       "after": console_pages.after_authorization(r.record, r.explanations)} for r in records],
        })
    return render(request, "workshops/learner.html", context)


def _identities(world):
    """Users, groups and roles of every account with their inline and attached policies."""
    found = []
    for account_id, account in sorted(world.doc["accounts"].items()):
        for kind in ("users", "groups", "roles"):
            for name, entity in sorted(account.get(kind, {}).items()):
                found.append({"account": account_id, "kind": kind[:-1], "name": name,
                              "inline": sorted((entity.get("InlinePolicies") or {}).items()),
                              "attached": [p.rsplit("/", 1)[-1] for p in entity.get("AttachedPolicies") or []],
                              "groups": entity.get("Groups") or []})
    return found


def _control(request, workshop_id, act):
    """Run one control on the instructor's workshop, then back to its dashboard (its result in a banner)."""
    workshop = _workshop(request, workshop_id)
    try:
        message = act(workshop)
    except controls.Refused as refusal:
        request.session["control_result"] = [False, str(refusal)]
    else:
        request.session["control_result"] = [True, message]
    return redirect(reverse("workshops:dashboard", args=[workshop.id]) + "#controls")


@login_required
@require_POST
def reset_run(request, workshop_id, sandbox_id):
    def act(workshop):
        run = get_object_or_404(LabRun.objects.select_related("learner"), pk=sandbox_id, learner__workshop=workshop)
        controls.reset_run(workshop, request.user, run)
        return f"{run.learner.display_name}'s run of {run.lab} starts over."
    return _control(request, workshop_id, act)


@login_required
@require_POST
def advance_clock(request, workshop_id):
    def act(workshop):
        form = LearnerClockForm(request.POST)
        if not form.is_valid():
            raise controls.Refused(" ".join(e for errors in form.errors.values() for e in errors))
        learner = (get_object_or_404(Learner, workshop=workshop, pk=form.cleaned_data["learner"])
                   if form.cleaned_data.get("learner") else None)
        try:
            moved = controls.advance_clock(workshop, request.user, form.cleaned_data["advance"], learner)
        except (ValueError, runner.ReadOnly) as exc:
            raise controls.Refused(str(exc) or runner.READ_ONLY_MESSAGE) from None
        return f"Clock advanced {request.POST.get('advance')} in {moved} run{'s' * (moved != 1)}."
    return _control(request, workshop_id, act)


@login_required
@require_POST
def announce(request, workshop_id):
    def act(workshop):
        form = AnnounceForm(request.POST)
        if not form.is_valid():
            raise controls.Refused("Write the message to announce (at most 500 characters).")
        controls.announce(workshop, request.user, form.cleaned_data["message"])
        return "Announced to every learner."
    return _control(request, workshop_id, act)


@login_required
@require_POST
def hints(request, workshop_id):
    def act(workshop):
        locked = request.POST.get("locked") == "true"
        controls.set_hints_locked(workshop, request.user, locked)
        return "Hints are locked." if locked else "Hints are unlocked."
    return _control(request, workshop_id, act)


@login_required
@require_POST
def learner_clock(request, workshop_id):
    def act(workshop):
        allowed = request.POST.get("allowed") == "true"
        controls.set_learner_clock(workshop, request.user, allowed)
        return "Learners may move their own clocks." if allowed else "Only you move the learners' clocks."
    return _control(request, workshop_id, act)


def _form_control(request, workshop_id, form_class, apply):
    def act(workshop):
        form = form_class(request.POST)
        if not form.is_valid():
            raise controls.Refused(" ".join(e for errors in form.errors.values() for e in errors))
        return apply(workshop, form.cleaned_data)
    return _control(request, workshop_id, act)


@login_required
@require_POST
def stuck_minutes(request, workshop_id):
    def apply(workshop, data):
        controls.set_stuck_minutes(workshop, request.user, data["stuck_minutes"])
        return f"Learners count as stuck after {data['stuck_minutes']} minutes without progress."
    return _form_control(request, workshop_id, StuckForm, apply)


@login_required
@require_POST
def retention(request, workshop_id):
    def apply(workshop, data):
        controls.set_retention(workshop, request.user, data["retention_days"])
        return f"The workshop and its runs are deleted {data['retention_days']} days after it closes."
    return _form_control(request, workshop_id, RetentionForm, apply)


@login_required
@require_POST
def closes(request, workshop_id):
    def apply(workshop, data):
        controls.set_closes(workshop, request.user, data["closes"])
        return f"Closes {data['closes']:%Y-%m-%d %H:%M} UTC." if data["closes"] else "Closes when you close it."
    return _form_control(request, workshop_id, ClosesForm, apply)


@login_required
@require_POST
def join_code(request, workshop_id):
    def act(workshop):
        controls.regenerate_code(workshop, request.user)
        return f"The new join code is {workshop.join_code}; the old one no longer works."
    return _control(request, workshop_id, act)


@login_required
@require_POST
def close(request, workshop_id):
    def act(workshop):
        controls.close(workshop, request.user)
        return "Closed: the join code stopped working and every run is read-only."
    return _control(request, workshop_id, act)


@login_required
@require_POST
def reopen(request, workshop_id):
    def act(workshop):
        controls.reopen(workshop, request.user)
        return "Reopened: learners can join and work again."
    return _control(request, workshop_id, act)


@login_required
@require_POST
def delete(request, workshop_id):
    workshop = _workshop(request, workshop_id)
    if request.POST.get("confirm") != workshop.join_code:
        request.session["control_result"] = [False, f"Type the join code {workshop.join_code} to delete the workshop."]
        return redirect(reverse("workshops:dashboard", args=[workshop.id]) + "#controls")
    controls.delete(workshop, request.user)
    return redirect("workshops:list")


@login_required
@require_GET
def export_progress(request, workshop_id, fmt):
    workshop = _workshop(request, workshop_id)
    if fmt not in ("csv", "json"):
        raise Http404("Progress exports as progress.csv or progress.json")
    if fmt == "csv":
        response = HttpResponse(export.as_csv(workshop), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(export.as_json(workshop), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="workshop-{workshop.id}-progress.{fmt}"'
    return response
