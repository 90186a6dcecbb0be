"""Two workers on one database: credentials made through one, or by a command, work at once on the other.

Each worker keeps the last world it committed and runs the next call on it
(kmslab/sandboxes/runner.py), so these run real processes on SQLite and on
PostgreSQL (skipped without one, as the workshop-scale tests are).
"""
import json

import pytest
from botocore.exceptions import ClientError

from tests.sandboxes.test_workshop_scale import needs_postgres, postgres_url  # noqa: F401 (a fixture)

from .live import Server, client_factory

pytestmark = pytest.mark.live


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, needs_postgres])])
def workers(request, tmp_path_factory):
    """Two servers as shipped, sharing one database and one master key."""
    var_dir = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        Server.migrate_database(var_dir)
        database = {}
    else:
        database = {"KMSLAB_DATABASE_URL": request.getfixturevalue("postgres_url")}
    running = [Server(var_dir, **database), Server(var_dir, **database)]
    yield [server.wait_until_ready() for server in running]
    for server in running:
        server.stop()


@pytest.fixture(scope="module")
def sandboxes(workers):
    """Two fresh sandboxes: one the tests share, one a test resets."""
    shared, to_reset = workers[0].create_sandboxes(2)
    return {"shared": shared, "to_reset": to_reset}


@pytest.fixture(scope="module")
def sandbox(sandboxes):
    return sandboxes["shared"]


def admin_on(server, sandbox):
    """boto3 clients as the admin of account 111122223333, through this server."""
    return client_factory(server.url, sandbox["principals"][0])


def test_a_reset_sandboxs_new_keys_work_at_their_first_call(workers, sandboxes):
    first, _ = workers
    created = sandboxes["to_reset"]
    old = admin_on(first, created)
    old("sts").get_caller_identity()  # the worker now holds this world

    reset = json.loads(first.manage("sandbox", "reset", created["id"], "--json"))

    for principal in reset["principals"]:
        assert client_factory(first.url, principal)("sts").get_caller_identity()["Arn"] == principal["arn"]
    with pytest.raises(ClientError) as refused:
        old("sts").get_caller_identity()
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_an_access_key_made_through_one_worker_works_at_once_on_the_other(workers, sandbox):
    first, second = workers
    admin_on(second, sandbox)("sts").get_caller_identity()  # the second worker holds the world as it is now

    made = admin_on(first, sandbox)("iam").create_access_key(UserName="admin")["AccessKey"]
    through_second = client_factory(second.url, None)(
        "kms", aws_access_key_id=made["AccessKeyId"], aws_secret_access_key=made["SecretAccessKey"]
    )

    assert "Keys" in through_second.list_keys()


def test_a_session_made_through_one_worker_works_at_once_on_the_other(workers, sandbox):
    first, second = workers
    admin_on(second, sandbox)("sts").get_caller_identity()

    session = admin_on(first, sandbox)("sts").get_session_token()["Credentials"]
    through_second = client_factory(second.url, None)(
        "sts", aws_access_key_id=session["AccessKeyId"], aws_secret_access_key=session["SecretAccessKey"],
        aws_session_token=session["SessionToken"],
    )

    assert through_second.get_caller_identity()["Arn"] == sandbox["principals"][0]["arn"]
