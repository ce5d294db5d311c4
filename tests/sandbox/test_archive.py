from __future__ import annotations

import io
import os
import random
import socket
import stat
import warnings
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sandbox.archive import (
    SubmissionRejected,
    pack_directory,
    pack_files,
    read_archive,
    unpack_submission,
)
from sandbox.policy import DEFAULT_POLICY, MiB

Member = tuple[str | zipfile.ZipInfo, bytes]


def make_zip(
    members: Iterable[Member],
    *,
    central: dict[str, dict[str, Any]] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
    rename: dict[bytes, bytes] | None = None,
) -> bytes:
    """Build a zip in memory, then falsify it.

    `central` sets ZipInfo attributes just before the central directory is written, so it
    can lie about flags and sizes; `rename` swaps raw name bytes (same length) in both
    headers, to store names zipfile would refuse to write.
    """
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicates we make on purpose
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in members:
                archive.writestr(name, data)
            for info in archive.filelist:
                for attr, value in (central or {}).get(info.filename, {}).items():
                    setattr(info, attr, value)
    data = buffer.getvalue()
    for old, new in (rename or {}).items():
        assert len(old) == len(new) and data.count(old) == 2
        data = data.replace(old, new)
    return data


def entry(name: str, kind: int, perms: int = 0o644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (kind | perms) << 16
    return info


def files_in(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    folder = tmp_path / "dest"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """Return a small zip holding 50 MiB of zeros, made without 50 MiB in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("app.py", b"print('hello')\n")
        with archive.open("bomb.bin", "w") as out:
            zeros = bytes(MiB)
            for _ in range(50):
                out.write(zeros)
    return buffer.getvalue()


# Paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil.py", "a/../../evil", "..\\evil", "a\\..\\..\\evil"])
def test_it_rejects_zip_slip(dest: Path, name: str) -> None:
    data = make_zip([("app.py", b"ok"), (name, b"evil")])
    with pytest.raises(SubmissionRejected, match="path that leaves its folder"):
        unpack_submission(data, dest)
    assert list(dest.iterdir()) == []
    assert not (dest.parent / "evil.py").exists()


def test_it_names_the_offending_path_in_the_message(dest: Path) -> None:
    data = make_zip([("../../etc/passwd", b"root")])
    with pytest.raises(SubmissionRejected) as caught:
        unpack_submission(data, dest)
    assert str(caught.value) == "The zip contains a path that leaves its folder: ../../etc/passwd"


@pytest.mark.parametrize("name", ["/etc/passwd", "\\\\server\\share\\x.py"])
def test_it_rejects_absolute_paths(dest: Path, name: str) -> None:
    with pytest.raises(SubmissionRejected, match="absolute path"):
        unpack_submission(make_zip([(name, b"x")]), dest)


@pytest.mark.parametrize("name", ["C:/evil.py", "c:evil.py", "D:\\app\\evil.py"])
def test_it_rejects_drive_letters(dest: Path, name: str) -> None:
    with pytest.raises(SubmissionRejected, match="drive letter"):
        unpack_submission(make_zip([(name, b"x")]), dest)


def test_it_reads_backslashes_as_folder_separators(dest: Path) -> None:
    # Windows PowerShell 5 Compress-Archive writes names like this.
    data = make_zip([("myapp\\app.py", b"a"), ("myapp\\static\\style.css", b"b")])
    assert unpack_submission(data, dest) == ["app.py", "static/style.css"]
    assert (dest / "static" / "style.css").read_bytes() == b"b"


def test_it_rejects_a_nul_byte_in_a_name(dest: Path) -> None:
    # zipfile itself would silently cut the name at the NUL and write "app".
    data = make_zip([("appX.py", b"x")], rename={b"appX.py": b"app\x00.py"})
    with pytest.raises(SubmissionRejected, match=r"control character.*app\\x00\.py"):
        unpack_submission(data, dest)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("invoice\u202egpj.py", r"U\+202E \(RIGHT-TO-LEFT OVERRIDE\).*invoice\\u202egpj\.py"),
        ("\u2066app\u2069.py", r"U\+2066 \(LEFT-TO-RIGHT ISOLATE\)"),
        ("ap\u200bp.py", r"U\+200B \(ZERO WIDTH SPACE\)"),
        ("\ufeffapp.py", r"U\+FEFF"),
        ("app\u2028.py", r"U\+2028 \(LINE SEPARATOR\)"),
    ],
)
def test_it_rejects_a_name_with_a_format_character(dest: Path, name: str, shown: str) -> None:
    with pytest.raises(SubmissionRejected, match=rf"invisible character, {shown}"):
        unpack_submission(make_zip([(name, b"x")]), dest)
    assert not any(dest.iterdir())


@pytest.mark.parametrize("name", ["app\x1b[2J.py", "app\x9b.py", "app\x7f.py", "a\nb.py"])
def test_it_rejects_any_control_character_in_a_name(dest: Path, name: str) -> None:
    with pytest.raises(SubmissionRejected, match="control character"):
        unpack_submission(make_zip([(name, b"x")]), dest)


def test_it_rejects_a_format_character_even_in_junk_it_would_skip(dest: Path) -> None:
    data = make_zip([("app.py", b"x"), ("__MACOSX/\u202e.py", b"")])
    with pytest.raises(SubmissionRejected, match="invisible character"):
        unpack_submission(data, dest)


def test_it_accepts_joiners_inside_names(dest: Path) -> None:
    # Zero-width joiners are part of emoji sequences and of some scripts' spelling.
    name = "static/\U0001f469\u200d\U0001f4bb.txt"
    assert unpack_submission(make_zip([(name, b"x"), ("app.py", b"")]), dest) == [
        "app.py",
        name,
    ]


class NamelessInfo(zipfile.ZipInfo):
    def is_dir(self) -> bool:  # zipfile's own test fails on an empty name
        return False


@pytest.mark.parametrize("name", ["", ".", "./."])
def test_it_rejects_an_empty_name(dest: Path, name: str) -> None:
    with pytest.raises(SubmissionRejected, match="empty name"):
        unpack_submission(make_zip([(NamelessInfo(name), b"x")]), dest)


def test_it_rejects_a_name_part_over_255_characters(dest: Path) -> None:
    with pytest.raises(SubmissionRejected, match="longer than 255"):
        unpack_submission(make_zip([("a" * 256 + ".py", b"x")]), dest)


def test_it_rejects_a_path_over_1024_characters(dest: Path) -> None:
    name = "/".join(["d" * 200] * 6) + "/app.py"
    with pytest.raises(SubmissionRejected, match="path longer than 1024"):
        unpack_submission(make_zip([(name, b"x")]), dest)


def test_it_rejects_a_legacy_code_page_name(dest: Path) -> None:
    # Latin-1 "é" (0xE9) without the UTF-8 flag: not valid UTF-8.
    data = make_zip([("cafX.py", b"x")], rename={b"cafX.py": b"caf\xe9.py"})
    with pytest.raises(SubmissionRejected, match=r"must be plain UTF-8 text.*") as caught:
        unpack_submission(data, dest)
    assert "caf\\xe9.py" in str(caught.value)


def test_it_rejects_a_name_flagged_utf8_that_is_not(dest: Path) -> None:
    data = make_zip(
        [("cafX.py", b"x")],
        central={"cafX.py": {"flag_bits": 0x800}},
        rename={b"cafX.py": b"caf\xff.py"},
    )
    with pytest.raises(SubmissionRejected, match="must be plain UTF-8 text"):
        unpack_submission(data, dest)


def test_it_accepts_utf8_names_written_without_the_flag(dest: Path) -> None:
    # macOS Archive Utility stores UTF-8 names without setting the UTF-8 flag.
    data = make_zip([("cafXX.py", b"x")], rename={b"cafXX.py": "café.py".encode()})
    assert unpack_submission(data, dest) == ["café.py"]


def test_it_stores_decomposed_names_in_composed_form(dest: Path) -> None:
    data = make_zip([("cafe\u0301.py", b"x")])
    assert unpack_submission(data, dest) == ["caf\u00e9.py"]
    assert (dest / "caf\u00e9.py").exists()


def test_it_rejects_duplicate_names(dest: Path) -> None:
    with pytest.raises(SubmissionRejected, match=r"same file twice: app.py"):
        unpack_submission(make_zip([("app.py", b"1"), ("app.py", b"2")]), dest)


def test_it_rejects_names_that_are_duplicates_once_normalised(dest: Path) -> None:
    data = make_zip([("lib/app.py", b"1"), ("lib//./app.py", b"2"), ("main.py", b"")])
    with pytest.raises(SubmissionRejected, match="same file twice"):
        unpack_submission(data, dest)


def test_it_rejects_a_file_that_is_also_a_folder(dest: Path) -> None:
    data = make_zip([("models", b"1"), ("models/user.py", b"2")])
    with pytest.raises(SubmissionRejected, match="both a file and a folder named models"):
        unpack_submission(data, dest)


def test_it_allows_names_that_differ_only_in_case(dest: Path) -> None:
    data = make_zip([("App.py", b"1"), ("app.py", b"2")])
    assert unpack_submission(data, dest) == ["App.py", "app.py"]


# Kinds, flags, compression --------------------------------------------------------------


def test_it_rejects_a_symlink_member(dest: Path) -> None:
    data = make_zip([("app.py", b"ok"), (entry("passwd", stat.S_IFLNK, 0o777), b"/etc/passwd")])
    with pytest.raises(SubmissionRejected, match=r"symbolic link.*passwd"):
        unpack_submission(data, dest)
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (stat.S_IFCHR, "device file"),
        (stat.S_IFBLK, "device file"),
        (stat.S_IFIFO, "named pipe"),
        (stat.S_IFSOCK, "socket"),
    ],
)
def test_it_rejects_special_file_members(dest: Path, kind: int, words: str) -> None:
    data = make_zip([("app.py", b"ok"), (entry("special", kind), b"")])
    with pytest.raises(SubmissionRejected, match=f"{words}.*special"):
        unpack_submission(data, dest)


def test_it_rejects_encrypted_members(dest: Path) -> None:
    data = make_zip([("app.py", b"secret")], central={"app.py": {"flag_bits": 0x1}})
    with pytest.raises(SubmissionRejected, match="password-protected"):
        unpack_submission(data, dest)


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_it_rejects_compression_methods_other_than_deflate(dest: Path, method: int) -> None:
    data = make_zip([("app.py", b"x" * 100)], compression=method)
    with pytest.raises(SubmissionRejected, match="compression method"):
        unpack_submission(data, dest)


def test_it_accepts_stored_members(dest: Path) -> None:
    data = make_zip([("app.py", b"print(1)")], compression=zipfile.ZIP_STORED)
    assert unpack_submission(data, dest) == ["app.py"]
    assert (dest / "app.py").read_bytes() == b"print(1)"


# Not a zip -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40,
        b"print('this is a Python file')\n",
        b"PK\x03\x04" + b"\x00" * 100,
        b"PK\x05\x06" + b"\xff" * 18,
    ],
    ids=["empty", "binary", "text", "local-header-only", "broken-end-record"],
)
def test_it_rejects_bytes_that_are_not_a_zip(dest: Path, data: bytes) -> None:
    with pytest.raises(SubmissionRejected, match="This is not a zip archive"):
        unpack_submission(data, dest)


def test_it_rejects_an_archive_over_the_upload_limit(dest: Path) -> None:
    data = make_zip([("app.py", os.urandom(4096))], compression=zipfile.ZIP_STORED)
    policy = replace(DEFAULT_POLICY, max_archive_bytes=2048)
    with pytest.raises(SubmissionRejected, match="uploads may be at most 2 KiB"):
        unpack_submission(data, dest, policy=policy)


def test_it_rejects_a_zip_with_no_files(dest: Path) -> None:
    with pytest.raises(SubmissionRejected, match="no files"):
        unpack_submission(make_zip([]), dest)


def test_it_rejects_a_zip_with_only_junk(dest: Path) -> None:
    data = make_zip([("__MACOSX/._app.py", b"x"), (".DS_Store", b"x"), ("empty/", b"")])
    with pytest.raises(SubmissionRejected, match="no files"):
        unpack_submission(data, dest)


# Limits ----------------------------------------------------------------------------------


def test_it_rejects_too_many_files_before_extracting(
    dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_zip(((f"f{i:05}.py", b"") for i in range(10_000)), compression=zipfile.ZIP_STORED)
    assert len(data) <= DEFAULT_POLICY.max_archive_bytes
    opened: list[str] = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, *a, **k: opened.append(p) or real_open(p, *a, **k))
    with pytest.raises(SubmissionRejected, match="10000 files; at most 200"):
        unpack_submission(data, dest)
    assert opened == []


def test_it_counts_only_kept_files(dest: Path) -> None:
    junk = [(f"__MACOSX/._f{i}.py", b"") for i in range(500)]
    folders = [(f"d{i}/", b"") for i in range(300)]
    real = [(f"f{i:03}.py", b"") for i in range(DEFAULT_POLICY.max_files)]
    data = make_zip([*junk, *folders, *real], compression=zipfile.ZIP_STORED)
    assert len(unpack_submission(data, dest)) == DEFAULT_POLICY.max_files


def test_it_stops_a_zip_bomb(dest: Path, bomb: bytes) -> None:
    assert len(bomb) < DEFAULT_POLICY.max_archive_bytes
    with pytest.raises(SubmissionRejected, match=r"more than 2 MiB once unpacked.*bomb\.bin"):
        unpack_submission(bomb, dest)
    assert list(dest.iterdir()) == []  # app.py, written first, is gone too


def test_it_stops_a_single_file_over_the_file_size_limit(dest: Path) -> None:
    data = make_zip([("big.bin", bytes(MiB + 1))])
    policy = replace(DEFAULT_POLICY, fsize_bytes=MiB)
    with pytest.raises(SubmissionRejected, match=r"bigger than 1 MiB once unpacked: big\.bin"):
        unpack_submission(data, dest, policy=policy)
    assert list(dest.iterdir()) == []


def test_it_does_not_trust_a_size_header_that_lies(dest: Path) -> None:
    # The central directory says 100 bytes; the data inflates to 50 MiB.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb.bin", "w") as out:
            for _ in range(50):
                out.write(bytes(MiB))
        archive.filelist[0].file_size = 100
    lying = buffer.getvalue()
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("bomb.bin").file_size == 100
    with pytest.raises(SubmissionRejected, match=r"damaged.*bomb\.bin"):
        unpack_submission(lying, dest)
    assert list(dest.iterdir()) == []


def test_it_caps_the_total_across_files(dest: Path) -> None:
    policy = replace(DEFAULT_POLICY, max_submission_bytes=1000)
    data = make_zip([("a.py", bytes(600)), ("b.py", bytes(600))])
    with pytest.raises(SubmissionRejected, match=r"more than 1000 bytes.*b\.py"):
        unpack_submission(data, dest, policy=policy)
    assert list(dest.iterdir()) == []


# Layout and modes --------------------------------------------------------------------------


def test_it_unwraps_a_single_top_folder(dest: Path) -> None:
    data = make_zip(
        [("myapp/", b""), ("myapp/app.py", b"a"), ("myapp/templates/index.html", b"<p>")]
    )
    assert unpack_submission(data, dest) == ["app.py", "templates/index.html"]
    assert (dest / "app.py").read_bytes() == b"a"


def test_it_unwraps_only_one_level(dest: Path) -> None:
    data = make_zip([("myapp/app/__init__.py", b""), ("myapp/app/views.py", b"")])
    assert unpack_submission(data, dest) == ["app/__init__.py", "app/views.py"]


def test_it_keeps_folders_when_files_sit_at_the_top(dest: Path) -> None:
    data = make_zip([("app.py", b""), ("templates/index.html", b"")])
    assert unpack_submission(data, dest) == ["app.py", "templates/index.html"]


def test_it_ignores_macos_and_cache_junk(dest: Path) -> None:
    data = make_zip(
        [
            ("__MACOSX/myapp/._app.py", b"resource fork"),
            ("myapp/.DS_Store", b"x"),
            ("myapp/._app.py", b"x"),
            ("myapp/__pycache__/app.cpython-311.pyc", b"x"),
            ("myapp/helpers.pyc", b"x"),
            ("myapp/.git/HEAD", b"ref: refs/heads/main"),
            ("myapp/node_modules/left-pad/index.js", b"x"),
            ("myapp/app.py", b"print('hi')"),
        ]
    )
    assert unpack_submission(data, dest) == ["app.py"]
    assert files_in(dest) == {"app.py": b"print('hi')"}


def test_it_ignores_virtual_environments_and_their_links(dest: Path) -> None:
    data = make_zip(
        [
            ("myapp/app.py", b"x"),
            (entry("myapp/.venv/bin/python", stat.S_IFLNK, 0o777), b"/usr/bin/python3"),
            ("myapp/env/pyvenv.cfg", b"home = /usr/bin"),
            ("myapp/env/lib/python3.11/site-packages/flask/__init__.py", b"x"),
            (entry("myapp/env/lib64", stat.S_IFLNK, 0o777), b"lib"),
        ]
    )
    assert unpack_submission(data, dest) == ["app.py"]


def test_it_ignores_a_virtual_environment_made_in_the_project_folder(dest: Path) -> None:
    # `python -m venv .` puts pyvenv.cfg, bin/ and lib/ next to the learner's code.
    data = make_zip(
        [
            ("pyvenv.cfg", b"home = /usr/bin"),
            (entry("bin/python", stat.S_IFLNK, 0o777), b"/usr/bin/python3"),
            ("lib/python3.11/site-packages/flask/__init__.py", b"x"),
            ("app.py", b"x"),
            ("templates/index.html", b"x"),
        ]
    )
    assert unpack_submission(data, dest) == ["app.py", "templates/index.html"]


def test_it_sanitizes_file_modes(dest: Path) -> None:
    data = make_zip(
        [
            (entry("app.py", stat.S_IFREG, 0o4777), b"x"),
            (entry("pkg/", stat.S_IFDIR, 0o777), b""),
            (entry("pkg/run.sh", stat.S_IFREG, 0o6755), b"x"),
        ]
    )
    # A strict umask must not leave files unreadable to the app's user either.
    old_umask = os.umask(0o077)
    try:
        unpack_submission(data, dest)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((dest / "app.py").stat().st_mode) == 0o644
    assert stat.S_IMODE((dest / "pkg/run.sh").stat().st_mode) == 0o644
    assert stat.S_IMODE((dest / "pkg").stat().st_mode) == 0o755


def test_it_requires_an_empty_destination(dest: Path) -> None:
    (dest / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="existing empty folder"):
        unpack_submission(make_zip([("app.py", b"x")]), dest)
    assert (dest / "keep.txt").read_text() == "mine"


HOSTILE: dict[str, Callable[[], bytes]] = {
    "zip-slip": lambda: make_zip([("a.py", b""), ("../evil.py", b"")]),
    "absolute": lambda: make_zip([("a.py", b""), ("/etc/passwd", b"")]),
    "symlink": lambda: make_zip([("a.py", b""), (entry("l", stat.S_IFLNK), b"/")]),
    "fifo": lambda: make_zip([("a.py", b""), (entry("p", stat.S_IFIFO), b"")]),
    "encrypted": lambda: make_zip([("a.py", b"")], central={"a.py": {"flag_bits": 1}}),
    "junk": lambda: b"\x00" * 64,
    "too-many": lambda: make_zip([(f"{i}.py", b"") for i in range(201)]),
    "too-big": lambda: make_zip([("a.py", b""), ("b.bin", bytes(3 * MiB))]),
    "crc": lambda: make_zip([("a.py", b""), ("b.py", b"data")], central={"b.py": {"CRC": 1}}),
}


@pytest.mark.parametrize("build", HOSTILE.values(), ids=HOSTILE.keys())
def test_it_leaves_dest_empty_after_any_rejection(dest: Path, build: Callable[[], bytes]) -> None:
    with pytest.raises(SubmissionRejected):
        unpack_submission(build(), dest)
    assert list(dest.iterdir()) == []


def test_it_turns_any_corruption_into_a_clear_rejection(tmp_path: Path) -> None:
    original = pack_files({"app.py": "print('x')\n" * 50, "static/a.bin": bytes(range(256)) * 8})
    rng = random.Random(20240501)  # fixed seed: the same damaged zips on every run
    rejected = 0
    for i in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        folder = tmp_path / str(i)
        folder.mkdir()
        try:
            unpack_submission(bytes(data), folder)
        except SubmissionRejected:
            rejected += 1
            assert list(folder.iterdir()) == []
    assert rejected > 200


# pack_files --------------------------------------------------------------------------------


def test_pack_files_round_trips_through_unpack(dest: Path) -> None:
    files = {
        "app.py": "from flask import Flask\n",
        "templates/index.html": "<h1>Café</h1>\n",
        "static/logo.png": b"\x89PNG\r\n\x1a\n\x00\xff",
    }
    assert unpack_submission(pack_files(files), dest) == sorted(files)
    assert files_in(dest) == {
        "app.py": b"from flask import Flask\n",
        "templates/index.html": "<h1>Café</h1>\n".encode(),
        "static/logo.png": b"\x89PNG\r\n\x1a\n\x00\xff",
    }


def test_pack_files_is_deterministic() -> None:
    assert pack_files({"b.py": "2", "a.py": "1"}) == pack_files({"a.py": "1", "b.py": "2"})


@pytest.mark.parametrize(
    ("name", "words"),
    [("../evil.py", "leaves its folder"), ("/abs.py", "absolute"), ("", "empty name")],
)
def test_pack_files_validates_names(name: str, words: str) -> None:
    with pytest.raises(SubmissionRejected, match=words):
        pack_files({name: "x"})


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("app\u202e.py", r"invisible character, U\+202E"),
        ("templates/\u2067x.html", r"invisible character, U\+2067"),
        ("app\x00.py", "control character"),
        ("app\ud800.py", r"not plain UTF-8 text: app\\ud800\.py"),
    ],
)
def test_pack_files_refuses_hidden_characters_in_names(name: str, words: str) -> None:
    with pytest.raises(SubmissionRejected, match=words):
        pack_files({name: "x"})


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("x = 1\x00", r"The file app\.py cannot be accepted: it contains a NUL character"),
        ("s = '\ud83d'", r"The file app\.py cannot be accepted: it contains U\+D83D"),
        ("\udcff", r"U\+DCFF, half of a character that is not valid text"),
    ],
)
def test_pack_files_refuses_text_that_cannot_be_stored(content: str, words: str) -> None:
    with pytest.raises(SubmissionRejected, match=words):
        pack_files({"app.py": content})


def test_pack_files_keeps_nul_bytes_in_binary_files() -> None:
    archive = pack_files({"data.db": b"SQLite format 3\x00\x00", "app.py": "x = '\x1b[1m'"})
    with zipfile.ZipFile(io.BytesIO(archive)) as unpacked:
        assert unpacked.read("data.db") == b"SQLite format 3\x00\x00"


def test_pack_files_rejects_names_that_collide_once_normalised() -> None:
    with pytest.raises(SubmissionRejected, match="same file twice"):
        pack_files({"app.py": "1", "./app.py": "2"})


def test_pack_files_enforces_a_policy_when_given() -> None:
    policy = replace(DEFAULT_POLICY, max_files=2)
    with pytest.raises(SubmissionRejected, match="3 files; at most 2"):
        pack_files({"a.py": "", "b.py": "", "c.py": ""}, policy=policy)


# pack_directory ----------------------------------------------------------------------------


def make_project(folder: Path) -> Path:
    folder.mkdir()
    (folder / "app.py").write_text("print('hi')\n")
    (folder / "templates").mkdir()
    (folder / "templates" / "index.html").write_text("<p>hi</p>\n")
    return folder


def test_pack_directory_round_trips_through_unpack(tmp_path: Path, dest: Path) -> None:
    project = make_project(tmp_path / "project")
    assert unpack_submission(pack_directory(project), dest) == ["app.py", "templates/index.html"]
    assert files_in(dest) == files_in(project)


def test_pack_directory_is_deterministic(tmp_path: Path) -> None:
    first = make_project(tmp_path / "first")
    second = tmp_path / "second"
    second.mkdir()
    # Same content, made in another order, with other times and modes.
    (second / "templates").mkdir()
    (second / "templates" / "index.html").write_text("<p>hi</p>\n")
    (second / "app.py").write_text("print('hi')\n")
    (second / "app.py").chmod(0o755)
    os.utime(second / "app.py", (1_000_000_000, 1_000_000_000))
    assert pack_directory(first) == pack_directory(first) == pack_directory(second)


def test_pack_directory_stores_plain_file_modes(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    (project / "app.py").chmod(0o4755)
    with zipfile.ZipFile(io.BytesIO(pack_directory(project))) as archive:
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert modes == {"app.py": 0o100644, "templates/index.html": 0o100644}


def test_pack_directory_refuses_a_symlink(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    (project / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(SubmissionRejected, match=r"symbolic link.*passwd"):
        pack_directory(project)


def test_pack_directory_refuses_a_symlinked_folder(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    (project / "etc").symlink_to("/etc", target_is_directory=True)
    with pytest.raises(SubmissionRejected, match=r"symbolic link.*etc"):
        pack_directory(project)


def test_pack_directory_refuses_a_fifo(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    os.mkfifo(project / "templates" / "pipe")
    with pytest.raises(SubmissionRejected, match=r"named pipe \(FIFO\).*templates/pipe"):
        pack_directory(project)


def test_pack_directory_refuses_a_socket(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(project / "s"))
        with pytest.raises(SubmissionRejected, match=r"a socket.*: s$"):
            pack_directory(project)


def test_pack_directory_skips_junk_and_virtual_environments(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    (project / "__pycache__").mkdir()
    (project / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"x")
    (project / ".DS_Store").write_bytes(b"x")
    venv = project / "env"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "bin" / "python").symlink_to("/usr/bin/python3")
    (project / ".venv").mkdir()
    (project / ".venv" / "lib64").symlink_to("lib")
    with zipfile.ZipFile(io.BytesIO(pack_directory(project))) as archive:
        assert archive.namelist() == ["app.py", "templates/index.html"]


def test_pack_directory_refuses_a_name_with_a_bidi_override(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "proj")
    (folder / "report\u202egnp.py").write_text("x = 1\n")
    with pytest.raises(SubmissionRejected, match="The folder contains a file name with an invis"):
        pack_directory(folder)


def test_pack_directory_enforces_the_file_count(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    for i in range(10):
        (project / f"m{i}.py").write_text("")
    with pytest.raises(SubmissionRejected, match="more than 10 files"):
        pack_directory(project, policy=replace(DEFAULT_POLICY, max_files=10))


def test_pack_directory_enforces_the_total_size(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    (project / "data.bin").write_bytes(bytes(2 * MiB))
    with pytest.raises(SubmissionRejected, match="add up to more than 2 MiB"):
        pack_directory(project)


def test_pack_directory_rejects_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty" / "__pycache__").mkdir(parents=True)
    with pytest.raises(SubmissionRejected, match="no files to submit"):
        pack_directory(tmp_path / "empty")


# read_archive ------------------------------------------------------------------------------


def test_read_archive_packs_a_folder(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    assert read_archive(project) == pack_directory(project)


def test_read_archive_reads_a_zip_file(tmp_path: Path) -> None:
    data = make_zip([("app.py", b"x")])
    (tmp_path / "app.zip").write_bytes(data)
    assert read_archive(tmp_path / "app.zip") == data


def test_read_archive_names_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(SubmissionRejected) as caught:
        read_archive(tmp_path / "nope.zip")
    assert str(caught.value) == f"No such file or folder: {tmp_path / 'nope.zip'}"


def test_read_archive_rejects_a_file_that_is_not_a_zip(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hi')\n")
    with pytest.raises(SubmissionRejected, match="is not a zip archive"):
        read_archive(tmp_path / "app.py")


def test_read_archive_rejects_a_fifo_without_waiting_on_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(SubmissionRejected, match="neither a zip file nor a folder"):
        read_archive(tmp_path / "pipe")


def test_read_archive_rejects_a_zip_over_the_upload_limit(tmp_path: Path) -> None:
    (tmp_path / "big.zip").write_bytes(make_zip([("a.bin", os.urandom(4096))]))
    policy = replace(DEFAULT_POLICY, max_archive_bytes=1024)
    with pytest.raises(SubmissionRejected, match="uploads may be at most 1 KiB"):
        read_archive(tmp_path / "big.zip", policy=policy)
