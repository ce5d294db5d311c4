"""Exit 0 if the web server in this container answers PATH with 200, else 1 (compose's check).

    python -m deploy.healthcheck /readyz

The probe paths are answered before the host name and the scheme are checked (config/health.py),
so a plain request to gunicorn's own port is enough.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT = 5.0


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/readyz"
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rpartition(":")[2]
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
            status, body = answer.status, answer.read(4096)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(4096)
    except OSError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    print(f"{path}: {status} {body.decode(errors='replace').strip()}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
