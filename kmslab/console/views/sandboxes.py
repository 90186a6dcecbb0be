"""The learner's sandboxes: list, create, claim, and a sandbox's home page."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url

from kmslab.sandboxes import runner

from .. import acting, learner, pages
from ..forms import ClockForm, SandboxForm
from .. import snapshot


@require_http_methods(["GET", "POST"])
def home(request):
    form = SandboxForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sandbox, _ = runner.create_sandbox(learner.token(request), form.cleaned_data["name"])
        return redirect("console:sandbox", sandbox.id)
    sandboxes = learner.visible(request.session).order_by("-created")
    return render(request, "console/home.html", {"sandboxes": sandboxes, "form": form})


@require_http_methods(["GET", "POST"])
def claim(request, token):
    """The console URL `manage.py sandbox create` prints: a signed offer of one sandbox, taken by a confirmed POST."""
    sandbox = learner.claimable(token)
    if request.method == "POST":
        learner.claim(request, sandbox)
        return redirect("console:sandbox", sandbox.id)
    if learner.visible(request.session).filter(id=sandbox.id).exists():
        return redirect("console:sandbox", sandbox.id)
    return render(request, "console/claim.html", {"offered": sandbox})


@require_GET
def sandbox(request, sandbox_id):
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    return render(request, "console/sandbox.html", sandbox_context(request, sandbox, world))


def sandbox_context(request, sandbox, world, **extra):
    identity = acting.current(request, sandbox, world)
    key_page = snapshot.key_page(world)
    parts = dict(
        due=snapshot.due(world),
        key_page=key_page,
        keys=key_page.object_list,
        sessions=snapshot.sessions(world),
        clock_form=ClockForm(),
        clock_steps=ClockForm.STEPS,
        act_as_form=pages.act_as_form(world, identity),
        device=acting.mfa_device(world, *identity.mfa_user()) if identity.mfa else None,
    )
    return pages.context(request, sandbox, world, "home", **{**parts, **extra})


@require_POST
def advance_clock(request, sandbox_id):
    sandbox = learner.get_sandbox(request, sandbox_id)
    if sandbox.clock_locked:
        raise PermissionDenied("Your instructor keeps this sandbox's clock: ask them to move it forward.")
    form = ClockForm(request.POST)
    records = form.advance_clock(sandbox.id) if form.is_valid() else []
    world = runner.load_world(sandbox.id)
    if not request.htmx:
        if form.is_valid():
            return redirect("console:sandbox", sandbox.id)
        return render(request, "console/sandbox.html", sandbox_context(request, sandbox, world, clock_form=form),
                      status=422)
    context = sandbox_context(request, sandbox, world, clock_form=form, happened=records)
    return render(request, "console/sandbox.html#advanced", context)


@require_POST
def act_as(request, sandbox_id):
    """Act as, from the home page's panel or from the header's switcher on any page.

    The header's answer is the header alone (htmx): the page it was used on keeps its
    state — a stored envelope, a half-filled form — and only who makes the next call changes."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    header = request.POST.get("from") == "header"
    form = pages.act_as_form(world, acting.current(request, sandbox, world), request.POST, header=header)
    results = []
    if form.is_valid():
        data = form.cleaned_data
        identity = acting.Identity(data["account"], data["kind"], data["name"], mfa=data["mfa"],
                                   via=data["via"] if data["kind"] == "role" else None)
        if identity.mfa or identity.kind == "role":
            identity, outcomes = acting.start_session(sandbox.id, identity, data["token_code"])
            results = [pages.result(o) for o in outcomes]
        if identity is not None:
            acting.remember(request, sandbox, identity)
            form = None
    if not request.htmx and form is None:
        back = request.POST.get("next", "")
        if header and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            return redirect(back)
        return redirect("console:sandbox", sandbox.id)
    world = runner.load_world(sandbox.id)
    if header and request.htmx:
        context = pages.context(request, sandbox, world, None, switched=form is None, switch_results=results)
        if form is not None:
            context["switch_form"] = form
        return render(request, "console/_status.html", context)
    context = sandbox_context(request, sandbox, world, results=results)
    if form is not None:
        context["switch_form" if header else "act_as_form"] = form
    template = "console/sandbox.html#acted" if request.htmx else "console/sandbox.html"
    return render(request, template, context)


@require_POST
def reset(request, sandbox_id):
    """A fresh default world; its admins' new access keys are shown in this response, once.

    The world keeps their secrets sealed, and the session is a signed (readable)
    cookie, so this page is the only place they are shown in the clear, as
    `sandbox create` and CreateAccessKey show a secret once."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    new_keys = sorted(runner.reset(sandbox.id), key=lambda p: p["arn"])
    request.session.get("act_as", {}).pop(sandbox.id.hex, None)
    request.session.modified = True
    world = runner.load_world(sandbox.id)
    context = sandbox_context(request, sandbox, world, new_keys=new_keys, endpoint=request.build_absolute_uri("/aws/"))
    response = render(request, "console/sandbox.html", context)
    add_never_cache_headers(response)  # it holds secrets: no cache may keep a copy
    # Reloading shows the sandbox (without the keys), rather than POSTing the reset again.
    return push_url(response, reverse("console:sandbox", args=[sandbox.id])) if request.htmx else response
