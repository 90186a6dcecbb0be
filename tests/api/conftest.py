"""Fixtures: the live servers (as shipped, and with KMSLAB_ALLOW_ANY_CREDENTIALS on), sandboxes, clients."""
import pytest

from .live import Server, client_factory


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    """Two servers on one database: as shipped, and with KMSLAB_ALLOW_ANY_CREDENTIALS on."""
    var_dir = tmp_path_factory.mktemp("kmslab")
    Server.migrate_database(var_dir)
    running = [Server(var_dir), Server(var_dir, KMSLAB_ALLOW_ANY_CREDENTIALS="1")]
    yield running
    for server in running:
        server.stop()


@pytest.fixture(scope="session")
def server(servers):
    return servers[0].wait_until_ready()


@pytest.fixture(scope="session")
def open_server(servers):
    return servers[1].wait_until_ready()


@pytest.fixture(scope="session")
def sandboxes(servers):
    """Fresh sandboxes, each with accounts 111122223333 and 444455556666, and in each a user admin
    with an access key: one most tests share, one whose clock a test moves, one for the fuzz."""
    main, clock, fuzz = servers[0].create_sandboxes(3)
    return {"main": main, "clock": clock, "fuzz": fuzz}


@pytest.fixture(scope="session")
def sandbox(sandboxes):
    return sandboxes["main"]


@pytest.fixture(scope="session")
def alice(server, sandbox):
    """boto3 clients as the admin of account 111122223333."""
    return client_factory(server.url, sandbox["principals"][0])


@pytest.fixture(scope="session")
def bob(server, sandbox):
    """boto3 clients as the admin of account 444455556666."""
    return client_factory(server.url, sandbox["principals"][1])
