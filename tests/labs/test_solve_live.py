"""Every lab's solve script through the paths a learner uses: boto3 signed as the lab's principals against
a real server, MFA through GetSessionToken with the device's current code, the clock from the console.
Then `manage.py labs status` must find every objective met, as the server's own evaluation kept them."""
import json
import subprocess
import sys
import time
from urllib.parse import urlsplit

import botocore
import httpx
import pytest

from kmslab.cloud import mfa
from kmslab.labs import catalog, solve

from ..api.live import ROOT, Server, client_factory

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("kmslab-labs")
    Server.migrate_database(var_dir)
    running = Server(var_dir).wait_until_ready()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def started(server):
    """`labs start SLUG --json` for every lab at once (each is a Django start-up)."""
    base = f"http://127.0.0.1:{server.port}"
    running = {slug: subprocess.Popen([sys.executable, "manage.py", "labs", "start", slug, "--json", "--base-url", base],
                                      cwd=ROOT, env=server.env, stdout=subprocess.PIPE, text=True)
               for slug in catalog.load()}
    return {slug: json.loads(p.communicate(timeout=120)[0]) for slug, p in running.items()}


class Learner:
    """One lab run as a learner has it: the `labs start --json` hand-out, boto3 clients, a browser session."""

    def __init__(self, server, run):
        self.server = server
        self.base = f"http://127.0.0.1:{server.port}"
        self.run = run
        self.principals = {p["name"]: p for p in self.run["principals"]}
        self.browser = httpx.Client(base_url=self.base)
        link = urlsplit(self.run["console_url"]).path
        self.browser.get(link)  # the confirmation page, which sets the CSRF cookie its Open sandbox form posts
        assert self.browser.post(link, data={"csrfmiddlewaretoken": self.browser.cookies["csrftoken"]}).status_code == 302
        self.sessions = {}

    def client(self, name, service, with_mfa):
        if not with_mfa:
            return client_factory(self.server.url, self.principals[name])(service)
        if name not in self.sessions:
            files = self.run["files"]
            sts = client_factory(self.server.url, self.principals[name])("sts")
            started = sts.get_session_token(SerialNumber=files[f"{name}-mfa-serial"],
                                            TokenCode=mfa.totp(files[f"{name}-mfa-seed"], time.time()))
            self.sessions[name] = started["Credentials"]
        credentials = self.sessions[name]
        return client_factory(self.server.url, None)(
            service, aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"])

    def call(self, name, service, operation, request, with_mfa):
        client = self.client(name, service, with_mfa)
        try:
            return "", getattr(client, botocore.xform_name(operation))(**request)
        except client.exceptions.ClientError as error:
            return error.response["Error"]["Code"], None

    def advance(self, seconds):
        """The console's clock form, as the learner's browser posts it."""
        sandbox = self.run["sandbox"]
        self.browser.get(f"/s/{sandbox}/")
        answer = self.browser.post(f"/s/{sandbox}/clock/", data={"advance": f"{int(seconds // 60)}m"},
                                   headers={"X-CSRFToken": self.browser.cookies["csrftoken"]})
        assert answer.status_code == 302, answer.text[:500]


@pytest.mark.parametrize("slug", sorted(catalog.load()))
def test_the_solve_script_completes_the_lab_against_the_server(server, started, slug):
    learner = Learner(server, started[slug])
    assert learner.run["lab"] == slug
    solve.run(catalog.get(slug), learner.run["keys"], learner.run["files"], learner.call, learner.advance)
    deadline = time.monotonic() + 10
    while True:
        status = json.loads(server.manage("labs", "status", learner.run["sandbox"], "--json"))
        if status["complete"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status["complete"], [o["id"] for o in status["objectives"] if not o["done"]]
