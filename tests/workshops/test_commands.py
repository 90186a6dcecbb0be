"""manage.py instructor create / workshop create --json / list / purge."""
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from kmslab.workshops.models import Workshop

pytestmark = pytest.mark.django_db(transaction=True)


def test_instructor_create_with_a_password_and_the_prompt(capsys, monkeypatch):
    call_command("instructor", "create", "iris", "--password", "correct horse battery")
    assert get_user_model().objects.get(username="iris").check_password("correct horse battery")
    answers = iter(["another long secret", "another long secret"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("instructor", "create", "oscar")
    assert get_user_model().objects.get(username="oscar").check_password("another long secret")
    with pytest.raises(CommandError, match="exists already"):
        call_command("instructor", "create", "iris", "--password", "correct horse battery")
    with pytest.raises(CommandError, match="too short|too common"):
        call_command("instructor", "create", "weak", "--password", "abc")


def test_workshop_create_json_gives_the_id_code_and_urls(capsys):
    call_command("instructor", "create", "iris", "--password", "correct horse battery")
    capsys.readouterr()
    call_command("workshop", "create", "--instructor", "iris", "--title", "Tuesday",
                 "--labs", "explicit-deny,encryption-context", "--json", "--base-url", "http://kms.example:8000")
    shown = json.loads(capsys.readouterr().out)
    w = Workshop.objects.get(pk=shown["id"])
    assert set(shown) == {"id", "join_code", "join_url", "dashboard_url"}
    assert shown["join_code"] == w.join_code and w.labs == ["explicit-deny", "encryption-context"]
    assert shown["join_url"] == "http://kms.example:8000/join/"
    assert shown["dashboard_url"] == f"http://kms.example:8000/instructor/workshops/{w.id}/"
    call_command("workshop", "list", "--json")
    assert json.loads(capsys.readouterr().out)[0]["join_code"] == w.join_code


def test_workshop_create_refuses_an_unknown_instructor_or_lab():
    with pytest.raises(CommandError, match="no instructor"):
        call_command("workshop", "create", "--instructor", "nobody", "--title", "T", "--labs", "explicit-deny")
    call_command("instructor", "create", "iris", "--password", "correct horse battery")
    with pytest.raises(CommandError, match="no lab nope"):
        call_command("workshop", "create", "--instructor", "iris", "--title", "T", "--labs", "nope")
