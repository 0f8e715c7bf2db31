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
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from cakupan.core.files import fsync_file, sha256_file
from cakupan.core.messages import Msg
from cakupan.core.settings import Settings

if TYPE_CHECKING:
    from cakupan.targets import history

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
    """Rename the candidate over the published file (atomic), keep it in the publish history; return its sha256."""
    return swap_and_record(settings, candidate, run_id).sha256


def swap_and_record(settings: Settings, candidate: Path, run_id: str, **kind) -> history.Entry:
    """Rename the candidate over the published file (atomic) and keep it in the publish history, record first:
    an intended record (fsynced), the rename, then the completed record (`targets.history`: a hard link, row
    counts, retention). `kind`: a rollback's kind, restores and reason. Returns the history entry."""
    from cakupan.targets import history

    published = settings.published_db
    sha = sha256_file(candidate)
    with ExitStack() as held:
        try:
            held.enter_context(history.writing(settings))   # one history writer; settles a killed one's record
            history.adopt_current(settings)      # a published file from before publish records were kept
            pending = history.begin(settings, run_id, sha, **kind)
        except (OSError, duckdb.Error) as exc:
            raise failure(Msg("error.publish.keep_previous", folder=settings.history_dir), exc, settings) from exc
        try:
            os.replace(candidate, published)   # the one step readers can see: atomic
        except OSError as exc:
            try:
                history.abandon(pending)
            except OSError:     # the next history writer marks it abandoned
                pass
            raise failure(Msg("error.publish.rename", name=candidate.name), exc, settings) from exc
        try:
            fsync_file(published)
            history.complete(settings, pending)
        except (OSError, duckdb.Error) as exc:  # the new file is in place: a failed fsync/history must not fail it
            log.warning("published, but could not fsync it or complete its publish history record (the next "
                        "publish does): %s", exc)
    return pending
