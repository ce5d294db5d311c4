"""Which "not gradable" results are the grading server's fault rather than the learner's app.

A result with the verdict "error" may mean the learner's app would not start (their fault,
shown to them as such) or that the engine or the site failed (the sandbox did not start, the
grader crashed, the result was not saved, grading was given up after retries). The message
the learner was shown tells them apart; /metrics and the operations page both read it here.
"""

from __future__ import annotations

from collections.abc import Callable

from exercises import services
from sandbox import runner

# Error verdicts that are the grading server's fault, by the message the learner was shown.
ENGINE_FAULTS: dict[str, Callable[[str], bool]] = {
    "sandbox_start": lambda message: message == runner.SANDBOX_START_FAILED,
    "grader_failed": lambda message: message == runner.GRADER_FAILED,
    "not_saved": lambda message: message == services.UNSAVED_MESSAGE,
    "gave_up": lambda message: message.startswith(services.GAVE_UP_MESSAGE.split("{")[0]),
}


def engine_fault(message: object) -> str | None:
    """Return the kind of engine fault an error result's message names, or None."""
    if not isinstance(message, str):
        return None
    for kind, matches in ENGINE_FAULTS.items():
        if matches(message):
            return kind
    return None
