"""Publish: copy the published set into a candidate file, gate it, and atomically rename it over the old one.

Readers (BI, the auditor report) open `published/cakupan.duckdb` read-only. A publish never writes that file in
place: it writes `published/next-<run_id>.duckdb`, closes and fsyncs it, keeps a copy of the old file in
`published/history/<run_id>.duckdb` (last N), then `os.replace()`s the candidate over the published path — one
rename, so a reader sees the old file or the new one, never a mix. A failed gate leaves the published file
byte-for-byte unchanged and keeps the candidate for inspection.

Fault tolerance: a process killed at any point leaves the published file as it was (the rename is the only step
that touches it). A full disk, a file-size limit or a read-only published folder while the candidate or the history
copy is written raises `PublishError` naming the problem; the partial candidate is removed and the published file
stays byte-for-byte unchanged.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cakupan.core.files import sha256_file
from cakupan.core.settings import Settings

log = logging.getLogger("cakupan.targets.duckdb")

PUBLISHED_MARTS = ("mart_coverage_monthly", "mart_promise_vs_delivery", "mart_claims_summary", "mart_load_quality",
                   "mart_lineage", "mart_audit_findings", "mart_findings_evidence")
# audit tables copied into the published file: none of them holds a NIK, a name or raw cells
AUDIT_EXPORTS = {
    "loads_published": "select load_id, run_id, source, regency_code, period as period_month, file_name, "
                       "source_file, file_sha256, received_at, finished_at, status, rows_in, rows_loaded, "
                       "rows_quarantined, notes_skipped, error_code, error_message, duplicate_of from work.audit.loads",
    "quarantine_rows": "select load_id, source, source_file, sheet, source_row, regency_code, reason_code, "
                       "column_name, message, participant_key from work.quarantine.rows",
    "load_findings": "select * from work.audit.load_findings",
    "checks": "select * from work.audit.checks",
    "publishes": "select * from work.audit.publishes",
    "runs": "select * from work.audit.runs",
    "task_failures": "select * from work.audit.task_failures",
    "raw_validations": "select * from work.audit.raw_validations",
    "configured_regencies": "select * from work.reference.configured_regencies",
}


class PublishError(RuntimeError):
    """Publishing failed; the published file is unchanged."""


_DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def _why(exc: BaseException, folder: Path) -> str:
    """Say in plain words why a write failed (DuckDB reports OS errors as text, Python as errno)."""
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    if code in _DISK_FULL or any(k in text for k in ("no space left", "file too large", "disk quota")):
        return "the disk is full (or a file size limit was reached)"
    if code in _READ_ONLY or any(k in text for k in ("read-only file system", "permission denied",
                                                     "operation not permitted")):
        return f"the published folder {folder} is read-only or not writable"
    return "the file could not be written"


def _failure(what: str, exc: BaseException, settings: Settings) -> PublishError:
    detail = " ".join(str(exc).split())[:300]
    return PublishError(f"publish failed: could not {what}: {_why(exc, settings.published_dir)} ({detail}); "
                        f"the published file {settings.published_db} is unchanged")


def _remove_quietly(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink(missing_ok=True)
        except OSError:
            pass


@dataclass
class PublishResult:
    run_id: str
    status: str
    candidate: Path
    candidate_sha256: str | None
    published_sha256: str | None
    message: str


def published_tables(work_con: duckdb.DuckDBPyConnection) -> list[str]:
    """Return the marts tagged `published` that exist in the work warehouse."""
    have = {t for (t,) in work_con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    extra = sorted(t for t in have if t.startswith("mart_") and t not in PUBLISHED_MARTS)
    return [t for t in PUBLISHED_MARTS if t in have] + extra


def export_candidate(settings: Settings, run_id: str, work_path: Path | None = None) -> Path:
    """Write the published set (marts + pseudonymised audit tables) into a fresh candidate file.

    The candidate is attached to the work connection (not the other way round): a process may already hold the
    work file open (dbt-duckdb in the same process), and DuckDB allows one handle per file per process.
    """
    candidate = settings.candidate_db(run_id)
    wal = candidate.with_suffix(".duckdb.wal")
    try:
        settings.ensure_dirs()
        for p in (candidate, wal):
            if p.exists():
                p.unlink()
        _write_candidate(candidate, work_path or settings.work_db)
        _fsync(candidate)
    except (OSError, duckdb.Error) as exc:
        _remove_quietly(candidate, wal)
        raise _failure(f"write the candidate {candidate.name}", exc, settings) from exc
    return candidate


def _write_candidate(candidate: Path, work_db: Path) -> None:
    con = duckdb.connect(str(work_db))
    try:
        con.execute(f"attach '{candidate}' as cand")
        con.execute("create schema cand.marts; create schema cand.audit")
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = current_database() "
            "and table_schema = 'marts'").fetchall()]
        for t in [t for t in PUBLISHED_MARTS if t in tables] + sorted(
                t for t in tables if t.startswith("mart_") and t not in PUBLISHED_MARTS):
            con.execute(f"create table cand.marts.{t} as select * from marts.{t}")
        for name, sql in AUDIT_EXPORTS.items():
            con.execute(f"create table cand.audit.{name} as {sql.replace('work.', '')}")
        con.execute("checkpoint cand")
        con.execute("detach cand")
    finally:
        con.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def append_gate_results(candidate: Path, gate, publish_row: tuple, settings: Settings | None = None,
                        raw_validated_at: dt.datetime | None = None) -> None:
    """Add this run's check results and publish record to the candidate's audit tables (marts untouched); with
    `raw_validated_at` (a run that publishes), also the loads whose raw rows the gate validated."""
    try:
        _append_gate_results(candidate, gate, publish_row, raw_validated_at)
        _fsync(candidate)
    except (OSError, duckdb.Error) as exc:
        if settings is None:
            raise PublishError(f"publish failed: could not write the candidate {candidate.name}: "
                               f"{_why(exc, candidate.parent)} ({str(exc)[:300]}); the published file is "
                               "unchanged") from exc
        raise _failure(f"write the candidate {candidate.name}", exc, settings) from exc


def _append_gate_results(candidate: Path, gate, publish_row: tuple, raw_validated_at: dt.datetime | None) -> None:
    con = duckdb.connect(str(candidate))
    try:
        from cakupan.quality import record_raw_validations, record_results

        if raw_validated_at is not None:
            record_raw_validations(con, gate, raw_validated_at)
        record_results(con, gate)
        con.execute("insert into audit.publishes values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", list(publish_row))
        con.execute("checkpoint")
    finally:
        con.close()


def swap_in(settings: Settings, candidate: Path, run_id: str) -> str:
    """Keep the old published file in history, then rename the candidate over it (atomic); return its sha256."""
    published = settings.published_db
    keep = settings.history_dir / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{run_id_safe(run_id)}.duckdb"
    try:
        settings.history_dir.mkdir(parents=True, exist_ok=True)
        if published.exists():
            try:
                os.link(published, keep)
            except FileExistsError:
                pass
            except OSError:
                try:
                    shutil.copy2(published, keep)
                except OSError:
                    _remove_quietly(keep)
                    raise
    except OSError as exc:
        raise _failure(f"keep the previous published file in {settings.history_dir}", exc, settings) from exc
    try:
        os.replace(candidate, published)   # the one step readers can see: atomic
    except OSError as exc:
        raise _failure(f"rename the candidate {candidate.name} over the published file", exc, settings) from exc
    try:
        _fsync(published)
        prune_history(settings)
    except OSError as exc:  # the new file is in place; a failed fsync/prune must not report the publish as failed
        log.warning("published, but could not fsync or prune history: %s", exc)
    return sha256_file(published)


def run_id_safe(run_id: str) -> str:
    """File-name-safe run id."""
    from cakupan.core.settings import safe_id

    return safe_id(run_id)


def prune_history(settings: Settings) -> None:
    """Keep the newest N history files."""
    files = sorted(settings.history_dir.glob("*.duckdb"))
    for old in files[: max(0, len(files) - settings.history_keep)]:
        old.unlink()


def input_loads(work_con: duckdb.DuckDBPyConnection) -> str:
    """Return the load ids that fed this build, as text for the publish record."""
    ids = [str(i) for (i,) in work_con.execute(
        "select load_id from audit.loads where status = 'loaded' order by load_id").fetchall()]
    return ",".join(ids)
