"""What an instructor does to a workshop; every action is recorded (who, when, what) and shown on its page."""
from django.db import transaction
from django.utils import timezone

from kmslab.console.pages import duration
from kmslab.labs import live as lab_live
from kmslab.labs import runs
from kmslab.labs.models import LabRun
from kmslab.sandboxes import runner

from . import cohort, live
from .models import Action


class Refused(Exception):
    """Why a control cannot act now: a sentence for the instructor."""


def record(workshop, user, action, detail=""):
    Action.objects.create(workshop=workshop, user=user, username=user.get_username(), action=action, detail=detail)


def _open(workshop):
    if workshop.is_closed:
        raise Refused("The workshop is closed: its runs are read-only. Reopen it first.")


def reset_run(workshop, user, run):
    """A learner's run back to its lab's setup (new credentials, trail emptied, nothing met)."""
    _open(workshop)
    runs.reset(run)
    lab_live.announce(run)  # the learner's open lab pages show nothing met again
    record(workshop, user, "reset", f"{run.learner.display_name}'s run of {run.lab}")


def advance_clock(workshop, user, seconds, learner=None):
    """Move forward the clocks of one learner's runs, or of everyone's. -> how many runs moved."""
    _open(workshop)
    found = LabRun.objects.filter(learner__workshop=workshop)
    if learner is not None:
        found = found.filter(learner=learner)
    moved = 0
    for sandbox_id in found.values_list("sandbox_id", flat=True):
        runner.advance_clock(sandbox_id, seconds)
        moved += 1
    whom = learner.display_name if learner is not None else "everyone"
    record(workshop, user, "advance clock", f"+{duration(seconds)} for {whom} ({moved} run{'s' * (moved != 1)})")
    return moved


def announce(workshop, user, message):
    workshop.announcement, workshop.announced = message, timezone.now()
    workshop.save(update_fields=["announcement", "announced"])
    record(workshop, user, "announce", message)
    live.announce(workshop.id)


def set_hints_locked(workshop, user, locked):
    workshop.hints_locked = locked
    workshop.save(update_fields=["hints_locked"])
    record(workshop, user, "lock hints" if locked else "unlock hints")


def set_learner_clock(workshop, user, allowed):
    """Whether learners may move their own runs' clocks from the console."""
    with transaction.atomic():
        workshop.learner_clock = allowed
        workshop.save(update_fields=["learner_clock"])
        cohort.run_sandboxes(workshop).update(clock_locked=not allowed)
    record(workshop, user, "allow learner clock" if allowed else "keep the clock")


def set_stuck_minutes(workshop, user, minutes):
    workshop.stuck_minutes = minutes
    workshop.save(update_fields=["stuck_minutes"])
    record(workshop, user, "stuck after", f"{minutes} min without progress")


def set_retention(workshop, user, days):
    workshop.retention_days = days
    workshop.save(update_fields=["retention_days"])
    record(workshop, user, "retention", f"deleted {days} day{'s' * (days != 1)} after closing")


def regenerate_code(workshop, user):
    old = workshop.join_code
    workshop.join_code = cohort.new_join_code()
    workshop.save(update_fields=["join_code"])
    record(workshop, user, "new join code", f"{old} → {workshop.join_code}")


def close(workshop, user):
    if workshop.is_closed:
        raise Refused("The workshop is closed already.")
    cohort.close(workshop)
    record(workshop, user, "close", "joining stopped; every run is read-only")
    live.announce(workshop.id)


def reopen(workshop, user):
    if not workshop.is_closed:
        raise Refused("The workshop is open.")
    cohort.reopen(workshop)
    record(workshop, user, "reopen")
    live.announce(workshop.id)


def delete(workshop, user):
    """Deleted now, with every run; its Action records go with it, so the deletion is logged (cohort.delete)."""
    cohort.delete(workshop, by=user.get_username())
