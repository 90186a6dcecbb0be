"""Rate limits on what anyone may make without a sandbox: sandboxes, claims of console links, lab runs.

mallory scripts creations from one address; past KMSLAB_CREATE_RATE a minute she gets a 429 page
that says when to come back, and alice, from another address, is not held up."""
import pytest
from django.test import Client

from kmslab.console import learner
from kmslab.sandboxes import runner


def claim_link():
    sandbox, _ = runner.create_sandbox(owner="made-by-the-cli")
    return learner.claim_path(sandbox)


MAKERS = {
    "create a sandbox": lambda: ("/", {"name": "spam"}),
    "claim a console link": lambda: (claim_link(), {}),
    "start a lab": lambda: ("/labs/encryption-context/start/", {}),
}


@pytest.fixture
def limit(settings):
    settings.KMSLAB_CREATE_RATE = 3
    return 3


@pytest.mark.parametrize("making", MAKERS)
def test_past_the_limit_a_creation_gets_a_429_page_saying_when_to_retry(transactional_db, limit, making):
    mallory, alice = Client(REMOTE_ADDR="203.0.113.66"), Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(limit):
        assert mallory.post(*MAKERS[making]()).status_code == 302
    refused = mallory.post(*MAKERS[making]())
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "429 Too Many Requests" in page and 'href="/static/css/kmslab.css"' in page
    assert f"Try again in {refused['Retry-After']} seconds" in page and 0 < int(refused["Retry-After"]) <= 60
    assert alice.post(*MAKERS[making]()).status_code == 302


def test_reading_pages_is_not_limited(transactional_db, limit):
    mallory = Client()
    for _ in range(limit + 2):
        assert mallory.get("/").status_code == 200
        assert mallory.get("/labs/").status_code == 200


def test_a_forged_x_forwarded_for_does_not_dodge_the_limit(transactional_db, limit):
    mallory = Client()
    for n in range(limit):
        assert mallory.post("/", {"name": "spam"}, headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code == 302
    assert mallory.post("/", {"name": "spam"}, headers={"X-Forwarded-For": "10.0.0.99"}).status_code == 429


def test_behind_the_tls_proxy_each_learner_counts_by_the_address_the_proxy_saw(transactional_db, limit, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxy = {"X-Forwarded-Proto": "https"}
    mallory, alice = Client(headers={**proxy, "X-Forwarded-For": "1.2.3.4, 203.0.113.66"}), Client()
    for _ in range(limit):
        assert mallory.post("/", {"name": "spam"}).status_code == 302
    assert mallory.post("/", {"name": "spam"}).status_code == 429
    assert alice.post("/", {"name": "week 1"}, headers={**proxy, "X-Forwarded-For": "198.51.100.7"}).status_code == 302
