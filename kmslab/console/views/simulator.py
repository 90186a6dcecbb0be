"""The policy simulator page: pick a request, see the decision and every step of why.

A GET form: the inputs live in the URL, so a decision can be linked to (the
trail record page links here with its event's inputs) and re-evaluated live
as any input changes (htmx, hx-push-url).
"""
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from kmslab.sandboxes import runner

from .. import acting, learner, pages, simulator
from ..forms import SimulatorForm
from .trail import fragment_wanted


def _query(request, world):
    """The GET data, with a principal given as an ARN (as a trail record names it) turned into a choice."""
    data = request.GET.copy()
    principal = data.get("principal", "")
    if principal.startswith("arn:"):
        data["principal"] = simulator.identity_from_arn(principal) or principal
    return data


@require_GET
@vary_on_headers("HX-Request")
def simulator_page(request, sandbox_id):
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    identity = acting.current(request, sandbox, world)
    initial = {"principal": f"{identity.account}/{identity.kind}/{identity.name}", "mfa": identity.mfa,
               "source_ip": "127.0.0.1", "action": "kms:Decrypt", "context": "{}"}
    keys = sorted(world.doc["kms"]["keys"].values(), key=lambda k: k["KeyMetadata"]["CreationDate"])
    if keys:
        initial["key"] = keys[0]["KeyMetadata"]["Arn"]
    form = SimulatorForm(_query(request, world) if "action" in request.GET else None, world=world, initial=initial)
    outcome = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        outcome = simulator.simulate(world, form.identity(), data["action"], data["key"].strip(), data["context"],
                                     data["source_ip"], data["via_service"])
        if "decision" in outcome:
            outcome["explanation"] = outcome["decision"].to_dict()
    context = pages.context(request, sandbox, world, "simulator", form=form, outcome=outcome,
                            key_refs=_key_refs(world))
    return render(request, "console/simulator.html#decision" if fragment_wanted(request) else "console/simulator.html",
                  context)


def _key_refs(world):
    """Suggestions for the key field: every key's id and ARN, every alias's name and ARN."""
    refs = []
    for key in world.doc["kms"]["keys"].values():
        refs += [key["KeyMetadata"]["KeyId"], key["KeyMetadata"]["Arn"]]
    for arn, alias in world.doc["kms"]["aliases"].items():
        refs += [alias["AliasName"], arn]
    return refs
