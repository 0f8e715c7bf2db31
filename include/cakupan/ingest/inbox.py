"""The inbox as Cakupan reads it: within its bounds, each file's bytes read once.

- `walk` lists the files under the configured regency folders (the first level under the inbox) without following
  any link out of the inbox; links that lead out and anything that is not a regular file (a pipe, a device, a
  socket) are listed too, so that the loader records them (LINK_OUTSIDE_INBOX, NOT_A_REGULAR_FILE) without
  opening them.
- `read_delivery` reads a file's bytes once, into memory: its SHA-256 is of exactly those bytes, and everything
  the readers see is those bytes. A file whose size, modification time or identity changed while it was read
  raises `FileChanging` (it is read again by a later ingest, never loaded half).
- `part_rereader` reads a range of a big CSV's bytes again, part by part, once the file's bytes are let go
  (`fastcsv.fast_csv_parts`): each range must have the CRC-32 it had when the file was read whole
  (`csvlines.part_digest`; with the file's size and modification time unchanged), or
  `FileChanging` (the load is rolled back and the file read again later).
- `manifest_path` is the path the manifest records (relative to the inbox, a link's own path, never where it
  leads); `folder_of` is its regency folder (the first level), the scope of a duplicate; `shown_name` is a file
  name as manifest rows and messages carry it (a spreadsheet never reads it as a formula).
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from cakupan.core.messages import Msg, os_error
from cakupan.ingest.readers import FileRejected
from cakupan.ingest.readers.csvlines import part_digest

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")     # what a spreadsheet reads as the start of a formula
SKIPPED_PREFIXES = (".", "~$")                       # hidden files, Office lock files


class FileChanging(Exception):
    """The file changed while it was read (still being copied or saved): not loaded now, read again later."""


@dataclass(frozen=True)
class Stamp:
    """What `stat` says of a file: its size and modification time (ns)."""

    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Meta:
    """What the manifest records of the bytes that were read: their SHA-256 and the file's stamp while read."""

    sha256: str
    stamp: Stamp


@dataclass
class Delivery:
    """A file's bytes, read once (`read_delivery`)."""

    data: bytes
    stamp: Stamp

    @functools.cached_property
    def meta(self) -> Meta:
        return Meta(hashlib.sha256(self.data).hexdigest(), self.stamp)

    def drop_bytes(self) -> None:
        """Let the bytes go once their SHA-256 is known and their rows are read from elsewhere (a big CSV's lines
        are split into their own buffer): a 1M-row file is not held twice while it is written."""
        _ = self.meta
        self.data = b""


@dataclass(frozen=True)
class Found:
    """An entry of the inbox: a regular file with its stamp, or one to refuse (`refusal`: a reason code)."""

    path: Path
    rel: str
    stamp: Stamp | None
    refusal: str | None = None


def shown_name(name: str) -> str:
    """A file name as the manifest and messages carry it: one a spreadsheet would read as a formula (starting
    with = + - @, a tab or a carriage return) gets a leading apostrophe."""
    return "'" + name if name.startswith(FORMULA_STARTS) else name


def manifest_path(path: Path, inbox: Path) -> str:
    """The path the manifest records: relative to the inbox when the path is in it (as written: a link's own
    path, never its target); a path outside the inbox (named on the command line) with its folder resolved."""
    p = Path(os.path.abspath(path))
    try:
        return p.relative_to(inbox).as_posix()
    except ValueError:
        pass
    p = Path(os.path.realpath(p.parent)) / p.name
    try:
        return p.relative_to(inbox).as_posix()
    except ValueError:
        return str(p)


def in_inbox(rel: str) -> bool:
    """Whether a manifest path (`manifest_path`) is inside the inbox."""
    return not os.path.isabs(rel)


def folder_of(rel: str) -> str:
    """The regency folder of a manifest path: its first level under the inbox ('' for the inbox itself); for a
    path outside the inbox, its folder."""
    if not in_inbox(rel):
        return os.path.dirname(rel)
    head, sep, _ = rel.partition("/")
    return head if sep else ""


def leads_out(path: Path, inbox: Path) -> bool:
    """Whether the path, with every link on the way followed, ends outside the inbox."""
    real = os.path.realpath(path)
    root = os.path.realpath(inbox)
    return not (real == root or real.startswith(root.rstrip(os.sep) + os.sep))


def refusal(path: Path, inbox: Path) -> FileRejected | None:
    """Why a path is not read at all, without opening it: a link (or a folder on the way) leading out of the inbox,
    or not a regular file. None for a regular file within bounds (a path outside the inbox is checked only for
    being a regular file: it was named on purpose)."""
    rel = manifest_path(path, inbox)
    if in_inbox(rel) and leads_out(path, inbox):
        return FileRejected("LINK_OUTSIDE_INBOX")
    try:
        st = os.stat(path)
    except OSError as exc:
        return FileRejected("FILE_UNREADABLE", os_error(exc, path))
    if not stat.S_ISREG(st.st_mode):
        return FileRejected("NOT_A_REGULAR_FILE", _kind(st.st_mode))
    return None


