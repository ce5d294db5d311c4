"""The admin editor's preview endpoint, for active staff only, and its retired image upload.

django-markdownx's own URLs let anyone render Markdown and upload files. These
keep its URL names (the editor widget posts to them) but refuse everyone who
is not an active staff member with 403: they are called by the editor's
scripts, for which a redirect to the login page would be meaningless.
"""

from __future__ import annotations

from django.contrib.auth.mixins import UserPassesTestMixin
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import path
from django.views import View
from markdownx.views import MarkdownifyView

# The admin editor's drag-and-drop posts here with nothing saying which course the text
# belongs to, so it cannot store a course image; it used to save files under MEDIA_ROOT,
# which the site does not serve, and insert links that led nowhere.
UPLOAD_RETIRED = (
    "Images are not uploaded here. Upload them in the course's lesson editor under Teach, "
    "or put them in the course folder's images/ and import it; then refer to them as "
    "![description](/courses/<course>/images/<name>)."
)


class StaffOnlyMixin(UserPassesTestMixin):
    raise_exception = True  # 403 for anonymous users too, not a login redirect

    def test_func(self) -> bool:
        user = self.request.user
        return user.is_active and user.is_staff


class PreviewView(StaffOnlyMixin, MarkdownifyView):
    """Render the editor's Markdown through the lesson pipeline."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if "content" not in request.POST:
            return HttpResponseBadRequest("Nothing to preview: the request has no content.")
        return super().post(request, *args, **kwargs)


class ImageUploadRetiredView(StaffOnlyMixin, View):
    """Refuse uploads with a message saying where images are uploaded instead."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args, **kwargs) -> JsonResponse:
        return JsonResponse({"error": UPLOAD_RETIRED}, status=400)


urlpatterns = [
    path("upload/", ImageUploadRetiredView.as_view(), name="markdownx_upload"),
    path("markdownify/", PreviewView.as_view(), name="markdownx_markdownify"),
]
