"""Settings for benchmarks: the real settings plus a bare view to compare against."""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES

ROOT_URLCONF = "bench.urls"

# `bench/pages.py --conn-max-age N` tries persistent database connections
# without changing the site's own settings.
if "BENCH_CONN_MAX_AGE" in os.environ:
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["BENCH_CONN_MAX_AGE"])

# The benchmark serves plain HTTP on loopback, with no HTTPS proxy in front: with DEBUG off the
# site would redirect every request to https.
SECURE_SSL_REDIRECT = False
# For the same reason the session and CSRF cookies may travel over plain HTTP: bench/load.py's
# learners sign in over it, as a browser would not send a "Secure" cookie there.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
