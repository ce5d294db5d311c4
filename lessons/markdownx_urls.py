"""The editor's preview and image-upload endpoints, for active staff only.

django-markdownx's own URLs let anyone render Markdown and upload files. These
keep its URL names (the editor widget posts to them) but refuse everyone who
is not an active staff member with 403: they are called by the editor's
scripts, for which a redirect to the login page would be meaningless.
"""

from __future__ import annotations

from uuid import uuid4

from django.contrib.auth.mixins import UserPassesTestMixin
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import path
from markdownx.exceptions import MarkdownxImageUploadError
from markdownx.forms import ImageForm
from markdownx.settings import MARKDOWNX_UPLOAD_CONTENT_TYPES
from markdownx.views import ImageUploadView, MarkdownifyView
from PIL import Image

# Pillow's name for each raster format we accept: its content type and file extension.
IMAGE_FORMATS = {
    "GIF": ("image/gif", "gif"),
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
UNSUPPORTED_FORMAT = "Only PNG, JPEG, GIF and WebP images can be uploaded."


class StaffOnlyMixin(UserPassesTestMixin):
    raise_exception = True  # 403 for anonymous users too, not a login redirect

    def test_func(self) -> bool:
        user = self.request.user
        return user.is_active and user.is_staff


class LessonImageForm(ImageForm):
    """An upload that must really be a GIF, JPEG, PNG or WebP image.

    markdownx trusts the browser's content type and keeps the uploaded file's
    extension; a GIF is even stored byte for byte. Checking the content with
    Pillow and naming the file after the detected format means an HTML or SVG
    file sent as "image/gif" is refused instead of served from our domain.
    """

    def clean(self):
        declared = self.cleaned_data.get("image")
        if declared is not None and declared.content_type not in MARKDOWNX_UPLOAD_CONTENT_TYPES:
            # Before markdownx's own check, whose message names no format.
            raise MarkdownxImageUploadError(UNSUPPORTED_FORMAT)
        upload = super().clean()
        try:
            with Image.open(upload) as image:
                image.verify()
                image_format = image.format
        except (Image.DecompressionBombError, OSError, SyntaxError, ValueError) as error:
            # UnidentifiedImageError is an OSError; broken files raise any of these.
            raise MarkdownxImageUploadError(
                "This file is not an image we can read. Upload a PNG, JPEG, GIF or WebP image."
            ) from error
        finally:
            upload.seek(0)
        content_type, extension = IMAGE_FORMATS.get(image_format, ("", ""))
        if content_type not in MARKDOWNX_UPLOAD_CONTENT_TYPES:
            raise MarkdownxImageUploadError(UNSUPPORTED_FORMAT)
        # From here on markdownx goes by the content type: make it the real one.
        upload.content_type = content_type
        self.image_extension = extension
        return upload

    def get_unique_file_name(self, file_name: str) -> str:
        """Return a unique file name with the extension of the detected format."""
        return f"{uuid4()}.{self.image_extension}"


class PreviewView(StaffOnlyMixin, MarkdownifyView):
    """Render the editor's Markdown through the lesson pipeline."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if "content" not in request.POST:
            return HttpResponseBadRequest("Nothing to preview: the request has no content.")
        return super().post(request, *args, **kwargs)


class ImageUploadStaffView(StaffOnlyMixin, ImageUploadView):
    """Store an uploaded image and answer with the Markdown that shows it."""

    form_class = LessonImageForm
    # markdownx's view would render a form page on GET, with a template it does not ship.
    http_method_names = ["post"]

    # markdownx answers plain form posts with a redirect or a template it does
    # not ship; the editor always expects JSON, so every caller gets JSON.
    def form_invalid(self, form: LessonImageForm) -> JsonResponse:
        return JsonResponse(form.errors, status=400)

    def form_valid(self, form: LessonImageForm) -> JsonResponse:
        return JsonResponse({"image_code": f"![]({form.save(commit=True)})"})


urlpatterns = [
    path("upload/", ImageUploadStaffView.as_view(), name="markdownx_upload"),
    path("markdownify/", PreviewView.as_view(), name="markdownx_markdownify"),
]