def read_delivery(path: Path, inbox: Path) -> Delivery:
    """Read a file's bytes once, within the inbox's bounds (`refusal` raises as FileRejected); FileChanging when
    the file changed while it was read (its size, modification time or identity, or the bytes read disagree)."""
    refused = refusal(path, inbox)
    if refused is not None:
        raise refused
    try:
        # O_NONBLOCK: a pipe put in the file's place since the check above cannot make the open wait
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise FileRejected("FILE_UNREADABLE", os_error(exc, path)) from None
    with open(fd, "rb", closefd=True) as f:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise FileRejected("NOT_A_REGULAR_FILE", _kind(before.st_mode))
        try:
            data = f.read()
        except OSError as exc:
            raise FileRejected("FILE_UNREADABLE", os_error(exc, path)) from None
    try:
        after = os.stat(path)
    except OSError:
        raise FileChanging(Msg("error.ingest.disappeared")) from None
    if ((before.st_size, before.st_mtime_ns, before.st_ino, before.st_dev)
            != (after.st_size, after.st_mtime_ns, after.st_ino, after.st_dev)) or len(data) != after.st_size:
        raise FileChanging(Msg("error.ingest.changed", before=before.st_size, after=after.st_size))
    return Delivery(data, Stamp(after.st_size, after.st_mtime_ns))


def part_rereader(path: Path, stamp: Stamp) -> Callable[[int, int, bytes], bytes]:
    """A function giving the file's bytes [start, stop) again, read from the file (`read_delivery` read it
    whole); FileChanging when the file is gone, no longer of its stamp, or the bytes' `part_digest` is not
    `digest`."""

    def reread(start: int, stop: int, digest: bytes) -> bytes:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            raise FileChanging(Msg("error.ingest.disappeared")) from None
        try:
            now = os.fstat(fd)
            if not stat.S_ISREG(now.st_mode) or (now.st_size, now.st_mtime_ns) != (stamp.size, stamp.mtime_ns):
                raise FileChanging(Msg("error.ingest.changed", before=stamp.size, after=now.st_size))
            data = bytearray()
            while len(data) < stop - start and (got := os.pread(fd, stop - start - len(data), start + len(data))):
                data += got
        finally:
            os.close(fd)
        if part_digest(data) != digest:
            raise FileChanging(Msg("error.ingest.changed_part", start=start, stop=stop))
        return data

    return reread


def sha256_of(path: Path) -> str:
    """The SHA-256 of a regular file's bytes, read in 1 MiB chunks (the discovery of an inbox file whose path was
    loaded before: did its bytes change?)."""
    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb", closefd=True) as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file")
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def walk(inbox: Path, folders: Iterable[str]) -> list[Found]:
    """Every entry under the given regency folders of the inbox (first level only), never through a link that
    leads out of it. A folder link within the inbox is not followed (its files are read where they are)."""
    out: list[Found] = []
    for name in sorted(set(folders)):
        top = inbox / name
        try:
            st = os.lstat(top)
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode):
            if leads_out(top, inbox):
                out.append(Found(top, name, None, "LINK_OUTSIDE_INBOX"))
                continue
            st = os.stat(top)
        if stat.S_ISDIR(st.st_mode):
            _walk_folder(top, name, inbox, out)
    return out


def walk_folder(folder: Path, inbox: Path) -> list[Found]:
    """Every entry under one folder (a folder named on the command line), as `walk` lists them."""
    out: list[Found] = []
    _walk_folder(folder, manifest_path(folder, inbox), inbox, out)
    return out


def _walk_folder(folder: Path, rel: str, inbox: Path, out: list[Found]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for e in entries:
        if e.name.startswith(SKIPPED_PREFIXES):
            continue
        path, erel = Path(e.path), f"{rel}/{e.name}"
        try:
            if e.is_symlink():
                if leads_out(path, inbox):
                    out.append(Found(path, erel, None, "LINK_OUTSIDE_INBOX"))
                elif e.is_file():           # a file link within the inbox: read as this path
                    st = os.stat(path)
                    out.append(Found(path, erel, Stamp(st.st_size, st.st_mtime_ns)))
                continue
            if e.is_dir(follow_symlinks=False):
                _walk_folder(path, erel, inbox, out)
            elif e.is_file(follow_symlinks=False):
                st = e.stat(follow_symlinks=False)
                out.append(Found(path, erel, Stamp(st.st_size, st.st_mtime_ns)))
            else:
                out.append(Found(path, erel, None, "NOT_A_REGULAR_FILE"))
        except OSError:
            out.append(Found(path, erel, None, "FILE_UNREADABLE"))


def _kind(mode: int) -> Msg:
    for test, what in ((stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "char_device"),
                       (stat.S_ISBLK, "block_device"), (stat.S_ISDIR, "folder")):
        if test(mode):
            return Msg(f"error.ingest.kind.{what}")
    return Msg("error.ingest.kind.other")
