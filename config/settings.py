"""Settings for the course site, read from the environment.

Defaults give a working development site on SQLite with a local Redis; README's "Serving a
class" lists what to set for production (DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, ...).
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from grading.jobs import RESULT_TASKS
from sandbox.config import default_host_id, default_run_dir

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Optional (a missing file is fine); variables already in the environment win over the file.
env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)
# Public, so it signs nothing that matters: only a DEBUG site on a developer's machine uses it.
DEV_SECRET_KEY = "dev-only-insecure-key-change-me"  # noqa: S105 (public by design)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY in ("", DEV_SECRET_KEY):
    raise ImproperlyConfigured(
        "DEBUG is off but SECRET_KEY is not set (or is the public development key), so anyone "
        "could forge sessions and signed cookies. Set SECRET_KEY to a long random value in the "
        "environment or in .env, e.g. the output of: python3 -c 'import secrets; "
        "print(secrets.token_urlsafe(50))' (scripts/up writes one to .env on its first run)."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "markdownx",
    "accounts",
    "courses",
    "lessons",
    "exercises",
    "search",
    "playground",
    "progress",
    "authoring",
    "config",  # its ready() hands the grading engine these settings (config/apps.py)
]

MIDDLEWARE = [
    # First: /healthz and /readyz answer a probe by address over plain HTTP (config/health.py).
    "config.health.ProbeMiddleware",
    "config.metrics.RequestLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "courses.context_processors.teaching",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# Reusing connections saves ~1 ms a request; health checks drop ones the server closed.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A server that does not answer fails a request (and /readyz) in seconds, not minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a grading worker writes a result.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
    # A file (not :memory:) so a real Celery worker started by a test can share the test database;
    # the pid keeps concurrent test runs apart.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Per-process memory by default; set CACHE_URL=redis://host:port/1 when several web processes
# serve the site, so that submission rate limits are shared between them (scripts/up does).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://webcourse")}
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # One cached lesson body and course menu per lesson; room for large courses.
    CACHES["default"]["OPTIONS"] = {"MAX_ENTRIES": 20000}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "courses:catalog"
LOGOUT_REDIRECT_URL = "courses:catalog"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# A folder upload in the exercise page sends one part per file (the sandbox allows 200 files).
DATA_UPLOAD_MAX_NUMBER_FILES = 250

MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

# Security headers. The CSP allows only our own scripts and styles; lesson HTML is
# sanitized by nh3 before it is stored, so no inline script can reach a page.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
BEHIND_HTTPS_PROXY = env.bool("BEHIND_HTTPS_PROXY", default=False)
if BEHIND_HTTPS_PROXY:
    # The proxy terminates TLS; trust its header so absolute URLs (API answers) say https.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# How many proxies in front of the site append the client's address to X-Forwarded-For. The
# per-address throttles count the address that many entries from the right; with 0 they use
# the connection's own address, since anyone can send an X-Forwarded-For header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if BEHIND_HTTPS_PROXY else 0)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Without DEBUG the site is served over HTTPS (README: "Serving a class"): plain-HTTP requests
# are redirected, and browsers are told to use HTTPS only for a year.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
# Both reach beyond this site (every subdomain; browsers' built-in lists), so they are the
# domain owner's decision, off unless set; `check --deploy` need not nag about them.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The nonce reaches the header only on pages that read request.csp_nonce (the editor).
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:", "https:"],  # lessons may show images hosted elsewhere
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Markdown authoring (django-markdownx). The upload and preview endpoints are
# wrapped in staff-only views in lessons/markdownx_urls.py.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "lessons.markdown.render_markdown"
MARKDOWNX_UPLOAD_CONTENT_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]
MARKDOWNX_SVG_JAVASCRIPT_PROTECTION = True
MARKDOWNX_UPLOAD_MAX_SIZE = 2 * 1024 * 1024
MARKDOWNX_MEDIA_PATH = "lesson-images/"
MARKDOWNX_IMAGE_MAX_SIZE = {"size": (1600, 1600), "quality": 90}

# Celery: Redis is the broker; the database row of a submission is the source of truth.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Grading jobs go to the grading hosts (grading.worker) on "grading"; what they report comes
# back on "results" to the site's worker, which also serves "celery" (the periodic tasks).
CELERY_TASK_ROUTES = {
    "grading.grade": {"queue": "grading"},
    **{name: {"queue": "results"} for name in RESULT_TASKS},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 600)}
CELERY_WORKER_CONCURRENCY = env.int("SITE_WORKER_CONCURRENCY", default=2)
# Often enough that a grading host that died is noticed within seconds of its last heartbeat
# (grading.hosts.LOST_AFTER_SECONDS); a sweep is two small queries when nothing is stuck.
GRADING_SWEEP_SECONDS = env.float("GRADING_SWEEP_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-submissions": {"task": "exercises.tasks.sweep", "schedule": GRADING_SWEEP_SECONDS},
    "prune-old-archives": {"task": "exercises.tasks.prune_archives", "schedule": 6 * 3600.0},
}

# Abuse limits on accounts, per client address (see TRUSTED_PROXY_COUNT) and per username.
# A class behind one school NAT shares an address: raise SIGNUPS_PER_IP for its first lesson.
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=10)
LOGIN_FAILURES_PER_USERNAME = env.int("LOGIN_FAILURES_PER_USERNAME", default=10)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=5 * 60)  # seconds
SIGNUPS_PER_IP = env.int("SIGNUPS_PER_IP", default=5)
SIGNUP_WINDOW = env.int("SIGNUP_WINDOW", default=60 * 60)  # seconds
# API requests that may wait for their grading (?wait=1) at once, site-wide: each holds a web
# thread for up to a grading's time limit. Past it the API answers 202 at once.
API_WAIT_SLOTS = env.int("API_WAIT_SLOTS", default=4)
# The zips of done submissions older than this, other than each learner's latest and best on
# an exercise, are deleted (results and scores stay). 0 keeps every zip.
ARCHIVE_RETENTION_DAYS = env.int("ARCHIVE_RETENTION_DAYS", default=90)

# Sandbox. Limits live in sandbox.policy.SandboxPolicy; these only say where things are. The
# engine reads them through config/engine.py (it imports no Django); default_run_dir keeps a
# deeply nested checkout's run folder short enough for the apps' Unix sockets.
SANDBOX_RUN_DIR = Path(env.str("SANDBOX_RUN_DIR", default=str(default_run_dir(VAR_DIR))))
SANDBOX_BUILD_DIR = Path(env.str("SANDBOX_BUILD_DIR", default=str(VAR_DIR / "sandbox" / "build")))
SANDBOX_IMAGE = env.str("SANDBOX_IMAGE", default="")  # empty: the image built by sandbox_images
# The label on the containers started from this process (manage.py grade, benchmarks): a sweep
# removes only its own host's containers.
GRADING_HOST_ID = env.str("GRADING_HOST_ID", default=default_host_id())

COURSE_CONTENT_DIR = BASE_DIR / "content"

# Prometheus metrics at /metrics for a scraper sending "Authorization: Bearer <token>"; with
# no token set, /metrics does not exist (404). See README's "Observability".
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Logs go to stderr, as text (the default) or, with LOG_FORMAT=json, one JSON object per line
# for a log collector: time, level, logger, message, and the submission, job, exercise and
# grading host where the line belongs to a grading (grading/logs.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"grading_context": {"()": "grading.logs.ContextFilter"}},
    "formatters": {"json": {"()": "grading.logs.json_formatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["grading_context"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# A Celery worker replaces the root logger's handlers with its own text ones unless told not
# to; in JSON it keeps the handler above, so its own lines (task received, succeeded) are JSON.
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT == "text"

# In development gunicorn serves static files straight from the source folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# The editor's chunks (static/vendor/editor/chunks/) carry a hash of their content in their
# names, given by the bundler, and are imported by those names: cache them for good as well.
# The first alternative is Django's own hashed names (ManifestStaticFilesStorage).
WHITENOISE_IMMUTABLE_FILE_TEST = (
    r"\.[0-9a-f]{12}\.\w+$|/vendor/editor/chunks/[\w-]+-[A-Z0-9]{8}\.js$"
)
