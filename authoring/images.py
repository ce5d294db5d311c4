"""The instructor area's image upload: POST /teach/<course>/images/.

The lesson editor's insert button and drag-and-drop post a form with `image` (the file)
and `alt` (the text read out in its place), and get JSON back:

- 200 ``{"markdown": "![alt](url)", "url": "/courses/<course>/images/<name>"}``;
- 400 ``{"error": "…"}`` saying in plain words what is wrong; nothing is stored.

Only the course's instructors may upload: learners and other courses' staff get 404,
assistants 403 (courses.access).
"""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from courses.access import staff_course
from courses.images import MAX_IMAGE_BYTES, ImageError, course_image_create

MAX_ALT = 300
# Characters that would end or break the Markdown image's alt text.
_ALT_UNSAFE = re.compile(r"[\[\]\\\x00-\x1f\x7f]")


@login_required
@require_POST
def image_upload(request: HttpRequest, course: str) -> JsonResponse:
    """Store an uploaded image with the course and answer with the Markdown that shows it."""
    course_obj, _ = staff_course(request.user, course, edit=True)
    alt = " ".join(request.POST.get("alt", "").split())
    upload = request.FILES.get("image")
    if upload is None:
        return _error("No image was sent; choose an image file to upload.")
    if not alt:
        return _error(
            "Describe the image in a few words (its alt text), for readers who cannot see it."
        )
    if len(alt) > MAX_ALT:
        return _error(f"The alt text is {len(alt)} characters long; keep it under {MAX_ALT}.")
    if upload.size > MAX_IMAGE_BYTES:
        # Checked before reading the file into memory.
        return _error(
            f"The image is {upload.size / 1024 / 1024:.1f} MiB; the largest allowed is 2 MiB. "
            "Make it smaller and try again."
        )
    try:
        image = course_image_create(course=course_obj, filename=upload.name, data=upload.read())
    except ImageError as error:
        return _error(str(error))
    url = image.get_absolute_url()
    return JsonResponse({"markdown": f"![{_ALT_UNSAFE.sub(' ', alt)}]({url})", "url": url})


def _error(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)
