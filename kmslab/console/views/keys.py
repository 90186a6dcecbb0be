"""KMS keys: the list with Create key, a key's page, and every lifecycle action on it."""
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from kmslab.cloud.kms import specs
from kmslab.cloud.kms.keys import REGIONS, find
from kmslab.sandboxes import runner

from .. import acting, envelope, learner, pages, share, snapshot
from ..trail import ciphertexts_made
from ..forms import KEY_ACTIONS, CreateKeyForm, ImportKeyMaterialForm, ShareForm, key_action_form


@require_http_methods(["GET", "POST"])
def keys(request, sandbox_id):
    sandbox = learner.get_sandbox(request, sandbox_id)
    form = CreateKeyForm(request.POST or None)
    result = alias_result = created = None
    if request.method == "POST" and form.is_valid():
        outcome, result = pages.run(request, sandbox, "kms", "CreateKey", form.request())
        if outcome.error is None:
            key_id = outcome.response["KeyMetadata"]["KeyId"]
            # CreateKey ran in the world's default Region, whose keys' URLs carry no Region.
            url = reverse("console:key", args=[sandbox.id, key_id])
            alias = form.cleaned_data["AliasName"]
            if alias:
                alias_outcome, alias_result = pages.run(request, sandbox, "kms", "CreateAlias",
                                                        {"AliasName": alias, "TargetKeyId": key_id})
            if not alias or alias_outcome.error is None:
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
            # The key exists without its alias: say both, and offer a fresh form (not one that makes a second key).
            created, form = url, CreateKeyForm()
    world = runner.load_world(sandbox.id)
    key_page = snapshot.key_page(world, request.GET.get("page"))
    context = pages.context(request, sandbox, world, "keys", keys=key_page.object_list, key_page=key_page, form=form,
                            result=result, alias_result=alias_result, created=created, oob=request.htmx)
    template = "console/keys.html#create" if request.htmx and request.method == "POST" else "console/keys.html"
    return render(request, template, context)


# Which fold of the key page holds each action, so it stays open after the page re-renders.
FOLDS = {
    "EnableKey": "state", "DisableKey": "state",
    "ScheduleKeyDeletion": "deletion", "CancelKeyDeletion": "deletion",
    "EnableKeyRotation": "rotation", "DisableKeyRotation": "rotation", "RotateKeyOnDemand": "rotation",
    "UpdateKeyDescription": "description", "CreateAlias": "aliases", "DeleteAlias": "aliases",
    "TagResource": "tags", "UntagResource": "tags",
    "CreateGrant": "grants", "RetireGrant": "grants", "RevokeGrant": "grants",
    "ImportKeyMaterial": "material", "DeleteImportedKeyMaterial": "material",
    "Encrypt": "crypto", "Decrypt": "crypto", "GenerateDataKey": "crypto",
    "Sign": "crypto", "Verify": "crypto", "GenerateMac": "crypto", "VerifyMac": "crypto",
    "ReplicateKey": "multi-region", "UpdatePrimaryRegion": "multi-region",
}


def page_region(request, world):
    """The Region of the key a key page (or one of its actions) is about: `?region=`, else the world's default."""
    region = request.GET.get("region") or world.region
    if region not in REGIONS:
        raise Http404("No such Region")
    return region


def page_key(request, world, key_id):
    """(the key record a key page is about, its Region), or 404."""
    region = page_region(request, world)
    key = find(world, key_id, region)
    if key is None:
        raise Http404("No such key")
    return key, region


def deletion_warning(ciphertexts):
    """What the browser asks before ScheduleKeyDeletion: the waiting period, that it is final, what it strands."""
    stranded = (f" The trail shows {ciphertexts} call{'s' if ciphertexts != 1 else ''} that made ciphertexts under "
                "this key." if ciphertexts else "")
    return ("Schedule this key for deletion?\n\n"
            "When the waiting period ends (PendingWindowInDays: 7 to 30 days, on the sandbox clock), KMS deletes the "
            "key and all its key material. That cannot be undone: every ciphertext encrypted under it can never be "
            f"decrypted again.{stranded}\n\n"
            "Until then, CancelKeyDeletion brings it back. Not sure? DisableKey instead: it is reversible.")


