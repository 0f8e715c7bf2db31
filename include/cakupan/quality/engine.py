"""Great Expectations as the gate uses it: the check and result objects, validation on pandas batches (DuckDB) or
GX's SQL datasource (PostgreSQL), one suite and validation definition per logical table, and Data Docs.

A failed check's sample names rows, not values: each logical table declares its key columns (`keys`), GX returns
them for the first failing rows (`unexpected_index_column_names`), and the gate's `describe` turns them into words
(regency, month, file, sheet, row). No batch carries a personal value (NIKs and names enter GX only as flags), and
whatever text is stored or rendered goes through `redact`, so a 16-digit number can never reach audit.checks or
Data Docs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cakupan.quality.redaction import redact
from cakupan.quality.texts import en

log = logging.getLogger("cakupan.quality")

SAMPLE_ROWS = 10


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


# describe(table, rows) -> one sentence per failing row (rows: GX's unexpected index dicts)
Describe = Callable[[str, list[dict]], list[str]]


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


def plain_types(df: pd.DataFrame) -> pd.DataFrame:
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


def _plain(v):
    """A sample value as JSON-friendly text: numpy scalars unwrapped, dates as ISO."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def default_describe(table: str, rows: list[dict]) -> list[str]:
    """Each failing row's key columns and values as `column value` pairs."""
    return [", ".join(f"{k} {_plain(v)}" for k, v in r.items()) for r in rows]


def _result_row(run_id: str, check: Check, r, describe: Describe) -> CheckResult:
    cfg = r.expectation_config
    res = r.result or {}
    rows = res.get("partial_unexpected_index_list")   # dicts with index columns; row numbers without them
    values = res.get("partial_unexpected_list")
    sample = None
    if rows and all(isinstance(x, dict) for x in rows):
        sample = describe(check.table, [{k: _plain(v) for k, v in x.items()} for x in rows[:SAMPLE_ROWS]])
    elif values is not None:
        sample = [str(_plain(x)) for x in values[:SAMPLE_ROWS]]
    if sample is not None:
        sample = redact(json.dumps(sample, ensure_ascii=False, default=str))
    observed = res.get("observed_value")
    column = cfg.kwargs.get("column") or ",".join(filter(None, [cfg.kwargs.get("column_A"), cfg.kwargs.get("column_B")])) \
        or ",".join(cfg.kwargs.get("column_list") or []) or None
    details = None
    info = r.exception_info or {}
    infos = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    messages = [str(i.get("exception_message")) for i in infos if i.get("exception_message")]
    if messages:
        details = redact(en("gate.details.gx_error", error="; ".join(messages)[:500]))
    return CheckResult(run_id, check.suite, check.name or cfg.type, cfg.type, check.table, column, check.severity,
                       bool(r.success), None if observed is None else redact(str(observed)),
                       res.get("unexpected_count"), sample, details)


def validate(frames: dict[str, pd.DataFrame], checks: list[Check], run_id: str, docs_dir: Path | None = None,
             keys: dict[str, tuple[str, ...]] | None = None, describe: Describe = default_describe) -> GateResult:
    """Run the checks with GX on dataframe batches, one suite per table; `keys` names each table's columns that
    identify a failing row in its sample."""
    gx = _gx()
    ctx = _context(gx)
    # one whole-dataframe batch definition serves every table: the dataframe is a batch parameter
    whole = ctx.data_sources.add_pandas("candidate").add_dataframe_asset("tables") \
        .add_batch_definition_whole_dataframe("all")

    def batch_for(i: int, table: str):
        df = frames.get(table)
        if df is None:
            return None
        return whole.get_batch(batch_parameters={"dataframe": df}), list(df.columns)

    return _validate_batches(gx, checks, run_id, docs_dir, batch_for, keys or {}, describe)


def validate_sql(connection_string: str, queries: dict[str, str], checks: list[Check], run_id: str,
                 docs_dir: Path | None = None, keys: dict[str, tuple[str, ...]] | None = None,
                 describe: Describe = default_describe) -> GateResult:
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
        return asset.add_batch_definition_whole_table("all").get_batch(), None

    return _validate_batches(gx, checks, run_id, docs_dir, batch_for, keys or {}, describe)


def _context(gx):
    ctx = gx.get_context(mode="ephemeral")
    try:
        ctx.variables.progress_bars = {"globally": False}
    except Exception:  # noqa: BLE001, S110 - older/newer config objects: progress bars are cosmetic
        pass
    return ctx


def _validate_batches(gx, checks: list[Check], run_id: str, docs_dir: Path | None, batch_for,
                      keys: dict[str, tuple[str, ...]], describe: Describe) -> GateResult:
    """The validation loop both datasources share: one suite per table, validated on its batch (`Batch.validate`:
    the suites are not stored in the ephemeral context, which costs more than validating them)."""
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
                                           c.severity, False, None, None, None, en("gate.details.table_missing", table=table)))
            continue
        batch, columns = batch
        by_name = {c.name: c for c in table_checks}
        if len(by_name) != len(table_checks):
            raise ValueError(f"check names must be unique per table: {[c.name for c in table_checks]}")
        suite = gx.ExpectationSuite(name=f"{table_checks[0].suite}.{table}")
        for c in table_checks:
            c.expectation.meta = {**(c.expectation.meta or {}), "severity": c.severity, "check": c.name}
            suite.add_expectation(c.expectation)
        fmt: dict = {"result_format": "SUMMARY"}
        index = [k for k in keys.get(table, ()) if columns is None or k in columns]
        if index:
            fmt["unexpected_index_column_names"] = index
        res = batch.validate(suite, result_format=fmt)
        validation_results.append((table, res))
        seen = set()
        for r in res.results:  # GX does not keep the suite's order: match results by the check name in meta
            c = by_name[r.expectation_config.meta["check"]]
            seen.add(c.name)
            results.append(_result_row(run_id, c, r, describe))
        for name in sorted(set(by_name) - seen):
            c = by_name[name]
            results.append(CheckResult(run_id, c.suite, c.name, type(c.expectation).__name__, table, None,
                                       c.severity, False, None, None, None, en("gate.details.no_result")))
    docs_index = write_data_docs(validation_results, docs_dir, run_id) if docs_dir else None
    return GateResult(run_id, results, docs_index)


def write_data_docs(validation_results, docs_dir: Path, run_id: str) -> Path:
    """Render the validation results as GX Data Docs style HTML pages (one per suite) plus an index; any
    16-digit number in a page is removed before it is written."""
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
        (out / name).write_text(redact(html), encoding="utf-8")
        links.append(f'<li><a href="{name}">{table}</a> — {"passed" if res.success else "FAILED"}</li>')
    index = out / "index.html"
    index.write_text(f"<html><head><meta charset='utf-8'><title>GX Data Docs {run_id}</title></head><body>"
                     f"<h1>Great Expectations results — run {run_id}</h1><ul>{''.join(links)}</ul></body></html>",
                     encoding="utf-8")
    return index
