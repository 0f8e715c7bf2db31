"""The gate itself: gather the batches at a `Place` (DuckDB: the candidate and the previous published file attached
to the work connection; PostgreSQL: GX's SQL datasource on the next, published and replicated schemas), run the
suites, and record the results.

The raw suite validates each load once on DuckDB: a gate reads and checks only the raw rows of loads that no
published run has validated with the same suite version (`raw_suite_sha256`: its checks and batch queries) and the
same batch fingerprint (rows and an order-free hash of every column a mart or the suite reads). On PostgreSQL GX
computes the raw metrics in the database over every row on each run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path

import duckdb
import pandas as pd

from cakupan.core.contracts import all_contracts
from cakupan.quality.batches import (
    KEYS,
    Place,
    check_batches,
    mart_batch,
    published_text_columns,
    raw_fingerprints,
    raw_query,
)
from cakupan.quality.config import GateConfig
from cakupan.quality.engine import Check, CheckResult, GateResult, plain_types, validate, validate_sql
from cakupan.quality.redaction import redact
from cakupan.quality.suites import dbt_rules, mart_checks, raw_checks
from cakupan.quality.texts import en
from cakupan.quality.words import Describer
from cakupan.targets.zones import insert_rows

log = logging.getLogger("cakupan.quality")

# published marts read column by column (the others only for their row count against the previous publish)
COLUMN_CHECKED = ("mart_coverage_monthly", "mart_load_quality", "mart_promise_vs_delivery", "mart_audit_findings")


def _plan(place: Place, cfg: GateConfig, horizon: dt.date, manifest: Path | None,
          previous_counts: dict[str, int], text_columns: list[tuple[str, str, str, bool]]):
    """What the gate reads and checks at a place: ({logical table: SQL}, checks). A logical table whose inputs are
    missing from the candidate has no SQL (its checks fail as missing); one that does not apply here (the work
    zones are not readable) is left out with its checks."""
    marts = {t.split(".", 1)[1] for t in place.tables if t.startswith("marts.")}
    rules = dbt_rules(manifest, marts) if manifest else []
    by_table: dict[str, list[tuple[str, str]]] = {}
    for r in rules:
        if r.kind == "expression_true":
            by_table.setdefault(r.table.split(".", 1)[1], []).append((r.flag, r.expression))
    queries: dict[str, str] = {}
    for t in sorted(marts):
        if t in COLUMN_CHECKED or t in by_table:
            queries[f"marts.{t}"] = mart_batch(t, place, horizon, by_table.get(t, []))
        elif f"marts.{t}" in previous_counts:
            queries[f"marts.{t}"] = f"select true as row_present from {place.marts}.{t}"
    skipped = set()
    for name, (needs, sql) in check_batches(place, cfg, horizon).items():
        if sql is None:
            skipped.add(name)
        elif place.has(*needs):
            queries[name] = sql
    queries.update(published_text_columns(place, text_columns))
    counts = {t: n for t, n in previous_counts.items() if t in queries}
    checks = [c for c in mart_checks(counts, rules) if c.table not in skipped]
    return queries, checks


def run_gate(candidate: Path, work_con: duckdb.DuckDBPyConnection | None, run_id: str,
             previous: Path | None = None, docs_dir: Path | None = None, recheck_raw: bool = False,
             cfg: GateConfig | None = None, manifest: Path | None = None) -> GateResult:
    """Validate the candidate file (marts, audit exports) against itself, the previous publish and the work zones
    (raw, quarantine, manifest, builds); return every check's result.

    The raw suite runs on the rows of loads no published run has validated, as they stand now, under the current
    suite version (all raw rows with `recheck_raw`); the result names those loads (`raw_loads`) for
    `record_raw_validations`."""
    cfg = cfg or GateConfig()
    horizon = cfg.horizon()
    con = work_con if work_con is not None else duckdb.connect()
    attached = []
    try:
        for alias, path in (("cand", candidate), ("prev", previous)):
            if path is not None and Path(path).exists():
                con.execute(f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as {alias} (read_only)")
                attached.append(alias)
        tables = {f"{'previous' if c == 'prev' else s}.{t}" for c, s, t in con.execute(
            "select table_catalog, table_schema, table_name from information_schema.tables where table_catalog in "
            "('cand', 'prev') and table_schema in ('marts', 'audit')").fetchall() if c == "cand" or s == "marts"}
        if work_con is not None:
            tables |= {f"{s}.{t}" for s, t in work_con.execute(
                "select table_schema, table_name from information_schema.tables where table_catalog = "
                "current_database() and table_schema in ('raw', 'quarantine')").fetchall()}
            tables.add("work.builds")
        place = Place("duckdb", "cand.marts", "cand.audit", "prev.marts" if "prev" in attached else None,
                      work_con is not None, frozenset(tables))
        previous_counts = {f"marts.{t}": con.execute(f"select count(*) from prev.marts.{t}").fetchone()[0]
                           for t in (x.split(".", 1)[1] for x in tables if x.startswith("previous."))}
        text_columns = con.execute(
            "select table_schema, table_name, column_name, data_type = 'VARCHAR' from information_schema.columns "
            "where table_catalog = 'cand' and table_schema in ('marts', 'audit') "
            "order by table_schema, table_name, ordinal_position").fetchall()
        queries, checks = _plan(place, cfg, horizon, manifest, previous_counts, text_columns)
        frames: dict[str, pd.DataFrame] = {}
        for name, sql in queries.items():
            try:
                frames[name] = plain_types(con.execute(sql).df())
            except duckdb.Error as exc:
                log.error("cannot read %s for the gate: %s", name, exc)
        describe = Describer(place, lambda sql: con.execute(sql).fetchall())
        if work_con is None:
            return validate(frames, checks, run_id, docs_dir, KEYS, describe)
        raw = raw_checks(cfg)
        suite = raw_suite_sha256(raw, cfg)
        # every state of a load some published run validated under this suite (a load put back as it was is done)
        done: set[tuple[int, int, str]] = set() if recheck_raw else set(work_con.execute(
            "select distinct load_id, batch_rows, batch_fingerprint from audit.raw_validations "
            "where raw_suite_sha256 = ?", [suite]).fetchall())
        todo: list[tuple[int, str, int, str]] = []
        scope: dict[str, str] = {}
        for source in all_contracts():
            prints = raw_fingerprints(work_con, source)
            new = sorted(lid for lid, v in prints.items() if (lid, *v) not in done)
            todo += [(lid, source, *prints[lid]) for lid in new]
            rows = sum(prints[lid][0] for lid in new)
            scope[f"raw.{source}"] = (
                en("gate.details.recheck", rows=rows, loads=len(new)) if recheck_raw else
                en("gate.details.new", rows=rows, loads=len(new), suite=suite[:12])
                + ("; " + en("gate.details.unchanged", count=len(prints) - len(new))
                   if len(new) < len(prints) else ""))
            if not new:  # nothing to validate: each check passes on no rows, recorded without asking GX
                continue
            sql, params = raw_query(source, dialect="duckdb", cfg=cfg), []
            if len(new) < len(prints):
                sql += " where r.load_id in (select unnest(?::bigint[]))"
                params = [new]
            frames[f"raw.{source}"] = plain_types(work_con.execute(sql, params).df())
        idle = [c for c in raw if c.table not in frames]
        gate = validate(frames, [c for c in raw if c.table in frames] + checks, run_id, docs_dir, KEYS, describe)
        gate.results[:0] = [CheckResult(run_id, c.suite, c.name, type(c.expectation).__name__, c.table,
                                        getattr(c.expectation, "column", None), c.severity, True, None, 0, None)
                            for c in idle]
        for r in gate.results:
            if r.suite == "raw" and r.table_name in scope:
                r.details = f"{r.details}; {scope[r.table_name]}" if r.details else scope[r.table_name]
        gate.raw_suite_sha256, gate.raw_loads = suite, todo
        return gate
    finally:
        for alias in attached:
            try:
                con.execute(f"detach {alias}")
            except duckdb.Error as exc:
                log.warning("could not detach %s after the gate: %s", alias, exc)
        if work_con is None:
            con.close()


def run_gate_sql(connection_string: str, run_id: str, marts_schema: str, audit_schema: str,
                 previous_schema: str | None = None, raw_schema: str | None = "raw",
                 docs_dir: Path | None = None, extra_checks: list[Check] | None = None,
                 cfg: GateConfig | None = None, manifest: Path | None = None) -> GateResult:
    """The gate on PostgreSQL: the same suites as `run_gate`, validated by GX's SQL datasource against the
    candidate schemas (marts_schema holds the published marts, audit_schema the audit exports), the previous
    published schema and the replicated work zones (raw, quarantine, audit). Check results name tables as on DuckDB
    (marts.mart_coverage_monthly, raw.register), so audit.checks reads the same whatever the target."""
    import sqlalchemy as sa

    cfg = cfg or GateConfig()
    horizon = cfg.horizon()
    engine = sa.create_engine(connection_string)
    try:
        with engine.connect() as c:
            def names(schema: str | None) -> list[str]:
                return [] if not schema else [t for (t,) in c.execute(sa.text(
                    "select table_name from information_schema.tables where table_schema = :s"), {"s": schema})]
            tables = {f"marts.{t}" for t in names(marts_schema)} | {f"audit.{t}" for t in names(audit_schema)}
            tables |= {f"previous.{t}" for t in names(previous_schema)}
            if raw_schema:
                tables |= {f"raw.{t}" for t in names(raw_schema)} | {f"quarantine.{t}" for t in names("quarantine")}
                tables |= {f"work.{t}" for t in names("audit") if t == "builds"}
            previous_counts = {f"marts.{t.split('.', 1)[1]}": c.execute(sa.text(
                f'select count(*) from "{previous_schema}"."{t.split(".", 1)[1]}"')).scalar_one()
                for t in sorted(tables) if t.startswith("previous.")}
            text_columns = [(("marts" if s == marts_schema else "audit"), t, col, text) for s, t, col, text in
                            c.execute(sa.text(
                                "select table_schema, table_name, column_name, data_type in ('character varying', "
                                "'text') from information_schema.columns where table_schema in (:m, :a) "
                                "order by table_schema, table_name, ordinal_position"),
                                {"m": marts_schema, "a": audit_schema})]
        work = bool(raw_schema) and "work.builds" in tables and "audit.loads_published" in tables
        place = Place("postgres", f'"{marts_schema}"', f'"{audit_schema}"',
                      f'"{previous_schema}"' if previous_schema else None, work, frozenset(tables))
        queries, checks = _plan(place, cfg, horizon, manifest, previous_counts, text_columns)
        if raw_schema:
            for source in all_contracts():
                if f"raw.{source}" in tables:
                    queries[f"raw.{source}"] = raw_query(source, raw_schema, cfg=cfg)
            checks = raw_checks(cfg) + checks
        checks += extra_checks or []
        with engine.connect() as lookup:
            describe = Describer(place, lambda sql: [tuple(r) for r in lookup.execute(sa.text(sql)).fetchall()])
            return validate_sql(connection_string, queries, checks, run_id, docs_dir, KEYS, describe)
    finally:
        engine.dispose()


def raw_suite_sha256(checks: list[Check], cfg: GateConfig | None = None) -> str:
    """The raw suite's version: a SHA-256 of every raw check (table, name, severity, expectation and arguments) and
    of the query that shapes each source's batch. A load validated under one version is validated again under
    another."""
    h = hashlib.sha256()
    for c in sorted((c for c in checks if c.suite == "raw"), key=lambda c: (c.table, c.name)):
        conf = c.expectation.configuration
        h.update(json.dumps([c.table, c.name, c.severity, conf.type, conf.kwargs], sort_keys=True,
                            default=str).encode())
    for source in sorted(all_contracts()):
        h.update(raw_query(source, dialect="duckdb", cfg=cfg).encode())
    return h.hexdigest()


def record_raw_validations(con: duckdb.DuckDBPyConnection, gate: GateResult, validated_at: dt.datetime) -> int:
    """Record that the gate's run validated the raw rows of `gate.raw_loads` under its raw suite (call it only for
    a published run); return the number of loads recorded."""
    if not gate.raw_suite_sha256 or not gate.raw_loads:
        return 0
    return insert_rows(con, "audit.raw_validations", [
        (lid, source, gate.raw_suite_sha256, rows, fp, gate.run_id, validated_at)
        for lid, source, rows, fp in gate.raw_loads])


def record_results(con: duckdb.DuckDBPyConnection, gate: GateResult) -> None:
    """Persist every check result of the run in audit.checks (the work warehouse's, or a candidate file's), with
    any stand-alone 16-digit number in its text removed."""
    rows = [(r.run_id, r.suite, r.expectation, r.expectation_type, r.table_name, r.column_name, r.severity,
             r.success, redact(r.observed_value), r.unexpected_count, redact(r.unexpected_sample), redact(r.details),
             r.checked_at) for r in gate.results]
    con.execute("delete from audit.checks where run_id = ?", [gate.run_id])
    insert_rows(con, "audit.checks", rows)
