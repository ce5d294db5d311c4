"""Serve course images from the database, at /courses/<course>/images/<name>.

The site answers for them itself, in development and in production alike, so no media
server is needed. Course images are public like the course's pages; another course's
image name is a 404. Headers make the bytes safe to show and cheap to show again:
the real content type with `nosniff`, an ETag of the content, and a year of caching
when the name carries the content's hash (an upload's always does, so that URL never
changes its bytes); any other name is revalidated on each use (a 304 while unchanged).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags
from django.views.decorators.http import require_safe

from courses.images import name_carries_hash
from courses.models import CourseImage

YEAR = 365 * 24 * 60 * 60


@require_safe
def course_image(request: HttpRequest, course: str, name: str) -> HttpResponse:
    """Answer with one course image's bytes."""
    image = CourseImage.objects.filter(course__slug=course, name=name).first()
    if image is None:
        raise Http404("No such image in this course.")
    etag = f'"{image.sha256}"'
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(bytes(image.data), content_type=image.content_type)
        response["Content-Length"] = str(image.size)
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    # Shown inline; never run as a document even if opened on its own.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if name_carries_hash(image):
        response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response["Cache-Control"] = "public, no-cache"
    return response
