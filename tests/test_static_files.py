"""Static files as a site with DEBUG off serves them: collected, hashed and compressed.

collectstatic runs with the production storage (WhiteNoise's CompressedManifestStaticFilesStorage)
into a temporary folder; WhiteNoise's middleware then answers requests for the editor's files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.templatetags.static import static
from django.test import RequestFactory, override_settings
from whitenoise.middleware import WhiteNoiseMiddleware

PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
BROWSER_ENCODINGS = "gzip, deflate, br, zstd"


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """Return a STATIC_ROOT filled by collectstatic with the production storage."""
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STATIC_ROOT=root, STORAGES=PRODUCTION_STORAGES):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture
def serve(collected):
    """Return a function that GETs a URL from WhiteNoise as a site with DEBUG off does."""
    settings = {
        "STATIC_ROOT": collected,
        "STORAGES": PRODUCTION_STORAGES,
        "DEBUG": False,
        "WHITENOISE_USE_FINDERS": False,
        "WHITENOISE_AUTOREFRESH": False,
    }

    def get(url: str, encodings: str = BROWSER_ENCODINGS):
        with override_settings(**settings):
            middleware = WhiteNoiseMiddleware(lambda request: pytest.fail(f"{url} not found"))
            request = RequestFactory().get(url, HTTP_ACCEPT_ENCODING=encodings)
            return middleware(request)

    return get


def editor_url(collected: Path) -> str:
    with override_settings(STATIC_ROOT=collected, STORAGES=PRODUCTION_STORAGES):
        return static("vendor/editor/editor.bundle.js")


def test_every_editor_script_is_stored_with_brotli_and_gzip_copies(collected):
    scripts = sorted((collected / "vendor" / "editor").rglob("*.js"))
    assert len(scripts) > 10  # the entry, its hashed copy, and the chunks
    for script in scripts:
        brotli = script.with_name(script.name + ".br")
        gzip = script.with_name(script.name + ".gz")
        assert brotli.is_file() and gzip.is_file(), script
        assert brotli.stat().st_size < gzip.stat().st_size < script.stat().st_size, script


def test_the_editor_is_sent_compressed_and_cached_for_good(serve, collected):
    url = editor_url(collected)
    assert re.search(r"/editor\.bundle\.[0-9a-f]{12}\.js$", url), url
    size = (collected / "vendor" / "editor" / "editor.bundle.js").stat().st_size

    response = serve(url)

    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert int(response["Content-Length"]) < size / 2.5
    assert "immutable" in response["Cache-Control"]
    assert response["Content-Type"].startswith("text/javascript")
    response = serve(url, encodings="gzip")
    assert response["Content-Encoding"] == "gzip"


def test_the_chunks_the_editor_imports_are_there_under_their_own_names(serve, collected):
    # The manifest storage hashes the entry's name but leaves the names it imports alone.
    entry = (collected / "vendor" / "editor" / "editor.bundle.js").read_text(encoding="utf-8")
    imported = set(re.findall(r'(?:from|import\()"\./(chunks/[\w-]+\.js)"', entry))
    assert any(name.startswith("chunks/extras-") for name in imported)
    assert len(imported) >= 5

    for name in sorted(imported):
        response = serve(f"/static/vendor/editor/{name}")
        assert response.status_code == 200, name
        assert response["Content-Encoding"] == "br", name
        assert "immutable" in response["Cache-Control"], name


def test_files_without_a_hash_in_their_name_are_not_cached_for_good(serve):
    response = serve("/static/js/exercise.js")

    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
