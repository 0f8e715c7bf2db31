"""The quality gate: Great Expectations suites (defined here, in code) run on the candidate before publish.

Suites come from two places, kept here and nowhere else:
- the source contracts (raw suite: required fields present, NIK shape, dates in range), generated per contract;
- business rules on the marts (counts non-negative, protected <= enrolled, paid <= billed within tolerance,
  every configured regency present for every loaded period, promised present where an accepted MoU exists,
  row counts within a tolerance of the previous publish, freshness of the newest period). A rule dbt also tests
  is defined once, as a dbt test with `meta.gate` in the published marts' YAML (`core.dbt_sources.gate_rules`): dbt checks it on
  the work warehouse during the build, the gate on the candidate file it publishes.
Each expectation carries a severity in its meta: `error` blocks the publish, `warn` is only reported.
On DuckDB, GX validates pandas batches read from the candidate file (GX's SQL datasource is broken on DuckDB);
on PostgreSQL it validates the same expectation objects with its SQL datasource (`run_gate_sql`).
No NIK or name ever enters a GX batch: raw checks run on derived booleans and pseudonyms.

The raw suite validates each load once: on DuckDB a gate reads and checks only the raw rows of loads that no
published run has validated with the same suite version (`raw_suite_sha256`: its checks and batch queries) and the
same batch fingerprint (rows and a hash of exactly the columns the suite reads, computed per load in DuckDB in a
fraction of a second). A new load, a load whose rows were changed behind the loader's back, and every load after a
suite change are checked; audit.raw_validations records which run validated each load, and every raw check's
details say how many rows and loads it covered. `recheck_raw=True` validates every raw row. On PostgreSQL GX
computes the raw metrics in the database over every row on each run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from cakupan.core.contracts import all_contracts
from cakupan.core.dbt_sources import gate_rules
from cakupan.targets.zones import insert_rows

log = logging.getLogger("cakupan.quality")

PAID_TOLERANCE = 0.01          # paid may exceed billed by 1% (rounding, late fees) before it is flagged
ROWCOUNT_TOLERANCE = 0.5       # a mart may shrink by at most half against the previous publish
FRESHNESS_MONTHS = 18          # the newest period must be at most this old (warn)


@dataclass
class Check:
    suite: str
    table: str
    expectation: object           # a gx.expectations.* instance
    severity: str = "error"
    name: str = ""


@dataclass
class CheckResult:
    run_id: str
    suite: str
    expectation: str
    expectation_type: str
    table_name: str
    column_name: str | None
    severity: str
    success: bool
    observed_value: str | None
    unexpected_count: int | None
    unexpected_sample: str | None
    details: str | None = None
    checked_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))


@dataclass
class GateResult:
    run_id: str
    results: list[CheckResult]
    docs_index: Path | None = None
    raw_suite_sha256: str | None = None     # the raw suite's version, when the gate ran it on the work warehouse
    # the loads whose raw rows it validated: (load_id, source, batch rows, batch fingerprint)
    raw_loads: list[tuple[int, str, int, str]] = field(default_factory=list)

    @property
    def errors(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and r.severity == "error"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [r for r in self.results if not r.success and r.severity == "warn"]

    @property
    def success(self) -> bool:
        return not self.errors


def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    return gx


def import_gx_meanwhile() -> None:
    """Start importing Great Expectations in a background thread (the gate's first `_gx()` then finds it
    imported, or waits on Python's import lock for it to finish). A failed import is left for `_gx()` to raise."""
    def run():
        try:
            _gx()
        except Exception as exc:  # noqa: BLE001 - `_gx()` in the gate raises it again, where it is handled
            log.debug("importing Great Expectations ahead of the gate failed: %s", exc)

    threading.Thread(target=run, name="cakupan-import-gx", daemon=True).start()


# ------------------------------------------------------------------------------------------ suites ---------
def raw_checks() -> list[Check]:
    """Generate the raw suite from the source contracts (required fields, NIK shape, dates in range)."""
    gx = _gx()
    E = gx.expectations
    out: list[Check] = []
    for contract in all_contracts().values():
        t = f"raw.{contract.source}"
        for c in contract.columns:
            if c.name in ("period",):
                continue
            if c.type == "nik":
                out.append(Check("raw", t, E.ExpectColumnValuesToBeInSet(column="nik_is_valid_shape", value_set=[True],
                                                                        mostly=1.0), "error", f"{c.name} shape"))
                continue
            if c.required and c.personal:
                out.append(Check("raw", t, E.ExpectColumnValuesToBeInSet(column=f"{c.name}__present",
                                                                        value_set=[True]), "error", f"{c.name} required"))
            elif c.required and c.name not in ("regency",):
                col = f"{c.name}__ymd" if c.type == "date" else c.name
                out.append(Check("raw", t, E.ExpectColumnValuesToNotBeNull(column=col), "error",
                                 f"{c.name} required"))
            if c.type in ("date",):  # dates as YYYYMMDD integers: GX 1.24 cannot compare date text on pandas 3
                out.append(Check("raw", t, E.ExpectColumnValuesToBeBetween(
                    column=f"{c.name}__ymd", min_value=19500101, max_value=21001231), "error", f"{c.name} in range"))
            if c.type in ("money", "count"):
                out.append(Check("raw", t, E.ExpectColumnValuesToBeBetween(column=c.name, min_value=0), "error",
                                 f"{c.name} non-negative"))
        out.append(Check("raw", t, E.ExpectColumnValuesToNotBeNull(column="source_row"), "error", "lineage row"))
        out.append(Check("raw", t, E.ExpectColumnValuesToNotBeNull(column="load_id"), "error", "lineage load"))
    return out


def mart_checks(previous_counts: dict[str, int]) -> list[Check]:
    """The business rules on the published marts."""
    gx = _gx()
    E = gx.expectations
    cov = "marts.mart_coverage_monthly"
    checks = [
        Check("marts", cov, E.ExpectTableRowCountToBeBetween(min_value=1), "error", "coverage not empty"),
        Check("marts", cov, E.ExpectCompoundColumnsToBeUnique(column_list=["regency_code", "month_start"]), "error",
              "one row per regency and month"),
        Check("marts", cov, E.ExpectColumnValuesToNotBeNull(column="regency_code"), "error", "regency present"),
    ]
    for col in ("enrolled", "protected", "enrolled_apbd", "protected_apbd", "premium_billed", "premium_paid",
                "participants_billed"):
        checks.append(Check("marts", cov, E.ExpectColumnValuesToBeBetween(column=col, min_value=0), "error",
                            f"{col} non-negative"))
    checks += [
        Check("marts", table, E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=other, column_B=column, or_equal=True, ignore_row_if="either_value_is_missing"), severity, name)
        for table, column, other, name, severity in gate_rules()]
    checks += [
        Check("marts", cov, E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="premium_billed_with_tolerance", column_B="premium_paid", or_equal=True,
            ignore_row_if="either_value_is_missing"), "warn", "paid <= billed within tolerance"),
        Check("marts", "check.regency_periods", E.ExpectColumnValuesToBeInSet(column="present", value_set=[True]),
              "warn", "every configured regency present for every loaded period"),
        Check("marts", "check.promises", E.ExpectColumnValuesToBeInSet(column="promised_present", value_set=[True]),
              "error", "promised present where an accepted promise is in force"),
        Check("marts", cov, E.ExpectColumnMaxToBeBetween(
            column="month_key", min_value=int((dt.date.today() - dt.timedelta(days=31 * FRESHNESS_MONTHS))
                                              .strftime("%Y%m"))),
            "warn", "newest period is fresh"),
        # on the distinct keys of the lineage (check.lineage_keys): a row fails exactly when its key does, and 107 k
        # keys read in a fraction of the time of 1 M lineage rows; marts.mart_lineage keeps its row-count check
        Check("marts", "check.lineage_keys", E.ExpectColumnValuesToMatchRegex(
            column="participant_key", regex=r"^[0-9a-f]{64}$"), "error", "lineage carries pseudonyms only"),
        Check("marts", "marts.mart_load_quality", E.ExpectColumnValuesToBeInSet(
            column="rows_balance_ok", value_set=[True]), "error", "rows in = loaded + quarantined"),
        Check("marts", "marts.mart_promise_vs_delivery", E.ExpectColumnValuesToBeInSet(
            column="status", value_set=["met", "behind", "no data", "promised, no deliveries"]), "error",
            "promise status closed list"),
        # audit findings: their presence only warns (they are the product, not a defect of the build); a
        # missing findings mart means a finding rule failed to run, which blocks like any missing table
        Check("marts", "marts.mart_audit_findings", E.ExpectTableRowCountToBeBetween(min_value=0), "error",
              "finding rules ran"),
        Check("marts", "marts.mart_audit_findings", E.ExpectColumnValuesToBeInSet(
            column="severity", value_set=["warning", "info"]), "warn", "no error-severity audit findings"),
    ]
    for table, prev in sorted(previous_counts.items()):
        if prev > 0:
            checks.append(Check("marts", table, E.ExpectTableRowCountToBeBetween(
                min_value=int(prev * (1 - ROWCOUNT_TOLERANCE))), "warn", f"row count within tolerance of previous {prev}"))
    return checks


