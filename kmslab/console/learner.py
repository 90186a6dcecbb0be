"""Who the learner is, and which sandboxes they may see.

A learner is an opaque random token in the session (signed-cookie sessions, so
the browser cannot forge it). A sandbox is visible to a session when its owner
is that token, or when the session claimed it through the signed console URL
that `manage.py sandbox create` prints (see claim_path). Everything else is a 404: a learner can
never learn that another learner's sandbox exists.
"""
import secrets

from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.urls import reverse
from django.core.exceptions import PermissionDenied
from django.http import Http404

from kmslab.sandboxes.models import Sandbox
from kmslab.sandboxes.runner import READ_ONLY_MESSAGE


def token(request):
    """The learner's token, created on first need."""
    if "learner" not in request.session:
        request.session["learner"] = secrets.token_urlsafe(24)
    return request.session["learner"]


def visible(session):
    """The sandboxes a session may see (works for a Django request's and a websocket scope's session)."""
    learner = session.get("learner")
    claimed = session.get("claimed", [])
    if not learner and not claimed:
        return Sandbox.objects.none()
    query = Q(id__in=claimed)
    if learner:
        query |= Q(owner=learner)
    return Sandbox.objects.filter(query)


def get_sandbox(request, sandbox_id):
    """The session's sandbox; a POST to a read-only one (a closed workshop's run) is refused."""
    sandbox = visible(request.session).filter(id=sandbox_id).first()
    if sandbox is None:
        raise Http404("No such sandbox")
    if request.method == "POST" and sandbox.read_only:
        raise PermissionDenied(READ_ONLY_MESSAGE)
    return sandbox


# The console URL of a sandbox made outside the browser (manage.py sandbox create,
# labs start): /claim/<token>/, the token signed with Django's SECRET_KEY under
# this salt. It names the sandbox and how many resets it had when the link was
# made, and carries its time of signing: a reset, a delete or
# KMSLAB_CLAIM_LINK_HOURS end it. Opening it shows what it would add; only the
# confirmation's POST (CSRF-checked, so no other site can send it) adds it.
CLAIM_SALT = "kmslab.console.claim"


def claim_path(sandbox):
    """The path that offers a sandbox to whichever browser session opens it."""
    return reverse("console:claim", args=[signing.dumps([str(sandbox.id), sandbox.resets], salt=CLAIM_SALT)])


def claimable(token):
    """The Sandbox a claim token offers; Http404 saying why when it offers none."""
    try:
        sandbox_id, resets = signing.loads(token, salt=CLAIM_SALT, max_age=settings.KMSLAB_CLAIM_LINK_HOURS * 3600)
    except signing.SignatureExpired:
        raise Http404(f"This console link has expired: console links work for "
                      f"{settings.KMSLAB_CLAIM_LINK_HOURS:g} hours") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise Http404("This console link is not valid") from None
    sandbox = Sandbox.objects.filter(id=sandbox_id).first()
    if sandbox is None:
        raise Http404("This console link's sandbox was deleted")
    if sandbox.resets != resets:
        raise Http404("This console link's sandbox was reset since the link was made")
    return sandbox


def claim(request, sandbox):
    """Add a sandbox to the session."""
    claimed = request.session.get("claimed", [])
    if str(sandbox.id) not in claimed:
        request.session["claimed"] = claimed + [str(sandbox.id)]
