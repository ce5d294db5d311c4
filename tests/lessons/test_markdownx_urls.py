from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from lessons.markdownx_urls import UPLOAD_RETIRED
from tests.factories import StaffFactory

ENDPOINTS = ["markdownx_markdownify", "markdownx_upload"]


def _image(image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, image_format)
    return buffer.getvalue()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _upload(client, name: str, content: bytes, content_type: str):
    return client.post(
        reverse("markdownx_upload"),
        {"image": SimpleUploadedFile(name, content, content_type=content_type)},
        headers={"x-requested-with": "XMLHttpRequest"},
    )


def _stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ENDPOINTS)
def test_anonymous_users_are_refused(client, name):
    assert client.post(reverse(name), {"content": "# Hi"}).status_code == 403


@pytest.mark.parametrize("name", ENDPOINTS)
def test_learners_are_refused(learner_client, name):
    assert learner_client.post(reverse(name), {"content": "# Hi"}).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("name", ENDPOINTS)
def test_inactive_staff_are_refused(client, name):
    client.force_login(StaffFactory(is_active=False))
    assert client.post(reverse(name), {"content": "# Hi"}).status_code == 403


def test_learner_upload_stores_nothing(learner_client, media_root):
    response = _upload(learner_client, "a.png", _image("PNG"), "image/png")
    assert response.status_code == 403
    assert _stored_files(media_root) == []


def test_staff_preview_renders_through_the_lesson_pipeline(staff_client):
    response = staff_client.post(
        reverse("markdownx_markdownify"),
        {"content": "## Routes\n\n```python\ndef index():\n    pass\n```\n"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert '<h2 id="routes">' in body
    assert '<span class="k">def</span>' in body


def test_staff_preview_sanitizes(staff_client):
    response = staff_client.post(
        reverse("markdownx_markdownify"), {"content": "<img src=x onerror=alert(1)>"}
    )
    assert response.status_code == 200
    assert "onerror" not in response.content.decode()


def test_preview_without_content_is_a_bad_request(staff_client):
    response = staff_client.post(reverse("markdownx_markdownify"), {})
    assert response.status_code == 400
    assert "no content" in response.content.decode()


def test_preview_does_not_answer_get(staff_client):
    assert staff_client.get(reverse("markdownx_markdownify")).status_code == 405


def test_staff_upload_is_refused_with_where_to_upload_instead(staff_client, media_root):
    # The admin editor cannot tell which course an image is for, and stored images under
    # MEDIA_ROOT, which the site does not serve: no upload here may yield a broken link.
    response = _upload(staff_client, "diagram.png", _image("PNG"), "image/png")

    assert response.status_code == 400
    assert json.loads(response.content) == {"error": UPLOAD_RETIRED}
    assert "image_code" not in json.loads(response.content)
    assert _stored_files(media_root) == []
