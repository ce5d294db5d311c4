"""Course images: what an image must be to be stored, and storing it.

Every way in — the instructor area's upload, a course import — goes through `image_check`,
so the rules are the same everywhere:

- PNG, JPEG, GIF or WebP, told by the file's first bytes, never by its name or by the
  content type a browser claims. SVG is refused: it is a document that can carry script.
- At most 2 MiB.
- Stored under a safe name: lowercase letters, digits, "-" and "_", then the extension
  of the detected format (an upload called "My Diagram.PNG" holding a JPEG is
  "my-diagram-<hash>.jpg").

Lesson Markdown refers to an image by its site URL, `/courses/<course>/images/<name>`,
in the database and in the course folder alike (see authoring/content.py for why).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from django.db import IntegrityError, transaction

from courses.models import Course, CourseImage

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_STEM = 60
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
EXTENSIONS = {content_type: extension for extension, content_type in CONTENT_TYPES.items()}
# A stored name: what `image_name` makes, and what an images/ folder may hold.
IMAGE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,80}\.(png|jpg|gif|webp)\Z")
HASH_LENGTH = 10  # hex digits of the content's SHA-256 that uploads put in the name
FORMATS_IN_WORDS = "PNG, JPEG, GIF or WebP"


class ImageError(ValueError):
    """An image that cannot be stored; the message says why, in plain words."""


def image_type(data: bytes) -> str:
    """Return the content type of an image told by its first bytes; raise ImageError if none."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        raise ImageError(
            "SVG images are not accepted, because they can carry scripts. "
            f"Save the drawing as a PNG and upload that; images may be {FORMATS_IN_WORDS}."
        )
    raise ImageError(f"This file is not a {FORMATS_IN_WORDS} image, so it cannot be used.")


def image_check(data: bytes) -> str:
    """Check an image's size and format and return its content type; raise ImageError."""
    if not data:
        raise ImageError("The file is empty; choose an image to upload.")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(
            f"The image is {len(data) / 1024 / 1024:.1f} MiB; the largest allowed is "
            f"{MAX_IMAGE_BYTES // 1024 // 1024} MiB. Make it smaller and try again."
        )
    return image_type(data)


def image_name(filename: str, data: bytes, content_type: str) -> str:
    """Return a safe stored name: the file's name made plain, a content hash, the real extension."""
    base = re.split(r"[\\/]", filename or "")[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode().lower()
    stem = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")[:MAX_STEM].strip("-") or "image"
    digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
    return f"{stem}-{digest}.{EXTENSIONS[content_type]}"


def name_carries_hash(image: CourseImage) -> bool:
    """Say whether an image's name ends with its content's hash, so its URL never changes bytes."""
    stem = image.name.rsplit(".", 1)[0]
    return stem.endswith("-" + image.sha256[:HASH_LENGTH])


def course_image_create(*, course: Course, filename: str, data: bytes) -> CourseImage:
    """Store an uploaded image under a new safe name and return it.

    The name carries a hash of the content, so an upload never replaces another image
    a lesson already shows; the same bytes uploaded twice under one name are stored once.
    """
    content_type = image_check(data)
    name = image_name(filename, data, content_type)
    existing = CourseImage.objects.filter(course=course, name=name).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return CourseImage.objects.create(
                course=course,
                name=name,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
            )
    except IntegrityError:  # the same upload, twice at once
        return CourseImage.objects.get(course=course, name=name)


def course_image_put(*, course: Course, name: str, data: bytes) -> tuple[CourseImage, str]:
    """Create or replace the image of that name (a course import).

    Return the image and what happened to it: "created", "updated" or "unchanged".
    """
    content_type = image_check(data)
    digest = hashlib.sha256(data).hexdigest()
    image = CourseImage.objects.filter(course=course, name=name).first()
    if image is not None and image.sha256 == digest:
        return image, "unchanged"
    action = "updated" if image is not None else "created"
    image = image or CourseImage(course=course, name=name)
    image.content_type = content_type
    image.size = len(data)
    image.sha256 = digest
    image.data = data
    image.save()
    return image, action
