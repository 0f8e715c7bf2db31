"""Parity: on the same inputs, the DuckDB and PostgreSQL marts are equal row for row (sorted; floats within 1e-9)."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from contextlib import closing

import duckdb
import pytest
from cakupan.targets.postgres.params import connect

pytestmark = pytest.mark.postgres

# Columns that record when the pipeline ran, not what the inputs say: each target ingested the inbox itself.
VOLATILE = {("mart_load_quality", "finished_at"), ("mart_load_quality", "received_at"),   # when each run did or saw it
            ("loads_published", "received_at"), ("loads_published", "finished_at"),
            ("mart_delivery_calendar", "first_received_at")}
TOL = 1e-9
# the same time inside finding details ("... the regency's latest file arrived 2026-12-01", and detail_id's
# Indonesian "... berkas terakhir kabupaten/kota diterima 2026-12-01"): a run before midnight and one after differ
# there and nowhere else
ARRIVED = re.compile(r"(latest file arrived|berkas terakhir kabupaten/kota diterima) \d{4}-\d{2}-\d{2}")


def _norm(v):
    if isinstance(v, str):
        return ARRIVED.sub(r"\1 <received>", v)
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.UTC).replace(tzinfo=None)
    return v


def _sort_key(row):
    return tuple((0, "") if v is None else (1, round(v, 6) if isinstance(v, float) else v) for v in row)


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)
    return a == b


def _rows(fetch, table: str, cols: list[str]) -> list[tuple]:
    keep = [i for i, c in enumerate(cols) if (table, c) not in VOLATILE]
    return sorted((tuple(_norm(r[i]) for i in keep) for r in fetch), key=_sort_key)


def compare(duck_con, duck_schema: str, pg_con, pg_schema: str) -> dict[str, int]:
    """Assert every table of duck_schema equals the same table in pg_schema; return {table: rows}."""
    tables = [t for (t,) in duck_con.execute(
        "select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE' "
        "and table_catalog = current_database() order by 1", [duck_schema]).fetchall()]
    with pg_con.cursor() as cur:
        cur.execute("select table_name from information_schema.tables where table_schema = %s "
                    "and table_type = 'BASE TABLE'", [pg_schema])
        assert {t for (t,) in cur.fetchall()} == set(tables), f"different tables in {duck_schema} / {pg_schema}"
        counts = {}
        for t in tables:
            res = duck_con.execute(f'select * from {duck_schema}."{t}"')
            dcols = [d[0] for d in res.description]
            d = _rows(res.fetchall(), t, dcols)
            cur.execute(f'select * from {pg_schema}."{t}"')
            pcols = [c[0] for c in cur.description]
            assert pcols == dcols, f"{t}: columns differ: {dcols} vs {pcols}"
            p = _rows(cur.fetchall(), t, pcols)
            assert len(p) == len(d), f"{t}: {len(d)} rows on DuckDB, {len(p)} on PostgreSQL"
            for i, (a, b) in enumerate(zip(d, p)):
                assert len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b)), \
                    f"{t} row {i} differs:\n  duckdb:     {a}\n  postgresql: {b}"
            counts[t] = len(d)
        return counts


def test_every_mart_is_equal_row_for_row(chains):
    """All dbt tables of the marts schema: dimensions, facts and the published marts."""
    with closing(duckdb.connect(str(chains.duck_home / "warehouse" / "work.duckdb"), read_only=True)) as d, \
            closing(connect(chains.settings())) as p:
        counts = compare(d, "marts", p, "marts")
    # the inputs reach every mart: claims, promises (city reports), coverage, lineage, load quality, the months
    for t in ("mart_coverage_monthly", "mart_lineage", "mart_load_quality", "mart_claims_summary",
              "mart_promise_vs_delivery", "fct_coverage_by_funding_source", "fct_enrollment_spells", "dim_month",
              "mart_delivery_calendar"):
        assert counts[t] > 0, f"{t} is empty: the parity test would prove nothing for it"


def test_published_files_are_equal(chains):
    """The DuckDB path's published file and the PostgreSQL export hold the same marts."""
    with closing(duckdb.connect(str(chains.duck_home / "published" / "cakupan.duckdb"), read_only=True)) as d, \
            closing(connect(chains.settings())) as p:
        compare(d, "marts", p, "published")


def test_column_types_agree(chains):
    """Integers stay integers, money stays decimal(18,2), ratios are doubles, dates are dates on both targets."""
    def norm(t: str) -> str:
        t = t.lower()
        return {"character varying": "varchar", "text": "varchar", "double precision": "double",
                "timestamp without time zone": "timestamp", "numeric": "decimal"}.get(t, t)

    with closing(duckdb.connect(str(chains.duck_home / "published" / "cakupan.duckdb"), read_only=True)) as d, \
            closing(connect(chains.settings())) as p, p.cursor() as cur:
        dt_ = {(t, c): norm(ty.split("(")[0]) for t, c, ty in d.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = 'marts'").fetchall()}
        cur.execute("select table_name, column_name, data_type from information_schema.columns "
                    "where table_schema = 'published'")
        pt = {(t, c): norm(ty) for t, c, ty in cur.fetchall()}
    assert dt_ == pt
