"""Fixtures: one live server for the session, a sandbox on it, and its two admins' clients."""
import pytest

from .live import Server, client_factory


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("kmslab"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def sandbox(server):
    """A fresh sandbox: accounts 111122223333 and 444455556666, each with user admin and a key."""
    return server.create_sandbox()


@pytest.fixture(scope="session")
def alice(server, sandbox):
    """boto3 clients as the admin of account 111122223333."""
    return client_factory(server.url, sandbox["principals"][0])


@pytest.fixture(scope="session")
def bob(server, sandbox):
    """boto3 clients as the admin of account 444455556666."""
    return client_factory(server.url, sandbox["principals"][1])
