"""Console personas: alice owns a sandbox and acts in it; mallory is another learner in another browser."""
import pytest
from .personas import new_learner


@pytest.fixture
def alice(transactional_db):
    return new_learner("alice's sandbox")


@pytest.fixture
def mallory(transactional_db):
    return new_learner("mallory's sandbox")

