"""The quality gate's sentences read in the clerk's language (issue 23). The gate stores English (audit.checks'
samples and details, the runs' messages: stable texts for BI and auditors); the report, the command line and the
Airflow failure show them through the catalogue's gate.* entries. A sentence the gate writes without an entry fails
here: the SQL of every check batch is scanned for English words no entry holds, every problem sentence is built by
real DuckDB from its entry and read back in Indonesian, and the words naming a failing row are produced by the real
Describer and read back."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re

import duckdb
import pytest
from cakupan.core.messages import catalogue, placeholders, text
from cakupan.core.settings import PACKAGE_DIR
from cakupan.quality import texts as T
from cakupan.quality.batches import KEYS, Place, check_batches, published_text_columns
from cakupan.quality.config import GateConfig
from cakupan.quality.words import Describer

GATE = {k: v for k, v in catalogue().items() if k.startswith("gate.")}
PROBLEMS = sorted(k for k in GATE if k.startswith("gate.problem."))
# SQL literals of two or more words that are values, not sentences (statuses, formats)
NOT_SENTENCES = {"has not finished (still running, or stopped)"}


def _every_table(dialect: str) -> Place:
    tables = {f"marts.{t}" for t in ("mart_coverage_monthly", "mart_lineage", "mart_promise_vs_delivery",
                                      "mart_audit_findings", "mart_delivery_calendar")}
    tables |= {"audit.loads_published", "audit.configured_regencies", "work.builds", "previous.mart_audit_findings"}
    return Place(dialect, "cand.marts", "cand.audit", "prev.marts", True, frozenset(tables))


def _literals(sql: str) -> list[str]:
    return [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", sql)]


def _is_sentence(literal: str) -> bool:
    """Two or more words between spaces: English, not an identifier, a code or a pattern."""
    return len([w for w in literal.split() if re.fullmatch(r"\(?[A-Za-z]{2,}[,.;:)]?", w)]) >= 2


def _english_fragments() -> set[str]:
    """The words of every gate.* entry's English side, between its {parts}."""
    return {p.strip() for v in GATE.values() for p in re.split(r"\{\w+\}", v["en"]) if p.strip()}


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_no_english_sentence_is_typed_into_the_gate_sql(dialect):
    place = _every_table(dialect)
    sql = [q for _, q in check_batches(place, GateConfig(), dt.date(2025, 8, 1)).values() if q]
    sql += published_text_columns(place, [("marts", "mart_x", "detail", True), ("marts", "mart_x", "source_row",
                                                                                  False)]).values()
    known = _english_fragments()
    sentences = [lit for q in sql for lit in _literals(q) if _is_sentence(lit)]
    assert len(sentences) > 20        # the scan sees the sentences (a broken regex would pass vacuously)
    unknown = sorted({s for s in sentences if s.strip() not in known and s not in NOT_SENTENCES
                      and not any(s.strip() in k for k in known)})
    assert not unknown, f"English typed into the gate's SQL, not from a gate.* entry: {unknown}"


def test_the_scan_sees_a_new_english_sentence():
    sql = "select case when x then 'the register was eaten by goats' end as problem"
    lits = [lit for lit in _literals(sql) if _is_sentence(lit)]
    assert lits == ["the register was eaten by goats"] and lits[0] not in _english_fragments()


@pytest.mark.parametrize("key", PROBLEMS)
def test_every_problem_sentence_built_by_duckdb_reads_back_in_indonesian(key):
    params = {p: f"v{i}x" for i, p in enumerate(sorted(placeholders(GATE[key]["en"])))}
    sql = T.sql_sentence(key, **{p: f"'{v}'" for p, v in params.items()})
    with duckdb.connect() as con:
        stored = con.execute(f"select {sql}").fetchone()[0]
    assert stored == GATE[key]["en"].format(**params)                 # what the gate stores: the English side
    assert T.problem(stored, "id") == GATE[key]["id"].format(**params)  # what people read
    assert T.problem(stored, "en") == stored
    assert GATE[key]["id"] != GATE[key]["en"]


def test_a_null_part_leaves_no_problem_as_before():
    with duckdb.connect() as con:
        got = con.execute(f"select {T.sql_sentence('gate.problem.delivery_missing', source='null', due='1')}")
        assert got.fetchone()[0] is None


