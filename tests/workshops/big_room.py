"""The big room: a workshop of 12 labs (40 objectives) and hundreds of learners, set up in a live server's database.

`populate` runs inside `manage.py shell` with the server's environment (its
database and master key), so that hundreds of learners join and start runs in
seconds rather than over HTTP. Learners join and start labs through
kmslab.workshops.cohort, as the join and start views do; objectives are met by
the labs' own solve steps, each a real call through the sandbox runner as the
AWS endpoint makes it once a signature holds (the lab's checks then judge the
run, as they do for any call): nothing writes progress directly.

The tests and scripts/bench_dashboard_browser.py call `populate_on(server, ...)`,
which prints what the learners need to go on over HTTP: the principals' keys of
the runs left for them.
"""
import json
import random
import secrets
import time

# In workshop order; every one of them solvable by plain calls (no clock, no MFA, no imported material).
LABS = ["encryption-context", "explicit-deny", "iam-vs-key-policy", "key-rotation", "trail-forensics",
        "never-kms-star", "disable-before-delete", "aliases-not-policy-resources", "cross-account-principal",
        "cross-account-root", "envelope-encryption", "grants"]
OBJECTIVES = 40
# A fresh run of the first lab, after this many of its solve calls, has exactly this objective met (the calls
# before it are bob's denied Decrypt and admin's PutUserPolicy): the call the live checks time and watch.
LIVE_LAB, LIVE_OBJECTIVE, LIVE_CALLS = "encryption-context", "bob-acme-only", 2
FIRST_NAMES = ["Ada", "Ben", "Chen", "Dana", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Jun", "Kofi", "Lena",
               "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vera", "Wei", "Yusuf"]


def name(i):
    return f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {i:03d}"


class Enough(Exception):
    """The learner stops here, part way through a lab."""


def populate(workshop_id, learners=300, started=0.7, fresh=20, seed=11):
    """In the server's database: `learners` join; a share `started` of them has worked through 1-3 labs in
    order (the earlier ones solved, the last a random part of the way); `fresh` more of them (taken from the
    rest) have just started LIVE_LAB. Prints [{"learner", "lab", "keys", "files", "principals"}] of the fresh runs, as JSON."""
    from kmslab.labs import catalog, runs, setup, solve
    from kmslab.sandboxes import runner
    from kmslab.workshops import cohort
    from kmslab.workshops.models import Workshop
    from kmslab.cloud import principals

    rng = random.Random(seed)
    workshop = Workshop.objects.get(pk=workshop_id)
    everyone = [cohort.join(workshop, name(i), secrets.token_hex(16))[0] for i in range(learners)]
    rng.shuffle(everyone)
    busy = everyone[:int(learners * started)]
    idle = everyone[len(busy):]
    left = []

    def work_through(learner, slug, calls=None):
        lab = catalog.get(slug)
        run = cohort.start_run(learner, slug)
        world = runner.load_world(run.sandbox_id)
        keys = {p["name"]: p["access_key_id"] for p in runs.credentials(lab, world)}
        made = 0

        def call(principal, service, operation, request, with_mfa):
            nonlocal made
            if calls is not None and made >= calls:
                raise Enough
            made += 1
            key = keys[principal]
            outcome = runner.run(run.sandbox_id, lambda w: principals.caller_for_access_key(w, key),
                                 service, operation, request)
            return (outcome.error.code if outcome.error else ""), outcome.response

        try:
            solve.run(lab, setup.lab_keys(world), setup.lab_files(world), call, advance=None)
        except Enough:
            pass
        return run, lab, world

    for learner in busy:
        done = rng.choice([0, 0, 1, 1, 1, 2])
        for slug in LABS[:done]:
            work_through(learner, slug)
        current = catalog.get(LABS[done])
        work_through(learner, current.slug, calls=rng.randrange(len(current.solve)))
    for learner in idle[:fresh]:
        run, lab, world = work_through(learner, LIVE_LAB, calls=0)
        left.append({"learner": learner.display_name, "lab": LIVE_LAB, "keys": setup.lab_keys(world),
                     "files": setup.lab_files(world),
                     "principals": {p["name"]: p for p in runs.credentials(lab, world)}})
    print(json.dumps(left))


def solve_over_http(url, fresh, calls=LIVE_CALLS):
    """The first `calls` solve steps of a fresh run (from `populate`), as its learner makes them: boto3 over HTTP.
    -> time.time() when the last was answered."""
    import boto3
    import botocore
    from botocore.config import Config

    from kmslab.labs import catalog, solve

    session, clients, made, answered = boto3.session.Session(), {}, 0, None

    def call(principal, service, operation, request, with_mfa):
        nonlocal made, answered
        if made == calls:
            raise Enough
        made += 1
        if (principal, service) not in clients:
            keys = fresh["principals"][principal]
            clients[principal, service] = session.client(
                service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=keys["access_key_id"],
                aws_secret_access_key=keys["secret_access_key"], config=Config(retries={"max_attempts": 0}))
        client = clients[principal, service]
        try:
            outcome = "", getattr(client, botocore.xform_name(operation))(**request)
        except client.exceptions.ClientError as error:
            outcome = error.response["Error"]["Code"], None
        answered = time.time()
        return outcome

    try:
        solve.run(catalog.get(fresh["lab"]), fresh["keys"], fresh["files"], call, advance=None)
    except Enough:
        pass
    return answered


def populate_on(server, workshop_id, **options):
    """`populate` in `server`'s database; -> the fresh runs."""
    arguments = ", ".join(f"{k}={v!r}" for k, v in {"workshop_id": workshop_id, **options}.items())
    out = server.manage("shell", "-c", f"from tests.workshops.big_room import populate; populate({arguments})")
    return json.loads(out.strip().splitlines()[-1])


def create_workshop(server, instructor, password, title="The big room"):
    server.manage("instructor", "create", instructor, "--password", password)
    return json.loads(server.manage("workshop", "create", "--instructor", instructor, "--title", title,
                                    "--labs", ",".join(LABS), "--json"))
