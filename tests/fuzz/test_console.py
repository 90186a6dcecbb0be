"""Mallory fuzzes the console: every URL of kmslab/console and kmslab/labs, every field of every form.

Whatever she sends — values the page offers, wrong types, huge, unicode, control
characters, JSON nested deep, path segments and query strings of her own — the
answer is never a 5xx, is well-formed HTML (JSON, CSV) and comes within the
time and memory bounds of answers.py. She fuzzes her own lab run's sandbox, so
every form has real keys, users, groups, roles and policies to act on.
"""
import json
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from kmslab.cloud import principals
from kmslab.console import learner
from kmslab.console import policy_form as pf
from kmslab.console.forms import GRANT_OPERATIONS, IAM_ACTIONS, KEY_ACTIONS
from kmslab.console.simulator import ACTIONS, VIA_SERVICES
from kmslab.labs import catalog
from kmslab.sandboxes import runner
from kmslab.sandboxes.models import TrailRecord

from .answers import FUZZ, any_text, control_text, long_text, measure, well_formed, wild

A, B = "111122223333", "444455556666"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*",
     "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})


@dataclass
class Sandboxed:
    """What mallory's lab sandbox holds, for the fuzz to aim at."""

    client: Client
    home: str
    lab: str
    run: str
    objectives: list
    key_ids: list
    key_arns: list
    aliases: list
    users: list
    groups: list
    roles: list
    inline: list  # (account, kind, name, policy name)
    managed: list  # (account, name)
    event_ids: list
    claim: str


@pytest.fixture
def mallory(transactional_db):
    client = Client()
    lab = catalog.get("explicit-deny")
    response = client.post(f"/labs/{lab.slug}/start/")
    assert response.status_code == 302
    sandbox_id = response["Location"].split("/")[3]
    home = f"/s/{sandbox_id}/"
    # A role, a managed policy and a user's MFA device, so their forms and editors have something to edit.
    as_root = lambda world: principals.root_caller(A)  # noqa: E731
    runner.run(sandbox_id, as_root, "iam", "CreateRole",
               {"RoleName": "auditor", "AssumeRolePolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": [
                   {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}]})})
    runner.run(sandbox_id, as_root, "iam", "CreatePolicy",
               {"PolicyName": "kms-readers", "PolicyDocument": json.dumps({"Version": "2012-10-17", "Statement": [
                   {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}]})})
    assert client.post(home + f"iam/{A}/users/admin/mfa/").status_code == 200
    world = runner.load_world(sandbox_id)
    keys = list(world.doc["kms"]["keys"].values())
    entities = {kind: [(account, name) for account, e in world.doc["accounts"].items() for name in e[kind]]
                for kind in ("users", "groups", "roles", "policies")}
    inline = [(account, kind, name, policy)
              for account, e in world.doc["accounts"].items()
              for kind, plural in (("user", "users"), ("group", "groups"), ("role", "roles"))
              for name, holder in e[plural].items() for policy in holder["InlinePolicies"]]
    other, _ = runner.create_sandbox("someone else")
    return Sandboxed(
        client=client, home=home, lab=lab.slug, run=f"/labs/runs/{sandbox_id}/",
        objectives=[o.id for o in lab.objectives],
        key_ids=[k["KeyMetadata"]["KeyId"] for k in keys], key_arns=[k["KeyMetadata"]["Arn"] for k in keys],
        aliases=sorted(a["AliasName"] for a in world.doc["kms"]["aliases"].values()),
        users=entities["users"], groups=entities["groups"], roles=entities["roles"], inline=inline,
        managed=entities["policies"],
        event_ids=list(TrailRecord.objects.filter(sandbox_id=sandbox_id).values_list("event_id", flat=True)[:5]),
        claim=learner.claim_path(other),
    )


# Building requests.


def segment(*known):
    """A path segment: one that exists, or any text (URL-quoted, so it reaches the view as typed)."""
    return st.one_of(st.sampled_from(known), any_text.filter(bool), control_text, long_text).map(
        lambda s: quote(s, safe=""))


def path(*parts):
    """Parts are strings or strategies of segments; the path is their concatenation."""
    return st.tuples(*[p if isinstance(p, st.SearchStrategy) else st.just(p) for p in parts]).map("".join)


def offers(*values):
    """The values a form field offers (its choices, what the sandbox holds); the fuzz sends those and anything else."""
    return values


