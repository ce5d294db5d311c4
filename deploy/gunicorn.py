"""gunicorn's settings in the image, overridable with GUNICORN_* environment variables."""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# An API request that waits for its grading (?wait=1) holds a thread for up to a minute.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "90"))
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
# The proxy in front talks to us over the compose network only.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")
