"""A workshop end to end in Django's test client: create, join, start a lab, meet an objective, see it."""
import pytest

from kmslab.workshops import dashboard

from ..labs.test_consumers import fix_bob
from .people import instructor, joined, logged_in, start, workshop

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_learner_joins_starts_a_lab_and_the_dashboard_shows_the_objective_met():
    iris = instructor()
    w = workshop(iris)
    alice = joined(w, "alice")
    page = alice.get(f"/workshops/{w.id}/").content.decode()
    assert "encryption-context" in page and "Your personal resume link" in page
    run = start(alice, w)
    assert run.learner.display_name == "alice"
    assert fix_bob(run).error is None
    board = logged_in(iris).get(f"/instructor/workshops/{w.id}/")
    assert board.status_code == 200
    html = board.content.decode()
    assert 'data-learner="alice" data-lab="encryption-context" data-objective="bob-acme-only" data-done="true"' in html
    assert 'data-objective="bob-decrypts-acme" data-done="false"' in html
    assert dashboard.rows(w)[run.learner_id][("cell", "encryption-context", "bob-acme-only")]
