"""The pipeline's steps, each importable without Airflow: the CLI and the DAG tasks call these and nothing else.

ingest → prepare (config + narrative facts into the warehouse) → build (dbt) → gate + publish → report.
Every step opens the target's system of record itself (`Target.records()`: the DuckDB work file, or PostgreSQL)
and closes it before returning.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from cakupan.core.settings import Settings
from cakupan.ingest.inbox import leads_out
from cakupan.ingest.keys import check_key_of
from cakupan.ingest.loader import LoadResult
from cakupan.ingest.run import ingest_paths
from cakupan.quality.texts import en
from cakupan.targets import for_settings
from cakupan.targets.base import PublishOutcome, publish_run
from cakupan.targets.refdata import sync_config
from cakupan.targets.zones import insert_rows

NARRATIVE_SUFFIXES = {".txt", ".html", ".htm"}


def new_run_id(prefix: str = "cli") -> str:
    """Return a run id for runs not started by Airflow."""
    return f"{prefix}__{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}"


def _open(settings: Settings, table: str, key: str, id_: str, period_from: str | None, period_to: str | None) -> None:
    """Insert a 'running' record into audit.runs or audit.builds (the same columns), replacing one of the same id."""
    with for_settings(settings).records() as con:
        con.execute(f"delete from audit.{table} where {key} = ?", [id_])
        con.execute(f"insert into audit.{table} values (?, now(), null, 'running', ?, ?, null)",
                    [id_, _month(period_from), _month(period_to)])


def _close(settings: Settings, table: str, key: str, id_: str, status: str, message: str | None) -> None:
    with for_settings(settings).records() as con:
        con.execute(f"update audit.{table} set finished_at = now(), status = ?, message = ? where {key} = ?",
                    [status, message, id_])


def start_run(settings: Settings, run_id: str, period_from: str | None = None, period_to: str | None = None) -> None:
    """Record the run in audit.runs."""
    _open(settings, "runs", "run_id", run_id, period_from, period_to)


def finish_run(settings: Settings, run_id: str, status: str, message: str | None = None) -> None:
    """Close the run's audit.runs row."""
    _close(settings, "runs", "run_id", run_id, status, message)


def finish_run_from_audit(settings: Settings, run_id: str) -> str:
    """Close the run with the outcome its publish record shows (published, blocked, or failed before publish); a
    build of the run still recorded as running (a dbt task failed or was stopped) is closed as failed."""
    with for_settings(settings).records() as con:
        row = con.execute("select status, message from audit.publishes where run_id = ? order by published_at desc "
                          "limit 1", [run_id]).fetchone()
        con.execute("update audit.builds set finished_at = now(), status = 'failed', message = ? "
                    "where build_id = ? and status = 'running'", [en("gate.message.build_ended"), run_id])
    status, message = row if row else ("failed", en("gate.message.stopped"))
    finish_run(settings, run_id, status, message)
    return status


def _month(v: str | None) -> dt.date | None:
    if not v:
        return None
    return dt.date.fromisoformat(str(v)[:7] + "-01")


def ingest(settings: Settings, run_id: str, paths: list[Path] | None = None) -> list[LoadResult]:
    """Load the given files, or every new file in the configured inboxes (structured sources only)."""
    if paths is None:
        return ingest_paths(settings, None, run_id=run_id)
    structured = [p for p in paths if Path(p).suffix.lower() not in NARRATIVE_SUFFIXES]
    return ingest_paths(settings, structured, run_id=run_id)


def narrative_files(settings: Settings) -> list[Path]:
    """Every narrative report (TXT/HTML) anywhere under the inbox."""
    if not settings.inbox.is_dir():
        return []
    # os.walk and the suffix first: Path.rglob + is_file stat every one of a national inbox's 7,700 files (0.1 s)
    found = []
    for folder, _, names in os.walk(settings.inbox):
        found += [Path(folder, n) for n in names if os.path.splitext(n)[1].lower() in NARRATIVE_SUFFIXES]
    return sorted(p for p in found if p.is_file() and not leads_out(p, settings.inbox))   # no link out of the inbox


def load_report_facts(settings: Settings, con: duckdb.DuckDBPyConnection) -> int:
    """Extract facts from every narrative report in the inbox, apply the review file, replace raw.report_facts."""
    try:
        from cakupan.reports.warehouse import facts_for_warehouse
    except ImportError:  # the narrative extractor is not installed in this build
        return 0
    rows = facts_for_warehouse(narrative_files(settings), settings.config_dir, root=settings.inbox)
    con.execute("delete from raw.report_facts")
    cols = ["fact_id", "source_file", "regency_code", "event_date", "event_kind", "fact_kind", "segment", "role",
            "value", "value_text", "unit", "effective_month", "sentence", "start", "end", "confidence", "status",
            "reviewed_by", "reviewed_at", "review_why"]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    insert_rows(con, f"raw.report_facts ({', '.join(chr(34) + c + chr(34) for c in cols)}, extracted_at)",
                [[r.get(c) for c in cols] + [now] for r in rows])
    return len(rows)


