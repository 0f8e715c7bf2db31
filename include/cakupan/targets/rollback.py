"""Rollback: publish an earlier state again — verified by its sha256, one rename, recorded with its reason.

The restored file is the stored one byte for byte (a state older than the newest whole files: the file rebuilt
from the changed-rows store, every table's row count and digest checked), so readers see the old published file or
the restored one, never a mix, and a process killed at any point leaves one of the two (the rename is the only step readers see).
The history record is written before the rename and completed after it (`targets.history`), so the published file
always has its record. The PostgreSQL target restores its published schemas from the same file first
(`targets.postgres.rollback`).
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cakupan.core.files import fsync_file, sha256_file
from cakupan.core.messages import Msg
from cakupan.core.settings import Settings
from cakupan.quality.texts import en
from cakupan.targets.base import PublishRecord, insert_publish_record
from cakupan.targets.history import (
    Entry,
    HistoryError,
    content_digest,
    find,
    record_figures,
    state_file,
    utc_now,
)
from cakupan.targets.published_file import remove_quietly, swap_and_record
from cakupan.targets.zones import connect_work

log = logging.getLogger("cakupan.targets.rollback")


@dataclass(frozen=True)
class Source:
    """The file a rollback republishes: the state's whole file (`sha256` = the recorded one), or the state rebuilt
    from the changed-rows store (`sha256` = the rebuilt file's, `digest` = the content digest recorded at append)."""

    entry: Entry
    path: Path
    sha256: str
    digest: str | None = None


def source(settings: Settings, entry: Entry) -> Source:
    """The verified file of a readable state (see Source); a damaged one is a HistoryError."""
    if entry.kept:
        got = sha256_file(entry.path)
        if got != entry.sha256:
            raise HistoryError(Msg("error.history.damaged", run=entry.run_id, got=got[:12],
                                   recorded=entry.sha256[:12]))
        return Source(entry, entry.path, got)
    path = state_file(settings, entry)     # rebuilt, every table's row count and digest checked
    return Source(entry, path, sha256_file(path), content_digest(settings, entry))


def restorable(settings: Settings, run_id: str, reason: str) -> Source:
    """The state of `run_id` to restore, verified; a missing reason, an unknown, pruned or damaged state is a
    HistoryError."""
    if not reason or not reason.strip():
        raise HistoryError(Msg("error.history.no_reason"))
    return source(settings, find(settings, run_id))


def verified_copy(settings: Settings, src: Source, rb_id: str | None = None) -> tuple[str, Path]:
    """A new rollback id (or `rb_id`) and a candidate file copied from the state's file, fsynced, its sha256 checked
    again."""
    rb_id = rb_id or f"rollback__{utc_now():%Y%m%dT%H%M%S%f}"
    candidate = settings.candidate_db(rb_id)
    try:
        shutil.copyfile(src.path, candidate)
        fsync_file(candidate)
        if sha256_file(candidate) != src.sha256:
            raise HistoryError(Msg("error.history.copy_mismatch", run=src.entry.run_id))
    except BaseException:
        remove_quietly(candidate)
        raise
    return rb_id, candidate


def rollback_record(rb_id: str, when: dt.datetime, src: Source, reason: str) -> PublishRecord:
    """The audit.publishes row of a rollback: the sha256 of the file it publishes (for a state rebuilt from the
    store, the candidate column holds `content:` and the state's content digest), its input loads, and the reason."""
    restored = src.entry
    with duckdb.connect(str(src.path), read_only=True) as con:
        got = con.execute("select input_loads from audit.publishes where run_id = ? and status = 'published' "
                          "order by published_at desc limit 1", [restored.run_id]).fetchone()
    checked = f"content:{src.digest}" if src.digest else src.sha256
    return PublishRecord(rb_id, when, "rolled_back", checked, src.sha256, got[0] if got else "", True,
                         0, 0, en("gate.message.rollback", run=restored.run_id,
                                  at=f"{restored.published_at:%Y-%m-%d %H:%M:%S}", reason=reason))


def rollback(settings: Settings, run_id: str, reason: str) -> Entry:
    """Republish the state `run_id` published, after checking its sha256; one rename, as a publish.

    The restored file is byte-identical to the stored one (its sha256 is verified before and after the copy); the
    rollback is recorded in history (kind rollback, the run it restores, the reason) and in the work warehouse's
    audit.publishes, which the next publish carries into the published file."""
    src = restorable(settings, run_id, reason)
    rb_id, candidate = verified_copy(settings, src)
    try:
        done = swap_and_record(settings, candidate, rb_id, kind="rollback", restores=run_id, reason=reason.strip())
    finally:
        remove_quietly(candidate)
    rec = rollback_record(done.run_id, done.published_at, src, done.reason)
    try:
        with connect_work(settings) as con:
            insert_publish_record(con, rec)
            record_figures(con, settings.published_db, done.run_id, done.published_at, rec.input_loads,
                           caused_by=f"rollback to {run_id}: {done.reason}")
    except duckdb.Error as exc:   # the rollback is done and in history; say the audit row is missing
        log.error("rolled back, but could not record it in audit.publishes: %s", exc)
    return done