# ------------------------------------------------------------------------------------------ batches --------
def _frame(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    if table == "marts.mart_coverage_monthly":
        df = con.execute(f"select *, premium_billed * {1 + PAID_TOLERANCE} as premium_billed_with_tolerance, "
                         f"cast(strftime(month_start, '%Y%m') as integer) as month_key from {table}").df()
    elif table == "marts.mart_load_quality":
        df = con.execute(f"select *, (status <> 'loaded' or rows_in = rows_loaded + rows_quarantined) "
                         f"as rows_balance_ok from {table}").df()
    elif table == "check.lineage_keys":
        df = con.execute("select distinct participant_key from marts.mart_lineage where measure = 'enrolled'").df()
    elif table == "check.regency_periods":
        df = con.execute("""
            with periods as (select distinct period_month from audit.loads_published where status = 'loaded'
                                 and period_month is not null),
                 configured as (select regency_code from audit.configured_regencies)
            select c.regency_code, p.period_month,
                   exists (select 1 from marts.mart_coverage_monthly m where m.regency_code = c.regency_code
                           and m.month_start = p.period_month) as present
            from configured c cross join periods p""").df()
    elif table == "check.promises":
        df = con.execute("""
            select m.regency_code, m.month_start, m.promised is not null as promised_present
            from marts.mart_coverage_monthly m
            where exists (select 1 from marts.mart_promise_vs_delivery p
                          where p.regency_code = m.regency_code and p.role in ('total', 'target')
                            and p.segment = 'pekerja_rentan' and p.effective_month <= m.month_start)""").df()
    else:
        df = con.execute(f"select * from {table}").df()
    return _plain_types(df)


def _plain_types(df: pd.DataFrame) -> pd.DataFrame:
    """Make Decimal columns float and date columns ISO text, so every GX metric compares like with like."""
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            df[col] = s.dt.strftime("%Y-%m-%d")
            continue
        sample = s.dropna()
        if len(sample) == 0:
            continue
        first = sample.iloc[0]
        if type(first).__name__ == "Decimal":
            df[col] = s.astype("float64")
        elif isinstance(first, dt.date):
            df[col] = s.map(lambda v: v.isoformat() if isinstance(v, dt.date) else None)
    return df


def raw_query(source: str, raw_schema: str = "raw", dialect: str = "postgres") -> str:
    """The raw batch of a source for GX: the NIK replaced by a shape flag, personal fields by presence flags,
    dates as YYYYMMDD integers. One definition for both targets; only the SQL spelling differs by dialect."""
    duck = dialect == "duckdb"
    contract = all_contracts()[source]
    cols = []
    for c in contract.columns:
        if c.name == "period":
            continue
        if c.type == "nik":
            shape = f"regexp_matches({c.name}, '^[0-9]{{16}}$')" if duck else f"{c.name} ~ '^[0-9]{{16}}$'"
            cols.append(f"({c.name} is null or {shape}) as nik_is_valid_shape")
        elif c.personal:
            cols.append(f"({c.name} is not null) as {c.name}__present")
        elif c.type in ("date",):
            ymd = f"strftime({c.name}, '%Y%m%d')" if duck else f"to_char({c.name}, 'YYYYMMDD')"
            cols.append(f"cast({ymd} as integer) as {c.name}__ymd")
        elif c.type == "money":
            cols.append(f"cast({c.name} as {'double' if duck else 'float8'}) as {c.name}")
        else:
            cols.append(c.name)
    table = f"{raw_schema}.{source}" if duck else f'"{raw_schema}".{source}'
    return f"select load_id, source_row, {', '.join(cols)} from {table}"


def raw_frame(con: duckdb.DuckDBPyConnection, source: str, loads: list[int] | None = None) -> pd.DataFrame:
    """Read a raw table for validation with the NIK replaced by a shape flag (no personal data in GX); with
    `loads`, only those loads' rows."""
    sql, params = raw_query(source, dialect="duckdb"), []
    if loads is not None:
        sql += " where load_id in (select unnest(?::bigint[]))"
        params = [loads]
    return _plain_types(con.execute(sql, params).df())


def raw_fingerprints(con: duckdb.DuckDBPyConnection, source: str) -> dict[int, tuple[int, str]]:
    """load_id -> (rows, fingerprint) of a source's raw batch: an order-free hash of exactly the columns the raw
    suite reads, so any change the suite could see changes it (0.1 s for 1 M register rows)."""
    sql = raw_query(source, dialect="duckdb")
    cols = ", ".join(d[0] for d in con.execute(f"{sql} limit 0").description)
    return {lid: (n, fp) for lid, n, fp in con.execute(
        f"select load_id, count(*), cast(sum(hash({cols})) as varchar) from ({sql}) as b group by load_id").fetchall()}


def raw_suite_sha256(checks: list[Check]) -> str:
    """The raw suite's version: a SHA-256 of every raw check (table, name, severity, expectation and arguments) and
    of the query that shapes each source's batch. A load validated under one version is validated again under
    another."""
    h = hashlib.sha256()
    for c in sorted((c for c in checks if c.suite == "raw"), key=lambda c: (c.table, c.name)):
        cfg = c.expectation.configuration
        h.update(json.dumps([c.table, c.name, c.severity, cfg.type, cfg.kwargs], sort_keys=True,
                            default=str).encode())
    for source in sorted(all_contracts()):
        h.update(raw_query(source, dialect="duckdb").encode())
    return h.hexdigest()


def record_raw_validations(con: duckdb.DuckDBPyConnection, gate: GateResult, validated_at: dt.datetime) -> int:
    """Record that the gate's run validated the raw rows of `gate.raw_loads` under its raw suite (call it only for
    a published run); return the number of loads recorded."""
    if not gate.raw_suite_sha256 or not gate.raw_loads:
        return 0
    return insert_rows(con, "audit.raw_validations", [
        (lid, source, gate.raw_suite_sha256, rows, fp, gate.run_id, validated_at)
        for lid, source, rows, fp in gate.raw_loads])


def _result_row(run_id: str, check: Check, r) -> CheckResult:
    cfg = r.expectation_config
    res = r.result or {}
    sample = res.get("partial_unexpected_list")
    if sample is not None:
        sample = json.dumps([str(x) for x in sample[:10]])
    observed = res.get("observed_value")
    column = cfg.kwargs.get("column") or ",".join(filter(None, [cfg.kwargs.get("column_A"), cfg.kwargs.get("column_B")])) \
        or ",".join(cfg.kwargs.get("column_list") or []) or None
    details = None
    info = r.exception_info or {}
    infos = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    messages = [str(i.get("exception_message")) for i in infos if i.get("exception_message")]
    if messages:
        details = "GX could not compute the check: " + "; ".join(messages)[:500]
    return CheckResult(run_id, check.suite, check.name or cfg.type, cfg.type, check.table, column, check.severity,
                       bool(r.success), None if observed is None else str(observed),
                       res.get("unexpected_count"), sample, details)


def validate(frames: dict[str, pd.DataFrame], checks: list[Check], run_id: str,
             docs_dir: Path | None = None) -> GateResult:
    """Run the checks with GX on dataframe batches, one validation definition per table."""
    gx = _gx()
    ctx = _context(gx)
    ds = ctx.data_sources.add_pandas("candidate")

    def batch_for(i: int, table: str):
        df = frames.get(table)
        if df is None:
            return None
        asset = ds.add_dataframe_asset(f"t{i}")
        return asset.add_batch_definition_whole_dataframe("all"), {"dataframe": df}

    return _validate_batches(gx, ctx, checks, run_id, docs_dir, batch_for)


def validate_sql(connection_string: str, queries: dict[str, str], checks: list[Check], run_id: str,
                 docs_dir: Path | None = None) -> GateResult:
    """Run the same checks with GX's SQL datasource (PostgreSQL): one query asset per logical table, so GX computes
    every metric in the database; `queries` maps the check's table name to the SQL that selects its batch."""
    gx = _gx()
    ctx = _context(gx)
    ds = ctx.data_sources.add_postgres("candidate", connection_string=connection_string)

    def batch_for(i: int, table: str):
        sql = queries.get(table)
        if sql is None:
            return None
        # GX wants a query that starts with SELECT: wrap CTEs and anything else as a subquery
        asset = ds.add_query_asset(f"t{i}", query=f"select * from ({sql.strip()}) as batch")
        return asset.add_batch_definition_whole_table("all"), None

    return _validate_batches(gx, ctx, checks, run_id, docs_dir, batch_for)


def _context(gx):
    ctx = gx.get_context(mode="ephemeral")
    try:
        ctx.variables.progress_bars = {"globally": False}
    except Exception:  # noqa: BLE001, S110 - older/newer config objects: progress bars are cosmetic
        pass
    return ctx


def _validate_batches(gx, ctx, checks: list[Check], run_id: str, docs_dir: Path | None, batch_for) -> GateResult:
    """The validation loop both datasources share: one suite and validation definition per table."""
    results: list[CheckResult] = []
    by_table: dict[str, list[Check]] = {}
    for c in checks:
        by_table.setdefault(c.table, []).append(c)
    validation_results = []
    for i, (table, table_checks) in enumerate(sorted(by_table.items())):
        batch = batch_for(i, table)
        if batch is None:
            for c in table_checks:
                results.append(CheckResult(run_id, c.suite, c.name, type(c.expectation).__name__, table, None,
                                           c.severity, False, None, None, None, f"table {table} is missing"))
            continue
        batch_def, batch_parameters = batch
        suite = ctx.suites.add(gx.ExpectationSuite(name=f"{table_checks[0].suite}.{table}"))
        for c in table_checks:
            c.expectation.meta = {**(c.expectation.meta or {}), "severity": c.severity, "check": c.name}
            suite.add_expectation(c.expectation)
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"v{i}", data=batch_def, suite=suite))
        res = vd.run(batch_parameters=batch_parameters, result_format={"result_format": "SUMMARY"})
        validation_results.append((table, res))
        by_name = {c.name: c for c in table_checks}
        if len(by_name) != len(table_checks):
            raise ValueError(f"check names must be unique per table: {[c.name for c in table_checks]}")
        seen = set()
        for r in res.results:  # GX does not keep the suite's order: match results by the check name in meta
            c = by_name[r.expectation_config.meta["check"]]
            seen.add(c.name)
            results.append(_result_row(run_id, c, r))
        for name in sorted(set(by_name) - seen):
            c = by_name[name]
            results.append(CheckResult(run_id, c.suite, c.name, type(c.expectation).__name__, table, None,
                                       c.severity, False, None, None, None, "GX returned no result for this check"))
    docs_index = write_data_docs(validation_results, docs_dir, run_id) if docs_dir else None
    return GateResult(run_id, results, docs_index)


