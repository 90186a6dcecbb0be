"""The README's workshop deployment: kmslab.serve behind a TLS-terminating proxy, KMSLAB_BASE_URL=https://….

A learner's browser speaks https to the proxy, which speaks http to kmslab.serve and
says so in X-Forwarded-Proto. The learner here is httpx, sending what Chromium
sends with every form (Origin, Referer), and a websocket client sending
Origin as a page does; the proxy is tests/tls_proxy.py, once passing the Host
header on and once replacing it with the worker's (nginx's default).
"""
import json
import re
import ssl

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .api.live import Server
from .tls_proxy import TlsProxy

pytestmark = pytest.mark.live


@pytest.fixture(scope="module", params=[True, False], ids=["host-passed-on", "host-rewritten"])
def deployment(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("behind-tls-proxy")
    proxy = TlsProxy(directory, keep_host=request.param)
    Server.migrate_database(directory)
    server = Server(directory, KMSLAB_BASE_URL=proxy.base)
    proxy.upstream_port = server.port
    server.wait_until_ready()
    yield proxy, server
    server.stop()
    proxy.stop()


def trusting(proxy):
    return ssl.create_default_context(cafile=str(proxy.cert_file))


def form(browser, url, page_url, **fields):
    """POST a console form as Chromium does: its CSRF token, the page's Origin and Referer."""
    origin = re.match(r"https://[^/]+", page_url).group(0)
    return browser.post(url, data={"csrfmiddlewaretoken": browser.cookies["csrftoken"], **fields},
                        headers={"Origin": origin, "Referer": page_url})


def claimed_sandbox(proxy, server, browser):
    """`sandbox create`, its console link opened and confirmed through the proxy; the sandbox's home URL."""
    sandbox = json.loads(server.manage("sandbox", "create", "--json"))
    link = sandbox["console_url"]
    assert link.startswith(proxy.base + "/claim/")
    assert browser.get(link).status_code == 200
    claimed = form(browser, link, link)
    assert claimed.status_code == 302, claimed.text[:500]
    return proxy.base + claimed.headers["location"]


def test_a_learner_claims_a_sandbox_and_creates_a_key_through_the_proxy(deployment):
    proxy, server = deployment
    with httpx.Client(verify=trusting(proxy)) as browser:
        home = claimed_sandbox(proxy, server, browser)
        assert browser.get(home).status_code == 200
        created = form(browser, home + "keys/", home + "keys/", Origin="AWS_KMS", Description="via the proxy")
        assert created.status_code == 302, created.text[:500]
        assert b"via the proxy" in browser.get(proxy.base + created.headers["location"]).content


def test_over_https_the_cookies_are_secure_and_browsers_are_told_to_stay_on_https(deployment):
    proxy, server = deployment
    with httpx.Client(verify=trusting(proxy)) as browser:
        page = browser.get(json.loads(server.manage("sandbox", "create", "--json"))["console_url"])
        assert "; secure" in page.headers["set-cookie"].lower()
        assert page.headers["strict-transport-security"].startswith("max-age=31536000")
        claimed = form(browser, str(page.url), str(page.url))
        assert all("; secure" in c.lower() for c in claimed.headers.get_list("set-cookie"))


def test_plain_http_to_the_worker_is_redirected_to_https_but_health_checks_are_answered(deployment):
    _, server = deployment
    direct = httpx.get(f"http://127.0.0.1:{server.port}/labs/")
    assert direct.status_code == 301 and direct.headers["location"].startswith("https://")
    assert httpx.get(f"http://127.0.0.1:{server.port}/healthz").json() == {"status": "ok"}


def test_the_live_trail_opens_over_wss_for_the_sites_pages_only(deployment):
    proxy, server = deployment
    with httpx.Client(verify=trusting(proxy)) as browser:
        home = claimed_sandbox(proxy, server, browser)
        cookie = {"Cookie": f"sessionid={browser.cookies['sessionid']}"}
    feed = home.replace("https://", "wss://").replace("/s/", "/ws/sandboxes/") + "trail/"
    with connect(feed, ssl=trusting(proxy), origin=proxy.base, additional_headers=cookie, open_timeout=10) as ws:
        assert "connected" in ws.recv(timeout=5)
    with pytest.raises(InvalidStatus):
        connect(feed, ssl=trusting(proxy), origin="https://127.0.0.1:1", additional_headers=cookie, open_timeout=10)