def key_page(request, sandbox, key_id, result=None, forms=None, status=200, operation=None, output=None):
    """The key page, or its body alone for htmx: after an action the whole body re-renders, state and forms."""
    world = runner.load_world(sandbox.id)
    key = snapshot.key(world, key_id, page_region(request, world))
    if key is None:
        raise Http404("No such key")
    ciphertexts = ciphertexts_made(sandbox.id, key["meta"]["Arn"])
    actions = {name: key_action_form(name, key["meta"]) for name in KEY_ACTIONS}
    actions["ImportKeyMaterial"] = ImportKeyMaterialForm()
    actions.update(forms or {})
    context = pages.context(request, sandbox, world, "keys", key=key, result=result, output=output, actions=actions,
                            oob=request.htmx, region_query=key["query"],
                            fold=FOLDS.get(operation, "state"), ciphertexts=ciphertexts,
                            deletion_warning=deletion_warning(ciphertexts))
    template = "console/key.html#key-body" if request.htmx else "console/key.html"
    return render(request, template, context, status=status)


@require_GET
def key(request, sandbox_id, key_id):
    return key_page(request, learner.get_sandbox(request, sandbox_id), key_id)


@require_POST
def key_action(request, sandbox_id, key_id, operation):
    sandbox = learner.get_sandbox(request, sandbox_id)
    if operation not in KEY_ACTIONS:
        raise Http404("No such action")
    world = runner.load_world(sandbox.id)
    key, region = page_key(request, world, key_id)
    form = key_action_form(operation, key["KeyMetadata"], request.POST)
    if not form.is_valid():
        return key_page(request, sandbox, key_id, forms={operation: form}, operation=operation,
                        status=422 if not request.htmx else 200)
    outcome, result = pages.run(request, sandbox, "kms", operation, form.request(_key_id_for(request, sandbox, world, key)),
                                region)
    output, forms = None, None if result["ok"] else {operation: form}
    if outcome.error is None and operation in ("Encrypt", "Decrypt", "GenerateDataKey"):
        output = envelope.shown(outcome.response, form.cleaned_data.get("EncryptionContext"))
    if outcome.error is None and operation in VERIFIES:
        # What Sign or GenerateMac returned goes into the form that checks it, ready to send (or to tamper with).
        output, forms = signed(outcome.response), {VERIFIES[operation]: key_action_form(
            VERIFIES[operation], key["KeyMetadata"], initial={**form.data.dict(), **signed(outcome.response)})}
    # A refused call keeps what the learner typed (PendingWindowInDays 3 stays 3), to fix and send again.
    return key_page(request, sandbox, key_id, result=result, operation=operation, output=output, forms=forms)


VERIFIES = {"Sign": "Verify", "GenerateMac": "VerifyMac"}


def signed(response):
    """A Sign or GenerateMac response's signature or MAC, in base64 (the trail never holds it)."""
    return {field: envelope.b64(response[field]) for field in ("Signature", "Mac") if field in response}


def _key_id_for(request, sandbox, world, key):
    """How the acting identity names the page's key: by its id in the key's own account, by its ARN from
    another account (a key id or an alias name resolves only in the caller's own account)."""
    meta = key["KeyMetadata"]
    if acting.current(request, sandbox, world).account != meta["AWSAccountId"]:
        return meta["Arn"]
    return meta["KeyId"]