def write_data_docs(validation_results, docs_dir: Path, run_id: str) -> Path:
    """Render the validation results as GX Data Docs style HTML pages (one per suite) plus an index."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    out = Path(docs_dir) / run_id
    out.mkdir(parents=True, exist_ok=True)
    links = []
    # one view for every page: each view has its own Jinja environment, which compiles GX's templates on first
    # use (0.35 s) and caches them; a view per page compiled them again for every table
    view = DefaultJinjaPageView()
    for table, res in validation_results:
        name = table.replace(".", "_") + ".html"
        try:
            doc = ValidationResultsPageRenderer().render(res)
            html = view.render(doc)
        except Exception as exc:  # noqa: BLE001 - a renderer failure must not block the gate; say so in the page
            html = f"<html><body><h1>{table}</h1><p>Data Docs rendering failed: {exc}</p></body></html>"
        (out / name).write_text(html, encoding="utf-8")
        links.append(f'<li><a href="{name}">{table}</a> — {"passed" if res.success else "FAILED"}</li>')
    index = out / "index.html"
    index.write_text(f"<html><head><meta charset='utf-8'><title>GX Data Docs {run_id}</title></head><body>"
                     f"<h1>Great Expectations results — run {run_id}</h1><ul>{''.join(links)}</ul></body></html>",
                     encoding="utf-8")
    return index


def run_gate(candidate: Path, work_con: duckdb.DuckDBPyConnection | None, run_id: str,
             previous: Path | None = None, docs_dir: Path | None = None, recheck_raw: bool = False) -> GateResult:
    """Validate the candidate file (marts) and the raw zone (contracts); return every check's result.

    The raw suite runs on the rows of loads no published run has validated, as they stand now, under the current
    suite version (all raw rows with `recheck_raw`); the result names those loads (`raw_loads`) for
    `record_raw_validations`."""
    previous_counts: dict[str, int] = {}
    if previous is not None and previous.exists():
        with duckdb.connect(str(previous), read_only=True) as p:
            for (t,) in p.execute("select table_schema || '.' || table_name from information_schema.tables "
                                  "where table_schema = 'marts'").fetchall():
                previous_counts[t] = p.execute(f"select count(*) from {t}").fetchone()[0]
    frames: dict[str, pd.DataFrame] = {}
    column_checked = ("marts.mart_coverage_monthly", "marts.mart_load_quality", "check.lineage_keys",
                      "marts.mart_promise_vs_delivery", "marts.mart_audit_findings", "check.regency_periods",
                      "check.promises")
    with duckdb.connect(str(candidate), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables").fetchall()]
        for t in (*column_checked, *previous_counts):
            if t in frames or not (t in tables or t.startswith("check.")):
                continue
            try:
                # a mart checked only for its row count (against the previous publish) needs no columns
                frames[t] = _frame(con, t) if t in column_checked else \
                    con.execute(f"select true as row_present from {t}").df()
            except duckdb.Error as exc:
                log.error("cannot read %s from the candidate: %s", t, exc)
    checks = mart_checks({t: n for t, n in previous_counts.items() if t in frames})
    if work_con is None:
        return validate(frames, checks, run_id, docs_dir)
    raw = raw_checks()
    suite = raw_suite_sha256(raw)
    # every state of a load some published run validated under this suite (a load put back as it was is done)
    done: set[tuple[int, int, str]] = set() if recheck_raw else set(work_con.execute(
        "select distinct load_id, batch_rows, batch_fingerprint from audit.raw_validations "
        "where raw_suite_sha256 = ?", [suite]).fetchall())
    todo: list[tuple[int, str, int, str]] = []
    scope: dict[str, str] = {}
    for source in all_contracts():
        prints = raw_fingerprints(work_con, source)
        new = sorted(lid for lid, v in prints.items() if (lid, *v) not in done)
        frames[f"raw.{source}"] = raw_frame(work_con, source, None if len(new) == len(prints) else new)
        todo += [(lid, source, *prints[lid]) for lid in new]
        rows = sum(prints[lid][0] for lid in new)
        scope[f"raw.{source}"] = (
            f"every raw row (recheck): {rows} rows of {len(new)} loads" if recheck_raw else
            f"{rows} rows of {len(new)} loads new or changed since validated under raw suite {suite[:12]}"
            + (f"; {len(prints) - len(new)} loads unchanged since validated by an earlier published run"
               if len(new) < len(prints) else ""))
    gate = validate(frames, raw + checks, run_id, docs_dir)
    for r in gate.results:
        if r.suite == "raw" and r.table_name in scope:
            r.details = f"{r.details}; {scope[r.table_name]}" if r.details else scope[r.table_name]
    gate.raw_suite_sha256, gate.raw_loads = suite, todo
    return gate


# ------------------------------------------------------------------------------------------ SQL (PostgreSQL) ----
def sql_queries(marts_schema: str, audit_schema: str) -> dict[str, str]:
    """The PostgreSQL batches of the mart checks (the same logical tables as `_frame`, in PostgreSQL SQL)."""
    m, a = f'"{marts_schema}"', f'"{audit_schema}"'
    return {
        "marts.mart_coverage_monthly":
            f"select *, premium_billed * {1 + PAID_TOLERANCE} as premium_billed_with_tolerance, "
            f"cast(to_char(month_start, 'YYYYMM') as integer) as month_key from {m}.mart_coverage_monthly",
        "marts.mart_load_quality":
            f"select *, (status <> 'loaded' or rows_in = rows_loaded + rows_quarantined) as rows_balance_ok "
            f"from {m}.mart_load_quality",
        "check.lineage_keys": f"select distinct participant_key from {m}.mart_lineage where measure = 'enrolled'",
        "marts.mart_promise_vs_delivery": f"select * from {m}.mart_promise_vs_delivery",
        "marts.mart_audit_findings": f"select finding_id, code, severity from {m}.mart_audit_findings",
        "check.regency_periods": f"""
            with periods as (select distinct period_month from {a}.loads_published where status = 'loaded'
                                 and period_month is not null),
                 configured as (select regency_code from {a}.configured_regencies)
            select c.regency_code, p.period_month,
                   exists (select 1 from {m}.mart_coverage_monthly x where x.regency_code = c.regency_code
                           and x.month_start = p.period_month) as present
            from configured c cross join periods p""",
        "check.promises": f"""
            select x.regency_code, x.month_start, x.promised is not null as promised_present
            from {m}.mart_coverage_monthly x
            where exists (select 1 from {m}.mart_promise_vs_delivery p
                          where p.regency_code = x.regency_code and p.role in ('total', 'target')
                            and p.segment = 'pekerja_rentan' and p.effective_month <= x.month_start)""",
    }


def run_gate_sql(connection_string: str, run_id: str, marts_schema: str, audit_schema: str,
                 previous_schema: str | None = None, raw_schema: str | None = "raw",
                 docs_dir: Path | None = None, extra_checks: list[Check] | None = None) -> GateResult:
    """The gate on PostgreSQL: the same suites as `run_gate`, validated by GX's SQL datasource against the
    candidate schemas (marts_schema holds the published marts, audit_schema the audit exports) and the raw zone.
    Check results name tables as on DuckDB (marts.mart_coverage_monthly, raw.register), so audit.checks reads the
    same whatever the target."""
    import sqlalchemy as sa

    engine = sa.create_engine(connection_string)
    try:
        with engine.connect() as c:
            def tables(schema: str) -> set[str]:
                return {t for (t,) in c.execute(sa.text(
                    "select table_name from information_schema.tables where table_schema = :s"), {"s": schema})}
            have_marts, have_audit = tables(marts_schema), tables(audit_schema)
            previous_counts: dict[str, int] = {}
            if previous_schema:
                for t in sorted(tables(previous_schema)):
                    previous_counts[f"marts.{t}"] = c.execute(sa.text(
                        f'select count(*) from "{previous_schema}"."{t}"')).scalar_one()
            have_raw = tables(raw_schema) if raw_schema else set()
    finally:
        engine.dispose()
    queries: dict[str, str] = {}
    for name, sql in sql_queries(marts_schema, audit_schema).items():
        if name.startswith("check.") or name.split(".", 1)[1] in have_marts:
            queries[name] = sql
    for t in previous_counts:
        if t.split(".", 1)[1] in have_marts and t not in queries:
            queries[t] = f'select * from "{marts_schema}"."{t.split(".", 1)[1]}"'
    needed = {"mart_coverage_monthly", "mart_promise_vs_delivery"}
    if not needed <= have_marts or not {"loads_published", "configured_regencies"} <= have_audit:
        queries.pop("check.regency_periods", None)
        queries.pop("check.promises", None)
    if "mart_lineage" not in have_marts:
        queries.pop("check.lineage_keys", None)
    checks = mart_checks({t: n for t, n in previous_counts.items() if t in queries})
    if raw_schema:
        for source in all_contracts():
            if source in have_raw:
                queries[f"raw.{source}"] = raw_query(source, raw_schema)
        checks = raw_checks() + checks
    checks += extra_checks or []
    return validate_sql(connection_string, queries, checks, run_id, docs_dir)


def record_results(con: duckdb.DuckDBPyConnection, gate: GateResult) -> None:
    """Persist every check result of the run in audit.checks (the work warehouse's, or a candidate file's)."""
    rows = [(r.run_id, r.suite, r.expectation, r.expectation_type, r.table_name, r.column_name, r.severity,
             r.success, r.observed_value, r.unexpected_count, r.unexpected_sample, r.details, r.checked_at)
            for r in gate.results]
    con.execute("delete from audit.checks where run_id = ?", [gate.run_id])
    insert_rows(con, "audit.checks", rows)
