"""The tests' workshop: an instructor (iris), her workshop, and learners joining it from their own browsers."""
import re

from django.contrib.auth import get_user_model
from django.test import Client

from kmslab.labs.models import LabRun
from kmslab.workshops import cohort

LABS = ["encryption-context", "explicit-deny"]
PASSWORD = "correct horse battery staple"


def instructor(username="iris", superuser=False):
    return get_user_model().objects.create_user(username, password=PASSWORD, is_superuser=superuser)


def logged_in(user):
    client = Client()
    assert client.post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def workshop(user=None, labs=LABS, **fields):
    user = user or get_user_model().objects.filter(username="iris").first() or instructor()
    return cohort.create(user, "KMS basics", labs, **fields)


def join(workshop, name, client=None):
    """A learner joining from a browser of their own: (client, response)."""
    client = client or Client()
    response = client.post("/join/", {"code": workshop.join_code, "display_name": name})
    return client, response


def joined(workshop, name):
    client, response = join(workshop, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client


def start(client, workshop, slug="encryption-context"):
    response = client.post(f"/workshops/{workshop.id}/labs/{slug}/start/")
    assert response.status_code == 302
    sandbox_id = re.search(r"/labs/runs/([0-9a-f-]+)/", response["Location"]).group(1)
    return LabRun.objects.get(pk=sandbox_id)
