"""The visual policy editors: key policies, IAM inline policies (users, groups, roles), customer managed policies.

Cards and JSON are kept in sync by the server: every change posts the whole
editor to the sync view, which answers with both views, the problems and the
access preview re-rendered out of band (policy_form.sync does the work).
Saving is a real PutKeyPolicy / Put{User,Group,Role}Policy / CreatePolicyVersion
call as the acting principal, so the lockout check, IAM's quotas and the
caller's permissions apply and the call lands in the trail.
"""
from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kmslab.cloud import iam, principals
from kmslab.cloud.kms.keys import find
from kmslab.cloud.policy.authorize import key_aliases
from kmslab.sandboxes import runner

from .. import access_preview, acting, learner, pages, snapshot
from .. import policy_form as pf
from ..forms import NEW_IDENTITY_POLICY, CreatePolicyForm, NewInlinePolicyForm, PreviewForm, SaveForm, SyncForm
from .keys import page_region

TEMPLATE = "console/policy_editor.html"
EMPTY_IDENTITY_POLICY = pf.dumps({"Version": "2012-10-17", "Statement": []})
SERVICES = ("s3.amazonaws.com", "logs.us-east-1.amazonaws.com", "cloudtrail.amazonaws.com", "dynamodb.amazonaws.com")


@dataclass
class Target:
    """What an editor edits: its kind, its policy in force, the call that saves it, and its access preview."""

    kind: str  # pf.KEY_POLICY or pf.IAM_POLICY
    title: str
    account: str  # whose policy it is: the linter tells it from external ones, and IAM saves it there
    current: str | None  # None: an inline policy that does not exist yet
    operation: str
    fields: dict  # the save call's request, bar the document
    document_field: str
    url: str
    sync_url: str
    preview_rows: str  # what the access preview's rows are, in words
    # (proposed text, access_preview.Request) -> access_preview.Matrix, on the world the target was read from
    preview: Callable
    reload: Callable  # world -> this target as that world has it (after a save)
    service: str = "iam"
    region: str | None = None  # the save call's: a key's own Region (None: the world's)
    key: dict | None = None
    page: str = ""  # the page of what the policy is on: a key's
    owner: str = ""  # the IAM entity whose policy it is, as the save notice names it

    def request(self, text, bypass=False):
        request = {**self.fields, self.document_field: text}
        if bypass:
            request["BypassPolicyLockoutSafetyCheck"] = True
        return request


def key_target(sandbox, world, key_id, region):
    """The key policy of key `key_id` in `region`: each related multi-Region key has its own."""
    key = find(world, key_id, region)
    if key is None:
        raise Http404("No such key")
    aliases = ", ".join(key_aliases(world, key_id, region))
    query = snapshot.region_query(world, region)
    return Target(
        kind=pf.KEY_POLICY,
        title=f"Key policy of {aliases or key_id}" + (f" in {region}" if key["KeyMetadata"].get("MultiRegion") else ""),
        account=key["KeyMetadata"]["AWSAccountId"],
        current=key["Policy"],
        service="kms",
        operation="PutKeyPolicy",
        fields={"KeyId": key["KeyMetadata"]["Arn"], "PolicyName": "default"},
        document_field="Policy",
        url=reverse("console:key_policy", args=[sandbox.id, key_id]) + query,
        sync_url=reverse("console:key_policy_sync", args=[sandbox.id, key_id]) + query,
        preview_rows="Rows are the sandbox's principals, columns KMS actions on this key.",
        preview=lambda text, request: access_preview.for_key_policy(world, key, text, request=request),
        reload=lambda world: key_target(sandbox, world, key_id, region),
        region=region,
        key=key,
        page=reverse("console:key", args=[sandbox.id, key_id]) + query,
    )


HOLDERS = {"user": "users", "group": "groups", "role": "roles"}


