"""The full chain on a real PostgreSQL server: raw + quarantine + manifest written in PostgreSQL only, dbt-postgres
from the same models, the GX gate with a SQL datasource, the one-transaction publish, the DuckDB export the report
and trace read."""

from __future__ import annotations

import json
from contextlib import closing

import duckdb
import pytest
from cakupan.core.files import sha256_file
from cakupan.targets import changes
from cakupan.targets.base import AUDIT_EXPORTS
from cakupan.targets.postgres.derived import duck_tables
from cakupan.targets.postgres.params import connect
from pg_support import PUBLISHED_MARTS, cli

pytestmark = pytest.mark.postgres


def _pg_rows(con, sql, params=None):
    with con.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _typed(cols: list[tuple[str, str]]) -> str:
    """The columns as text where the two engines' Python values differ in kind (JSON: str vs parsed object)."""
    return ", ".join(f'cast("{c}" as varchar)' if ty.upper() == "JSON" else f'"{c}"' for c, ty in cols)


def test_zones_live_in_postgresql_only_and_hold_what_duckdb_holds(chains):
    """One raw truth per target: the PostgreSQL run wrote raw, quarantine and the manifest in the server and no
    work file at all; the same inbox gives, row for row, the DuckDB run's raw zone, quarantine and manifest (each
    file read and validated in-process exactly as on DuckDB)."""
    s = chains.settings()
    assert not s.work_db.exists(), "a PostgreSQL run must keep no second copy of the raw zone"
    with closing(duckdb.connect(str(chains.duck_home / "warehouse" / "work.duckdb"), read_only=True)) as duck, \
            closing(connect(s)) as con:
        tables = [(sch, t, cols) for sch, t, cols in duck_tables(duck, ("raw", "quarantine", "audit"))
                  if (sch, t) not in (("audit", "runs"), ("audit", "checks"), ("audit", "publishes"),
                                      ("audit", "raw_validations"), ("audit", "builds"),
                                      # per run or per look: a build per run, figures per publish (stamped with its time),
                                      # the key's first use, when each inbox file was first seen
                                      ("audit", "published_figures"), ("audit", "pseudonym_key"),
                                      ("audit", "inbox_files"))]
        assert {t for _, t, _ in tables} >= {"register", "contributions", "claims", "city_report", "rows", "loads"}
        volatile = {"run_id", "started_at", "finished_at", "extracted_at", "received_at"}  # when each run did or saw it
        for schema, table, cols in tables:
            cols = [(c, ty) for c, ty in cols if c not in volatile]
            sql = f'select {_typed(cols)} from {schema}."{table}"'
            want = sorted(map(repr, duck.execute(sql).fetchall()))
            got = sorted(map(repr, _pg_rows(con, sql)))
            assert got == want, f"{schema}.{table}: PostgreSQL differs from the DuckDB run"
        # the data really flowed: accepted rows, quarantined rows and the manifest
        assert _pg_rows(con, "select count(*) from raw.register")[0][0] > 0
        assert _pg_rows(con, "select count(*) from quarantine.rows")[0][0] > 0
        statuses = dict(_pg_rows(con, "select status, count(*) from audit.loads group by status"))
        assert statuses.get("loaded", 0) >= 9
        # the run record is PostgreSQL's too, closed by each run
        runs = _pg_rows(con, "select status from audit.runs order by started_at")
        assert [r[0] for r in runs] == ["published", "published"]


def test_dbt_built_every_model_in_postgres(chains):
    with closing(connect(chains.settings())) as con:
        marts = {t for (t,) in _pg_rows(con, "select table_name from information_schema.tables "
                                             "where table_schema = 'marts'")}
        views = {t for (t,) in _pg_rows(con, "select table_name from information_schema.views "
                                             "where table_schema = 'staging'")}
    assert set(PUBLISHED_MARTS) <= marts
    assert {"dim_month", "fct_coverage_by_funding_source", "fct_contributions", "fct_claims"} <= marts
    assert {"stg_register__enrollments", "stg_contributions__payments", "stg_audit__loads",
            "stg_reference__regencies"} <= views
    results = json.loads((chains.pg_home / "dbt" / "target-postgres" / "run_results.json").read_text())
    assert results["results"] and all(r["status"] in ("success", "pass") for r in results["results"])


