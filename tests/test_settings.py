"""Production mode: an https KMSLAB_BASE_URL (the README's workshop behind a TLS proxy) turns on
Secure cookies, HSTS and the https redirect, and Django's deployment check comes out clean."""
import asyncio
import os
import secrets
import subprocess
import sys
import time

import pytest
from channels_redis.core import RedisChannelLayer

from .api.live import ROOT
from .sandboxes.test_workshop_scale import REDIS, needs_redis

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


@pytest.mark.redis
@needs_redis
async def test_the_redis_channel_layer_takes_a_burst_of_broadcasts_and_a_quiet_spell():
    import redis

    from kmslab.settings import redis_channel_layer

    url = REDIS.rsplit("/", 1)[0] + "/6"
    redis.Redis.from_url(url).flushdb()
    layer = RedisChannelLayer(**redis_channel_layer(url)["CONFIG"])
    channel = await layer.new_channel()
    await layer.group_add("listeners", channel)
    # More at once than redis-py 8's default pool of 100 connections allows.
    await asyncio.gather(*(layer.group_send(f"nobody-{i}", {"type": "x"}) for i in range(300)))
    # Longer than channels-redis's 5 s blocking read, which redis-py 8's default 5 s socket timeout cut short.
    receiving = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(6)
    await layer.group_send("listeners", {"type": "x", "n": 1})
    assert (await asyncio.wait_for(receiving, 5))["n"] == 1
    await layer.flush()


def test_workers_starting_at_once_on_a_new_var_dir_share_one_secret_key(tmp_path):
    # Each start of the settings on an empty var/ creates the key; racing ones must all read the same, whole.
    # Each process imports first, then reads the settings at the same moment as the others.
    at = time.time() + 3
    code = ("import time; import django.conf, django.db, kmslab.sandboxes.master_key; "
            f"time.sleep(max(0, {at} - time.time())); print(django.conf.settings.SECRET_KEY)")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("KMSLAB_")},
           "KMSLAB_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "kmslab.settings"}
    starts = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    keys = [start.communicate(timeout=60) for start in starts]
    assert all(start.returncode == 0 for start in starts), [err for _, err in keys if err][:1]
    assert len({out.strip() for out, _ in keys}) == 1 and len(keys[0][0].strip()) == 64
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
