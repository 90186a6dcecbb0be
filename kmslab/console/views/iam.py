"""IAM: users, groups, roles, policies, access keys and MFA devices, and the calls that make them."""
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from kmslab.sandboxes import runner

from .. import acting, learner, pages
from ..forms import IAM_ACTIONS, TRUST_ACCOUNT


def iam_context(request, sandbox, **extra):
    world = runner.load_world(sandbox.id)
    context = pages.context(request, sandbox, world, "iam", **extra)
    account = context["identity"].account
    forms = {name: form(initial={"AssumeRolePolicyDocument": TRUST_ACCOUNT.format(account=account)})
             for name, form in IAM_ACTIONS.items()}
    context["forms"] = {**forms, **extra.get("forms", {})}
    context["access_keys"] = sorted(world.doc["access_keys"].values(), key=lambda k: k["CreateDate"])
    return context


@require_GET
def iam(request, sandbox_id):
    sandbox = learner.get_sandbox(request, sandbox_id)
    return render(request, "console/iam.html", iam_context(request, sandbox))


@require_POST
def iam_action(request, sandbox_id, operation):
    sandbox = learner.get_sandbox(request, sandbox_id)
    form_class = IAM_ACTIONS.get(operation)
    if form_class is None:
        raise Http404("No such action")
    form = form_class(request.POST)
    result = None
    if form.is_valid():
        _, result = pages.run(request, sandbox, "iam", operation, form.request())
    # Only a call that worked clears its form: one refused or invalid keeps what the learner typed.
    kept = {} if result and result["ok"] else {operation: form}
    context = iam_context(request, sandbox, result=result, forms=kept, oob=request.htmx)
    return render(request, "console/iam.html#iam-body" if request.htmx else "console/iam.html", context)


def entity_context(request, sandbox, account_id, kind, name, **extra):
    world = runner.load_world(sandbox.id)
    account = world.account(account_id)
    entity = account and account[kind + "s"].get(name)
    if entity is None:
        raise Http404(f"No such {kind}")
    context = pages.context(request, sandbox, world, "iam", account_id=account_id, kind=kind, name=name, entity=entity,
                            **extra)
    if kind == "user":
        context["user_keys"] = [k for k in world.doc["access_keys"].values()
                                if k["Account"] == account_id and k["UserName"] == name]
        context["device"] = acting.mfa_device(world, account_id, name)
    context["endpoint"] = request.build_absolute_uri("/aws/")
    return context


@require_GET
def iam_user(request, sandbox_id, account_id, name):
    sandbox = learner.get_sandbox(request, sandbox_id)
    return render(request, "console/iam_entity.html", entity_context(request, sandbox, account_id, "user", name))


@require_GET
def iam_role(request, sandbox_id, account_id, name):
    sandbox = learner.get_sandbox(request, sandbox_id)
    return render(request, "console/iam_entity.html", entity_context(request, sandbox, account_id, "role", name))


@require_POST
def create_access_key(request, sandbox_id, account_id, name):
    """CreateAccessKey for a user: the only time its secret is shown, with ready-to-run snippets."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    outcome, result = pages.run(request, sandbox, "iam", "CreateAccessKey", {"UserName": name})
    new_key = outcome.response["AccessKey"] if outcome.error is None else None
    context = entity_context(request, sandbox, account_id, "user", name, result=result, new_key=new_key,
                             oob=request.htmx)
    return render(request, "console/iam_entity.html#keys" if request.htmx else "console/iam_entity.html", context)


@require_POST
def setup_mfa(request, sandbox_id, account_id, name):
    """Give a user a virtual MFA device (CreateVirtualMFADevice and EnableMFADevice as the account's root)."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    _, outcomes = acting.ensure_mfa_device(sandbox.id, account_id, name)
    context = entity_context(request, sandbox, account_id, "user", name, results=[pages.result(o) for o in outcomes],
                             oob=request.htmx)
    return render(request, "console/iam_entity.html#mfa" if request.htmx else "console/iam_entity.html", context)


@require_GET
def mfa_code(request, sandbox_id, account_id, name):
    """The device's current code, polled by the page so it stays current."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    device = acting.mfa_device(runner.load_world(sandbox.id), account_id, name)
    if device is None:
        raise Http404("No MFA device")
    return render(request, "console/_mfa_code.html", {"device": device, "sandbox": sandbox})
