"""The lesson editor (/teach/<course>/lessons/<id>/edit/): Markdown beside a live preview.

The preview goes through the lesson page's own pipeline, partial and scripts
(lessons.markdown, lessons/_lesson_article.html, site.js), so it is what learners will see.
Only the course's instructors get in: courses.access answers 404 to everyone else on the
course's staff list or not, and 403 to its assistants, who change nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.views.decorators.http import require_POST

from authoring.lesson_forms import MAX_BODY_CHARS, MAX_PREVIEW_REQUEST_BYTES, LessonEditForm
from courses.access import staff_course
from lessons.models import Lesson
from lessons.services import (
    EditConflict,
    lesson_discard_draft,
    lesson_publish,
    lesson_save,
    lesson_text,
)
from lessons.views import render_lesson_article, unsaved_lesson_response

SAVED = {
    "save": "Saved.",
    "save_draft": "Draft saved. Learners still read the published lesson.",
    "publish": "Published: learners now read this text.",
    "discard": "Draft discarded. The editor shows the published lesson again.",
}
NO_DRAFT_LEFT = "Saved: the text is the published lesson's again, so there is no draft."


def _editable_lesson(request: HttpRequest, course: str, lesson: int) -> Lesson:
    """Return a lesson of the course for one of its instructors, or refuse (404, 403)."""
    course_obj, _role = staff_course(request.user, course, edit=True)
    found = get_object_or_404(
        Lesson.objects.select_related("chapter"), id=lesson, chapter__course=course_obj
    )
    found.chapter.course = course_obj
    return found


def _editor_page(
    request: HttpRequest,
    lesson: Lesson,
    form: LessonEditForm,
    *,
    status: int = 200,
    conflict: bool = False,
) -> HttpResponse:
    """Render the editor with the form's text and its preview."""
    text = form.data if form.is_bound else form.initial
    shown = lesson.with_text(
        title=text.get("title", ""), summary=text.get("summary", ""), body=text.get("body", "")
    )
    context = {
        "course": lesson.chapter.course,
        "lesson": lesson,
        "form": form,
        "preview_html": render_lesson_article(shown),
        "max_body_chars": f"{MAX_BODY_CHARS:,}",
        "conflict": conflict,
    }
    response = render(request, "authoring/lesson_edit.html", context, status=status)
    # The page holds text being written; a Back button must not show an older copy of it.
    add_never_cache_headers(response)
    return response


def _conflict_message(error: EditConflict) -> str:
    saved_at = date_format(localtime(error.saved_at), "DATETIME_FORMAT")
    return (
        f"Not saved: this lesson was changed elsewhere (another tab or another person) at "
        f"{saved_at}, after you opened this editor. Saving now would overwrite those changes. "
        "Your text is still here: copy what you need, then open the editor again to start "
        "from the newer version."
    )


@login_required
def lesson_edit(request: HttpRequest, course: str, lesson: int) -> HttpResponse:
    """Show the lesson editor; save, publish or discard a draft on POST."""
    lesson_obj = _editable_lesson(request, course, lesson)
    if request.method != "POST":
        text = lesson_text(lesson_obj)
        form = LessonEditForm(
            initial={
                "title": text.title,
                "summary": text.summary,
                "body": text.body,
                "loaded": lesson_obj.updated.isoformat(),
            }
        )
        return _editor_page(request, lesson_obj, form)

    form = LessonEditForm(request.POST)
    action = request.POST.get("action", "save")
    if action not in SAVED:
        form.add_error(None, "Choose Save, Publish or Discard draft.")
        return _editor_page(request, lesson_obj, form, status=400)
    # Discarding needs only the version stamp: the text in the form is thrown away.
    valid = form.is_valid() or (action == "discard" and "loaded" not in form.errors)
    if not valid:
        return _editor_page(request, lesson_obj, form, status=400)
    loaded = form.cleaned_data["loaded"]
    try:
        if action == "discard":
            saved = lesson_discard_draft(lesson_id=lesson_obj.id, loaded=loaded)
        elif action == "publish":
            saved = lesson_publish(lesson_id=lesson_obj.id, loaded=loaded, text=form.text())
        else:
            saved = lesson_save(lesson_id=lesson_obj.id, loaded=loaded, text=form.text())
    except EditConflict as error:
        form.add_error(None, _conflict_message(error))
        return _editor_page(request, lesson_obj, form, status=409, conflict=True)
    if action == "save_draft" and not saved.has_draft:
        messages.success(request, NO_DRAFT_LEFT)
    else:
        messages.success(request, SAVED[action])
    return redirect("teach:lesson_edit", course=course, lesson=lesson_obj.id)


def _preview_refusal(request: HttpRequest) -> str | None:
    """Return why the posted text is too big to preview, or None when it may be rendered."""
    # Checked before the body is read, so an oversized post costs no parsing.
    try:
        too_large = int(request.META.get("CONTENT_LENGTH") or 0) > MAX_PREVIEW_REQUEST_BYTES
    except ValueError:
        too_large = True
    if too_large:
        return "The text is too large to preview."
    body = request.POST.get("body", "")
    if len(body) > MAX_BODY_CHARS:
        return (
            f"The text is too long to preview: at most {MAX_BODY_CHARS:,} characters, and it "
            f"has {len(body):,}."
        )
    return None


def _posted_text(request: HttpRequest, lesson: Lesson) -> Lesson:
    """Return an unsaved copy of the lesson with the posted text, as a save would render it."""
    return lesson.with_text(
        title=request.POST.get("title", ""),
        summary=request.POST.get("summary", ""),
        body=request.POST.get("body", ""),
    )


@login_required
@require_POST
def lesson_preview(request: HttpRequest, course: str, lesson: int) -> HttpResponse:
    """Render the editor's text as the lesson page's article, for the live preview."""
    lesson_obj = _editable_lesson(request, course, lesson)
    refusal = _preview_refusal(request)
    if refusal:
        return render(
            request, "authoring/lesson_preview_error.html", {"message": refusal}, status=413
        )
    response = HttpResponse(render_lesson_article(_posted_text(request, lesson_obj)))
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def lesson_learner_preview(request: HttpRequest, course: str, lesson: int) -> HttpResponse:
    """Open the editor's unsaved text in the learner's lesson page, marked as not saved."""
    lesson_obj = _editable_lesson(request, course, lesson)
    refusal = _preview_refusal(request)
    if refusal:
        context = {"message": refusal, "lesson": lesson_obj, "course": lesson_obj.chapter.course}
        return render(request, "authoring/lesson_preview_failed.html", context, status=413)
    return unsaved_lesson_response(request, _posted_text(request, lesson_obj))
