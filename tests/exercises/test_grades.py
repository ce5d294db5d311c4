"""What a submission counts for under each late policy (exercises.grades)."""

from __future__ import annotations

import pytest

from exercises.grades import counted_score
from exercises.models import LatePolicy


@pytest.mark.parametrize(
    ("score", "max_score", "late", "policy", "penalty", "expected"),
    [
        (4, 6, False, LatePolicy.IGNORE, 50, 4.0),  # on time: every policy counts it in full
        (4, 6, False, LatePolicy.PENALTY, 50, 4.0),
        (4, 6, True, LatePolicy.COUNT, 50, 4.0),
        (4, 6, True, LatePolicy.IGNORE, 0, None),
        (4, 6, True, LatePolicy.PENALTY, 25, 3.0),
        (5, 6, True, LatePolicy.PENALTY, 10, 4.5),
        (4, 6, True, LatePolicy.PENALTY, 0, 4.0),
        (4, 6, True, LatePolicy.PENALTY, 100, 0.0),
        (4, 6, True, LatePolicy.PENALTY, 150, 0.0),  # clamped to 100 %
        (4, 6, True, LatePolicy.PENALTY, -20, 4.0),  # clamped to 0 %
        (None, 6, False, LatePolicy.COUNT, 0, None),  # never graded
        (7, 6, False, LatePolicy.COUNT, 0, 6.0),  # never more than the maximum
    ],
)
def test_counted_score_follows_the_late_policy(score, max_score, late, policy, penalty, expected):
    assert counted_score(score, max_score, late, policy, penalty) == expected
