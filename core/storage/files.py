"""Reading files a user hands us, with bounded memory and disk whatever they hold.

Text is read one line at a time (a line may be at most MAX_LINE_BYTES), so parsing holds one
line plus the records parsed so far, never the whole file. An archive is judged on its
central directory before anything is extracted: member count, total uncompressed size and
the compression ratio of each member; extraction then streams each member in chunks and stops
if a member holds more than its header declared. A zip bomb is refused before a byte of it
lands on disk.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath

from core.errors import FlywheelError, InputError

MAX_LINE_BYTES = 16 * 2**20  # one JSON record or CSV row; a larger one is not a document we can index
MAX_MEMBERS = 10_000
MAX_UNPACKED_BYTES = int(os.environ.get("FLYWHEEL_MAX_UNPACKED_BYTES", str(4 * 2**30)))
MAX_RATIO = 100  # text compresses 3–10×; zeros and repeated junk compress 1000×
RATIO_FLOOR_BYTES = 2**20  # tiny members (a 2-line qrels file) may compress better; ignore them
CHUNK = 2**20
IMPORT_KINDS = (".zip", ".jsonl", ".csv")  # what `import_path` reads from one file
LOG_KINDS = (".jsonl", ".csv")  # what `import_logs` reads


def human_size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TiB"


def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line) of the non-blank lines of a UTF-8 text file, streamed; a clear
    error for other encodings, over-long lines or an empty file."""
    seen = False
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                break
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise InputError(f"has a line longer than {MAX_LINE_BYTES // 2**20} MiB; split the record or the file",
                                 file=str(path), line=number)
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise InputError(f"is not valid UTF-8 (byte {error.start} of the line); re-save the file as UTF-8",
                                 file=str(path), line=number) from None
            line = line.rstrip("\r\n")
            if line.strip():
                seen = True
                yield number, line
    if not seen:
        raise InputError("the file is empty; expected one record per line", file=str(path))


def check_archive(archive: zipfile.ZipFile, path: Path) -> list[zipfile.ZipInfo]:
    """The members to extract, after checking the central directory against the limits."""
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise InputError(f"holds {len(members):,} files; an import archive may hold at most {MAX_MEMBERS:,}", file=str(path))
    total = 0
    for member in members:
        if member.filename.startswith("/") or ".." in Path(member.filename).parts:
            raise InputError(f"unsafe path '{member.filename}' inside the archive", file=str(path))
        if stat.S_ISLNK(member.external_attr >> 16):
            raise InputError(f"member '{member.filename}' is a symbolic link; zip the files themselves, not links to them",
                             file=str(path))
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
            raise InputError(f"member '{member.filename}' expands {ratio:,.0f}× (limit {MAX_RATIO}×): refused as a likely zip bomb",
                             file=str(path))
    if total > MAX_UNPACKED_BYTES:
        raise InputError(f"expands to {human_size(total)}; the limit is {human_size(MAX_UNPACKED_BYTES)} "
                         "(FLYWHEEL_MAX_UNPACKED_BYTES)", file=str(path))
    return members


def unpack_zip(path: Path, into: Path) -> None:
    """Extract a checked archive member by member, in chunks."""
    try:
        with zipfile.ZipFile(path) as archive:
            for member in check_archive(archive, path):
                target = into / member.filename
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, open(target, "wb") as sink:
                    written = 0
                    while chunk := source.read(CHUNK):
                        written += len(chunk)
                        if written > member.file_size:
                            raise InputError(f"member '{member.filename}' holds more than its header says", file=str(path))
                        sink.write(chunk)
    except zipfile.BadZipFile as error:
        raise InputError(f"is not a valid .zip archive ({error})", file=str(path)) from None


def upload_label(name: str, kinds: tuple[str, ...]) -> str:
    """The browser-supplied file name, checked: a plain name with one of `kinds` as suffix.

    The name is only ever a label (import name, error messages), never a path; a name with a
    folder part is refused, since no browser sends one and an attacker's client does."""
    plain = str(name or "")
    if not plain or plain != PurePosixPath(plain).name or plain != PureWindowsPath(plain).name or plain in (".", "..") \
            or any(ord(c) < 32 for c in plain):
        raise InputError(f"an upload expects a plain file name, but got '{plain[:200]}'; rename the file and upload it again")
    suffix = PurePosixPath(plain).suffix.lower()
    if suffix not in kinds:
        raise InputError(f"an upload expects a {' or '.join(kinds)} file, but got '{plain[:200]}'")
    return plain


@contextmanager
def saved_upload(upload, kinds: tuple[str, ...]) -> Iterator[tuple[Path, str]]:
    """(path, label) of a browser upload copied in chunks (no second copy in memory) to a
    server-made name in a private folder (mode 700), removed afterwards. Checks the name first:
    nothing is written for a refused one."""
    label = upload_label(upload.name, kinds)
    with tempfile.TemporaryDirectory(prefix="flywheel-upload-") as scratch:
        path = Path(scratch) / f"upload{PurePosixPath(label).suffix.lower()}"
        with open(path, "xb") as sink:
            shutil.copyfileobj(upload, sink, CHUNK)
        try:
            yield path, label
        except FlywheelError as error:  # its messages name the file as the user knows it
            error.args = (str(error).replace(str(path), label),)
            if getattr(error, "file", None) == str(path):
                error.file = label
            raise