def identity_target(sandbox, world, account, kind, name, policy_name):
    entities = world.account(account) or {}
    holder = entities.get(HOLDERS.get(kind), {}).get(name)
    if holder is None:
        raise Http404("No such user, group or role")
    entity = kind.capitalize()  # PutUserPolicy {"UserName"}, PutGroupPolicy {"GroupName"}, PutRolePolicy {"RoleName"}
    args = [sandbox.id, account, kind, name, policy_name]
    if kind == "group":
        rows = f"Rows are the members of group {name}, each on every key; columns KMS actions."

        def preview(text, request):
            return access_preview.for_group_policy(world, account, holder, policy_name, text, request=request)
    else:
        rows = f"Rows are the sandbox's keys, columns KMS actions, for {kind} {name}."

        def preview(text, request):
            caller = acting.caller(world, acting.Identity(account, kind, name))
            return access_preview.for_identity_policy(world, holder, policy_name, text, caller, request=request)
    return Target(
        kind=pf.IAM_POLICY,
        title=f"Inline policy {policy_name} of {kind} {name} ({account})",
        account=account,
        current=holder["InlinePolicies"].get(policy_name),
        operation=f"Put{entity}Policy",
        fields={f"{entity}Name": name, "PolicyName": policy_name},
        document_field="PolicyDocument",
        url=reverse("console:identity_policy", args=args),
        sync_url=reverse("console:identity_policy_sync", args=args),
        preview_rows=rows,
        preview=preview,
        reload=lambda world: identity_target(sandbox, world, account, kind, name, policy_name),
        owner=f"{kind} {name}",
    )


def managed_target(sandbox, world, account, name):
    """A customer managed policy: the editor edits its default version; saving adds a version, the new default."""
    policy = (world.account(account) or {}).get("policies", {}).get(name)
    if policy is None:
        raise Http404("No such managed policy")
    default = policy["DefaultVersionId"]
    return Target(
        kind=pf.IAM_POLICY,
        title=f"Managed policy {name} ({account}), default version {default} of {len(policy['Versions'])}",
        account=account,
        current=policy["Versions"][default]["Document"],
        operation="CreatePolicyVersion",
        fields={"PolicyArn": policy["Arn"], "SetAsDefault": True},
        document_field="PolicyDocument",
        url=reverse("console:managed_policy", args=[sandbox.id, account, name]),
        sync_url=reverse("console:managed_policy_sync", args=[sandbox.id, account, name]),
        preview_rows=f"Rows are the principals {name} is attached to (directly or through a group), "
                     "each on every key; columns KMS actions.",
        preview=lambda text, request: access_preview.for_managed_policy(world, account, policy, text,
                                                                        request=request),
        reload=lambda world: managed_target(sandbox, world, account, name),
        owner=f"policy {name}",
    )


def principal_options(world):
    """The Principal picker: each account's root, users and roles; services; everyone."""
    groups = []
    for account, entities in world.doc["accounts"].items():
        options = [(f"arn:aws:iam::{account}:root", f"account {account} (root: delegates to IAM)")]
        options += [(u["Arn"], f"user {name}") for name, u in entities["users"].items()]
        options += [(r["Arn"], f"role {name}") for name, r in entities["roles"].items()]
        groups.append((f"Account {account}", options))
    groups.append(("AWS services", [(s, s) for s in SERVICES]))
    groups.append(("Anyone", [("*", "* (every principal of every account)")]))
    return groups


def value_hints(world):
    """What the condition value picker and the Resource field's key picker offer from the sandbox itself."""
    principals = [e["Arn"] for entities in world.doc["accounts"].values()
                  for plural in ("users", "roles") for e in entities[plural].values()]
    aliases = sorted({a["AliasName"] for a in world.doc["kms"]["aliases"].values()})
    return {"accounts": list(world.doc["accounts"]), "principals": principals, "aliases": aliases,
            "region": world.region, "keys": key_options(world)}


def key_options(world):
    """The sandbox's keys as [(key ARN, label)]: aliases, description and account, oldest first."""
    keys = sorted(world.doc["kms"]["keys"].values(), key=lambda k: k["KeyMetadata"]["CreationDate"])
    options = []
    for key in keys:
        meta = key["KeyMetadata"]
        names = ", ".join(key_aliases(world, meta["KeyId"])) or meta["KeyId"]
        about = f" — {meta['Description']}" if meta.get("Description") else ""
        options.append((meta["Arn"], f"{names}{about} ({meta['AWSAccountId']}, {meta['KeyState']})"))
    return options


def _principals_of(world, accounts):
    return [(e["Arn"], f"{kind} {name} ({account})") for account in accounts
            for kind, plural in (("user", "users"), ("role", "roles"))
            for name, e in world.account(account)[plural].items()]


