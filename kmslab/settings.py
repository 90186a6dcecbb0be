"""kmslab settings: one module, driven by environment variables.

The defaults need no network and no services: SQLite under var/, the
in-memory channel layer, a master key generated on first run. A workshop sets
KMSLAB_DATABASE_URL (PostgreSQL) and KMSLAB_REDIS_URL (channels-redis).
"""
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KMSLAB_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(exist_ok=True)


def envbool(name, default="0"):
    return os.environ.get(name, default).lower() in ("1", "true", "yes", "on")


def _secret_key():
    # Django's signing key, kept beside the master key so sessions survive restarts;
    # created as the master key is, so workers starting at once all read the one key.
    from kmslab.sandboxes.master_key import create_once

    path = VAR_DIR / "secret.key"
    if not path.exists():
        create_once(path, os.urandom(32).hex().encode())
    return path.read_text().strip()


SECRET_KEY = os.environ.get("KMSLAB_SECRET_KEY") or _secret_key()
DEBUG = envbool("KMSLAB_DEBUG")

# Where learners reach the site: the console links that `manage.py sandbox` prints start here.
KMSLAB_BASE_URL = os.environ.get("KMSLAB_BASE_URL", "http://127.0.0.1:8000")
_base = urlsplit(KMSLAB_BASE_URL)
# The site's own origin, as a browser sends it in Origin: the CSRF check and the websockets' origin check accept it.
KMSLAB_ORIGIN = f"{_base.scheme}://{_base.netloc}"
ALLOWED_HOSTS = os.environ.get("KMSLAB_ALLOWED_HOSTS", f"127.0.0.1,localhost,testserver,{_base.hostname}").split(",")
CSRF_TRUSTED_ORIGINS = [KMSLAB_ORIGIN]

# Production mode: an https base URL means a TLS-terminating proxy in front (the
# README's workshop deployment). The proxy talks plain http to the ASGI workers
# and says so in X-Forwarded-Proto (which it must set, overwriting whatever the
# browser sent); without trusting it, Django takes every request for http and
# refuses each form's `Origin: https://…`.
if _base.scheme == "https":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("KMSLAB_HSTS_SECONDS", 60 * 60 * 24 * 365))
    # Covers only the names under kmslab's own host (kms.example.edu's, not example.edu's).
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# HSTS preloading is for a registered domain's apex, submitted to the browsers'
# list by its owner (hstspreload.org); a host serving kmslab cannot qualify alone.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# /healthz answers the proxy's and the orchestrator's plain-http probes.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

KMSLAB_MASTER_KEY_FILE = Path(os.environ.get("KMSLAB_MASTER_KEY_FILE", VAR_DIR / "master.key"))
KMSLAB_ALLOW_ANY_CREDENTIALS = envbool("KMSLAB_ALLOW_ANY_CREDENTIALS")
# How long a console link (`sandbox create`, `labs start`) can be opened; a reset or a delete ends it sooner.
KMSLAB_CLAIM_LINK_HOURS = float(os.environ.get("KMSLAB_CLAIM_LINK_HOURS", 24))
# Sandboxes, claims and lab runs one client address may make a minute (a classroom behind one NAT shares it).
KMSLAB_CREATE_RATE = int(os.environ.get("KMSLAB_CREATE_RATE", 60))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "channels",
    "kmslab.sandboxes",
    "kmslab.console",
    "kmslab.labs",
    "kmslab.workshops",
]

# WhiteNoise's middleware is sync-only, and it comes last on purpose: under
# ASGI, Django then runs the whole chain synchronously in one thread hop.
# Anywhere else it splits the chain, and every middleware in the async part
# hops to a thread and back for its process_request and process_response
# (/healthz took about 5 ms of CPU under daphne that way, 2.7 ms this way).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kmslab.lean_forms.LeanFormMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kmslab.security.ContentSecurityPolicyMiddleware",
    "kmslab.security.CreationRateLimitMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
]

ROOT_URLCONF = "kmslab.urls"
ASGI_APPLICATION = "kmslab.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("KMSLAB_DATABASE_URL", f"sqlite:///{VAR_DIR / 'kmslab.sqlite3'}"),
        conn_max_age=600,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock
    # at BEGIN, so two writers queue instead of failing with "database is locked".
    # Every call commits; in WAL mode with synchronous=NORMAL a commit does not
    # fsync, a checkpoint does (two of them). Checkpointing every 10,000 pages
    # (a WAL of up to 40 MB) instead of 1,000 leaves a tenth of those stalls: on
    # a busy disk they were most of a call's time (scripts/bench_core.py).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=10000;",
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI each request runs on a thread of its own, and a persistent
    # connection per thread piles up until PostgreSQL refuses more ("too many
    # clients"): a 500. A pool per worker caps them (Django's advice for ASGI);
    # a request waits for a free connection instead. Workers x KMSLAB_DB_POOL
    # must stay under the server's max_connections (100 by default).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "pool": {"min_size": 2, "max_size": int(os.environ.get("KMSLAB_DB_POOL", "20")), "timeout": 30}}


def redis_channel_layer(url):
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # channels-redis blocks 5 s per read, redis-py 8 times a socket out
        # after 5 s by default: a quiet websocket would close with 1011
        # (redis/redis-py#4091). A longer timeout still notices a dead Redis.
        # redis-py 8's pool refuses a 101st connection at once (MaxConnectionsError,
        # a 1011 too): a busy worker's burst of broadcasts, each a few round
        # trips, needs more; Redis serves 10,000 clients by default.
        "CONFIG": {"hosts": [{"address": url, "socket_timeout": 15, "max_connections": 1000}], "capacity": 10000},
    }


if os.environ.get("KMSLAB_REDIS_URL"):
    CHANNEL_LAYERS = {"default": redis_channel_layer(os.environ["KMSLAB_REDIS_URL"])}
    # The rate limits' counters (security.py), shared by every worker.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ["KMSLAB_REDIS_URL"], "KEY_PREFIX": "kmslab"}}
else:
    # The default capacity of 100 silently drops bursts (perf-baseline §4).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 10000}}}

# Instructors are Django users; learners have no account (console/learner.py).
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/instructor/"
LOGOUT_REDIRECT_URL = "/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed join codes and logins one client address may try in ten minutes.
KMSLAB_GUESS_RATE = int(os.environ.get("KMSLAB_GUESS_RATE", 20))

SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
CSRF_COOKIE_HTTPONLY = False

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Filled only by collectstatic (a proxy may serve it); WhiteNoise warns at every start if it is missing.
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KMSLAB_LOG_LEVEL", "WARNING")},
    # What outlives the records it is about: a deleted workshop takes its Action log with it.
    "loggers": {"kmslab.audit": {"level": "INFO"}},
}
