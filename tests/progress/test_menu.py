from __future__ import annotations

from progress.menu import exercise_mark
from progress.services import ExerciseStatus


def test_a_passed_exercise_is_marked_with_a_tick_and_a_word():
    mark = exercise_mark(
        ExerciseStatus(passed=True, attempted=True, best_score=6, best_max_score=6)
    )

    assert mark == (
        ' · <span class="exercise-mark exercise-mark--passed">'
        '<span aria-hidden="true">✓</span> Passed</span>'
    )


def test_an_attempted_exercise_is_marked_with_its_best_score():
    mark = exercise_mark(ExerciseStatus(attempted=True, best_score=4, best_max_score=6))

    assert mark == ' · <span class="exercise-mark exercise-mark--attempted">Attempted 4/6</span>'


def test_an_attempt_not_graded_yet_is_marked_without_a_score():
    mark = exercise_mark(ExerciseStatus(attempted=True))

    assert mark == ' · <span class="exercise-mark exercise-mark--attempted">Attempted</span>'


def test_an_exercise_not_started_has_no_mark():
    assert exercise_mark(ExerciseStatus()) == ""