def snippet_offers(world, target):
    """[(Snippet, [(value, label)])]: the snippets this editor offers, each with what it can be for.
    A snippet with nothing to be for in this sandbox (no other account, no key) is left out."""
    others = [a for a in world.doc["accounts"] if a != target.account]
    choices = {
        "account": [(principals.root_arn(a), f"account {a}") for a in others],
        "external": _principals_of(world, others),
        "own": _principals_of(world, [target.account]) if target.kind == pf.KEY_POLICY else key_options(world),
        "via": [(s, s) for s in (f"{v}.{world.region}.amazonaws.com" for v in pf.VIA_SERVICES)],
        "": [("", "")],
    }
    return [(s, choices[s.picks]) for s in pf.SNIPPETS if target.kind in s.kinds and choices[s.picks]]


def offered(offers):
    """{snippet name: [values]}, as policy_form.sync and start check a request against."""
    return {snippet.name: [value for value, _ in options] for snippet, options in offers}


def editor_context(request, sandbox, world, target, state, **extra):
    preview_form = PreviewForm(request.POST if request.method == "POST" else None)
    preview = target.preview(state.text, preview_form.request()) if state.problem is None else None
    return pages.context(
        request, sandbox, world, "policies",
        target=target,
        state=state,
        cards=pf.card_views(state.cards, principal_options(world), state, value_hints(world)),
        snippets=snippet_offers(world, target),
        policy_findings=[(f, pf.SEVERITY_BADGES.get(f.severity, "off")) for f in state.findings_for(None)],
        excerpt=pf.excerpt(state.text, state.problem.line) if state.problem else None,
        preview=preview,
        preview_form=preview_form,
        changes=preview.changes() if preview else [],
        operators=pf.OPERATORS,
        condition_keys=pf.condition_keys(),
        key_policy=target.kind == pf.KEY_POLICY,
        **extra,
    )


@require_GET
def policies(request, sandbox_id):
    """Every policy in the sandbox: key policies by key, inline policies by user, group and role, managed policies."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    return render(request, "console/policies.html", _policies_context(request, sandbox, world, NewInlinePolicyForm()))


def _policies_context(request, sandbox, world, new_form, new_for=None):
    """The policies page; `new_for` is the (account, kind, name) whose new-policy name was refused: its row keeps it."""
    keys = sorted(world.doc["kms"]["keys"].values(), key=lambda k: k["KeyMetadata"]["CreationDate"])
    key_rows = [{"meta": k["KeyMetadata"], "region": k["Region"], "query": snapshot.region_query(world, k["Region"]),
                 "aliases": key_aliases(world, k["KeyMetadata"]["KeyId"], k["Region"])} for k in keys]
    holders, managed = [], []
    for account, entities in world.doc["accounts"].items():
        for kind, plural in HOLDERS.items():
            for name, holder in entities[plural].items():
                # (name, account): the account only of a customer managed policy, whose editor the page links to.
                attached = [(arn.rsplit("/", 1)[-1], iam.managed_policy(world, arn) and arn.split(":")[4])
                            for arn in holder["AttachedPolicies"]]
                typed = new_form["PolicyName"].value() if new_for == (account, kind, name) else None
                holders.append({"account": account, "kind": kind, "name": name,
                                "policies": sorted(holder["InlinePolicies"]), "attached": attached,
                                "new_name": typed or new_form.fields["PolicyName"].initial})
        for name, policy in entities["policies"].items():
            attached = [f"{kind} {holder}" for kind, plural in HOLDERS.items()
                        for holder, record in entities[plural].items() if policy["Arn"] in record["AttachedPolicies"]]
            managed.append({"account": account, "name": name, "default": policy["DefaultVersionId"],
                            "versions": len(policy["Versions"]), "attached": attached})
    return pages.context(request, sandbox, world, "policies", key_rows=key_rows, holders=holders, managed=managed,
                         new_form=new_form, create_form=CreatePolicyForm())


@require_GET
def new_inline_policy(request, sandbox_id, account, kind, name):
    """The "new inline policy" form on the policies page (or a plain link, for kms-access): on to the editor."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    form = NewInlinePolicyForm(request.GET if "PolicyName" in request.GET else {"PolicyName": "kms-access"})
    if not form.is_valid():
        context = _policies_context(request, sandbox, world, form, new_for=(account, kind, name))
        return render(request, "console/policies.html", context, status=400)
    return redirect(identity_target(sandbox, world, account, kind, name, form.cleaned_data["PolicyName"]).url)


@require_http_methods(["GET", "POST"])
def key_policy(request, sandbox_id, key_id):
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    return _editor(request, sandbox, world, key_target(sandbox, world, key_id, page_region(request, world)))


@require_http_methods(["GET", "POST"])
def identity_policy(request, sandbox_id, account, kind, name, policy_name):
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    return _editor(request, sandbox, world, identity_target(sandbox, world, account, kind, name, policy_name))


