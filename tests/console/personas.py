"""Console personas and helpers: a Learner is one browser with its own session and sandbox."""
import re
from dataclasses import dataclass

from django.test import Client

from kmslab.sandboxes.models import Sandbox

A, B = "111122223333", "444455556666"


@dataclass
class Learner:
    client: Client
    sandbox: Sandbox | None = None

    @property
    def home(self):
        return f"/s/{self.sandbox.id}/"

    def get(self, path, htmx=False):
        return self.client.get(path, headers={"HX-Request": "true"} if htmx else {})

    def post(self, path, data=None, htmx=False):
        return self.client.post(path, data or {}, headers={"HX-Request": "true"} if htmx else {})

    def act_as(self, principal, mfa=False, via=""):
        data = {"principal": principal, "via": via}
        if mfa:
            data["mfa"] = "on"
        return self.post(self.home + "act-as/", data, htmx=True)

    def create_key(self, **fields):
        response = self.post(self.home + "keys/", {"Origin": "AWS_KMS", **fields})
        assert response.status_code == 302, response.content.decode()[:2000]
        return response["Location"]

    @property
    def session_cookie(self):
        return self.client.cookies["sessionid"].value


def new_learner(name=""):
    learner = Learner(Client())
    response = learner.client.post("/", {"name": name})
    assert response.status_code == 302
    learner.sandbox = Sandbox.objects.get(id=response["Location"].split("/")[2])
    return learner


def codes(response):
    """The AWS error codes a console response shows."""
    return re.findall(r'class="code">([^<]*)<', response.content.decode())


def is_fragment(response):
    return b"<html" not in response.content and b"<body" not in response.content
