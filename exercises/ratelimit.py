"""How often a learner may submit: one grading at a time, and a token bucket per exercise.

Two rules, both enforced when a submission is made (`exercises.services.submission_create`
asks `submission_allowance`, then records the charge with `submission_charge`) and both
shown on the exercise page before the learner presses the button (`submission_allowance`).
Nothing here creates a submission:

- **One at a time.** A learner has at most one submission queued or running, across all
  exercises. This is a database check, made (by `submission_create`) while the learner's row
  is locked, so two requests sent at once cannot both pass it.
- **A token bucket per learner and exercise** (capacity 3, one token back every 20 s): a
  learner can resubmit right after a result three times in a row, then once every 20 s.
  The bucket lives in Django's cache. When it is lost (a cache restart, eviction) it counts
  as full, which only ever lets a learner submit sooner; the one-at-a-time rule still holds.

Not gradable submissions are free. A submission whose verdict is "error" (the app could not
be started or graded: a syntax error, a missing entry point, a grader problem) gets its
token back, and it is not numbered as an attempt on the exercise page (see
`exercises.attempts.learner_attempts`). The refund is settled lazily: the bucket remembers
which submissions it charged, and the next check looks up how they ended. Since a learner
cannot submit while a submission is still being graded, every charge is settled by the time
it matters. A "timeout" is the app's doing (a loop, a slow start) and costs its token.

The cache must be shared by all web processes for the bucket to be exact (Redis in
production); with a per-process cache each process keeps its own bucket, which is looser
but never stricter.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from exercises.models import Submission, Verdict

# Charges older than this many are dropped unsettled: a bound on the cached state.
MAX_CHARGES = 20


@dataclass(frozen=True)
class TokenBucket:
    """A bucket of `capacity` tokens; a token comes back every `refill_seconds`."""

    capacity: int = 3
    refill_seconds: float = 20.0

    @property
    def full_after(self) -> float:
        """Return how long an untouched bucket takes to fill up from empty, in seconds."""
        return self.capacity * self.refill_seconds


SUBMIT_BUCKET = TokenBucket()


@dataclass(frozen=True)
class Allowance:
    """Whether a learner may submit to an exercise now, and if not, why and for how long."""

    allowed: bool
    wait_seconds: int = 0  # until the bucket has a token again; 0 when that is not the reason
    active: Submission | None = None  # the learner's submission still being graded
    tokens: int = 0  # submissions possible right now, ignoring `active`

    @property
    def message(self) -> str:
        if self.active is not None:
            return (
                f"Your submission #{self.active.pk} is still being graded. "
                "You can submit again as soon as it is done."
            )
        if self.wait_seconds:
            return f"Next submission possible in {self.wait_seconds} s."
        return ""


class SubmissionLimited(Exception):
    """A submission was refused by a rate limit; the message says when to try again."""

    def __init__(self, allowance: Allowance) -> None:
        super().__init__(allowance.message)
        self.allowance = allowance

    @property
    def retry_after(self) -> int:
        """Return a number of seconds for a Retry-After header (at least 1)."""
        return max(1, self.allowance.wait_seconds)


def submission_allowance(
    *, learner, exercise, bucket: TokenBucket = SUBMIT_BUCKET, now: float | None = None
) -> Allowance:
    """Say whether a learner may submit to an exercise now (reading, changing nothing)."""
    now = time.time() if now is None else now
    state = _settled(_load(learner.pk, exercise.pk), bucket, now)
    return _allowance(learner, state, bucket)


def submission_charge(
    *,
    learner,
    exercise,
    submission: Submission,
    bucket: TokenBucket = SUBMIT_BUCKET,
    now: float | None = None,
) -> None:
    """Take a token from the learner's bucket for a submission just made.

    The charge is remembered, so that the token comes back if the submission turns out
    not gradable. Call it in the transaction that saved the submission, after
    `submission_allowance` said yes.
    """
    now = time.time() if now is None else now
    state = _settled(_load(learner.pk, exercise.pk), bucket, now)
    state["tokens"] -= 1
    state["charges"] = [*state["charges"], submission.pk][-MAX_CHARGES:]
    _store(learner.pk, exercise.pk, state, bucket)


# The bucket's state -------------------------------------------------------------------


def _key(learner_id: int, exercise_id: int) -> str:
    return f"exercises:submit-bucket:{learner_id}:{exercise_id}"


def _load(learner_id: int, exercise_id: int) -> dict[str, Any] | None:
    return cache.get(_key(learner_id, exercise_id))


def _store(learner_id: int, exercise_id: int, state: dict[str, Any], bucket: TokenBucket) -> None:
    # Once the bucket has had time to fill up it is full whatever it held, so it can expire
    # then; pending charges are settled long before (a grading takes a minute at most).
    timeout = math.ceil(bucket.full_after) + 60
    cache.set(_key(learner_id, exercise_id), state, timeout)


def _settled(state: dict[str, Any] | None, bucket: TokenBucket, now: float) -> dict[str, Any]:
    """Return the bucket at `now`: refilled for the time passed, refunds of charges applied."""
    if state is None:
        return {"tokens": float(bucket.capacity), "at": now, "charges": []}
    tokens = float(state.get("tokens", bucket.capacity))
    elapsed = max(0.0, now - float(state.get("at", now)))
    tokens = min(float(bucket.capacity), tokens + elapsed / bucket.refill_seconds)
    charges = [int(pk) for pk in state.get("charges", [])]
    pending = []
    if charges:
        ended = dict(
            Submission.objects.filter(pk__in=charges, state=Submission.State.DONE).values_list(
                "pk", "verdict"
            )
        )
        existing = set(Submission.objects.filter(pk__in=charges).values_list("pk", flat=True))
        for pk in charges:
            if pk in ended:
                if ended[pk] == Verdict.ERROR:
                    tokens = min(float(bucket.capacity), tokens + 1)
            elif pk in existing:
                pending.append(pk)
    return {"tokens": tokens, "at": now, "charges": pending}


def _allowance(learner, state: dict[str, Any], bucket: TokenBucket) -> Allowance:
    tokens = state["tokens"]
    active = (
        Submission.objects.filter(learner=learner)
        .active()
        .filter(regrade__isnull=True)  # an instructor's regrade does not hold the learner up
        .select_related("exercise")
        .defer("result")
        .order_by("created")
        .first()
    )
    # A small epsilon: float sums of refills must not leave 0.9999999 of a token.
    wait = 0 if tokens >= 1 - 1e-9 else math.ceil((1 - tokens) * bucket.refill_seconds)
    return Allowance(
        allowed=active is None and wait == 0,
        wait_seconds=wait,
        active=active,
        tokens=max(0, math.floor(tokens + 1e-9)),
    )


__all__ = [
    "SUBMIT_BUCKET",
    "Allowance",
    "SubmissionLimited",
    "TokenBucket",
    "submission_allowance",
    "submission_charge",
]
