"""Production mode: an https KMSLAB_BASE_URL (the README's workshop behind a TLS proxy) turns on
Secure cookies, HSTS and the https redirect, and Django's deployment check comes out clean."""
import os
import secrets
import subprocess
import sys

from .api.live import ROOT

WORKSHOP = {
    "KMSLAB_BASE_URL": "https://kms.example.edu",
    "KMSLAB_SECRET_KEY": secrets.token_urlsafe(50),
    "KMSLAB_DATABASE_URL": "postgres://kmslab@db/kmslab",
    "KMSLAB_REDIS_URL": "redis://cache:6379/0",
}


def check_deploy(var_dir, **env):
    """`manage.py check --deploy`, failing on warnings too: (exit status, what it printed)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("KMSLAB_")}, "KMSLAB_VAR_DIR": str(var_dir), **env}
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def test_the_readmes_workshop_settings_pass_djangos_deployment_check(tmp_path):
    status, said = check_deploy(tmp_path, **WORKSHOP)
    assert status == 0, said
    assert "System check identified no issues" in said


def test_make_runs_plain_http_is_not_production_and_the_deployment_check_says_so(tmp_path):
    # `make run` serves http://127.0.0.1:8000: Secure cookies or an https redirect would lock the learner out.
    status, said = check_deploy(tmp_path, **{**WORKSHOP, "KMSLAB_BASE_URL": "http://127.0.0.1:8000"})
    assert status != 0
    for warning in ("W004", "W008", "W012", "W016"):  # no HSTS, no SSL redirect, session and CSRF cookies not Secure
        assert f"security.{warning}" in said
