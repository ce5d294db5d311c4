"""Learners' submission archives: unpack a zip safely, or pack a folder or files into one.

A zip sent by a learner is hostile until proven otherwise. `unpack_submission` reads the
central directory and checks every member (path, type, encryption, compression, count)
before writing anything, then streams each kept file under hard byte caps, never trusting
the sizes written in the headers. On any failure the destination folder is emptied again.

Decisions worth knowing:

- File names: a name flagged as UTF-8 must decode as UTF-8. An unflagged name that is not
  plain ASCII is accepted only if its bytes are valid UTF-8 (macOS Archive Utility writes
  names that way without the flag); names in an old code page (cp437/cp850 from old Windows
  tools) are refused, because guessing the code page would give wrong names. Names are
  NFC-normalised, so a name zipped on macOS (decomposed accents) matches what code refers to.
  A name with a control or format character (a line break, U+202E right-to-left override,
  a zero-width space) is refused, from any source: `check_name_characters` is the one rule.
- Text sent as text (the editor's files) may not hold a NUL or a lone surrogate: neither can
  be stored as UTF-8 or in a JSON column. Bytes (zips, folders) are kept as they are, since
  an image or a database legitimately holds NUL bytes.
- Backslashes in a zip are folder separators: Windows PowerShell 5 `Compress-Archive` writes
  `myapp\\app.py`. The resulting path passes the same checks, so `..\\evil` is refused.
- Junk is skipped silently, never read, and not counted toward the file limit: macOS
  resource forks, caches, version control folders, editor settings, `node_modules` and
  virtual environments (any folder named venv/.venv, and the parts of any folder holding a
  `pyvenv.cfg`). Learners zip whole project folders; dropping these is friendlier than
  refusing the upload.
- If every kept file lies under one top-level folder, that folder is stripped, once
  (`myapp/app.py` becomes `app.py`, while `myapp/app/__init__.py` keeps its package).
- Only stored and deflated members are read: zipfile decompresses bzip2 and lzma without a
  bound on the output of one read, and every ordinary zip tool uses deflate.
- Files are written 0o644 and folders 0o755 whatever the zip says; empty folders are not
  kept, since folders are made for the files inside them.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sandbox.policy import DEFAULT_POLICY, MiB, SandboxPolicy
from sandbox.textsafety import describe_character, hidden_character, text_problem

MAX_NAME_PART_BYTES = 255
MAX_PATH_BYTES = 1024
FILE_MODE = 0o644
DIR_MODE = 0o755

# Folders that never belong in a graded submission.
JUNK_FOLDERS = frozenset(
    {
        "__MACOSX",
        "__pycache__",
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "node_modules",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".idea",
        ".vscode",
    }
)
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
JUNK_SUFFIXES = (".pyc", ".pyo")
# A folder holding pyvenv.cfg is a virtual environment, whatever its name (env, myenv...).
VENV_MARKER = "pyvenv.cfg"
VENV_CONTENTS = frozenset(
    {VENV_MARKER, "bin", "Scripts", "lib", "Lib", "lib64", "include", "Include", "share"}
)

_UTF8_NAME_FLAG = 0x800
_ENCRYPTED_FLAGS = 0x1 | 0x40  # traditional and strong encryption
_PATCHED_DATA_FLAG = 0x20
_READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest zip date: packing is reproducible
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"[A-Za-z]:")
# zipfile's own errors when the bytes are not a readable zip.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    EOFError,
    NotImplementedError,
    OverflowError,
    RuntimeError,
    ValueError,
    struct.error,
    zlib.error,
)

NOT_A_ZIP = "This is not a zip archive. Upload a .zip file of your project folder."


class SubmissionRejected(ValueError):
    """A submission cannot be accepted; the message tells the learner why, in plain words."""


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    name: str  # as written in the zip, for messages
    parts: tuple[str, ...]


# Unpacking ----------------------------------------------------------------------------


def unpack_submission(
    data: bytes, dest: Path, *, policy: SandboxPolicy = DEFAULT_POLICY
) -> list[str]:
    """Check a learner's zip and extract it into the empty folder dest; return the paths written."""
    dest = Path(dest)
    if not dest.is_dir() or any(dest.iterdir()):
        raise ValueError(f"{dest} must be an existing empty folder")
    if len(data) > policy.max_archive_bytes:
        raise SubmissionRejected(_upload_too_big(len(data), policy))
    with _open_zip(data) as archive:
        members = _plan(archive, policy)
        try:
            return _extract(archive, members, dest, policy)
        except BaseException:
            _empty_folder(dest)
            raise