def test_published_schemas_hold_the_published_set(chains):
    with closing(connect(chains.settings())) as con:
        published = {t for (t,) in _pg_rows(con, "select table_name from information_schema.tables "
                                                 "where table_schema = 'published'")}
        audit = {t for (t,) in _pg_rows(con, "select table_name from information_schema.tables "
                                             "where table_schema = 'published_audit'")}
        leftovers = _pg_rows(con, "select nspname from pg_namespace where nspname like 'published%%' "
                                  "and nspname not in ('published', 'published_audit')")
        coverage = _pg_rows(con, "select count(*), count(enrolled), sum(protected) from published.mart_coverage_monthly")
        comment = _pg_rows(con, "select obj_description('published.mart_coverage_monthly'::regclass, 'pg_class')")
        no_personal = _pg_rows(con, "select count(*) from information_schema.columns where table_schema in "
                                    "('published', 'published_audit') and column_name in ('nik', 'name', 'birth_date', "
                                    "'raw_cells')")
    assert published == set(PUBLISHED_MARTS)
    assert audit == set(AUDIT_EXPORTS)
    assert leftovers == []  # the publish left no published_next / published_audit_next behind
    n, n_enrolled, protected = coverage[0]
    assert n >= 6 and n_enrolled >= 6 and protected > 0
    assert comment[0][0].startswith("One row per regency and month")  # dbt descriptions reach BI tools
    assert no_personal[0][0] == 0


def test_gate_ran_with_the_sql_datasource_and_matches_duckdb(chains):
    """The same checks (names, tables, outcomes) ran on both targets; GX computed them in PostgreSQL."""
    def checks(home, run=0):
        if home == chains.duck_home:
            with closing(duckdb.connect(str(home / "warehouse" / "work.duckdb"), read_only=True)) as c:
                run_id = c.execute("select run_id from audit.runs order by started_at").fetchall()[run][0]
                rows = c.execute("select suite, expectation, table_name, severity, success, unexpected_count "
                                 "from audit.checks where run_id = ?", [run_id]).fetchall()
        else:   # PostgreSQL's system of record
            with closing(connect(chains.settings())) as c:
                run_id = _pg_rows(c, "select run_id from audit.runs order by started_at")[run][0]
                rows = _pg_rows(c, "select suite, expectation, table_name, severity, success, unexpected_count "
                                   "from audit.checks where run_id = %s", [run_id])
        # GX reports no unexpected count for an empty SQL batch where pandas says 0: compare them as 0
        return run_id, {(r[0], r[1], r[2], r[3]): (r[4], r[5] or 0) for r in rows}

    _, duck = checks(chains.duck_home)
    pg_run, first = checks(chains.pg_home, 0)
    assert first == duck and len(first) > 40
    _, second = checks(chains.pg_home, 1)
    assert {k for k in second if "previous" in k[1]}, "the second publish compares row counts with the first"
    assert all(v[0] for k, v in second.items() if k[3] == "error")
    assert (chains.pg_home / "reports" / "gx" / pg_run / "index.html").is_file()


def test_publish_is_recorded_and_exported_to_the_published_file(chains):
    s = chains.settings()
    with closing(connect(s)) as c:
        pubs = _pg_rows(c, "select status, candidate_sha256, published_sha256, gate_success from audit.publishes "
                           "order by published_at")
    assert [p[0] for p in pubs] == ["published", "published"]
    assert pubs[-1][2] == sha256_file(s.published_db)
    assert all(len(p[1]) == 64 for p in pubs)  # content fingerprint of published_next + published_audit_next
    # both published states, kept in the publish history as whole files (beside them: the changed-rows store)
    kept = [p for p in s.history_dir.glob("*.duckdb") if p != changes.store_path(s.history_dir)]
    assert len(kept) == 2, kept
    assert not list(s.published_dir.glob("next-*.duckdb")) and not list(s.published_dir.glob(".*tmp*"))
    duck_pub = chains.duck_home / "published" / "cakupan.duckdb"
    layout = ("select table_schema, table_name, column_name, data_type from information_schema.columns "
              "order by 1, 2, ordinal_position")
    with closing(duckdb.connect(str(s.published_db), read_only=True)) as a, \
            closing(duckdb.connect(str(duck_pub), read_only=True)) as b:
        assert a.execute(layout).fetchall() == b.execute(layout).fetchall()
        assert a.execute("select count(*) from audit.checks").fetchone()[0] > 0
        assert a.execute("select status from audit.publishes order by published_at desc limit 1").fetchone() == (
            "published",)


def test_trace_and_report_work_on_the_exported_file(chains):
    out = cli(chains.pg_home, "trace", "mart_coverage_monthly", "73.72", "2025-04", "--json", target="postgres",
              pg=chains.pg)
    t = json.loads(out.stdout)
    assert t["counts"]["enrolled"] == t["figure"] > 0
    assert all(len(r["participant_key"]) == 64 for r in t["rows"] if r["measure"] == "enrolled")
    cli(chains.pg_home, "report", target="postgres", pg=chains.pg)
    index = chains.pg_home / "reports" / "site" / "index.html"
    assert index.is_file() and str(chains.pg_home / "published" / "cakupan.duckdb") in index.read_text("utf-8")
