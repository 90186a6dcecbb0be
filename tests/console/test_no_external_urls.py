"""The lab works with no network: no page may load or link anything from another host."""
import re
from urllib.parse import urljoin, urlparse

from .personas import A

from kmslab.sandboxes import runner

URL_ATTRIBUTES = re.compile(r'\b(src|href|action|hx-get|hx-post|ws-connect|poster|srcset)\s*=\s*"([^"]*)"', re.I)
FOLLOW = ("href", "hx-get")
LIMIT = 300


def external(url):
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https", "ws", "wss") or url.startswith("//")


def furnish(alice):
    """A sandbox with one of everything, so every kind of page exists."""
    key_page = alice.create_key(Description="k", Tags="a=b")
    alice.post(key_page + "CreateAlias/", {"AliasName": "alias/crawl"})
    alice.create_key(Origin="EXTERNAL")
    alice.post(alice.home + "iam/call/CreateRole/", {
        "RoleName": "auditor",
        "AssumeRolePolicyDocument": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                                    f'"Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"sts:AssumeRole"}}]}}',
    })
    alice.post(alice.home + "iam/call/CreateGroup/", {"GroupName": "g"})
    alice.post(alice.home + f"iam/{A}/users/admin/mfa/")
    alice.act_as(f"{A}/user/admin", mfa=True)
    alice.post(key_page + "ScheduleKeyDeletion/", {"PendingWindowInDays": "7"})
    runner.advance_clock(alice.sandbox.id, 3600)


def test_every_page_renders_and_nothing_comes_from_another_host(alice):
    furnish(alice)
    seen, queue, offenders, pages = set(), ["/", alice.home], [], 0
    while queue and len(seen) < LIMIT:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = alice.client.get(path, follow=True)
        assert response.status_code == 200, f"{path}: {response.status_code}"
        if not response["Content-Type"].startswith("text/html"):
            continue
        pages += 1
        for attribute, url in URL_ATTRIBUTES.findall(response.content.decode()):
            if external(url):
                offenders.append(f"{path}: {url}")
                continue
            if attribute.lower() not in FOLLOW:
                continue
            target = urljoin(path, url)
            if urlparse(target).path.startswith(("/s/", "/claim/")) and "#" not in url:
                queue.append(urlparse(target).path + (f"?{urlparse(target).query}" if urlparse(target).query else ""))
    assert offenders == []
    # The home list, a sandbox, keys, a key, IAM, users, a role, the trail, its records: a real crawl.
    assert pages >= 12
    assert any("/keys/" in p and p.count("/") == 5 for p in seen)
    assert any(f"/iam/{A}/roles/auditor/" in p for p in seen)
    assert any("/trail/" in p and p.count("/") == 5 for p in seen)


def test_the_stylesheet_and_scripts_are_served_from_this_host(alice):
    page = alice.get(alice.home).content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts == ["/static/django_htmx/htmx-2.min.js", "/static/django_htmx/ext/hx-ws-2.min.js"]
    assert '<link rel="stylesheet" href="/static/css/kmslab.css">' in page
    css = alice.client.get("/static/css/kmslab.css")
    assert css.status_code == 200
    assert not re.search(rb"url\(\s*['\"]?(https?:)?//", b"".join(css.streaming_content))
