"""What a graded submission counts for under its exercise's late policy: plain arithmetic.

The gradebook reads it; nothing here touches the database.
"""

from __future__ import annotations

from exercises.models import LatePolicy


def counted_score(
    score: int | None, max_score: int | None, late: bool, policy: str, penalty: int
) -> float | None:
    """Return the points a submission counts for, or None when it does not count.

    A submission without a score counts for nothing (None). One on time counts in full. A late
    one counts in full under LatePolicy.COUNT, not at all under IGNORE, and under PENALTY
    loses `penalty` percent of its score (0 to 100; a value outside is clamped). The result is
    never below 0 nor above `max_score` (when known).
    """
    if score is None:
        return None
    points = float(score)
    if late and policy == LatePolicy.IGNORE:
        return None
    if late and policy == LatePolicy.PENALTY:
        points *= (100 - min(max(penalty, 0), 100)) / 100
    if max_score is not None:
        points = min(points, float(max_score))
    return max(points, 0.0)
