"""The published file, whatever the target: `published/cakupan.duckdb`, which BI tools, the auditor report and
`cakupan trace` open read-only.

A publish never writes that file in place. The target writes a complete candidate file beside it (the DuckDB target
exports the work warehouse's published set into it; the PostgreSQL target exports its published schemas), then
`swap_in` `os.replace()`s the candidate over the published path — one rename, so a reader sees the old file or the
new one, never a mix — and keeps a link to it in `published/history/` (`targets.history`: what was published when).

Fault tolerance: a process killed at any point leaves the published file as it was (the rename is the only step
that touches it). A full disk, a file-size limit or a read-only published folder raises `PublishError` naming the
problem, and the published file stays byte-for-byte unchanged.
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import duckdb

from cakupan.core.files import fsync_file, sha256_file
from cakupan.core.messages import Msg
from cakupan.core.settings import Settings

log = logging.getLogger("cakupan.targets.published_file")


class PublishError(RuntimeError):
    """Publishing failed; the published file is unchanged."""


_DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def why(exc: BaseException, folder: Path) -> Msg:
    """Say in plain words why a write failed (DuckDB reports OS errors as text, Python as errno)."""
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    if code in _DISK_FULL or any(k in text for k in ("no space left", "file too large", "disk quota")):
        return Msg("error.publish.disk_full")
    if "could not set lock" in text:
        return Msg("error.publish.locked")
    if code in _READ_ONLY or any(k in text for k in ("read-only file system", "permission denied",
                                                     "operation not permitted")):
        return Msg("error.publish.read_only", folder=folder)
    return Msg("error.publish.not_written")


def failure(what: Msg, exc: BaseException, settings: Settings) -> PublishError:
    """The PublishError for a failed step: what could not be done, why, and that the published file is unchanged."""
    detail = " ".join(str(exc).split())[:300]
    return PublishError(Msg("error.publish.failed", what=what, why=why(exc, settings.published_dir), detail=detail,
                            path=settings.published_db))


def remove_quietly(*paths: Path) -> None:
    """Delete what a failed write left behind, ignoring what cannot be deleted."""
    for p in paths:
        try:
            p.unlink(missing_ok=True)
        except OSError:
            pass


def swap_in(settings: Settings, candidate: Path, run_id: str) -> str:
    """Rename the candidate over the published file (atomic), keep it in the publish history (`targets.history`:
    a hard link and a record, then retention); return its sha256."""
    from cakupan.targets import history

    published = settings.published_db
    try:
        settings.history_dir.mkdir(parents=True, exist_ok=True)
        history.adopt_current(settings)      # a published file from before publish records were kept
    except (OSError, duckdb.Error) as exc:
        raise failure(Msg("error.publish.keep_previous", folder=settings.history_dir), exc, settings) from exc
    try:
        os.replace(candidate, published)   # the one step readers can see: atomic
    except OSError as exc:
        raise failure(Msg("error.publish.rename", name=candidate.name), exc, settings) from exc
    sha = sha256_file(published)
    try:
        fsync_file(published)
        history.record(settings, run_id, sha)
    except (OSError, duckdb.Error) as exc:  # the new file is in place: a failed fsync/history must not fail the publish
        log.warning("published, but could not fsync it or keep it in the publish history: %s", exc)
    return sha