def fields(spec, in_url):
    """Form data: any subset of the form's fields (each a value or, as a browser sends checkboxes, several),
    and sometimes fields the form does not have. `spec`: {field name: offers(...)}."""
    value = {name: wild(*known, in_url=in_url) for name, known in spec.items()}
    data = st.fixed_dictionaries({}, optional={name: st.one_of(v, st.lists(v, min_size=2, max_size=3))
                                              for name, v in value.items()})
    return st.tuples(data, st.dictionaries(any_text, wild(in_url=in_url), max_size=2)).map(
        lambda d: {**d[1], **d[0]})


@dataclass
class Ask:
    method: str
    path: str
    data: dict
    htmx: bool


def asks(method, paths, spec=None):
    return st.builds(Ask, st.just(method), paths, fields(spec or {}, in_url=method == "GET"), st.booleans())


def send(client, ask):
    headers = {"HX-Request": "true"} if ask.htmx else {}
    # What the client sent: the path, and the fields in the query string or the body.
    size = len(ask.path) + sum(len(k.encode()) + sum(len(v.encode()) for v in (vs if isinstance(vs, list) else [vs]))
                               for k, vs in ask.data.items())
    if ask.method == "GET":
        return measure(lambda: client.get(ask.path, ask.data, headers=headers), size)
    # Form-encoded, as htmx and browsers post (kmslab.lean_forms parses it), or multipart, the test client's way.
    if ask.htmx:
        body = urlencode([(k, v) for k, vs in ask.data.items() for v in (vs if isinstance(vs, list) else [vs])])
        return measure(lambda: client.post(ask.path, body, content_type="application/x-www-form-urlencoded",
                                           headers=headers), size)
    return measure(lambda: client.post(ask.path, ask.data, headers=headers), size)


def check(response, ask):
    shown = f"{ask.method} {ask.path[:200]} {str(ask.data)[:300]} htmx={ask.htmx}"
    assert response.status_code < 500, (shown, response.status_code)
    well_formed(response.get("Content-Type", "text/html"), response.content)
    if response.status_code in (301, 302):
        assert response["Location"], shown


def fuzz(client, data, strategy):
    ask = data.draw(strategy)
    check(send(client, ask), ask)


# The requests, page by page.


def key_ref(m):
    return segment(*m.key_ids)


def sandbox_pages(m):
    h = m.home
    return st.one_of(
        asks("POST", st.just("/"), {"name": offers("my sandbox")}),
        asks("GET", st.just("/")),
        asks("GET", st.just("/healthz")),
        asks("GET", path("/claim/", segment(m.claim.split("/")[2], "x"), "/")),
        asks("POST", path("/claim/", segment(m.claim.split("/")[2], "x"), "/")),
        asks("GET", path("/s/", segment(m.home.split("/")[2], "00000000-0000-0000-0000-000000000000"), "/")),
        asks("GET", st.just(h)),
        asks("POST", st.just(h + "act-as/"), {
            "principal": offers(*[f"{a}/user/{n}" for a, n in m.users], *[f"{a}/role/{n}" for a, n in m.roles],
                              f"{A}/root/root", f"{B}/root/root"),
            "via": offers(*[f"{a}/{n}" for a, n in m.users]),
            "mfa": offers("on"),
            "token_code": offers("123456", "000000"),
        }),
    )


