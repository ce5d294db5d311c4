"""Marks in a learner's app output, asked of boot.py through the container's control socket.

The harness marks where each test starts and ends, a live app where each request does; a mark
lands in the output after everything the app printed before it (see sandbox/container/boot.py).
Plain Python: no pytest, so that the engine may use it outside the harness.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
from pathlib import Path

MARK_TIMEOUT = 1.0  # for boot.py to answer a mark


class Marks:
    """Ask the app's container for marks in its output, through its control socket."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.connection: socket.socket | None = None
        self.broken = path is None

    def mark(self) -> str | None:
        """Return the token of a mark now in the app's output, or None if none could be made."""
        if self.broken:
            return None
        token = secrets.token_hex(8)
        try:
            if self.connection is None:
                self.connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.connection.settimeout(MARK_TIMEOUT)
                self.connection.connect(str(self.path))
            self.connection.sendall(f"mark {token}\n".encode())
            answer = b""
            while not answer.endswith(b"\n") and len(answer) < 16:
                data = self.connection.recv(16)
                if not data:
                    break
                answer += data
            if answer != b"ok\n":
                raise OSError("no answer from the control socket")
        except OSError:
            # The app broke the control socket: its output can no longer be told apart.
            self.broken = True
            self.close()
            return None
        return token

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError):
                self.connection.close()
            self.connection = None
