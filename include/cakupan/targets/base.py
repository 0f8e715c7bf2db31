"""What every warehouse target shares: the `Target` protocol, the published set, the publish record and the publish
step itself (`publish_run`), written once.

A target is where dbt builds and where the published set is validated and promoted: DuckDB (the work file itself,
`targets.duckdb`) or a PostgreSQL server (`targets.postgres`). The pipeline never asks which one it runs on; it
asks the target (`targets.for_settings`) to prepare the warehouse for dbt, for dbt's environment, and to publish.
Publishing is the same on both: build a candidate of the published set, gate it, record the verdict in
`audit.publishes`, then promote the candidate (a pass) or keep it for inspection (a block). Each target supplies
only its engine's steps: a candidate file and one rename on DuckDB; published_next schemas, a promote transaction
and an export of the published file on PostgreSQL. Each target is also where the raw zone, quarantine and audit
live (`records`, `raw_writer`): one system of record per target, no copy to keep in step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import duckdb

from cakupan.core.messages import Msg
from cakupan.core.settings import Settings
from cakupan.orchestration import MANIFEST_PATH
from cakupan.quality.redaction import redacted_sql
from cakupan.quality.texts import en, run_message
from cakupan.targets.published_file import PublishError
from cakupan.targets.zones import connect_work

if TYPE_CHECKING:     # the gate (GX) is imported by the publish step, not by every task that asks for a target
    from cakupan.quality import GateResult

log = logging.getLogger("cakupan.targets.base")

PUBLISHED_TAG = "published"



# audit tables published beside the marts: none of them holds a NIK, a name or raw cells, and free text that quotes
# a delivered value (a message, a check sample written by an older version) has any 16-digit number removed
AUDIT_EXPORTS = {
    "loads_published": "select load_id, run_id, source, regency_code, period as period_month, file_name, "
                       "source_file, file_sha256, received_at, finished_at, status, rows_in, rows_loaded, "
                       "rows_quarantined, notes_skipped, error_code, " + redacted_sql("error_message")
                       + ", duplicate_of from audit.loads",
    # the message without personal data (the regency's own, quoting every cell, stays in the raw zone); a row
    # quarantined before public messages existed is named by file, sheet, row and reason code only; `reasons` is
    # every problem's code, column and non-personal value (JSON), from which the report renders the message anew in
    # its own language
    "quarantine_rows": "select load_id, source, source_file, sheet, source_row, regency_code, reason_code, "
                       "column_name, " + redacted_sql("message") + ", participant_key, " + redacted_sql("reasons")
                       + ", fixed_by_load_id from (select load_id, source, source_file, sheet, source_row, "
                       "regency_code, reason_code, column_name, cast(reasons as varchar) as reasons, "
                       "coalesce(public_message, source_file || coalesce(', sheet ' || nullif(sheet, ''), '') || "
                       "', row ' || cast(source_row as varchar) || ': ' || reason_code) as message, participant_key, "
                       # "fixed by load N": the first load of a rejection workbook sent back whose row loaded
                       "(select min(f.load_id) from audit.load_fixes f where f.fixed and f.fixes_load_id = "
                       "quarantine.rows.load_id and coalesce(f.fixes_sheet, '') = coalesce(quarantine.rows.sheet, '') "
                       "and f.fixes_source_row = quarantine.rows.source_row) as fixed_by_load_id "
                       "from quarantine.rows) as q",
    # which load a rejection workbook sent back fixed, row by row (load ids and row numbers only)
    "load_fixes": "select * from audit.load_fixes",
    "load_findings": "select * from audit.load_findings",
    "checks": "select run_id, suite, expectation, expectation_type, table_name, column_name, severity, success, "
              + redacted_sql("observed_value") + ", unexpected_count, " + redacted_sql("unexpected_sample") + ", "
              + redacted_sql("details") + ", checked_at from audit.checks",
    "publishes": "select * from audit.publishes",
    "runs": "select * from audit.runs",
    "task_failures": "select * from audit.task_failures",
    "raw_validations": "select * from audit.raw_validations",
    "configured_regencies": "select * from reference.configured_regencies",
}


def published_marts(manifest: Path) -> list[str]:
    """The models dbt tags `published` (dbt_project.yml tags models/marts/published/), by table name, read from a
    dbt manifest: the one definition of the published marts."""
    try:
        nodes = json.loads(manifest.read_bytes())["nodes"]
    except FileNotFoundError:
        raise PublishError(Msg("error.publish.no_manifest", path=manifest)) from None
    return sorted(n.get("alias") or n["name"] for n in nodes.values()
                  if n.get("resource_type") == "model" and PUBLISHED_TAG in (n.get("tags") or ()))


@dataclass(frozen=True)
class PublishRecord:
    """One row of audit.publishes: a run's verdict, written to the work warehouse and into the candidate."""

    run_id: str
    published_at: dt.datetime
    status: str                     # published | blocked
    candidate_sha256: str | None
    published_sha256: str | None
    input_loads: str                # the load ids the build read, comma-separated
    gate_success: bool
    errors: int
    warnings: int
    message: str


