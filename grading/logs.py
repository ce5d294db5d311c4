"""Log lines that say which grading they belong to, as JSON objects or as text.

The grading path binds what it knows (the submission, the broker's job id, the exercise, the
grading host) with `bound`; `ContextFilter`, on the log handler, copies it onto every record
logged meanwhile, whichever logger wrote it — the engine's included, which knows no ids.
`json_formatter` writes one JSON object per line: time, level, logger, message and those
fields where they are known. Plain logging, no Django, so a grading host can use it alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from pythonjsonlogger.json import JsonFormatter

# What a log line may say about the grading (or the run) it belongs to; nothing else is bound.
FIELDS = ("submission_id", "job_id", "run_id", "exercise", "host")

_context: ContextVar[MappingProxyType[str, Any]] = ContextVar(
    "grading_log_context", default=MappingProxyType({})
)


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add `fields` (of FIELDS) to every log record made inside the block, in this context."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a log context field: {', '.join(sorted(unknown))}")
    known = {key: value for key, value in fields.items() if value is not None}
    token = _context.set(MappingProxyType({**_context.get(), **known}))
    try:
        yield
    finally:
        _context.reset(token)


def current() -> dict[str, Any]:
    """Return the fields bound here and now."""
    return dict(_context.get())


class ContextFilter(logging.Filter):
    """Copy the bound fields onto each record, unless the call gave its own (`extra=`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def json_formatter() -> logging.Formatter:
    """Return a formatter writing each record as one JSON object on one line.

    Keys: time (ISO 8601, UTC), level, logger, message, then whatever the record carries
    beyond the standard attributes (the bound fields, `extra=`), and exc_info for a traceback.
    """
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )
