"""The DuckDB target (the default): dbt builds in the work file; the published set is copied into a candidate file,
gated, and renamed over the published file.

The candidate is `published/next-<run_id>.duckdb`, written, closed and fsynced before the gate reads it, so the gate
validates the exact bytes that will be published. A pass renames it over `published/cakupan.duckdb`
(`published_file.swap_in`); a failed gate leaves the published file byte-for-byte unchanged and keeps the candidate.
A full disk, a file-size limit or a read-only published folder while the candidate is written raises
`PublishError` naming the problem; the partial candidate is removed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from cakupan.core.files import fsync_file, sha256_file
from cakupan.core.messages import Msg, text
from cakupan.core.settings import Settings
from cakupan.quality.texts import en
from cakupan.targets.base import AUDIT_EXPORTS, Candidate, PublishRecord, Target, insert_publish_record
from cakupan.targets.published_file import PublishError, failure, remove_quietly, swap_in, why

if TYPE_CHECKING:
    from cakupan.quality import GateResult


class DuckDBTarget(Target):
    name = "duckdb"

    def build_candidate(self, run_id: str, marts: Sequence[str]) -> Candidate:
        path = export_candidate(self.settings, run_id, marts)
        return Candidate(run_id, sha256_file(path), path)

    def gate(self, candidate: Candidate, work_con: duckdb.DuckDBPyConnection, recheck_raw: bool) -> GateResult:
        from cakupan.quality import CheckResult, load_gate_config, run_gate

        s = self.settings
        previous, problem = readable_previous(s.published_db)
        gate = run_gate(candidate.path, work_con, candidate.run_id, previous=previous, docs_dir=s.reports_dir / "gx",
                        recheck_raw=recheck_raw, cfg=load_gate_config(s.config_dir), manifest=self.manifest())
        if problem:   # a warning, not a block: the damaged file is what this publish is there to replace
            gate.results.append(CheckResult(candidate.run_id, "marts", "previous published file readable",
                                            "PreviousPublishedFileReadable", "previous published file", None, "warn",
                                            False, None, None, None, problem))
        return gate

    def add_verdict(self, candidate: Candidate, gate: GateResult, record: PublishRecord,
                    raw_validated_at: dt.datetime | None = None) -> None:
        append_gate_results(candidate.path, gate, record, raw_validated_at)

    def keep_blocked(self, candidate: Candidate) -> tuple[Path, str]:
        return candidate.path, text("gate.kept.duckdb", path=candidate.path)

    def promote(self, candidate: Candidate) -> None:
        candidate.published_sha256 = swap_in(self.settings, candidate.path, candidate.run_id)

    def export_published(self, candidate: Candidate) -> str:
        return candidate.published_sha256     # the promoted candidate is the published file


def readable_previous(published: Path) -> tuple[Path | None, str | None]:
    """(the previous published file, None) when every one of its marts can be counted, as the gate's row-count
    checks do; (None, why) when it cannot be read (truncated, overwritten): it is then no previous publish."""
    if not published.exists():
        return None, None
    try:
        con = duckdb.connect(str(published), read_only=True)
        try:
            for (t,) in con.execute("select table_name from information_schema.tables "
                                    "where table_schema = 'marts'").fetchall():
                con.execute(f'select count(*) from marts."{t}"').fetchone()
        finally:
            con.close()
    except duckdb.Error as exc:
        detail = " ".join(str(exc).split())[:200]
        return None, en("gate.details.previous_unreadable", path=published, error=detail)
    return published, None


def export_candidate(settings: Settings, run_id: str, marts: Sequence[str], work_path: Path | None = None) -> Path:
    """Write the published set (the given marts, where built, + pseudonymised audit tables) into a fresh candidate.

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
        _write_candidate(candidate, work_path or settings.work_db, marts)
        fsync_file(candidate)
    except (OSError, duckdb.Error) as exc:
        remove_quietly(candidate, wal)
        raise failure(Msg("error.publish.write_candidate", name=candidate.name), exc, settings) from exc
    return candidate


def _write_candidate(candidate: Path, work_db: Path, marts: Sequence[str]) -> None:
    con = duckdb.connect(str(work_db))
    try:
        con.execute("attach ? as cand", [str(candidate)])   # a parameter: a home path may hold a quote
        con.execute("create schema cand.marts; create schema cand.audit")
        built = {t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_catalog = current_database() "
            "and table_schema = 'marts'").fetchall()}
        for t in (t for t in marts if t in built):
            con.execute(f"create table cand.marts.{t} as select * from marts.{t}")
        for name, sql in AUDIT_EXPORTS.items():
            con.execute(f"create table cand.audit.{name} as {sql}")
        con.execute("checkpoint cand")
        con.execute("detach cand")
    finally:
        con.close()


def append_gate_results(candidate: Path, gate: GateResult, record: PublishRecord,
                        raw_validated_at: dt.datetime | None = None) -> None:
    """Add this run's check results and publish record to the candidate's audit tables (marts untouched); with
    `raw_validated_at` (a run that publishes), also the loads whose raw rows the gate validated."""
    from cakupan.quality import record_raw_validations, record_results

    try:
        con = duckdb.connect(str(candidate))
        try:
            if raw_validated_at is not None:
                record_raw_validations(con, gate, raw_validated_at)
            record_results(con, gate)
            insert_publish_record(con, record)
            con.execute("checkpoint")
        finally:
            con.close()
        fsync_file(candidate)
    except (OSError, duckdb.Error) as exc:
        raise PublishError(Msg("error.publish.candidate", name=candidate.name, why=why(exc, candidate.parent),
                               detail=str(exc)[:300])) from exc