def _open_zip(data: bytes) -> zipfile.ZipFile:
    if not data:
        raise SubmissionRejected(NOT_A_ZIP)
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except UnicodeDecodeError as exc:
        # The name is flagged as UTF-8 but is not: there is no readable name to show.
        raise SubmissionRejected(
            "The zip contains a file name that is not valid text "
            "(file names must be plain UTF-8 text)."
        ) from exc
    except (*_ZIP_ERRORS, OSError) as exc:
        raise SubmissionRejected(NOT_A_ZIP) from exc


def _plan(archive: zipfile.ZipFile, policy: SandboxPolicy) -> list[_Member]:
    """Check every member before anything is written; return the files to extract."""
    entries = []
    for info in archive.infolist():
        name = _member_name(info)
        parts = _split_name(name, "The zip", backslash_separates=True)
        mode = info.external_attr >> 16
        is_dir = name.endswith(("/", "\\")) or stat.S_ISDIR(mode) or bool(info.external_attr & 0x10)
        entries.append((info, name, parts, is_dir))

    venvs = {parts[:-1] for _, _, parts, is_dir in entries if _is_venv_marker(parts, is_dir)}
    kept: list[_Member] = []
    for info, name, parts, is_dir in entries:
        if _is_junk(parts, is_dir, venvs):
            continue
        _check_kind(info.external_attr >> 16, name, "The zip")
        if is_dir:
            continue
        if not parts:
            raise SubmissionRejected("The zip contains a file with an empty name.")
        _check_lengths(parts, name, "The zip")
        if info.flag_bits & _ENCRYPTED_FLAGS:
            raise SubmissionRejected(
                f"The zip is password-protected ({_show(name)}). "
                "Upload an ordinary zip without a password."
            )
        if info.compress_type not in _READABLE_METHODS or info.flag_bits & _PATCHED_DATA_FLAG:
            raise SubmissionRejected(
                f"The zip uses a compression method this site cannot read ({_show(name)}). "
                "Create an ordinary zip (deflate), as the zip tools of Windows and macOS do."
            )
        kept.append(_Member(info, name, parts))

    if not kept:
        raise SubmissionRejected(
            "The zip contains no files to grade (system and cache files such as __MACOSX, "
            "__pycache__ or a virtual environment are left out)."
        )
    if len(kept) > policy.max_files:
        raise SubmissionRejected(
            f"The zip has {len(kept)} files; at most {policy.max_files} are allowed."
        )

    tops = {m.parts[0] for m in kept}
    if len(tops) == 1 and all(len(m.parts) > 1 for m in kept):
        kept = [_Member(m.info, m.name, m.parts[1:]) for m in kept]
    _check_unique(((m.parts, m.name) for m in kept), "The zip")
    return sorted(kept, key=lambda m: m.parts)


def _member_name(info: zipfile.ZipInfo) -> str:
    # orig_filename, not filename: zipfile silently cuts a name at its first NUL byte.
    name = info.orig_filename
    if info.flag_bits & _UTF8_NAME_FLAG or name.isascii():
        return name
    raw = name.encode("cp437")  # zipfile decoded unflagged names as cp437: undo that
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        shown = _show(raw.decode("utf-8", "backslashreplace"))
        raise SubmissionRejected(
            f"The zip contains a file name that is not plain UTF-8 text: {shown} "
            "(file names must be plain UTF-8 text; zip the folder again with an up-to-date "
            "tool)."
        ) from None


def _extract(
    archive: zipfile.ZipFile, members: list[_Member], dest: Path, policy: SandboxPolicy
) -> list[str]:
    root = dest.resolve()
    total = 0
    for member in members:
        folder = _make_folders(root, member.parts[:-1])
        size = 0
        with (
            _open_member(archive, member) as source,
            _create_file(folder / member.parts[-1]) as out,
        ):
            while chunk := _read_chunk(source, member):
                size += len(chunk)
                total += len(chunk)
                # The headers' sizes are not trusted: count what really comes out.
                if size > policy.fsize_bytes:
                    raise SubmissionRejected(
                        f"A file in the zip is bigger than {_size(policy.fsize_bytes)} once "
                        f"unpacked: {_show(member.name)}"
                    )
                if total > policy.max_submission_bytes:
                    raise SubmissionRejected(
                        f"The files in the zip add up to more than "
                        f"{_size(policy.max_submission_bytes)} once unpacked, which is the "
                        f"limit (stopped at {_show(member.name)})."
                    )
                out.write(chunk)
    return ["/".join(m.parts) for m in members]


def _open_member(archive: zipfile.ZipFile, member: _Member) -> zipfile.ZipExtFile:
    try:
        return archive.open(member.info)
    except _ZIP_ERRORS as exc:
        raise _damaged(member) from exc


def _read_chunk(source: zipfile.ZipExtFile, member: _Member) -> bytes:
    try:
        return source.read(_CHUNK)
    except _ZIP_ERRORS as exc:  # includes a bad CRC when a header lies about the data
        raise _damaged(member) from exc


def _damaged(member: _Member) -> SubmissionRejected:
    return SubmissionRejected(
        f"The zip is damaged and cannot be read (at {_show(member.name)}). "
        "Create it again and upload the new file."
    )


def _make_folders(root: Path, parts: tuple[str, ...]) -> Path:
    folder = root
    for part in parts:
        folder = folder / part
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                raise RuntimeError(f"{folder} exists and is not a folder") from None
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask
    return folder


def _create_file(path: Path) -> io.BufferedWriter:
    # O_EXCL and O_NOFOLLOW: never overwrite a file, never write through a link.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def _empty_folder(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


# Packing ------------------------------------------------------------------------------


def pack_directory(folder: Path, *, policy: SandboxPolicy = DEFAULT_POLICY) -> bytes:
    """Zip the files of a folder (not following links), skipping junk, within the policy."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionRejected(f"No such folder: {folder}")
    found = _walk(folder, policy)
    if not found:
        raise SubmissionRejected(f"The folder {folder} has no files to submit.")
    contents: dict[str, bytes] = {}
    total = 0
    for rel, path in found:
        data = _read_file(path, rel, policy, already=total)
        total += len(data)
        contents[rel] = data
    packed = _build_zip(contents)
    if len(packed) > policy.max_archive_bytes:
        raise SubmissionRejected(
            f"The folder makes a zip of {_size(len(packed))}; uploads may be at most "
            f"{_size(policy.max_archive_bytes)}."
        )
    return packed


def _walk(folder: Path, policy: SandboxPolicy) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    venvs: set[tuple[str, ...]] = set()
    pending: list[tuple[Path, tuple[str, ...]]] = [(folder, ())]
    while pending:
        current, prefix = pending.pop()
        with os.scandir(current) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        if any(e.name == VENV_MARKER for e in entries):
            venvs.add(prefix)
        for entry in entries:
            parts = (*prefix, entry.name)
            rel = "/".join(parts)
            mode = entry.stat(follow_symlinks=False).st_mode
            if _is_junk(parts, stat.S_ISDIR(mode), venvs):
                continue
            _split_name(rel, "The folder", backslash_separates=False)
            _check_kind(mode, rel, "The folder")
            if stat.S_ISDIR(mode):
                pending.append((Path(entry.path), parts))
                continue
            _check_lengths(parts, rel, "The folder")
            found.append((rel, Path(entry.path)))
            if len(found) > policy.max_files:
                raise SubmissionRejected(
                    f"The folder has more than {policy.max_files} files; "
                    f"at most {policy.max_files} are allowed."
                )
    return sorted(found)


def _read_file(path: Path, rel: str, policy: SandboxPolicy, *, already: int) -> bytes:
    """Read one file, refusing it once it passes the file or total limit."""
    limit = min(policy.fsize_bytes, policy.max_submission_bytes - already)
    # O_NOFOLLOW and O_NONBLOCK: a file swapped for a link or a FIFO since the walk
    # is refused instead of followed or waited on.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise SubmissionRejected(f"Cannot read {rel}: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SubmissionRejected(f"The folder contains something that is not a file: {rel}")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise SubmissionRejected(f"Cannot read {rel}: {exc.strerror}") from exc
    if len(data) > policy.fsize_bytes:
        raise SubmissionRejected(
            f"A file in the folder is bigger than {_size(policy.fsize_bytes)}: {_show(rel)}"
        )
    if len(data) > limit:
        raise SubmissionRejected(
            f"The files in the folder add up to more than {_size(policy.max_submission_bytes)}, "
            f"which is the limit (stopped at {_show(rel)})."
        )
    return data


def pack_files(files: Mapping[str, str | bytes], *, policy: SandboxPolicy | None = None) -> bytes:
    """Zip a mapping of relative path to content (text is stored as UTF-8)."""
    contents: dict[str, bytes] = {}
    named: list[tuple[tuple[str, ...], str]] = []
    for name, content in files.items():
        parts = _split_name(name, "The submission", backslash_separates=True)
        if not parts:
            raise SubmissionRejected("The submission contains a file with an empty name.")
        _check_lengths(parts, name, "The submission")
        if isinstance(content, str):
            problem = text_problem(content)
            if problem:
                raise SubmissionRejected(f"The file {_show(name)} cannot be accepted: {problem}.")
            data = content.encode("utf-8")
        elif isinstance(content, bytes | bytearray | memoryview):
            data = bytes(content)
        else:
            raise TypeError(f"content of {name!r} must be str or bytes, not {type(content)}")
        named.append((parts, name))
        contents["/".join(parts)] = data
    _check_unique(named, "The submission")
    if policy is not None:
        _check_totals(contents, policy)
    return _build_zip(contents)


def _check_totals(contents: Mapping[str, bytes], policy: SandboxPolicy) -> None:
    if len(contents) > policy.max_files:
        raise SubmissionRejected(
            f"The submission has {len(contents)} files; at most {policy.max_files} are allowed."
        )
    for name, data in sorted(contents.items()):
        if len(data) > policy.fsize_bytes:
            raise SubmissionRejected(
                f"A file is bigger than {_size(policy.fsize_bytes)}: {_show(name)}"
            )
    if sum(len(d) for d in contents.values()) > policy.max_submission_bytes:
        raise SubmissionRejected(
            f"The files add up to more than {_size(policy.max_submission_bytes)}, "
            "which is the limit."
        )


def _build_zip(contents: Mapping[str, bytes]) -> bytes:
    """Return a reproducible zip: sorted names, fixed dates and modes, deflate level 6."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(contents):
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, wherever the zip is made
            info.external_attr = (stat.S_IFREG | FILE_MODE) << 16
            archive.writestr(info, contents[name], compresslevel=6)
    return buffer.getvalue()