def insert_publish_record(con, record: PublishRecord, table: str = "audit.publishes", placeholder: str = "?") -> None:
    """Insert the record by column name (a DuckDB connection, or a PostgreSQL cursor with placeholder `%s`)."""
    cols = [f.name for f in dataclasses.fields(record)]
    con.execute(f"insert into {table} ({', '.join(cols)}) values ({', '.join([placeholder] * len(cols))})",
                [getattr(record, c) for c in cols])


def input_loads(con) -> str:
    """Return the load ids that fed this build, as text for the publish record (`con`: `Target.records()`)."""
    ids = [str(i) for (i,) in con.execute(
        "select load_id from audit.loads where status = 'loaded' order by load_id").fetchall()]
    return ",".join(ids)


@dataclass
class Candidate:
    """The published set of one run, built but not yet published."""

    run_id: str
    sha256: str                          # its content hash: audit.publishes.candidate_sha256
    path: Path | None = None             # the candidate file, when the target gates a file (DuckDB)
    published_sha256: str | None = None  # the published file's hash, once promoted


@dataclass
class PublishOutcome:
    run_id: str
    published: bool
    gate: GateResult
    candidate: Path
    message: str
    published_sha256: str | None = None


class RawWriter:
    """Where the loader (`ingest.loader.Loader`) writes a file: one system of record per target.

    `con` runs the manifest and the invariant's SQL in the target (DuckDB's API: `execute(sql, params)` with `?`
    placeholders, `fetchone`/`fetchall`, explicit `begin transaction` / `commit` / `rollback`); `stage` is the
    DuckDB connection in which the loader's vectorised SQL shapes a part's raw and quarantine rows; `flush` moves
    them into the target inside the load's open transaction and returns the raw rows the target now holds for
    the part. This class is the DuckDB writer: the stage is the work file itself, so flushing moves nothing.
    PostgreSQL's (`targets.postgres.writer`) stages in an in-memory DuckDB and COPYs into the server."""

    def __init__(self, con, stage=None):
        self.con = con
        self.stage = stage if stage is not None else con

    def claim(self, sha: str) -> None:
        """Held from the manifest check of a file with these bytes until `release`: with concurrent writers, one
        load of the same bytes at a time (then the other sees it loaded, or a truly interrupted load)."""

    def release(self) -> None:
        """Release what `claim` took (when the load is over, committed or not)."""

    def reserve(self, rels: Sequence[str]) -> None:
        """Files about to be loaded, in delivery order: where files load concurrently, their load ids (the domain's
        tie-break after the received time) are taken now, in this order, whichever worker loads first."""

    def load_id(self, rel: str) -> int:
        """A new load id for this file (from the sequence, or the one `reserve` took for it)."""
        return self.con.execute("select nextval('audit.load_id_seq')").fetchone()[0]

    def flush(self, source: str, load_id: int, staged: int) -> int:
        """Move the staged rows of this load into the target (in the open load transaction); return the raw rows
        the target holds for them. `staged`: the raw rows the stage inserted."""
        return staged

    def close(self) -> None:
        self.con.close()