@require_http_methods(["GET", "POST"])
def managed_policy(request, sandbox_id, account, name):
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    return _editor(request, sandbox, world, managed_target(sandbox, world, account, name))


@require_POST
def key_policy_sync(request, sandbox_id, key_id):
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    return _sync(request, sandbox, world, key_target(sandbox, world, key_id, page_region(request, world)))


@require_POST
def identity_policy_sync(request, sandbox_id, account, kind, name, policy_name):
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    return _sync(request, sandbox, world, identity_target(sandbox, world, account, kind, name, policy_name))


@require_POST
def managed_policy_sync(request, sandbox_id, account, name):
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    return _sync(request, sandbox, world, managed_target(sandbox, world, account, name))


def _editor(request, sandbox, world, target):
    """GET: the editor on the policy in force. POST: save it with the real call, as the acting principal."""
    if request.method == "GET":
        snippet = _snippet_asked(request, world, target)
        # A new inline policy opened for a snippet holds just the snippet.
        text = target.current or (EMPTY_IDENTITY_POLICY if snippet else NEW_IDENTITY_POLICY)
        state = pf.start(text, target.kind, target.account, snippet)
        return render(request, TEMPLATE, editor_context(request, sandbox, world, target, state, form=SaveForm(),
                                                        inserted=snippet and pf.SNIPPETS_BY_NAME[snippet[0]]))
    form = SaveForm(request.POST)
    result = None
    if form.is_valid():
        text = form.cleaned_data["document"]
        _, result = pages.run(request, sandbox, target.service, target.operation,
                              target.request(text, form.cleaned_data["BypassPolicyLockoutSafetyCheck"]), target.region)
        # After the call, "before" in the preview is whatever is now in force.
        world = runner.load_world(sandbox.id)
        target = target.reload(world)
    else:
        text = request.POST.get("document", "")
    state = pf.sync(text, dict(request.POST.lists()), "json", "", target.kind, target.account)
    context = editor_context(request, sandbox, world, target, state, form=form, result=result, oob=request.htmx)
    if request.htmx:
        return render(request, TEMPLATE + "#save-response", context)
    return render(request, TEMPLATE, context)


def _snippet_asked(request, world, target):
    """(name, value) of the snippet a link asks the editor to open with (?snippet=NAME&snippet-NAME=VALUE),
    if this editor offers it for that value; None otherwise."""
    name = request.GET.get("snippet", "")
    value = request.GET.get(f"snippet-{name}", "")
    return (name, value) if value in offered(snippet_offers(world, target)).get(name, ()) else None


def _sync(request, sandbox, world, target):
    """Both views re-rendered from whichever one the learner changed (htmx, out of band)."""
    form = SyncForm(request.POST)
    form.is_valid()  # every field is optional text or a choice; a bad source counts as the JSON's
    data = form.cleaned_data
    source = data.get("source") or "json"
    # The preview's options change neither view: the JSON stays the source.
    posted = dict(request.POST.lists())
    state = pf.sync(data.get("document", ""), posted, "cards" if source == "cards" else "json",
                    data.get("op", ""), target.kind, target.account, offered(snippet_offers(world, target)))
    # A plain card edit leaves the cards alone, so the learner keeps focus and the open pickers;
    # the buttons (add or remove, snippets), the pickers and JSON edits re-render them.
    rerender = source == "json" or bool(data.get("op")) or source == "cards" and pf.picked_a_value(posted)
    context = editor_context(request, sandbox, world, target, state, oob=True, rewrite_json=source == "cards",
                             rerender_cards=rerender, notes_oob=not rerender)
    return render(request, TEMPLATE + "#sync", context)


@require_POST
def create_policy(request, sandbox_id):
    """CreatePolicy as the acting principal, in its own account (IAM calls go there); then on to its editor."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    form = CreatePolicyForm(request.POST)
    result = None
    if form.is_valid():
        outcome, result = pages.run(request, sandbox, "iam", "CreatePolicy", form.request())
        if outcome.error is None:
            arn = outcome.response["Policy"]["Arn"]
            return redirect("console:managed_policy", sandbox.id, arn.split(":")[4], form.cleaned_data["PolicyName"])
    world = runner.load_world(sandbox.id)
    context = _policies_context(request, sandbox, world, NewInlinePolicyForm())
    context.update(create_form=form, create_result=result)
    return render(request, "console/policies.html", context, status=200 if result else 400)