def key_pages(m):
    h = m.home
    action_fields = {
        "PendingWindowInDays": offers("7", "30", "3"), "RotationPeriodInDays": offers("90", "365", "2561"),
        "Description": offers("payroll"), "AliasName": offers("alias/fuzz", *m.aliases, "alias/aws/kms"),
        "Tags": offers("team=blue", "a=b\nc=d", "nokey"), "TagKeys": offers("team", "a,b"),
        "GranteePrincipal": offers(*[f"arn:aws:iam::{a}:user/{n}" for a, n in m.users]),
        "Operations": offers(*GRANT_OPERATIONS), "RetiringPrincipal": offers(f"arn:aws:iam::{A}:root"),
        "Name": offers("g"), "EncryptionContextSubset": offers("tenant=acme"), "GrantId": offers("0" * 64),
        "Message": offers("pay bob", "ab" * 32, ""), "MessageType": offers("RAW", "DIGEST", "EXTERNAL_MU"),
        "SigningAlgorithm": offers("ECDSA_SHA_256", "RSASSA_PSS_SHA_256", "ML_DSA_SHAKE_256"),
        "Signature": offers("AAAA", "not base64"), "MacAlgorithm": offers("HMAC_SHA_256", "HMAC_SHA_512"),
        "Mac": offers("AAAA"), "EncryptionAlgorithm": offers("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256"),
    }
    return st.one_of(
        asks("GET", st.just(h + "keys/")),
        asks("POST", st.just(h + "keys/"), {
            "Description": offers("fuzz"), "Origin": offers("AWS_KMS", "EXTERNAL"), "Tags": offers("a=b"),
            "Policy": offers(POLICY, "{}"),
            "KeySpec": offers("SYMMETRIC_DEFAULT", "ECC_NIST_P256", "HMAC_256", "ML_KEM_768", "SM2"),
            "KeyUsage": offers("ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"),
        }),
        asks("GET", path(h, "keys/", key_ref(m), "/public-key.pem")),
        asks("GET", path(h, "keys/", key_ref(m), "/")),
        asks("POST", path(h, "keys/", key_ref(m), "/", segment(*KEY_ACTIONS), "/"), action_fields),
        asks("POST", path(h, "keys/", key_ref(m), "/import/"), {
            "ExpirationModel": offers("KEY_MATERIAL_EXPIRES", "KEY_MATERIAL_DOES_NOT_EXPIRE"),
            "ValidForDays": offers("1", "365", "366"),
        }),
        asks("GET", path(h, "keys/", key_ref(m), "/share/"), {
            "account": offers(A, B), "principal": offers(*[f"arn:aws:iam::{a}:user/{n}" for a, n in m.users]),
        }),
    )


def iam_pages(m):
    h = m.home
    names = [n for _, n in m.users]
    return st.one_of(
        asks("GET", st.just(h + "iam/")),
        asks("POST", path(h, "iam/call/", segment(*IAM_ACTIONS), "/"), {
            "UserName": offers("eve", *names), "GroupName": offers("ops", *[n for _, n in m.groups]),
            "RoleName": offers("r", *[n for _, n in m.roles]),
            "AssumeRolePolicyDocument": offers(POLICY.replace('"kms:*"', '"sts:AssumeRole"'), "{}"),
            "AccessKeyId": offers("AKIA0000000000000000"),
        }),
        asks("GET", path(h, "iam/", segment(A, B), "/users/", segment(*names), "/")),
        asks("GET", path(h, "iam/", segment(A, B), "/roles/", segment(*[n for _, n in m.roles]), "/")),
        asks("POST", path(h, "iam/", segment(A, B), "/users/", segment(*names), "/access-keys/")),
        asks("POST", path(h, "iam/", segment(A, B), "/users/", segment(*names), "/mfa/")),
        asks("GET", path(h, "iam/", segment(A, B), "/users/", segment(*names), "/mfa/code/")),
    )


def trail_pages(m):
    h = m.home
    filters = {"event_name": offers("Decrypt", "CreateKey"), "principal": offers(*[f"arn:aws:iam::{a}:user/{n}"
                                                                                for a, n in m.users], "root"),
               "key": offers(*m.key_ids), "errors": offers("on"), "read_only": offers("true", "false")}
    return st.one_of(
        asks("GET", st.just(h + "trail/"), filters),
        asks("GET", st.just(h + "trail.json"), filters),
        asks("GET", st.just(h + "trail.csv"), filters),
        asks("GET", path(h, "trail/", segment(*m.event_ids), "/")),
    )