class Target(ABC):
    """A warehouse target: what the pipeline asks of the engine dbt builds in. Each target is one system of
    record: raw, quarantine and audit live in it and nowhere else (DuckDB: the work file; PostgreSQL: the server).

    Publish history or rollback fit here as more steps; the pipeline would still only ask the target."""

    name: ClassVar[str]

    def __init__(self, settings: Settings):
        self.settings = settings

    # ------------------------------------------------------------------------------------------- dbt ------------
    @property
    def dbt_target_path(self) -> Path:
        """dbt's target folder for this home and target (manifest, compiled SQL, run results, partial parse).

        Not dbt_project/target: that folder holds the manifest cosmos renders the DAG from (`make manifest`), which a
        DAG parse may read while a build runs; dbt writes its artifacts in place, so a build writing there could hand
        the parse half a file. One folder per home also keeps dbt's partial parsing valid from run to run."""
        return self.settings.home / "dbt" / f"target-{self.name}"

    def manifest(self) -> Path:
        """The manifest of the build whose marts are published: the one `cakupan build` wrote in this home, else
        the project's, `make manifest`'s (under Airflow, cosmos builds from it in folders of its own)."""
        built = self.dbt_target_path / "manifest.json"
        return built if built.is_file() else MANIFEST_PATH

    def dbt_env(self) -> dict[str, str]:
        """The variables profiles.yml reads for this target."""
        return {"CAKUPAN_TARGET": self.name, "CAKUPAN_WORK_DB": str(self.settings.work_db)}

    # ------------------------------------------------------------------------------------------- the zones ------
    def records(self) -> AbstractContextManager:
        """The system of record (raw, quarantine, audit: runs, checks, publishes, loads), opened for the block and
        closed after it: a connection with DuckDB's `execute(sql, params)` (`?` placeholders), each statement
        committed unless a transaction is begun explicitly."""
        return connect_work(self.settings)

    def raw_writer(self) -> RawWriter:
        """The loader's writer for this target (see `RawWriter`); the caller closes it (`writer.con.close()`)."""
        return RawWriter(connect_work(self.settings))

    @contextmanager
    def derived_tables(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection for the tables derived whole from config/ and the narrative reports at every run
        (reference.sectors, rates, configured_regencies, finding_rules…, raw.report_facts); they are in the
        target when the block ends."""
        with connect_work(self.settings) as con:
            yield con

    # ------------------------------------------------------------------------------------------- the run --------
    def prepare(self) -> None:
        """Whatever must happen after the zones changed and before dbt builds."""

    # ------------------------------------------------------------------------------------------- publish --------
    def publishing(self) -> AbstractContextManager:
        """Held around the whole publish step (one publisher at a time, and its connection)."""
        return nullcontext()

    @abstractmethod
    def build_candidate(self, run_id: str, marts: Sequence[str]) -> Candidate:
        """Copy the published set (these marts, where built, and AUDIT_EXPORTS) into a candidate."""

    @abstractmethod
    def gate(self, candidate: Candidate, work_con, recheck_raw: bool) -> GateResult:
        """Run the quality gate on the candidate and the raw zone (`work_con`: `records()`)."""

    @abstractmethod
    def add_verdict(self, candidate: Candidate, gate: GateResult, record: PublishRecord,
                    raw_validated_at: dt.datetime | None = None) -> None:
        """Add the run's check results and publish record (and, for a run that publishes, the raw validations) to
        the candidate's audit tables, so that what is published or kept carries its own verdict."""

    @abstractmethod
    def keep_blocked(self, candidate: Candidate) -> tuple[Path, str]:
        """Keep a blocked candidate for inspection; return the file to look at and a sentence saying what was kept."""

    @abstractmethod
    def promote(self, candidate: Candidate) -> None:
        """Make the candidate the published state in one step readers cannot see half of; on an error nothing
        was published."""

    @abstractmethod
    def export_published(self, candidate: Candidate) -> str:
        """Make sure the published file holds the promoted state; return its sha256."""

    def record_figures(self, con, run_id: str, when: dt.datetime, loads: str, caused_by: str | None = None) -> int:
        """Store the published file's coverage figures that changed since the last stored ones (the restatements'
        input, `targets.history.record_figures`) in the target's audit zone (`con`: `records()`)."""
        from cakupan.targets.history import record_figures

        return record_figures(con, self.settings.published_db, run_id, when, loads, caused_by)


def gate_failed_message(gate: GateResult) -> str:
    """The blocked run's message: the first failed error checks (stored in English, shown through the catalogue:
    `quality.texts.run_message`)."""
    from cakupan.quality.texts import failed_message

    return failed_message(gate.errors)


def publish_run(target: Target, run_id: str, recheck_raw: bool = False) -> PublishOutcome:
    """Build the candidate, run the GX gate on it, and promote it only if no error check failed; record the verdict
    in audit.publishes either way.

    The raw suite checks the loads no published run has validated yet (`recheck_raw`: every raw row, where the
    target validates loads once); a published run records the loads it validated in audit.raw_validations."""
    from cakupan.quality import import_gx_meanwhile, record_raw_validations, record_results

    settings = target.settings
    import_gx_meanwhile()       # Great Expectations imports (~2.5 s) while the candidate is built
    marts = published_marts(target.manifest())
    with target.publishing():
        candidate = target.build_candidate(run_id, marts)
        with target.records() as con:
            gate = target.gate(candidate, con, recheck_raw)
            record_results(con, gate)
            loads = input_loads(con)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if not gate.success:
            record = PublishRecord(run_id, now, "blocked", candidate.sha256, None, loads, False, len(gate.errors),
                                   len(gate.warnings), gate_failed_message(gate))
            with target.records() as con:
                insert_publish_record(con, record)
            # the kept candidate carries its own verdict, so the auditor report can show the blocked run at once
            target.add_verdict(candidate, gate, record)
            kept, what = target.keep_blocked(candidate)
            log.error("%s; %s", run_message(record.message), what)     # the CLI shows it: in its language
            return PublishOutcome(run_id, False, gate, kept, record.message)
        record = PublishRecord(run_id, now, "published", candidate.sha256, None, loads, True, 0, len(gate.warnings),
                               en("gate.message.published", checks=len(gate.results), warnings=len(gate.warnings)))
        target.add_verdict(candidate, gate, record, raw_validated_at=now)
        target.promote(candidate)   # raises when nothing was published: then nothing is recorded
        sha = None
        try:
            sha = target.export_published(candidate)
        finally:  # promoted: record the publish even when the published file could not be written
            done = dataclasses.replace(record, published_sha256=sha, message=record.message if sha else
                                       en("gate.message.export_failed", message=record.message))
            with target.records() as con:
                insert_publish_record(con, done)
                if sha:   # a kill before this line only means they are checked again
                    record_raw_validations(con, gate, now)
                    try:   # the restatements' input; published already, so a failure here is only logged
                        target.record_figures(con, run_id, now, loads)
                    except Exception as exc:  # noqa: BLE001 - DuckDB's and psycopg2's errors alike
                        log.error("published, but the published figures were not recorded: %s", exc)
        return PublishOutcome(run_id, True, gate, settings.published_db, record.message, sha)
