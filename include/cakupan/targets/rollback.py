"""Rollback: publish an earlier state again — verified by its sha256, one rename, recorded with its reason.

The restored file is the stored one byte for byte, so readers see the old published file or the restored one,
never a mix, and a process killed at any point leaves one of the two (the rename is the only step readers see).
"""

from __future__ import annotations

import logging
import os
import shutil

import duckdb

from cakupan.core.files import fsync_file, sha256_file
from cakupan.core.messages import Msg
from cakupan.core.settings import Settings
from cakupan.targets.base import PublishRecord, insert_publish_record
from cakupan.targets.history import Entry, HistoryError, find, record, record_figures, utc_now
from cakupan.targets.zones import connect_work

log = logging.getLogger("cakupan.targets.rollback")


def rollback(settings: Settings, run_id: str, reason: str) -> Entry:
    """Republish the state `run_id` published, after checking its sha256; one rename, as a publish.

    The restored file is byte-identical to the stored one (its sha256 is verified before and after the copy); the
    rollback is recorded in history (kind rollback, the run it restores, the reason) and in the work warehouse's
    audit.publishes, which the next publish carries into the published file."""
    if not reason or not reason.strip():
        raise HistoryError(Msg("error.history.no_reason"))
    entry = find(settings, run_id)
    got = sha256_file(entry.path)
    if got != entry.sha256:
        raise HistoryError(Msg("error.history.damaged", run=run_id, got=got[:12], recorded=entry.sha256[:12]))
    rb_id = f"rollback__{utc_now():%Y%m%dT%H%M%S%f}"
    candidate = settings.candidate_db(rb_id)
    try:
        shutil.copyfile(entry.path, candidate)
        fsync_file(candidate)
        if sha256_file(candidate) != entry.sha256:
            raise HistoryError(Msg("error.history.copy_mismatch", run=run_id))
        os.replace(candidate, settings.published_db)     # the one step readers can see: atomic
        fsync_file(settings.published_db)
    finally:
        candidate.unlink(missing_ok=True)
    done = record(settings, rb_id, entry.sha256, kind="rollback", restores=run_id, reason=reason.strip())
    _audit_rollback(settings, done, entry)
    return done


def _audit_rollback(settings: Settings, done: Entry, restored: Entry) -> None:
    with duckdb.connect(str(restored.path), read_only=True) as con:
        got = con.execute("select input_loads from audit.publishes where run_id = ? and status = 'published' "
                          "order by published_at desc limit 1", [restored.run_id]).fetchone()
    rec = PublishRecord(done.run_id, done.published_at, "rolled_back", done.sha256, done.sha256,
                        got[0] if got else "", True, 0, 0,
                        f"rollback to the state published by {restored.run_id} "
                        f"({restored.published_at:%Y-%m-%d %H:%M:%S} UTC): {done.reason}")
    try:
        with connect_work(settings) as con:
            insert_publish_record(con, rec)
            record_figures(con, settings.published_db, done.run_id, done.published_at, rec.input_loads,
                           caused_by=f"rollback to {restored.run_id}: {done.reason}")
    except duckdb.Error as exc:   # the rollback is done and in history; say the audit row is missing
        log.error("rolled back, but could not record it in audit.publishes: %s", exc)
