"""Workshops and their learners: create one, join it with its code, resume, start its labs, close it, purge it.

A learner has no account: joining records the browser session's learner
token (console.learner.token), which owns the learner's lab runs as it owns any
sandbox, so every console and lab page already lets the learner in and keeps
everyone else out. A personal resume link carries a secret (only its SHA-256
is stored) that hands the token to another browser.
"""
import hashlib
import logging
import re
import secrets

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from kmslab.labs import catalog, runs
from kmslab.labs.models import LabRun
from kmslab.sandboxes.models import Sandbox

from . import live
from .models import Learner, Workshop

audit = logging.getLogger("kmslab.audit")

# No 0/O, 1/I/L: a code is read off a projector and typed by hand.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6  # 31^6, about 887 million codes; guessing is rate-limited as well (security.py)
NAME_MAX = 40


class Refused(Exception):
    """Why a learner cannot join, resume or start: a sentence to show them."""


def new_join_code():
    while True:
        code = "KMS-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not Workshop.objects.filter(join_code=code).exists():
            return code


def normalise_code(text):
    """"kms 7qx4m2", "KMS-7QX4M2" and "7qx4m2" are one code."""
    letters = re.sub(r"[^A-Z0-9]", "", (text or "").upper())
    return "KMS-" + letters.removeprefix("KMS")


def unknown_labs(slugs):
    return [slug for slug in slugs if catalog.get(slug) is None]


def create(instructor, title, labs, opens=None, closes=None, max_learners=None):
    missing = unknown_labs(labs)
    if missing or not labs:
        raise ValueError(f"no lab {', '.join(missing)}" if missing else "a workshop needs at least one lab")
    return Workshop.objects.create(instructor=instructor, title=title, labs=list(dict.fromkeys(labs)),
                                   join_code=new_join_code(), opens=opens or timezone.now(), closes=closes,
                                   max_learners=max_learners)


def by_code(code):
    return Workshop.objects.filter(join_code=normalise_code(code)).first()


def clean_display_name(name):
    name = " ".join((name or "").split())
    if not name:
        raise Refused("Choose a display name: it is how your instructor sees you.")
    if len(name) > NAME_MAX:
        raise Refused(f"A display name has at most {NAME_MAX} characters.")
    return name


def learner_of(session, workshop):
    """The session's learner in this workshop, or None."""
    token = session.get("learner")
    return Learner.objects.filter(workshop=workshop, token=token).first() if token else None


def join(workshop, display_name, token):
    """-> (learner, resume secret or None when the session had joined already). Raises Refused."""
    existing = Learner.objects.filter(workshop=workshop, token=token).first()
    if existing is not None:
        return existing, None
    now = timezone.now()
    if workshop.is_closed:
        raise Refused("This workshop has closed: its join code no longer works.")
    if workshop.opens > now:
        raise Refused(f"This workshop opens at {workshop.opens:%Y-%m-%d %H:%M} UTC.")
    name = clean_display_name(display_name)
    secret = secrets.token_urlsafe(24)
    try:
        with transaction.atomic():
            # The row lock makes the cap hold when many join at once (SQLite serialises writers anyway).
            Workshop.objects.select_for_update().filter(pk=workshop.pk).first()
            if workshop.max_learners is not None and workshop.learners.count() >= workshop.max_learners:
                raise Refused(f"This workshop is full: it takes {workshop.max_learners} learners.")
            if workshop.learners.filter(display_name__iexact=name).exists():
                raise Refused(f"“{name}” is taken in this workshop: choose another display name.")
            learner = Learner.objects.create(workshop=workshop, display_name=name, token=token,
                                             resume_digest=digest(secret))
    except IntegrityError:
        raise Refused(f"“{name}” is taken in this workshop: choose another display name.") from None
    transaction.on_commit(lambda: live.learner_changed(workshop.id, learner.id))  # the dashboards add the row
    return learner, secret


def digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def new_resume_secret(learner):
    """A new personal resume link's secret; the one before stops working."""
    secret = secrets.token_urlsafe(24)
    learner.resume_digest = digest(secret)
    learner.save(update_fields=["resume_digest"])
    return secret


def resumable(secret):
    learner = Learner.objects.filter(resume_digest=digest(secret)).select_related("workshop").first() \
        if secret else None
    if learner is None:
        raise Refused("This resume link is not valid: it was replaced by a newer one, or its workshop was deleted.")
    return learner


def resume(session, learner):
    """Make this browser session the learner's. The sandboxes the session had under another token stay visible."""
    previous = session.get("learner")
    if previous and previous != learner.token:
        mine = [str(i) for i in Sandbox.objects.filter(owner=previous).values_list("id", flat=True)]
        session["claimed"] = list(dict.fromkeys(session.get("claimed", []) + mine))
    session["learner"] = learner.token


def runs_of(learner):
    """{lab slug: the learner's run of it}."""
    return {run.lab: run for run in LabRun.objects.filter(learner=learner).select_related("sandbox")}


def start_run(learner, slug):
    """The learner's run of one of the workshop's labs: the one they have, or a new one."""
    workshop = learner.workshop
    if slug not in workshop.labs:
        raise Refused("That lab is not part of this workshop.")
    existing = LabRun.objects.filter(learner=learner, lab=slug).first()
    if existing is not None:
        return existing
    if workshop.is_closed:
        raise Refused("This workshop has closed: no new lab runs can start.")
    with transaction.atomic():
        run, *_ = runs.start(catalog.get(slug), owner=learner.token, learner=learner,
                             read_only_from=workshop.closed_at)
        if not workshop.learner_clock:
            Sandbox.objects.filter(pk=run.sandbox_id).update(clock_locked=True)
    transaction.on_commit(lambda: live.learner_changed(workshop.id, learner.id))  # "where": the lab started
    return run


def run_sandboxes(workshop):
    return Sandbox.objects.filter(lab_run__learner__workshop=workshop)


def close(workshop):
    """Joining stops and every run becomes read-only, from now."""
    now = timezone.now()
    with transaction.atomic():
        workshop.closed = now
        workshop.save(update_fields=["closed"])
        run_sandboxes(workshop).update(read_only_from=now)


def reopen(workshop):
    with transaction.atomic():
        workshop.closed = None
        if workshop.closes is not None and workshop.closes <= timezone.now():
            workshop.closes = None
        workshop.save(update_fields=["closed", "closes"])
        run_sandboxes(workshop).update(read_only_from=workshop.closes)


def set_closes(workshop, closes):
    """A new scheduled closing time (or none), which the runs follow."""
    with transaction.atomic():
        workshop.closes = closes
        workshop.save(update_fields=["closes"])
        run_sandboxes(workshop).update(read_only_from=workshop.closed_at)


def delete(workshop, by):
    """The workshop with its learners, their runs, sandboxes and trails, in one transaction.
    `by`: who, for the audit log (the workshop's own log of actions goes with it)."""
    with transaction.atomic():
        learners, runs = workshop.learners.count(), run_sandboxes(workshop).count()
        run_sandboxes(workshop).delete()
        workshop_id = workshop.id
        workshop.delete()
    audit.info("%s deleted workshop %s %r of %s (learners: %d, lab runs: %d)", by, workshop_id, workshop.title,
               workshop.instructor.get_username(), learners, runs)


def due_for_deletion(now=None):
    """Workshops whose retention period after closing has passed."""
    now = now or timezone.now()
    closed = Workshop.objects.filter(Q(closed__isnull=False) | Q(closes__lte=now))
    return [w for w in closed if w.deletes_at is not None and w.deletes_at <= now]


def purge(now=None):
    """Delete every workshop due for deletion; -> their titles."""
    gone = []
    for workshop in due_for_deletion(now):
        gone.append(workshop.title)
        delete(workshop, by=f"the retention period ({workshop.retention_days} days after closing)")
    return gone
