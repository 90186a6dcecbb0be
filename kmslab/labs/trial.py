"""A lab run in the core alone, with no database: build the lab's world, call as its principals, check.

`manage.py labs validate` and the tests use it to prove each lab file: a
fresh run meets no objective, its solve script meets them all. Calls go
through `calls.call` with the caller the principal's access key stands for
(as the AWS endpoint's are, once the signature holds); an MFA call runs in a
real GetSessionToken session started with the user's device.
"""
import base64
import json
import os

from kmslab.cloud import calls, mfa, principals
from kmslab.cloud.kms.schedule import run_due

from . import catalog, checks, setup, solve


class Trial:
    def __init__(self, slug, master_key=None):
        self.lab = catalog.get(slug)
        self.world, made, self.keys, self.files = setup.build(self.lab, master_key or os.urandom(32))
        self.creds = {p["name"]: p for p in made}
        self.baseline = checks.baseline_for(self.lab, self.world)
        # The setup's own records (its probes) come first, as a run's trail shows them.
        self.records = setup.seeded_records(self.world)
        self._sessions = {}
        # Met objectives stay met, checked after every call, as a live run's are (live.py).
        self.done = set()

    def call(self, name, operation, service="kms", mfa=False, **request):
        key_id = self._session(name) if mfa else self.creds[name]["access_key_id"]
        caller = principals.caller_for_access_key(self.world, key_id)
        outcome = calls.call(self.world, caller, service, operation, request)
        self.records.extend(outcome.records)
        self.status()
        return outcome

    def advance(self, seconds):
        """The sandbox clock moves on and what falls due runs, as runner.advance_clock does."""
        self.world.clock.advance(seconds)
        self.records.extend(run_due(self.world))
        self.status()

    def _session(self, name):
        if name not in self._sessions:
            code = mfa.totp(self.files[f"{name}-mfa-seed"], self.world.clock.real())
            started = self.call(name, "GetSessionToken", service="sts",
                                SerialNumber=self.files[f"{name}-mfa-serial"], TokenCode=code)
            if started.error:
                raise solve.SolveFailed(f"GetSessionToken with MFA for {name}: {started.error.code}")
            self._sessions[name] = started.response["Credentials"]["AccessKeyId"]
        return self._sessions[name]

    def put_key_policy(self, alias, statements, name="admin", delegate=False):
        """PutKeyPolicy as `name`: the lab's admin statement, the root one if `delegate`, then `statements`."""
        account = self.keys[alias].split(":")[4]
        policy = json.dumps({"Version": "2012-10-17",
                             "Statement": setup.base_statements(account, delegate) + statements})
        return self.call(name, "PutKeyPolicy", KeyId=self.keys[alias], PolicyName="default", Policy=policy)

    def blob(self, name):
        return base64.b64decode(self.files[name])

    def status(self):
        status = checks.evaluate(self.lab, self.world, self.records, self.done, self.baseline)
        self.done |= {i for i, ok in status.items() if ok}
        return status

    def judged_now(self):
        """Every objective judged on the world and trail as they are now, forgetting what was met."""
        return checks.evaluate(self.lab, self.world, self.records, baseline=self.baseline)

    def solve(self):
        def call(name, service, operation, request, with_mfa):
            outcome = self.call(name, operation, service, with_mfa, **request)
            return (outcome.error.code if outcome.error else ""), outcome.response
        solve.run(self.lab, self.keys, self.files, call, self.advance)


def problems(slug):
    """catalog.problems, then: a fresh run meets no objective, and the solve script meets them all."""
    lab = catalog.get(slug)
    found = catalog.problems(lab)
    if found:
        return found
    trial = Trial(slug)
    fresh = [i for i, done in trial.status().items() if done]
    if fresh:
        return [f"a fresh run already meets {', '.join(fresh)}"]
    try:
        trial.solve()
    except (solve.SolveFailed, setup.SetupError) as exc:
        return [str(exc)]
    missed = [i for i, done in trial.status().items() if not done]
    return [f"the solve script leaves {', '.join(missed)} unmet"] if missed else []