@require_GET
def public_key(request, sandbox_id, key_id):
    """The key's public key as a PEM file, from a real GetPublicKey as the acting identity; if that is
    refused, the key page with the refusal and its why."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    region = request.GET.get("region")  # None: the world's own, as pages.run takes it
    if region is not None and region not in REGIONS:
        raise Http404("No such Region")
    outcome, result = pages.run(request, sandbox, "kms", "GetPublicKey", {"KeyId": key_id}, region)
    if outcome.error is not None:
        return key_page(request, sandbox, key_id, result=result, status=outcome.error.status)
    pem = serialization.load_der_public_key(outcome.response["PublicKey"]).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    response = HttpResponse(pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{key_id}.pem"'
    return response


@require_POST
def import_key_material(request, sandbox_id, key_id):
    """Imports fresh material of the key's spec: GetParametersForImport, wrap, ImportKeyMaterial.

    The middle step is what a learner does offline with OpenSSL; the console does it for
    them under the RSA_2048 wrapping key and says so, so both calls are real and both land
    in CloudTrail. Symmetric and HMAC material is wrapped with RSAES_OAEP_SHA_256; a private
    key is too long for OAEP, so it goes under a fresh AES key (RSA_AES_KEY_WRAP_SHA_256).
    """
    sandbox = learner.get_sandbox(request, sandbox_id)
    form = ImportKeyMaterialForm(request.POST)
    world = runner.load_world(sandbox.id)
    key, region = page_key(request, world, key_id)
    if not form.is_valid():
        return key_page(request, sandbox, key_id, forms={"ImportKeyMaterial": form}, operation="ImportKeyMaterial")
    spec = key["KeyMetadata"]["KeySpec"]
    algorithm = "RSA_AES_KEY_WRAP_SHA_256" if specs.is_asymmetric(spec) else "RSAES_OAEP_SHA_256"
    outcome, result = pages.run(
        request, sandbox, "kms", "GetParametersForImport",
        {"KeyId": key_id, "WrappingAlgorithm": algorithm, "WrappingKeySpec": "RSA_2048"}, region,
    )
    if outcome.error is None:
        call = {"KeyId": key_id, "ImportToken": outcome.response["ImportToken"],
                "EncryptedKeyMaterial": wrap(outcome.response["PublicKey"], algorithm, specs.generate(spec)),
                "ExpirationModel": form.cleaned_data["ExpirationModel"]}
        if call["ExpirationModel"] == "KEY_MATERIAL_EXPIRES":
            call["ValidTo"] = world.now() + 86400 * (form.cleaned_data["ValidForDays"] or 30)
        _, result = pages.run(request, sandbox, "kms", "ImportKeyMaterial", call, region)
    return key_page(request, sandbox, key_id, result=result, operation="ImportKeyMaterial",
                    forms=None if result["ok"] else {"ImportKeyMaterial": form})


def wrap(public_key_der, algorithm, material):
    """Key material wrapped as GetParametersForImport's `algorithm` says (importing-keys-encrypt-key-material)."""
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    public_key = serialization.load_der_public_key(public_key_der)
    if algorithm == "RSAES_OAEP_SHA_256":
        return public_key.encrypt(material, oaep)
    aes_key = os.urandom(32)
    return public_key.encrypt(aes_key, oaep) + aes_key_wrap_with_padding(aes_key, material)


@require_GET
def key_share(request, sandbox_id, key_id):
    """The key page's "Share this key" panel (loaded by htmx as the page renders, and as its form changes):
    for another account, or one of its principals, whether the key policy and that account's IAM allow use."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    key, region = page_key(request, world, key_id)
    # Its first load sends no account (at most a replica's ?region=): an unbound form, no answer yet.
    form = ShareForm(world, key["KeyMetadata"]["AWSAccountId"], request.GET if "account" in request.GET else None)
    answer = principals = None
    if form.is_valid():
        principals = form.principals(world)
        # A principal of another account than the one now chosen (the account just changed) counts as none.
        answer = share.share(world, key, form.cleaned_data["account"], form.cleaned_data["principal"])
    context = pages.context(request, sandbox, world, "keys", meta=key["KeyMetadata"], share_form=form, share=answer,
                            principals=principals, key_arn=key["KeyMetadata"]["Arn"], share_actions=share.ACTIONS,
                            region=region, region_query=snapshot.region_query(world, region))
    return render(request, "console/_share.html", context, status=200 if form.is_valid() or not form.is_bound else 400)
