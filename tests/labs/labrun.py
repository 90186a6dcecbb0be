"""The tests' lab runs: kmslab.labs.trial's, in the core alone."""
from kmslab.labs import catalog
from kmslab.labs.trial import Trial as LabRun  # noqa: F401  (the name the lab tests use)


def arn(account, name):
    return f"arn:aws:iam::{catalog.ACCOUNTS[account]}:user/{name}"