def prepare(settings: Settings) -> int:
    """Copy configuration into reference.* and narrative facts into raw.report_facts (in the target), then let the
    target prepare for dbt; return the fact count."""
    from cakupan.outbox.fixes import record_fixes

    record_fixes(settings)          # a rejection workbook sent back joins the delivery it fixes, before dbt reads it
    target = for_settings(settings)
    with target.derived_tables() as con:
        sync_config(con, settings)
        facts = load_report_facts(settings, con)
    target.prepare()
    return facts


def start_build(settings: Settings, build_id: str, period_from: str | None = None,
                period_to: str | None = None) -> None:
    """Record in audit.builds that a dbt build started: until it is recorded as succeeded, the gate blocks any
    publish (a build that failed or was stopped leaves marts half built)."""
    _open(settings, "builds", "build_id", build_id, period_from, period_to)


def finish_build(settings: Settings, build_id: str, status: str, message: str | None = None) -> None:
    """Record a dbt build's outcome (succeeded | failed) in audit.builds."""
    _close(settings, "builds", "build_id", build_id, status, message)


def build(settings: Settings, period_from: str | None = None, period_to: str | None = None,
          full_refresh: bool = False, build_id: str | None = None) -> None:
    """Run `dbt build` (models + data tests) into the work warehouse, recording it in audit.builds."""
    build_id = build_id or new_run_id("build")
    start_build(settings, build_id, period_from, period_to)
    try:
        run_dbt_build(settings, period_from, period_to, full_refresh)
    except Exception as exc:
        finish_build(settings, build_id, "failed", str(exc)[:2000])
        raise
    finish_build(settings, build_id, "succeeded")


def run_dbt_build(settings: Settings, period_from: str | None = None, period_to: str | None = None,
                  full_refresh: bool = False) -> None:
    """The one `dbt build` of models and data tests that `build` (the CLI) and the transform DAG's one-task mode
    run; recording it in audit.builds is the caller's. Raises DbtError when a model or test fails.

    dbt's unit tests check the models' logic on fixed inputs, not the data: as dbt advises, they run in
    development and CI (`unit_tests`, run by `make test`), not in every scheduled build (0.8 s of each).
    """
    from cakupan.transform import dbt_vars, run_dbt

    args = ["build", "--exclude-resource-type", "unit_test"] + (["--full-refresh"] if full_refresh else [])
    # artifacts in the target's folder in this home (Target.dbt_target_path), never in the manifest cosmos reads
    run_dbt(settings, args, vars=dbt_vars(period_from, period_to))


def unit_tests(settings: Settings) -> list[tuple[str, str]]:
    """Run dbt's unit tests against the built work warehouse; return (unit test, status) for each.
    Raises DbtError naming any that failed."""
    from cakupan.transform import run_dbt

    result = run_dbt(settings, ["test", "--select", "resource_type:unit_test"])
    return [(r.node.name, str(r.status)) for r in result.results]


def gate_and_publish(settings: Settings, run_id: str, recheck_raw: bool = False) -> PublishOutcome:
    """Build the candidate, run the GX gate on it, and publish only if no error check failed (`targets.base`).

    The raw suite checks the loads no published run has validated yet (`recheck_raw`: every raw row); a published
    run records the loads it validated in audit.raw_validations."""
    return publish_run(for_settings(settings), run_id, recheck_raw)


def run_all(settings: Settings, run_id: str | None = None, period_from: str | None = None,
            period_to: str | None = None) -> PublishOutcome:
    """Ingest, prepare, build, gate and publish in one process (the CLI's `cakupan run`)."""
    run_id = run_id or new_run_id()
    check_key_of(settings)          # another pseudonym key than the warehouse's: refused before anything is written
    start_run(settings, run_id, period_from, period_to)
    try:
        ingest(settings, run_id)
        prepare(settings)
        build(settings, period_from, period_to, build_id=run_id)
        outcome = gate_and_publish(settings, run_id)
    except Exception as exc:
        finish_run(settings, run_id, "failed", str(exc)[:1000])
        raise
    finish_run(settings, run_id, "published" if outcome.published else "blocked", outcome.message)
    return outcome