def card_fields(m):
    """The statement cards' fields (policy_form.cards_from_post): s{i}-… and s{i}-c{j}-…."""
    spec = {"statements": offers("0", "1", "2", "1000000000"), "document": offers(POLICY, "{}", "[]"),
            "source": offers("json", "cards", "preview"),
            "op": offers("add-statement", "remove-statement:0", "add-condition:0", "remove-condition:0:0",
                       "remove-statement:99", *[f"snippet:{s.name}" for s in pf.SNIPPETS]),
            "preview_context": offers('{"tenant": "acme"}', "{}"), "preview_mfa": offers("on"),
            "BypassPolicyLockoutSafetyCheck": offers("on")}
    for snippet in pf.SNIPPETS:
        spec[f"snippet-{snippet.name}"] = offers(f"arn:aws:iam::{B}:root", *m.key_arns, "s3.us-east-1.amazonaws.com")
    for i in (0, 1):
        p = f"s{i}-"
        spec.update({p + "index": offers("0", "1"), p + "raw": offers('{"Effect": "Allow"}'), p + "why_raw": offers(),
                     p + "sid": offers("S"), p + "effect": offers("Allow", "Deny"),
                     p + "principal": offers(f"arn:aws:iam::{A}:root", "*"), p + "principal_other": offers(),
                     p + "action": offers("kms:Decrypt", "kms:*"), p + "action_other": offers("kms:Foo"),
                     p + "resource": offers("*", *m.key_arns), p + "resource_pick": offers(*m.key_arns),
                     p + "conditions": offers("0", "1", "1000000000")})
        c = p + "c0-"
        spec.update({c + "operator": offers(*pf.OPERATORS), c + "key": offers("kms:EncryptionContext:tenant",
                                                                            "aws:MultiFactorAuthPresent"),
                     c + "values": offers("acme", "true"), c + "pick": offers("true")})
    return spec


def policy_pages(m):
    h = m.home
    editors = [path(h, "policies/key/", key_ref(m), "/")]
    editors += [path(h, "policies/", segment(a), "/", segment(kind, "user", "group", "role"), "/", segment(name), "/",
                     segment(policy, "new-one"), "/") for a, kind, name, policy in m.inline[:3]]
    editors += [path(h, "policies/", segment(a), "/managed/", segment(name), "/") for a, name in m.managed]
    editor = st.one_of(*editors)
    cards = card_fields(m)
    snippet_query = {"snippet": offers(*[s.name for s in pf.SNIPPETS]),
                     **{f"snippet-{s.name}": offers(f"arn:aws:iam::{B}:root", *m.key_arns) for s in pf.SNIPPETS}}
    return st.one_of(
        asks("GET", st.just(h + "policies/")),
        asks("GET", editor, snippet_query),
        asks("POST", editor, cards),
        asks("POST", editor.map(lambda p: p + "sync/"), cards),
        asks("GET", path(h, "policies/", segment(A, B), "/", segment("user", "group", "role"), "/",
                         segment(*[n for _, n in m.users]), "/"), {"PolicyName": offers("kms-access", "bad name")}),
        asks("POST", st.just(h + "policies/create/"), {
            "PolicyName": offers("kms-readers", "bad name"), "Description": offers("readers"),
            "PolicyDocument": offers('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                                     '"Action": "kms:DescribeKey", "Resource": "*"}]}')}),
    )


def envelope_pages(m):
    h = m.home
    envelope = {"encrypted_data_key": offers("AAAA"), "nonce": offers("00" * 12), "ciphertext": offers("AAAA"),
                "tag": offers("00" * 16), "key_id": offers(*m.key_arns), "digest": offers("00"),
                "context": offers('{"tenant": "acme"}', "{}")}
    encrypt = {"KeyId": offers(*m.key_arns), "EncryptionContext": offers('{"tenant": "acme"}', "{}", '{"a": 1}'),
               "message": offers("hello")}
    return st.one_of(
        asks("GET", st.just(h + "envelope/")),
        asks("POST", st.just(h + "envelope/encrypt/"), encrypt),
        asks("POST", st.just(h + "envelope/direct/"), encrypt),
        asks("POST", st.just(h + "envelope/decrypt/"), envelope),
        asks("POST", st.just(h + "envelope/direct/decrypt/"), {
            "CiphertextBlob": offers("AQICAHg=", "AAAA", "not base64"),
            "EncryptionContext": offers('{"tenant": "acme"}', "{}", '{"a": 1}')}),
        asks("GET", st.just(h + "anatomy/"), {"CiphertextBlob": offers("AQICAHg=", "AAAA")}),
    )


def simulator_pages(m):
    return asks("GET", st.just(m.home + "simulator/"), {
        "principal": offers(*[f"{a}/user/{n}" for a, n in m.users], f"arn:aws:iam::{A}:user/admin", f"{A}/root/root"),
        "mfa": offers("on"), "source_ip": offers("10.0.0.1", "::1"), "via_service": offers(*[v for v, _ in VIA_SERVICES]),
        "action": offers(*ACTIONS), "key": offers(*m.key_ids, *m.key_arns, *m.aliases),
        "context": offers('{"tenant": "acme"}', "{}"),
    })


