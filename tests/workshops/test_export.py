"""Progress exports as CSV and JSON, from the page and manage.py: learner, lab, objective, done, time, hints, denials."""
import csv
import io
import json

import pytest
from django.core.management import call_command

from kmslab.labs import catalog, runs

from ..labs.test_consumers import fix_bob
from ..labs.test_views import call_as
from .people import instructor, joined, logged_in, start, workshop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def room():
    iris = instructor()
    w = workshop(iris)
    alice, bob = joined(w, "alice"), joined(w, "=HYPERLINK(1)")
    run = start(alice, w)
    alice.post(f"/labs/runs/{run.sandbox_id}/hints/bob-acme-only/")
    alice.post(f"/labs/runs/{run.sandbox_id}/hints/bob-acme-only/")
    call_as(run, "bob", "ListKeys")
    call_as(run, "bob", "ListKeys")
    assert fix_bob(run).error is None
    runs.evaluate(run)
    return iris, w, run


def test_the_json_export_has_a_row_per_learner_lab_and_objective(room):
    iris, w, run = room
    response = logged_in(iris).get(f"/instructor/workshops/{w.id}/progress.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    rows = json.loads(response.content)
    objectives = sum(len(catalog.get(slug).objectives) for slug in w.labs)
    assert len(rows) == 2 * objectives
    met = next(r for r in rows if r["learner"] == "alice" and r["objective"] == "bob-acme-only")
    assert met["lab"] == "encryption-context" and met["done"] is True and met["time_done"]
    assert met["hints_used"] == 2 and met["denied_calls"] == 2
    untouched = next(r for r in rows if r["learner"] == "=HYPERLINK(1)" and r["lab"] == "explicit-deny")
    assert untouched == {**untouched, "done": False, "time_done": None, "hints_used": 0, "denied_calls": 0}


def test_the_csv_export_from_the_page_and_the_command_agree_and_keep_formulas_out(room, capsys):
    iris, w, run = room
    response = logged_in(iris).get(f"/instructor/workshops/{w.id}/progress.csv")
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    page = response.content.decode()
    call_command("workshop", "export", str(w.id), "--format", "csv")
    assert capsys.readouterr().out == page
    rows = list(csv.DictReader(io.StringIO(page)))
    assert list(rows[0]) == ["learner", "lab", "objective", "done", "time_done", "hints_used", "denied_calls"]
    assert {r["learner"] for r in rows} == {"alice", "'=HYPERLINK(1)"}
    met = next(r for r in rows if r["learner"] == "alice" and r["objective"] == "bob-acme-only")
    assert met["done"] == "true" and met["denied_calls"] == "2"
    call_command("workshop", "export", str(w.id), "--format", "json")
    assert json.loads(capsys.readouterr().out)[0]["learner"] in ("alice", "=HYPERLINK(1)")


def test_another_format_is_not_found(room):
    iris, w, run = room
    assert logged_in(iris).get(f"/instructor/workshops/{w.id}/progress.xml").status_code == 404
