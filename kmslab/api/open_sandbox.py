"""The open sandbox: the one shared sandbox that KMSLAB_ALLOW_ANY_CREDENTIALS serves, and its reset.

Another project's test suite points boto3 at kmslab with made-up credentials;
every such call lands here, as the admin of account 123456789012. Between its
tests it empties the sandbox with an unsigned `POST /kmslab-api/reset`, or
with moto's own `POST /aws/moto-api/reset`; `manage.py sandbox reset open` does
the same from a shell.
"""
import threading

from kmslab.sandboxes import runner
from kmslab.sandboxes.models import Sandbox

ACCOUNT = "123456789012"
OWNER = "kmslab-open-sandbox"
RESET_PATH = "/kmslab-api/reset"
# moto's mock_aws in server mode resets with `POST <TEST_SERVER_MODE_ENDPOINT>/moto-api/reset`: with
# the endpoint set to kmslab's /aws, a suite written for moto's server resets kmslab unchanged.
MOTO_RESET_PATH = "/aws/moto-api/reset"

_lock = threading.Lock()


def sandbox_id():
    """The open sandbox's id, made on first use."""
    with _lock:
        found = existing()
        if found is None:
            sandbox, _ = runner.create_sandbox(OWNER, "Open sandbox (KMSLAB_ALLOW_ANY_CREDENTIALS)")
            found = sandbox.id
        return found


def existing():
    return Sandbox.objects.filter(owner=OWNER).values_list("id", flat=True).first()


def reset():
    """Empty the open sandbox, as if it had just been made: its id, or None when there is none yet.
    Account 123456789012 and its admin come back with the next call, as on first use."""
    with _lock:
        found = existing()
        if found is not None:
            runner.reset(found)
        return found
