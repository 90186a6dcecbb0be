"""Envelope encryption, step by step; and the anatomy of a KMS ciphertext blob.

Each step that touches KMS is one real call as the acting principal
(pages.run), so it lands in the trail; the local AES-256-GCM step is no call,
and the page says so. The plaintext data key is only ever in the response
that made it (kmslab/console/envelope.py).
"""
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from kmslab.sandboxes import runner

from .. import envelope, learner, pages
from ..forms import AnatomyForm, DecryptForm, EnvelopeEncryptForm, EnvelopeForm

TEMPLATE = "console/envelope.html"
# A default message just over Encrypt's 4 KB limit, so the direct Encrypt beside it fails.
DEFAULT_MESSAGE = "\n".join(
    f"{n:03} Envelope encryption: KMS encrypts a small data key; the data key encrypts the data, here, locally."
    for n in range(1, 56)
)
DEFAULT_CONTEXT = '{"purpose": "kmslab-lesson", "tenant": "acme"}'


def _context(request, sandbox, world, **extra):
    extra.setdefault("form", EnvelopeEncryptForm(world=world, initial={"EncryptionContext": DEFAULT_CONTEXT,
                                                               "message": DEFAULT_MESSAGE}))
    return pages.context(request, sandbox, world, "envelope", **extra)


@require_GET
def envelope_page(request, sandbox_id):
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    return render(request, TEMPLATE, _context(request, sandbox, world))


def _runner(request, sandbox, results):
    """envelope.py's run(operation, request): one call as the acting principal, its result kept for the page."""

    def run(operation, call_request):
        outcome, result = pages.run(request, sandbox, "kms", operation, call_request)
        results.append(result)
        return outcome

    return run


@require_POST
def envelope_encrypt(request, sandbox_id):
    """Steps 1 to 4: GenerateDataKey, AES-256-GCM here, drop the plaintext key, the stored envelope."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    form = EnvelopeEncryptForm(request.POST, world=world)
    steps, results = None, []
    if form.is_valid():
        data = form.cleaned_data
        steps = envelope.encrypt(_runner(request, sandbox, results), data["KeyId"], data["message"].encode(),
                                 data["EncryptionContext"])
        if "envelope" in steps:
            steps["decrypt_form"] = EnvelopeForm(initial=steps["fields"])
    context = _context(request, sandbox, world, form=form, steps=steps,
                       generate_result=results[0] if results else None)
    return render(request, TEMPLATE + "#steps" if request.htmx else TEMPLATE, context)


@require_POST
def envelope_decrypt(request, sandbox_id):
    """Step 5: Decrypt the data key as the acting principal, then open the message with it."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    form = EnvelopeForm(request.POST)
    opened, results = None, []
    if form.is_valid():
        opened = envelope.decrypt(_runner(request, sandbox, results), form.envelope)
    context = _context(request, sandbox, world, decrypt_form=form, opened=opened,
                       decrypt_result=results[0] if results else None)
    return render(request, TEMPLATE + "#decrypted" if request.htmx else TEMPLATE, context)


@require_POST
def envelope_direct(request, sandbox_id):
    """Beside the envelope: Encrypt of the whole message, which KMS refuses above 4096 bytes."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    form = EnvelopeEncryptForm(request.POST, world=world)
    results, size, output = [], None, None
    if form.is_valid():
        data = form.cleaned_data
        message = data["message"].encode()
        size = len(message)
        outcome = envelope.encrypt_directly(_runner(request, sandbox, results), data["KeyId"], message,
                                            data["EncryptionContext"])
        if outcome.error is None:
            output = envelope.shown(outcome.response, data["EncryptionContext"])
    context = _context(request, sandbox, world, form=form, direct=results[0] if results else None, output=output,
                       message_size=size, over_limit=size is not None and size > envelope.DIRECT_ENCRYPT_LIMIT)
    return render(request, TEMPLATE + "#direct" if request.htmx else TEMPLATE, context)


@require_POST
def envelope_direct_decrypt(request, sandbox_id):
    """Decrypt of what the direct Encrypt returned: the blob names its key, so no KeyId."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    form = DecryptForm(request.POST)
    results, output = [], None
    if form.is_valid():
        outcome = _runner(request, sandbox, results)("Decrypt", form.request())
        if outcome.error is None:
            output = envelope.shown(outcome.response, form.cleaned_data["EncryptionContext"])
    context = _context(request, sandbox, world, direct=results[0] if results else None, output=output,
                       direct_decrypt_form=form)
    return render(request, TEMPLATE + "#direct" if request.htmx else TEMPLATE, context)


@require_GET
def anatomy(request, sandbox_id):
    """Any KMS ciphertext blob as coloured, labelled byte ranges."""
    sandbox = learner.get_sandbox(request, sandbox_id)
    world = runner.load_world(sandbox.id)
    form = AnatomyForm(request.GET or None)
    parts = form.cleaned_data["CiphertextBlob"][1] if form.is_valid() else None
    context = pages.context(request, sandbox, world, "envelope", form=form, parts=parts)
    return render(request, "console/anatomy.html#parts" if request.htmx else "console/anatomy.html", context)
