"""Checking a reader's answer to a lesson's quiz question, and recording it for learners.

Anyone who may read the lesson may answer; only a signed-in learner's answer is recorded.
Lesson pages for anonymous readers are cached whole and carry no CSRF token, so this view is
exempt from the middleware's check and makes that check itself when there is someone whose
record a forged request could change.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.throttles import Throttle, client_ip, wait_text
from lessons.markdown import render_fragment
from lessons.models import Lesson
from lessons.quizzes import Feedback, check_answer, find_question
from progress.services import quiz_answer_record

MAX_ANSWERS = 50
# Answers a reader (a signed-in learner, else an address) may send a minute: far more than
# anyone reading can click, few enough that a script cannot keep the server parsing lessons.
ANSWER_THROTTLE = Throttle("quiz-answer", limit=60, window=60)


def _csrf_refusal(request: HttpRequest) -> HttpResponse | None:
    """Return the middleware's refusal when the request fails the CSRF check, else None."""
    return CsrfViewMiddleware(lambda request: HttpResponse()).process_view(request, None, (), {})


@csrf_exempt
@require_POST
def quiz_answer(
    request: HttpRequest, course: str, chapter: str, lesson: str, question: str
) -> HttpResponse:
    """Check an answer to a quiz question; tell the reader, and record it for a learner."""
    if request.user.is_authenticated:
        refusal = _csrf_refusal(request)
        if refusal is not None:
            return refusal
    reader = f"user:{request.user.pk}" if request.user.is_authenticated else client_ip(request)
    wait = ANSWER_THROTTLE.retry_after(reader)
    if wait:
        response = HttpResponse(
            f"You are answering very fast: wait {wait_text(wait)} and try again.",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(wait)
        return response
    ANSWER_THROTTLE.hit(reader)
    lesson_obj = get_object_or_404(
        Lesson.objects.visible_to(request.user).only("id", "status", "body"),
        chapter__course__slug=course,
        chapter__slug=chapter,
        slug=lesson,
    )
    # The live text is what the page shows; a draft's questions are not asked yet.
    found = find_question(lesson_obj.body, question)
    if found is None:
        raise Http404("No such question.")
    given = [value for value in request.POST.getlist("answer")[:MAX_ANSWERS] if value.strip()]
    feedback = check_answer(found, given) if given else None
    recorded = False
    if feedback is not None and request.user.is_authenticated:
        quiz_answer_record(
            learner=request.user, lesson=lesson_obj, question_id=found.id, correct=feedback.correct
        )
        recorded = True
    if not request.htmx:
        lesson_url = reverse(
            "lessons:lesson", kwargs={"course": course, "chapter": chapter, "lesson": lesson}
        )
        messages.info(request, _verdict(feedback))
        return redirect(f"{lesson_url}#quiz-{found.id}")
    context = {
        "question": found,
        "feedback": feedback,
        "verdict": _verdict(feedback),
        "explanations": [
            (render_fragment(chosen) if chosen else "", render_fragment(explanation))
            for chosen, explanation in (feedback.explanations if feedback else ())
            if explanation or chosen
        ],
        "recorded": recorded,
    }
    return render(request, "progress/quiz_feedback.html", context)


def _verdict(feedback: Feedback | None) -> str:
    if feedback is None:
        return "Choose or type an answer first."
    if feedback.correct:
        return "Right."
    if feedback.missed_some:
        return "Not quite: what you chose is right, but there is more."
    return "Not quite. Read the explanation and try again."
