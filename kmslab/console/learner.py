"""Who the learner is, and which sandboxes they may see.

A learner is an opaque random token in the session (signed-cookie sessions, so
the browser cannot forge it). A sandbox is visible to a session when its owner
is that token, or when the session claimed it through the signed console URL
that `manage.py sandbox create` prints. Everything else is a 404: a learner can
never learn that another learner's sandbox exists.
"""
import secrets

from django.core import signing
from django.db.models import Q
from django.urls import reverse
from django.http import Http404

from kmslab.sandboxes.models import Sandbox


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
    sandbox = visible(request.session).filter(id=sandbox_id).first()
    if sandbox is None:
        raise Http404("No such sandbox")
    return sandbox


# The console URL of a sandbox made outside the browser (manage.py sandbox create):
# /claim/<token>, the token signed with Django's SECRET_KEY under this salt.
CLAIM_SALT = "kmslab.console.claim"


def claim_path(sandbox_id):
    """The path that adds a sandbox to whichever browser session opens it."""
    return reverse("console:claim", args=[signing.dumps(str(sandbox_id), salt=CLAIM_SALT)])


def claimed_sandbox_id(token):
    """The sandbox id a claim token names, or None when the signature does not hold."""
    try:
        return signing.loads(token, salt=CLAIM_SALT)
    except signing.BadSignature:
        return None


def claim(request, sandbox_id):
    """Add a sandbox to the session; the claimed Sandbox, or 404 when it no longer exists."""
    sandbox = Sandbox.objects.filter(id=sandbox_id).first()
    if sandbox is None:
        raise Http404("No such sandbox")
    claimed = request.session.get("claimed", [])
    if str(sandbox.id) not in claimed:
        request.session["claimed"] = claimed + [str(sandbox.id)]
    return sandbox
