"""Course images: the checks, the upload endpoint, serving them, and course folders."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from authoring.content import CourseContentError, course_export, course_import
from courses.images import MAX_IMAGE_BYTES, ImageError, course_image_create, image_check
from courses.models import Course, CourseImage, CourseStaff
from lessons.markdown import render_markdown
from tests.factories import CourseFactory, CourseStaffFactory, UserFactory

pytestmark = pytest.mark.django_db

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'


def picture(image_format: str, size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, image_format)
    return buffer.getvalue()


def upload(client, course: Course, data: bytes, name: str = "Diagram.png", alt: str = "A box"):
    form = {"image": SimpleUploadedFile(name, data, content_type="image/png"), "alt": alt}
    return client.post(reverse("teach:image_upload", kwargs={"course": course.slug}), form)


@pytest.fixture
def course() -> Course:
    return CourseFactory(slug="web")


@pytest.fixture
def instructor_client(client, course):
    client.force_login(CourseStaffFactory(course=course).user)
    return client


# The checks


@pytest.mark.parametrize(
    ("image_format", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_the_four_formats_are_told_by_their_bytes(image_format, content_type):
    assert image_check(picture(image_format)) == content_type


def test_svg_is_refused_because_it_can_carry_script():
    with pytest.raises(ImageError, match="SVG images are not accepted, because they can carry"):
        image_check(SVG)


@pytest.mark.parametrize(
    "data", [b"<html><script>alert(1)</script>", b"GIF8<script>", b"RIFF\0\0\0\0WAVE"]
)
def test_other_files_are_refused_whatever_their_name(data):
    with pytest.raises(ImageError, match="not a PNG, JPEG, GIF or WebP image"):
        image_check(data)


def test_an_image_over_two_mib_is_refused():
    data = picture("PNG")
    too_big = data + b"\0" * (MAX_IMAGE_BYTES + 1 - len(data))
    with pytest.raises(ImageError, match=r"The image is 2\.0 MiB; the largest allowed is 2 MiB"):
        image_check(too_big)
    assert image_check(too_big[:MAX_IMAGE_BYTES]) == "image/png"


def test_stored_names_are_safe_and_carry_the_real_format_and_a_content_hash(course):
    jpeg = picture("JPEG")

    image = course_image_create(course=course, filename="../../My Diagram (v2).PNG", data=jpeg)

    assert image.name.startswith("my-diagram-v2-")
    assert image.name.endswith(".jpg")
    assert (image.content_type, image.size) == ("image/jpeg", len(jpeg))


def test_an_upload_never_replaces_an_image_a_lesson_shows(course):
    first = course_image_create(course=course, filename="a.png", data=picture("PNG"))
    again = course_image_create(course=course, filename="a.png", data=picture("PNG"))
    other = course_image_create(course=course, filename="a.png", data=picture("PNG", (9, 9)))

    assert again.pk == first.pk
    assert other.name != first.name
    assert CourseImage.objects.count() == 2


# The upload endpoint


def test_an_instructor_uploads_an_image_and_gets_its_markdown(instructor_client, course):
    response = upload(instructor_client, course, picture("PNG"), alt="The request cycle")

    assert response.status_code == 200
    image = CourseImage.objects.get()
    url = f"/courses/web/images/{image.name}"
    assert response.json() == {"markdown": f"![The request cycle]({url})", "url": url}


def test_the_markdown_of_an_upload_renders_as_that_image(instructor_client, course):
    markdown = upload(instructor_client, course, picture("PNG")).json()["markdown"]

    html = render_markdown(markdown)

    url = CourseImage.objects.get().get_absolute_url()
    assert f'<img alt="A box" src="{url}" loading="lazy">' in html


def test_alt_text_cannot_break_out_of_the_markdown(instructor_client, course):
    response = upload(instructor_client, course, picture("PNG"), alt="a](javascript:x) [b")

    assert response.json()["markdown"].startswith("![a (javascript:x)  b](/courses/web/images/")


@pytest.mark.parametrize(
    ("data", "alt", "message"),
    [
        (SVG, "A drawing", "SVG images are not accepted"),
        (b"hello", "Notes", "not a PNG, JPEG, GIF or WebP image"),
        (b"", "Nothing", "The file is empty"),
        (picture("PNG"), "   ", "Describe the image in a few words"),
        (picture("PNG"), "", "Describe the image in a few words"),
    ],
)
def test_a_refused_upload_says_why_and_stores_nothing(
    instructor_client, course, data, alt, message
):
    response = upload(instructor_client, course, data, alt=alt)

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not CourseImage.objects.exists()


def test_an_upload_without_a_file_says_so(instructor_client, course):
    url = reverse("teach:image_upload", kwargs={"course": course.slug})
    response = instructor_client.post(url, {"alt": "A box"})

    assert response.status_code == 400
    assert response.json() == {"error": "No image was sent; choose an image file to upload."}


def test_an_oversized_upload_is_refused_before_it_is_read(instructor_client, course):
    response = upload(instructor_client, course, b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_IMAGE_BYTES)

    assert response.status_code == 400
    assert "the largest allowed is 2 MiB" in response.json()["error"]
    assert not CourseImage.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, course):
    response = upload(client, course, picture("PNG"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not CourseImage.objects.exists()


def test_learners_get_404(client, course):
    client.force_login(UserFactory())
    assert upload(client, course, picture("PNG")).status_code == 404
    assert not CourseImage.objects.exists()


def test_an_instructor_of_another_course_gets_404(client, course):
    client.force_login(CourseStaffFactory().user)
    assert upload(client, course, picture("PNG")).status_code == 404
    assert not CourseImage.objects.exists()


def test_an_assistant_gets_403(client, course):
    assistant = CourseStaffFactory(course=course, role=CourseStaff.Role.ASSISTANT).user
    client.force_login(assistant)
    assert upload(client, course, picture("PNG")).status_code == 403
    assert not CourseImage.objects.exists()


def test_the_upload_endpoint_answers_only_post(instructor_client, course):
    url = reverse("teach:image_upload", kwargs={"course": course.slug})
    assert instructor_client.get(url).status_code == 405


# Serving


def test_an_image_is_served_with_its_type_nosniff_and_a_year_of_caching(client, course):
    data = picture("WEBP")
    image = course_image_create(course=course, filename="cycle.webp", data=data)

    response = client.get(image.get_absolute_url())

    assert response.status_code == 200
    assert response.content == data
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"] == f'"{image.sha256}"'


def test_a_known_etag_gets_304(client, course):
    image = course_image_create(course=course, filename="a.png", data=picture("PNG"))

    response = client.get(image.get_absolute_url(), headers={"if-none-match": f'"{image.sha256}"'})

    assert response.status_code == 304
    assert response.content == b""


def test_an_image_whose_name_does_not_carry_its_hash_is_revalidated(client, course, course_dir):
    (course_dir / "images").mkdir()
    (course_dir / "images" / "cycle.png").write_bytes(picture("PNG"))
    course_import(path=course_dir)

    response = client.get("/courses/web-basics/images/cycle.png")

    assert response.status_code == 200
    assert response["Cache-Control"] == "public, no-cache"
    assert response["ETag"]


def test_another_courses_image_name_is_404(client, course):
    image = course_image_create(course=course, filename="a.png", data=picture("PNG"))
    other = CourseFactory()

    response = client.get(f"/courses/{other.slug}/images/{image.name}")

    assert response.status_code == 404


# Course folders


def test_export_writes_images_and_import_reads_them_back(tmp_path, course_dir):
    course_import(path=course_dir)
    course = Course.objects.get()
    image = course_image_create(course=course, filename="cycle.png", data=picture("PNG"))
    lesson = course.chapters.first().lessons.first()
    lesson.body += f"\n\n![The cycle]({image.get_absolute_url()})\n"
    lesson.save()

    course_export(course=course, path=tmp_path / "out")
    assert (tmp_path / "out" / "images" / image.name).read_bytes() == bytes(image.data)
    image.delete()
    Course.objects.all().delete()
    course_import(path=tmp_path / "out")

    restored = CourseImage.objects.get()
    assert restored.name == image.name
    assert bytes(restored.data) == picture("PNG")
    lesson = Course.objects.get().chapters.first().lessons.first()
    assert f'src="{restored.get_absolute_url()}"' in lesson.body_html


def test_an_image_changed_in_the_files_is_replaced_on_import(course_dir):
    (course_dir / "images").mkdir()
    (course_dir / "images" / "cycle.png").write_bytes(picture("PNG"))
    course_import(path=course_dir)
    (course_dir / "images" / "cycle.png").write_bytes(picture("PNG", (9, 9)))

    report = course_import(path=course_dir)

    assert report.slugs("image", "updated") == ["cycle.png"]
    assert bytes(CourseImage.objects.get().data) == picture("PNG", (9, 9))


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("drawing.svg", SVG, "SVG images are not accepted"),
        ("page.png", b"<html>", "not a PNG, JPEG, GIF or WebP image"),
        ("photo.png", picture("JPEG"), "the file is a JPG image, but named .png; rename it to"),
        ("My Photo.jpg", picture("JPEG"), "image names are lowercase letters, digits"),
    ],
)
def test_a_bad_image_in_the_folder_stops_the_import(course_dir, name, data, message):
    (course_dir / "images").mkdir()
    (course_dir / "images" / name).write_bytes(data)

    with pytest.raises(CourseContentError, match=message):
        course_import(path=course_dir)
    assert not Course.objects.exists()


def test_the_sanitizer_keeps_course_images_and_drops_script_sources():
    html = render_markdown(
        "![ok](/courses/web/images/a-0123456789.png)\n\n"
        '<img src="javascript:alert(1)" onerror="alert(1)" style="x">'
    )

    assert '<img alt="ok" src="/courses/web/images/a-0123456789.png" loading="lazy">' in html
    assert "javascript" not in html
    assert "onerror" not in html
    assert "style" not in html


def test_the_upload_response_is_json_the_editor_can_parse(instructor_client, course):
    response = upload(instructor_client, course, picture("GIF"), name="anim.gif")
    assert response["Content-Type"] == "application/json"
    assert set(json.loads(response.content)) == {"markdown", "url"}
