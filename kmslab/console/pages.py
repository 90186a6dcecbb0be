"""What every sandbox page shows around its content, and how a console call's result is shown."""
from datetime import datetime, timezone

from kmslab.cloud.clock import iso
from kmslab.cloud.errors import AccessDeniedException, AccessDenied
from kmslab.sandboxes import runner

from . import acting
from .forms import ActAsForm

DENIALS = (AccessDeniedException.__name__, AccessDenied.__name__)
# Why a call the policies allowed still failed, where AWS's message says nothing: kmslab's
# note, shown as such beside the (empty) AWS message, never in its place. A symmetric
# ciphertext is bound to its encryption context as GCM additional data (developer guide,
# encrypt_context): a different context, or a changed blob, fails the tag check.
AFTER_AUTHORIZATION = {
    ("Decrypt", "InvalidCiphertextException"):
        "allowed by the policies; the ciphertext did not authenticate — the encryption context "
        "(or the blob) differs from the one used to encrypt",
    ("ReEncrypt", "InvalidCiphertextException"):
        "allowed by the policies; the source ciphertext did not authenticate — the source encryption "
        "context (or the blob) differs from the one used to encrypt",
}


def duration(seconds):
    """3 d 4 h, 5 h 10 min, 40 s: for clock offsets and countdowns.

    Rounded to the unit below the largest shown: a 7-day window read half a
    second after it was set is still "7 d", not "6 d 23 h"."""
    step = 3600 if seconds >= 86400 else 60 if seconds >= 60 else 1
    seconds = int(round(seconds / step) * step)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def clock(world):
    now = world.now()
    return {
        "epoch": now,
        "iso": iso(now),
        "text": datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "ahead": duration(world.clock.offset) if world.clock.offset >= 60 else "",
    }


HEADER_PREFIX = "switch"


def act_as_form(world, identity, data=None, header=False):
    """The Act as form, set to the current identity: the home page's, or the header's on every page.

    The header's fields are prefixed, so both can be on one page, and its principal is labelled
    "Act as", so a page's own "Principal" field (the simulator's) keeps its label to itself."""
    form = ActAsForm(
        data, prefix=HEADER_PREFIX if header else None, choices=acting.choices(world), users=acting.users(world),
        initial={"principal": f"{identity.account}/{identity.kind}/{identity.name}", "mfa": identity.mfa,
                 "via": identity.via},
    )
    if header:
        form.fields["principal"].label = "Act as"
    return form


def context(request, sandbox, world, section, **extra):
    """The context of a sandbox page: the sandbox, the snapshot it was read from, who acts, what time it is."""
    identity = acting.current(request, sandbox, world)
    return {
        "sandbox": sandbox,
        "world": world,
        "identity": identity,
        "clock": clock(world),
        "section": section,
        "switch_form": act_as_form(world, identity, header=True),
        **extra,
    }


def run(request, sandbox, service, operation, call_request, region=None):
    """Make one call as the acting identity, in `region` (None: the world's); return (outcome, result
    for the _result.html fragment).

    The identity is worked out on the world the call runs on (the runner's,
    usually kept in this process), so no world is read and unsealed for it."""
    def who(world):
        return acting.caller(world, acting.current(request, sandbox, world))

    outcome = runner.run(sandbox.id, who, service, operation, call_request, region)
    return outcome, result(outcome)


def after_authorization(record, explanations):
    """A call every authorization decision allowed that failed all the same: {"code", "note"}
    (the note None where kmslab has nothing to add), else None. The failure came after
    authorization, so the green "Allowed" beside the red error needs saying what failed."""
    code = record.get("errorCode")
    if not code or code in DENIALS or not explanations:
        return None
    if any(e.get("decision") != "Allow" for e in explanations):
        return None
    return {"code": code, "note": AFTER_AUTHORIZATION.get((record.get("eventName"), code))}


def result(outcome):
    error = outcome.error
    result = {
        "operation": outcome.record["eventName"],
        "caller": outcome.record["userIdentity"].get("arn", ""),
        "ok": error is None,
        "event_id": outcome.record["eventID"],
        "response": outcome.record.get("responseElements"),
    }
    if error is not None:
        result["code"] = error.code
        result["message"] = error.message
        if error.code in DENIALS:
            # The decision that denied it: the last one the call took.
            result["explanation"] = outcome.explanations[-1] if outcome.explanations else None
        else:
            result["after"] = after_authorization(outcome.record, outcome.explanations)
    return result
