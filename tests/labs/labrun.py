"""A lab run in the core alone (no database): build a lab's world, call as its principals, check objectives."""
import base64
import json
import os

from kmslab.cloud import calls, principals
from kmslab.labs import catalog, checks, setup, solve

MASTER = os.urandom(32)


class LabRun:
    def __init__(self, slug):
        self.lab = catalog.get(slug)
        self.world, made, self.keys, self.files = setup.build(self.lab, MASTER)
        self.creds = {p["name"]: p for p in made}
        self.baseline = checks.baseline_for(self.lab, self.world)
        self.records = []

    def call(self, name, operation, service="kms", mfa=False, **request):
        caller = principals.caller_for_access_key(self.world, self.creds[name]["access_key_id"])
        if mfa:
            now = self.world.now()
            caller.mfa_authenticated, caller.mfa_auth_time, caller.session_created = True, now, now
        outcome = calls.call(self.world, caller, service, operation, request)
        self.records.extend(outcome.records)
        return outcome

    def put_key_policy(self, alias, statements, name="admin", delegate=False):
        """PutKeyPolicy as `name`: the lab's admin statement, the root one if `delegate`, then `statements`."""
        account = self.keys[alias].split(":")[4]
        base = [json.loads(json.dumps(setup.ADMIN_STATEMENT).replace("{{account}}", account))]
        if delegate:
            base.append(json.loads(json.dumps(setup.ROOT_STATEMENT).replace("{{account}}", account)))
        policy = json.dumps({"Version": "2012-10-17", "Statement": base + statements})
        return self.call(name, "PutKeyPolicy", KeyId=self.keys[alias], PolicyName="default", Policy=policy)

    def blob(self, name):
        return base64.b64decode(self.files[name])

    def status(self):
        return checks.evaluate(self.lab, self.world, self.records, baseline=self.baseline)

    def solve(self):
        def call(name, service, operation, request, mfa):
            outcome = self.call(name, operation, service, mfa, **request)
            return (outcome.error.code if outcome.error else ""), outcome.response
        solve.run(self.lab, self.keys, self.files, call, self.world.clock.advance)


def arn(account, name):
    return f"arn:aws:iam::{catalog.ACCOUNTS[account]}:user/{name}"
