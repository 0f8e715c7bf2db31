"""The publish history on the PostgreSQL target: each publish's published file kept (as on DuckDB), and its coverage
and restatements in `publish_history`, keyed by run id, readable by the BI role (issue 21)."""

from __future__ import annotations

import json
from contextlib import closing

import duckdb
import pytest
from cakupan.targets import history
from cakupan.targets.postgres.params import connect
from cakupan.targets.postgres.zones import DEFAULT_BI_ROLE
from pg_support import cli

pytestmark = pytest.mark.postgres

COLS = "regency_code, month_start, enrolled, protected, promised, premium_billed, premium_paid"


def test_each_publish_is_kept_by_run_id_and_equals_its_published_file(chains):
    s = chains.settings()
    kept = history.entries(s)
    assert len(kept) == 2 and all(e.kept and e.kind == "publish" for e in kept)   # the chain published twice
    with closing(connect(s)) as con, con.cursor() as cur:
        cur.execute("select run_id, published_sha256 from publish_history.publishes order by published_at")
        assert cur.fetchall() == [(e.run_id, e.sha256) for e in kept]
        for e in kept:
            cur.execute(f"select {COLS} from publish_history.mart_coverage_monthly where run_id = %s "
                        "order by 1, 2", [e.run_id])
            in_pg = cur.fetchall()
            with closing(duckdb.connect(str(e.path), read_only=True)) as d:
                in_file = d.execute(f"select {COLS} from marts.mart_coverage_monthly order by 1, 2").fetchall()
            assert in_pg == in_file and len(in_pg) >= 6   # 3 regencies, several months each
    with closing(chains.pg.connect(user=DEFAULT_BI_ROLE, dbname=chains.dbname)) as bi, bi.cursor() as cur:
        cur.execute("select count(distinct run_id) from publish_history.mart_coverage_monthly")
        assert cur.fetchone()[0] == 2


def test_as_of_and_diff_read_the_kept_files_on_postgres(chains):
    s = chains.settings()
    first, second = history.entries(s)
    out = cli(chains.pg_home, "coverage", "--json", "--as-of", first.published_at.isoformat(), target="postgres",
              pg=chains.pg).stdout
    with closing(duckdb.connect(str(first.path), read_only=True)) as d:
        expected = {(r, m.strftime("%Y-%m")): e for r, m, e in d.execute(
            "select regency_code, month_start, enrolled from marts.mart_coverage_monthly").fetchall()}
    assert {(r["regency_code"], r["month"]): r["enrolled"] for r in map(json.loads, out.splitlines())} == expected
    # the same inbox published twice: no figure changed
    same = cli(chains.pg_home, "diff", first.run_id, second.run_id, "--json", target="postgres", pg=chains.pg)
    assert same.stdout == ""
