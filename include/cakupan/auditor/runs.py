"""Every pipeline run the auditor can see, gathered from four places: the published file's audit tables, the
candidates kept after a blocked (or interrupted) publish, the Airflow task-failure log, and the GX Data Docs folders.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cakupan.auditor.formatting import utc
from cakupan.auditor.published import PublishedDb, Row
from cakupan.core.messages import text
from cakupan.core.settings import Settings, safe_id

log = logging.getLogger("cakupan.auditor.report")

NO_RUN_ID = "(no run id)"


def _mtime(p: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC).replace(tzinfo=None)


@dataclass
class Run:
    run_id: str
    status: str | None = None
    message: str | None = None
    published_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    errors: int | None = None
    warnings: int | None = None
    candidate_sha256: str | None = None
    published_sha256: str | None = None
    checks: list[Row] = field(default_factory=list)
    failures: list[Row] = field(default_factory=list)
    candidate: Path | None = None
    gx_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def when(self) -> dt.datetime:
        """The latest moment anything records of this run (runs are listed newest first by it)."""
        times = [t for t in (self.published_at, self.finished_at, self.started_at) if t]
        times += [c["checked_at"] for c in self.checks if isinstance(c.get("checked_at"), dt.datetime)]
        times += [t for t in (utc(f.get("failed_at")) for f in self.failures) if t]
        if self.candidate is not None and self.candidate.exists():
            times.append(_mtime(self.candidate))
        if self.gx_dir is not None and self.gx_dir.exists():
            times.append(_mtime(self.gx_dir))
        return max(times) if times else dt.datetime.min

    @property
    def blocked(self) -> bool:
        return (self.status or "").startswith("blocked") or any(
            not c.get("success") and c.get("severity") == "error" for c in self.checks)

    def take_publish(self, r: Row) -> None:
        """Take status, message, counts and hashes from an audit.publishes row."""
        self.status, self.message = r.get("status"), r.get("message") or self.message
        self.published_at = utc(r.get("published_at"))
        self.errors, self.warnings = r.get("errors"), r.get("warnings")
        self.candidate_sha256, self.published_sha256 = r.get("candidate_sha256"), r.get("published_sha256")


class _Runs(dict[str, Run]):
    def get_run(self, run_id) -> Run:
        rid = str(run_id) if run_id is not None else NO_RUN_ID
        return self.setdefault(rid, Run(rid))


def collect_runs(settings: Settings, db: PublishedDb | None) -> list[Run]:
    """Every run the published file, kept candidates, GX Data Docs and the task-failure log know of, newest first."""
    runs = _Runs()
    if db is not None:
        _from_published(db, runs)
    if settings.published_dir.is_dir():
        for cand in sorted(settings.published_dir.glob("next-*.duckdb")):
            _from_candidate(cand, runs)
    log_file = settings.logs_dir / "task_failures.jsonl"
    if log_file.is_file():
        _from_failure_log(log_file, runs)
    gx_root = settings.reports_dir / "gx"
    if gx_root.is_dir():
        _from_gx_docs(gx_root, runs)
    return sorted(runs.values(), key=lambda r: r.when, reverse=True)


def _from_published(db: PublishedDb, runs: _Runs) -> None:
    if db.has("audit.runs"):
        for r in db.rows("select * from audit.runs order by started_at nulls first"):
            run = runs.get_run(r.get("run_id"))
            run.started_at, run.finished_at = utc(r.get("started_at")), utc(r.get("finished_at"))
            run.status = run.status or r.get("status")
            run.message = run.message or r.get("message")
    if db.has("audit.publishes"):
        for r in db.rows("select * from audit.publishes order by published_at nulls first"):
            runs.get_run(r.get("run_id")).take_publish(r)  # the newest publish row of a run wins
    if db.has("audit.checks"):
        for r in db.rows("select * from audit.checks order by checked_at"):
            runs.get_run(r.get("run_id")).checks.append(r)
    if db.has("audit.task_failures"):
        for r in db.rows("select * from audit.task_failures order by failed_at"):
            runs.get_run(r.get("run_id")).failures.append(Row(r, recorded_in="published file"))


def _read_candidate(cand: Path, stem: str) -> tuple[list[Row], list[Row], bool]:
    """(publish rows, check rows, readable) of a kept candidate: its own run's records only."""
    try:
        with duckdb.connect(str(cand), read_only=True) as c:
            cdb = PublishedDb(c)
            pub = [r for r in (cdb.table("audit.publishes") or []) if safe_id(str(r["run_id"])) == stem]
            checks = [r for r in (cdb.table("audit.checks") or []) if safe_id(str(r["run_id"])) == stem]
        return pub, checks, True
    except duckdb.Error as exc:
        log.warning("cannot read candidate %s: %s", cand, exc)
        return [], [], False


def _from_candidate(cand: Path, runs: _Runs) -> None:
    """A candidate kept after a blocked (or interrupted) publish: the file named after its run."""
    stem = cand.name[len("next-"):-len(".duckdb")]
    own = next((r for r in runs.values() if safe_id(r.run_id) == stem), None)
    pub, checks, readable = _read_candidate(cand, stem)
    if own is None:
        own = runs.get_run(str((pub or checks or [{"run_id": stem}])[0]["run_id"]))
    own.candidate = cand
    if pub and own.status is None:
        last = pub[-1]
        own.status, own.message = last.get("status"), last.get("message")
        own.published_at = utc(last.get("published_at"))
        own.errors, own.warnings = last.get("errors"), last.get("warnings")
    if checks and not own.checks:
        own.checks = checks
    if own.status is None:
        own.status = "not published"
        own.notes.append(text("report.note.candidate_kept"))
    if not readable:
        own.notes.append(text("report.note.candidate_unreadable", name=cand.name))
    elif not own.checks:
        own.notes.append(text("report.note.no_checks"))


def _failure_records(log_file: Path) -> tuple[list[dict], int]:
    """(records, lines that are not a JSON object) of the task-failure log."""
    records, bad = [], 0
    for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            bad += 1
            continue
        if isinstance(rec, dict):
            records.append(rec)
        else:
            bad += 1
    return records, bad


def _from_failure_log(log_file: Path, runs: _Runs) -> None:
    """Task failures logged by the Airflow failure callback that the published file does not hold already."""
    def key(f) -> tuple:
        return str(f.get("run_id")), f.get("dag_id"), f.get("task_id"), str(f.get("try_number"))

    seen = {key(f) for r in runs.values() for f in r.failures}
    records, bad = _failure_records(log_file)
    for rec in records:
        if key(rec) in seen:
            continue
        seen.add(key(rec))
        runs.get_run(rec.get("run_id")).failures.append(Row(rec, recorded_in="logs/task_failures.jsonl"))
    if bad:
        runs.get_run(None).notes.append(text("report.note.bad_failure_lines", count=bad))


def _from_gx_docs(gx_root: Path, runs: _Runs) -> None:
    """GX Data Docs folders, one per run."""
    by_safe = {safe_id(r.run_id): r for r in runs.values()}
    for d in sorted(p for p in gx_root.iterdir() if p.is_dir() and (p / "index.html").is_file()):
        run = by_safe.get(safe_id(d.name)) or runs.get_run(d.name)
        run.gx_dir = d
        if run.status is None:
            run.status = "unknown"
            run.notes.append(text("report.note.gx_only"))
