"""The published `mart_audit_findings.detail_id` (the finding in Bahasa Indonesia) is computed by dbt with a macro
generated from the catalogue (issue 23): the committed macro is the one the catalogue gives, and its SQL reads every
detail.* sentence, with counted nouns and word lists, exactly as `finding_detail(detail, "id")` does. On the real
findings of a full run: tests/findings/test_findings_e2e.py."""

from __future__ import annotations

import re
import time

import duckdb
from cakupan.core.dbt_texts import MACRO_FILE, _Dialect, detail_sql, render_macro
from cakupan.core.messages import catalogue, finding_detail, placeholders

DETAILS = sorted(k for k in catalogue() if k.startswith("detail."))
# values a rule puts into a sentence: plain values, counted nouns, lists of words (each read in Indonesian)
VALUES = ["APBD", "3 days", "1 day", "2 enrolled workers", "5 register rows", "1 worker", "4 months",
          "day, month", "contributions", "73.72 (Kota Parepare)", "2025-04"]


def test_the_committed_macro_is_the_one_the_catalogue_gives():
    assert MACRO_FILE.read_text(encoding="utf-8") == render_macro(), \
        "dbt_project/macros/finding_detail_id.sql is stale: run `python -m cakupan.core.dbt_texts --write`"


def _sentences() -> list[str]:
    """Every detail.* sentence with values a rule puts in (plain values, counted nouns, lists of words)."""
    out = []
    for key in DETAILS:
        en = catalogue()[key]["en"]
        names = sorted(placeholders(en))
        out += [en.format(**{n: VALUES[(i + shift) % len(VALUES)] for i, n in enumerate(names)})
                for shift in range(len(VALUES) if names else 1)]
        out += [en.format(**dict.fromkeys(names, "3 days"))] if names else []
    return out


def test_every_detail_sentence_reads_in_sql_as_in_python():
    sentences = [*_sentences(), "a sentence no rule writes", None]
    with duckdb.connect() as con:     # one query: the CASE is large, compiled once
        got = dict(con.execute(f"select d, {detail_sql(_Dialect('duckdb'), 'd')} from "
                               "(select unnest(cast(? as varchar[])) as d)", [sentences]).fetchall())
    differ = [(s, got[s], finding_detail(s, "id")) for s in sentences if got[s] != finding_detail(s, "id")]
    assert len(sentences) > 200 and not differ, differ[:5]
    # the values really are read: a counted noun inside a sentence comes out in Indonesian
    counted = [s for s in sentences if s and "3 days" in s and "1 day" not in s and "APBD" not in s]
    assert len(counted) > 20 and all("3 hari" in got[s] for s in counted), [s for s in counted if "3 hari" not in got[s]]
    assert got["a sentence no rule writes"] == "a sentence no rule writes" and got[None] is None


def test_the_postgres_sql_has_the_same_shapes():
    duck, pg = detail_sql(_Dialect("duckdb"), "d"), detail_sql(_Dialect("postgres"), "d")
    rx = r"'(\^[^']*\$)'"
    assert re.findall(rx, duck) == re.findall(rx, pg) and len(re.findall(rx, pg)) > len(DETAILS)


def test_the_duckdb_sql_plans_quickly_where_the_mart_reads_it():
    """mart_audit_findings reads the detail through two left joins; there, an entry's parts taken in a scalar
    subquery (a correlated join to DuckDB) took 4.5-7.8 s to plan on empty tables, in every dbt build. Timed as
    the mart's query shape (explain: planning only), bound well above the 0.2 s it takes written out."""
    with duckdb.connect() as con:
        con.execute("set threads = 1")
        con.execute("create table findings (finding_id varchar, regency_code varchar, detail varchar)")
        con.execute("create table evidence (finding_id varchar, source_row bigint)")
        con.execute("create table regions (regency_code varchar, regency_name varchar)")
        query = (f"select f.finding_id, r.regency_name, coalesce(e.n, 0) as evidence_rows, "
                 f"{detail_sql(_Dialect('duckdb'), 'f.detail')} as detail_id from findings as f "
                 "left join (select finding_id, count(*) as n from evidence group by finding_id) as e "
                 "on e.finding_id = f.finding_id left join regions as r on r.regency_code = f.regency_code")
        started = time.perf_counter()
        con.execute("explain " + query).fetchall()
        assert time.perf_counter() - started < 1.5