def test_the_describers_words_read_back_in_indonesian():
    """Every logical table's failing row, named by the real Describer from a manifest in DuckDB."""
    con = duckdb.connect()
    con.execute("create schema a")
    con.execute("create table a.loads_published as select 3 as load_id, 'register' as source, "
                "'parepare_2025-05.xlsx' as source_file, '73.72' as regency_code, date '2025-05-01' as period_month")
    con.execute("create table a.configured_regencies as select '73.72' as regency_code, 'Kota Parepare' as "
                "regency_name")
    con.execute("create schema raw")
    con.execute("create table raw.register as select 3 as load_id, 7 as source_row, 'Data Mei' as sheet")
    place = Place("duckdb", "m", "a", None, True, frozenset({"audit.loads_published", "audit.configured_regencies"}))
    describe = Describer(place, lambda sql: con.execute(sql).fetchall())
    row = {"load_id": 3, "source_row": 7, "regency_code": "73.72", "month_start": "2025-05-01", "finding_id": "f" * 20,
           "code": "X", "promise_id": "P1", "build_id": "b1", "governing_load_id": 3, "reason_code": "NIK_INVALID",
           "problem": "register never received; due 2025-06-10"}
    english = [w for t in sorted(KEYS) for w in describe(t, [{k: row[k] for k in KEYS[t] if k in row} | {
        "problem": row["problem"]}])]
    assert "row 7, sheet 'Data Mei', of register parepare_2025-05.xlsx (load 3; Kota Parepare (73.72), 2025-05): " \
           "register never received; due 2025-06-10" in english
    english.append(describe("marts.mart_coverage_monthly", [{}])[0])    # no key at all
    for sentence in english:
        said = T.sample_item(sentence, "id")
        # every English word the gate writes around the values is gone (values: names, codes, files, months)
        left = set(re.findall(r"\b(row|sheet|of|load|from|finding|promise|reason|dbt build|never received|due|"
                              r"no key)\b", said))
        assert not left, (sentence, said)
    assert T.sample(json.dumps(english), "en") == english


def test_details_and_run_messages_read_in_indonesian():
    stored = (T.en("gate.details.new", rows=12, loads=3, suite="abc") + "; "
              + T.en("gate.details.unchanged", count=4))
    assert T.details(stored, "id") == (text("gate.details.new", "id", rows=12, loads=3, suite="abc") + "; "
                                       + text("gate.details.unchanged", "id", count=4))

    class R:   # a failed check as the gate returns it
        table_name, expectation = "marts.mart_coverage_monthly", "protected <= enrolled"

    message = T.failed_message([R()])
    assert message == "gate failed: marts.mart_coverage_monthly protected <= enrolled"
    assert T.run_message(message, "id") == (
        "gerbang mutu gagal: marts.mart_coverage_monthly " + text("check.protected_le_enrolled", "id"))
    published = T.en("gate.message.export_failed", message=T.en("gate.message.published", checks=2, warnings=1))
    assert T.run_message(published, "id") == "2 pemeriksaan, 1 peringatan; ekspor DuckDB dari skema terbitan gagal"
    for key in ("gate.message.stopped", "gate.message.build_ended"):
        assert T.run_message(T.en(key), "id") == text(key, "id")


def _english_details(tree: ast.AST) -> list[int]:
    """Lines of a CheckResult whose details (its 12th argument) is English typed into the code."""
    def typed(node) -> bool:
        return isinstance(node, ast.JoinedStr) or isinstance(node, ast.Constant) and isinstance(node.value, str) \
            and any(c.isalpha() for c in node.value) or isinstance(node, ast.BinOp) and (typed(node.left) or
                                                                                        typed(node.right))
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "CheckResult"
            and len(n.args) >= 12 and typed(n.args[11])]


def test_no_check_details_are_typed_in_english():
    found, problems = 0, []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        found += sum(1 for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "CheckResult")
        problems += [f"{path.relative_to(PACKAGE_DIR)}:{line}" for line in _english_details(tree)]
    assert found >= 4 and not problems, problems
    assert _english_details(ast.parse('CheckResult(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, f"table {t} is missing")'))
    assert not _english_details(ast.parse('CheckResult(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, en("gate.details.x"))'))
    assert T.details(T.en("gate.details.table_missing", table="marts.x"), "id") == "tabel marts.x tidak ada"
