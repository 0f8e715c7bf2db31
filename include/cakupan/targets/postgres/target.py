"""The PostgreSQL target: what the pipeline's steps and `targets.base.publish_run` ask of it. The server is the one
system of record: raw, quarantine and audit are written there (`writer`, `records`), dbt builds there, the gate
reads there what BI will read."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from cakupan.core.messages import text
from cakupan.targets.base import Candidate, PublishRecord, RawWriter, Target
from cakupan.targets.postgres.derived import derived_tables
from cakupan.targets.postgres.export import export_published_to_duckdb
from cakupan.targets.postgres.history import keep_published_state, record_figures
from cakupan.targets.postgres.params import connect, pg_env, pg_params
from cakupan.targets.postgres.publish import (
    AUDIT_NEXT,
    NEXT,
    append_verdict,
    build_next,
    fingerprint,
    promote_next,
    publish_lock,
)
from cakupan.targets.postgres.records import open_records
from cakupan.targets.postgres.settle import note_promote, settle_first
from cakupan.targets.postgres.zones import (
    PUBLISHED,
    ensure_areas,
    ensure_bi_role,
    ensure_zones,
    schema_exists,
)
from cakupan.targets.published_file import swap_in

if TYPE_CHECKING:
    from cakupan.quality import GateResult

log = logging.getLogger("cakupan.targets.postgres")


class PostgresTarget(Target):
    name = "postgres"
    _con = None     # the publishing connection, while `publishing()` holds the publish lock

    def dbt_env(self) -> dict[str, str]:
        return {**super().dbt_env(), **pg_env(self.settings)}

    def records(self):
        return open_records(self.settings)

    def raw_writer(self) -> RawWriter:
        from cakupan.targets.postgres.writer import PgRawWriter

        return PgRawWriter(self.settings)

    def derived_tables(self):
        return derived_tables(self.settings)

    def prepare(self) -> None:
        """The zones and the vendored areas exist before dbt builds (cosmos' dbt in the DAG, or the CLI's)."""
        with closing(connect(self.settings, application_name="cakupan-prepare")) as con:
            con.autocommit = True
            ensure_zones(con)
            con.autocommit = False
            ensure_areas(con)

    @contextmanager
    def publishing(self):
        self.settings.ensure_dirs()
        with publish_lock(self.settings), closing(connect(self.settings, application_name="cakupan-publish")) as con:
            self._con = con
            settle_first(self.settings, con)    # a publish or rollback killed before its file switch
            try:
                yield
            finally:
                self._con = None

    def build_candidate(self, run_id: str, marts: Sequence[str]) -> Candidate:
        con = self._con
        ensure_bi_role(con)
        build_next(con, marts)
        return Candidate(run_id, fingerprint(con, (NEXT, AUDIT_NEXT)))

    def gate(self, candidate: Candidate, work_con, recheck_raw: bool) -> GateResult:
        """GX with its SQL datasource on the candidate schemas and raw (every raw row: `recheck_raw` is moot)."""
        from cakupan.quality import load_gate_config, run_gate_sql

        with self._con.cursor() as cur:
            previous = PUBLISHED if schema_exists(cur, PUBLISHED) else None
        self._con.commit()
        return run_gate_sql(pg_params(self.settings).sqlalchemy_url(), candidate.run_id, marts_schema=NEXT,
                            audit_schema=AUDIT_NEXT, previous_schema=previous, raw_schema="raw",
                            docs_dir=self.settings.reports_dir / "gx", cfg=load_gate_config(self.settings.config_dir),
                            manifest=self.manifest())

    def add_verdict(self, candidate: Candidate, gate: GateResult, record: PublishRecord,
                    raw_validated_at: dt.datetime | None = None) -> None:
        append_verdict(self._con, gate, record)

    def keep_blocked(self, candidate: Candidate) -> tuple[Path, str]:
        path = export_published_to_duckdb(self.settings, self.settings.candidate_db(candidate.run_id), NEXT,
                                          AUDIT_NEXT)
        return path, text("gate.kept.postgres", next=NEXT, audit=AUDIT_NEXT, path=path)

    def promote(self, candidate: Candidate) -> None:
        promoted = promote_next(self._con, also=lambda cur: note_promote(cur, candidate.run_id))
        log.info("published: %s (attempt %d)", ", ".join(f"{t} {h}" for t, h in promoted["tables"].items()),
                 promoted["attempts"])

    def export_published(self, candidate: Candidate) -> str:
        path = export_published_to_duckdb(self.settings, self.settings.candidate_db(candidate.run_id))
        sha = swap_in(self.settings, path, candidate.run_id)
        try:   # published already: a history that could not be written is logged, not a failed publish
            keep_published_state(self._con, candidate.run_id, sha)
        except Exception as exc:  # noqa: BLE001 - psycopg2 errors and a lost connection alike
            self._con.rollback()
            log.error("published, but publish_history could not be written: %s", exc)
        return sha

    def record_figures(self, con, run_id: str, when: dt.datetime, loads: str, caused_by: str | None = None) -> int:
        return record_figures(con, self.settings.published_db, run_id, when, loads, caused_by)
