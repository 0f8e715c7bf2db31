"""The gate's parts on small real inputs: config/gate.yml, the redaction (Python and SQL agree), the dbt rules read
from dbt's manifest (NULL fails in the gate), and the raw fingerprint covering every column a mart reads."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest
from cakupan.core.config import ConfigError
from cakupan.orchestration import MANIFEST_PATH
from cakupan.quality import engine
from cakupan.quality.batches import raw_fingerprints
from cakupan.quality.config import GateConfig, load_gate_config
from cakupan.quality.redaction import REDACTED, redact, redacted_sql
from cakupan.quality.suites import dbt_rules
from cakupan.targets.zones import AUDIT_DDL, init_work

NIK = "7372014501900001"
PUBLISHED = {"mart_audit_findings", "mart_claims_summary", "mart_coverage_monthly", "mart_findings_evidence",
             "mart_lineage", "mart_load_quality", "mart_promise_vs_delivery"}


# ------------------------------------------------------------------------------------------ config ---------
def test_the_committed_gate_config_loads(tmp_path):
    from cakupan.core.settings import PROJECT_ROOT

    cfg = load_gate_config(PROJECT_ROOT / "config")
    assert cfg.months_ahead >= 0 and 0 < cfg.drop_max_ratio <= 1 and cfg.ceiling_workers > 0
    assert load_gate_config(tmp_path) == GateConfig()          # no file: the defaults


@pytest.mark.parametrize(("text", "key"), [
    ("horizon: {months_ahead: -1}", "horizon.months_ahead"),
    ("horizon: {months_ahead: 1}\ndrop: {max_ratio: 1.5}", "drop.max_ratio"),
    ("promise: {ceiling_workers: lots}", "promise.ceiling_workers"),
    ("promise: {ceiling_by_regency: {'73.72': 0}}", "promise.ceiling_by_regency"),
])
def test_a_wrong_gate_config_names_the_file_and_the_key(tmp_path, text, key):
    (tmp_path / "gate.yml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as exc:
        load_gate_config(tmp_path)
    assert "gate.yml" in str(exc.value)


@pytest.mark.parametrize(("today", "ahead", "horizon"), [
    (dt.date(2026, 12, 1), 1, dt.date(2027, 1, 1)), (dt.date(2025, 5, 31), 0, dt.date(2025, 5, 1)),
    (dt.date(2025, 11, 15), 14, dt.date(2027, 1, 1))])
def test_the_horizon_is_the_current_month_plus_the_months_ahead(today, ahead, horizon):
    assert GateConfig(months_ahead=ahead).horizon(today) == horizon


# ------------------------------------------------------------------------------------------ redaction ------
TEXTS = [f"NIK {NIK} ditolak", f"[\"{NIK}\", \"{NIK[:-1]}9\"]", f"{NIK},{NIK}", f"x{NIK}", f"{NIK}7",
         "a" * 20 + NIK[:8] + "f" * 40, "no number here", f"'{NIK}' in column 'coverage_start' is not a date"]


@pytest.mark.parametrize("text", TEXTS)
def test_python_and_sql_redact_the_same(text):
    with duckdb.connect() as con:
        sql = con.execute(f"select {redacted_sql('t')} from (select ? as t)", [text]).fetchone()[0]
    assert sql == redact(text)
    standalone = not any(text[i - 1:i].isalnum() or text[i + 16:i + 17].isalnum()
                         for i in [text.find(NIK)] if i >= 0)
    assert (NIK in redact(text)) == (NIK in text and not standalone)
    assert (REDACTED in redact(text)) == (NIK in text and standalone)


def test_data_docs_never_hold_a_16_digit_number(tmp_path):
    """Even a check that is handed a NIK as a value (which no gate batch does) writes no NIK into Data Docs or its
    stored sample."""
    E = engine._gx().expectations
    frames = {"marts.t": pd.DataFrame({"k": ["a" * 64, NIK]})}
    checks = [engine.Check("marts", "marts.t", E.ExpectColumnValuesToMatchRegex(column="k", regex="^a+$"), "error",
                           "k is a pseudonym")]
    gate = engine.validate(frames, checks, "docs-nik", docs_dir=tmp_path)
    assert not gate.success and NIK not in (gate.results[0].unexpected_sample or "")
    pages = [p.read_text(encoding="utf-8") for p in (tmp_path / "docs-nik").glob("*.html")]
    assert pages and not any(NIK in p for p in pages) and any(REDACTED in p for p in pages)


# ------------------------------------------------------------------------------------------ dbt rules ------
def test_the_dbt_expression_rules_of_the_published_marts_are_read_from_the_manifest():
    nodes = json.loads(MANIFEST_PATH.read_text())["nodes"]
    want = {(f"marts.{nodes[n['attached_node']]['name']}", n["test_metadata"]["kwargs"]["expression"])
            for n in nodes.values() if n["resource_type"] == "test" and
            (n.get("test_metadata") or {}).get("name") == "expression_true" and
            nodes.get(n.get("attached_node") or "", {}).get("name") in PUBLISHED}
    rules = dbt_rules(MANIFEST_PATH, PUBLISHED)
    assert want and {(r.table, r.expression) for r in rules} == want
    assert all(r.table.split(".")[1] in PUBLISHED for r in rules)   # a fct_ model's rule is dbt's alone


def test_meta_gate_decides_the_severity_and_brings_in_other_tests(tmp_path):
    def test(name, kind, kwargs, meta=None, severity="ERROR"):
        return {f"test.cakupan.{name}": {"resource_type": "test", "name": name, "attached_node": "model.cakupan.m",
                                          "test_metadata": {"name": kind, "kwargs": kwargs},
                                          "config": {"severity": severity, "meta": meta or {}}}}
    nodes = {"model.cakupan.m": {"resource_type": "model", "name": "m", "alias": "m"},
             **test("a", "expression_true", {"expression": "x >= 0"}),
             **test("b", "expression_true", {"expression": "y >= 0"}, severity="warn"),
             **test("c", "expression_true", {"expression": "z >= 0"}, meta={"gate": False}),
             **test("d", "not_null", {"column_name": "x"}),
             **test("e", "not_null", {"column_name": "y"}, meta={"gate": "warn"}),
             **test("f", "accepted_values", {"column_name": "s", "values": ["a", "b"]}, meta={"gate": "error"})}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": nodes}))
    got = {(r.name, r.severity) for r in dbt_rules(path, {"m"})}
    assert got == {("dbt rule: x >= 0", "error"), ("dbt rule: y >= 0", "warn"), ("dbt rule: y not null", "warn"),
                   ("dbt rule: s in ['a', 'b']", "error")}


def test_a_null_the_dbt_rule_lets_pass_fails_in_the_gate():
    """dbt's `where not (shortfall is null or shortfall = enrolled - protected)` keeps a row whose enrolled is NULL
    (NULL is not true, so `not` of it is not true either); the gate's flag is coalesce((rule), false)."""
    from cakupan.quality.batches import Place, mart_batch
    from cakupan.quality.suites import DbtRule

    rule = DbtRule("marts.m", "expression_true", "error", expression="shortfall is null or shortfall = enrolled - "
                                                                      "protected")
    with duckdb.connect() as con:
        con.execute("create schema marts; create table marts.m as select * from (values (10, 7, 3), (null, null, 3))"
                    " as v(enrolled, protected, shortfall)")
        assert con.execute(f"select count(*) from marts.m where not ({rule.expression})").fetchone()[0] == 0
        frame = con.execute(mart_batch("m", Place("duckdb", "marts", "audit", None, False, frozenset()),
                                       dt.date(2030, 1, 1), [(rule.flag, rule.expression)])).df()
    gate = engine.validate({"marts.m": frame}, [rule.check(engine._gx().expectations)], "null-rule")
    assert [(r.expectation, r.success, r.unexpected_count) for r in gate.results] == [(rule.name, False, 1)]