def read_archive(path: Path, *, policy: SandboxPolicy = DEFAULT_POLICY) -> bytes:
    """Return zip bytes for a path that is a .zip file or a folder (which is packed)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SubmissionRejected(f"No such file or folder: {path}") from None
    except OSError as exc:
        raise SubmissionRejected(f"Cannot open {path}: {exc.strerror}") from exc
    if stat.S_ISDIR(mode):
        return pack_directory(path, policy=policy)
    if not stat.S_ISREG(mode):
        raise SubmissionRejected(f"{path} is neither a zip file nor a folder.")
    try:
        with path.open("rb") as handle:
            data = handle.read(policy.max_archive_bytes + 1)
    except OSError as exc:
        raise SubmissionRejected(f"Cannot read {path}: {exc.strerror}") from exc
    if len(data) > policy.max_archive_bytes:
        raise SubmissionRejected(_upload_too_big(path.stat().st_size, policy))
    if not data or not zipfile.is_zipfile(io.BytesIO(data)):
        raise SubmissionRejected(f"{path} is not a zip archive. Give a .zip file or a folder.")
    return data


# Names and kinds ----------------------------------------------------------------------


def _split_name(name: str, source: str, *, backslash_separates: bool) -> tuple[str, ...]:
    """Return the parts of a relative path, or raise if the path is unsafe."""
    check_name_characters(name, source)
    path = unicodedata.normalize("NFC", name)
    if "\\" in path:
        if not backslash_separates:
            raise SubmissionRejected(
                f"{source} contains a file name with a backslash, "
                f"which cannot be used in file names here: {_show(name)}"
            )
        path = path.replace("\\", "/")
    if path.startswith("/"):
        raise SubmissionRejected(f"{source} contains an absolute path: {_show(name)}")
    if _DRIVE.match(path):
        raise SubmissionRejected(f"{source} contains a path with a drive letter: {_show(name)}")
    parts = tuple(p for p in path.split("/") if p not in ("", "."))
    if ".." in parts:
        raise SubmissionRejected(f"{source} contains a path that leaves its folder: {_show(name)}")
    return parts


def check_name_characters(name: str, source: str = "The submission") -> None:
    """Refuse a file name with a character that is invisible or acts on the text around it.

    The one rule for names from every source: zips, folders, the editor and the command
    line. Control characters can break lines in logs and listings; format characters such
    as U+202E (right-to-left override) make "gpj.py" show as "yp.jpg"; lone surrogates are
    not text at all and cannot be stored.
    """
    char = hidden_character(name)
    if char is None:
        return
    if "\ud800" <= char <= "\udfff":  # undecodable bytes from the file system, or JSON
        raise SubmissionRejected(
            f"{source} contains a file name that is not plain UTF-8 text: {_show(name)}"
        )
    if unicodedata.category(char) == "Cc":
        raise SubmissionRejected(
            f"{source} contains a file name with a control character "
            f"(such as a NUL byte or a line break): {_show(name)}"
        )
    raise SubmissionRejected(
        f"{source} contains a file name with an invisible character, "
        f"{describe_character(char)}, which can make a name look like another: {_show(name)}"
    )


def _check_lengths(parts: tuple[str, ...], name: str, source: str) -> None:
    if any(len(p.encode("utf-8")) > MAX_NAME_PART_BYTES for p in parts):
        raise SubmissionRejected(
            f"{source} contains a file or folder name longer than {MAX_NAME_PART_BYTES} "
            f"characters: {_show(name)}"
        )
    if len("/".join(parts).encode("utf-8")) > MAX_PATH_BYTES:
        raise SubmissionRejected(
            f"{source} contains a path longer than {MAX_PATH_BYTES} characters: {_show(name)}"
        )


def _check_kind(mode: int, name: str, source: str) -> None:
    """Refuse anything but plain files and folders; a mode of 0 means "not said"."""
    kind = stat.S_IFMT(mode)
    if kind in (0, stat.S_IFREG, stat.S_IFDIR):
        return
    what = {
        stat.S_IFLNK: "a symbolic link",
        stat.S_IFCHR: "a device file",
        stat.S_IFBLK: "a device file",
        stat.S_IFIFO: "a named pipe (FIFO)",
        stat.S_IFSOCK: "a socket",
    }.get(kind, "a special file")
    raise SubmissionRejected(
        f"{source} contains {what}, which is not allowed (only ordinary files and folders "
        f"are): {_show(name)}"
    )


def _check_unique(named: Iterable[tuple[tuple[str, ...], str]], source: str) -> None:
    files: dict[tuple[str, ...], str] = {}
    folders: dict[tuple[str, ...], str] = {}
    for parts, name in named:
        if parts in files:
            raise SubmissionRejected(f"{source} contains the same file twice: {_show(name)}")
        files[parts] = name
        for i in range(1, len(parts)):
            folders.setdefault(parts[:i], name)
    for parts in files:
        if parts in folders:
            raise SubmissionRejected(
                f"{source} contains both a file and a folder named {_show('/'.join(parts))} "
                f"(see {_show(folders[parts])})."
            )


def _is_venv_marker(parts: tuple[str, ...], is_dir: bool) -> bool:
    return not is_dir and bool(parts) and parts[-1] == VENV_MARKER


def _is_junk(parts: tuple[str, ...], is_dir: bool, venvs: set[tuple[str, ...]]) -> bool:
    """Say whether a path is system, cache or environment clutter to leave out."""
    folders = parts if is_dir else parts[:-1]
    if any(p in JUNK_FOLDERS for p in folders):
        return True
    if any(parts[:i] in venvs and parts[i] in VENV_CONTENTS for i in range(len(parts))):
        return True
    if is_dir or not parts:
        return False
    base = parts[-1]
    return base in JUNK_FILES or base.startswith("._") or base.endswith(JUNK_SUFFIXES)


# Messages -----------------------------------------------------------------------------


def _upload_too_big(size: int, policy: SandboxPolicy) -> str:
    return f"The zip is {_size(size)}; uploads may be at most {_size(policy.max_archive_bytes)}."


def _size(n: int) -> str:
    for unit, scale in (("MiB", MiB), ("KiB", 1024)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


def _show(name: str) -> str:
    """Return a name safe to put in a message: escaped control bytes, bounded length."""
    out = []
    for c in name:
        if 0xDC80 <= ord(c) <= 0xDCFF:  # a byte the file system name could not decode
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        elif c.isprintable():
            out.append(c)
        else:
            out.append(ascii(c)[1:-1])
    shown = "".join(out)
    return shown if len(shown) <= 120 else shown[:117] + "..."


__all__ = [
    "SubmissionRejected",
    "check_name_characters",
    "pack_directory",
    "pack_files",
    "read_archive",
    "unpack_submission",
]