def lab_pages(m):
    return st.one_of(
        asks("GET", st.just("/labs/"), {"level": offers(*catalog.LEVELS), "topic": offers("grants")}),
        asks("GET", st.just("/labs/progress/")),
        asks("GET", st.just(m.run)),
        asks("GET", st.just(m.run + "debrief/")),
        asks("GET", st.just(m.run + "certificate/")),
        asks("POST", path(m.run, "hints/", segment(*m.objectives), "/")),
        asks("GET", path("/labs/runs/", segment(m.run.split("/")[3]), "/")),
    )


# One test a part of the console, each with its share of the suite's time.


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_the_sandbox_pages_and_act_as(mallory, data):
    fuzz(mallory.client, data, sandbox_pages(mallory))


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_the_key_pages_and_every_key_action(mallory, data):
    fuzz(mallory.client, data, key_pages(mallory))


@settings(FUZZ, max_examples=45)
@given(data=st.data())
def test_the_iam_pages_and_every_iam_action(mallory, data):
    fuzz(mallory.client, data, iam_pages(mallory))


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_the_trail_feed_record_and_downloads(mallory, data):
    fuzz(mallory.client, data, trail_pages(mallory))


@settings(FUZZ, max_examples=50)
@given(data=st.data())
def test_the_policy_editors_save_and_sync(mallory, data):
    fuzz(mallory.client, data, policy_pages(mallory))


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_envelope_encryption_and_the_anatomy(mallory, data):
    fuzz(mallory.client, data, envelope_pages(mallory))


@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_the_simulator(mallory, data):
    fuzz(mallory.client, data, simulator_pages(mallory))


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_the_lab_pages(mallory, data):
    fuzz(mallory.client, data, lab_pages(mallory))


@settings(FUZZ, max_examples=12)
@given(data=st.data())
def test_the_clock_reset_and_lab_reset(mallory, data):
    # Apart from the others: a reset takes the keys the other tests aim at, and the clock only moves on.
    h = mallory.home
    fuzz(mallory.client, data, st.one_of(
        asks("POST", st.just(h + "clock/"), {"advance": offers("1h", "30d", "400d", "401d", "0m", "-1d")}),
        asks("POST", st.just(h + "reset/")),
        asks("POST", st.just(mallory.run + "reset/")),
        asks("POST", path("/labs/", segment(mallory.lab, "no-such-lab"), "/start/")),
    ))


# Which strategy above sends each URL of the console and the labs.
FUZZED = {
    sandbox_pages: ["console:home", "console:healthz", "console:claim", "console:sandbox", "console:act_as"],
    key_pages: ["console:keys", "console:key", "console:key_action", "console:import_key_material",
                "console:key_share", "console:public_key"],
    iam_pages: ["console:iam", "console:iam_action", "console:iam_user", "console:iam_role",
                "console:create_access_key", "console:setup_mfa", "console:mfa_code"],
    trail_pages: ["console:trail", "console:trail_json", "console:trail_csv", "console:trail_record"],
    policy_pages: ["console:policies", "console:key_policy", "console:key_policy_sync", "console:managed_policy",
                   "console:managed_policy_sync", "console:new_inline_policy", "console:identity_policy",
                   "console:identity_policy_sync", "console:create_policy"],
    envelope_pages: ["console:envelope", "console:envelope_encrypt", "console:envelope_decrypt",
                     "console:envelope_direct", "console:envelope_direct_decrypt", "console:anatomy"],
    simulator_pages: ["console:simulator"],
    lab_pages: ["labs:catalogue", "labs:progress", "labs:run", "labs:hint", "labs:debrief", "labs:certificate"],
    test_the_clock_reset_and_lab_reset: ["console:advance_clock", "console:reset", "labs:reset", "labs:start"],
}


def test_every_console_and_lab_url_is_fuzzed():
    """A new URL needs a strategy above (and a line in FUZZED), or this fails."""
    from kmslab.console import urls as console_urls
    from kmslab.labs import urls as lab_urls

    names = {f"console:{p.name}" for p in console_urls.urlpatterns} | {f"labs:{p.name}" for p in lab_urls.urlpatterns}
    assert {name for listed in FUZZED.values() for name in listed} == names