# ------------------------------------------------------------------------------------------ fingerprint ----
@pytest.mark.parametrize("change", [
    "update raw.register set regency_code = '73.73'", "update raw.register set period = date '2025-05-01'",
    "update raw.register set participant_key = repeat('b', 64)", "update raw.register set source_file = 'x.csv'",
    "update raw.register set funding_source = 'CSR'", "update audit.loads set regency_code = '73.73'"])
def test_the_raw_fingerprint_covers_every_column_a_mart_reads(change):
    with duckdb.connect() as con:
        con.execute(AUDIT_DDL)
        init_work(con)
        con.execute("insert into audit.loads (load_id, source_file, file_name, file_sha256, status, regency_code) "
                    "values (1, '73.72/r.csv', 'r.csv', 'abc', 'loaded', '73.72')")
        con.execute("insert into raw.register (load_id, source_file, file_sha256, source_row, regency_code, period, "
                    "participant_key, nik, full_name, occupation, programs, coverage_start, monthly_contribution, "
                    "funding_source) values (1, '73.72/r.csv', 'abc', 2, '73.72', date '2025-04-01', "
                    "repeat('a', 64), ?, 'Nama', 'nelayan', 'JKK,JKM', date '2025-04-01', 16800, 'APBD')", [NIK])
        before = raw_fingerprints(con, "register")
        con.execute(change)
        assert raw_fingerprints(con, "register")[1][1] != before[1][1]
