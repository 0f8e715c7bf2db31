"""config/findings.yml → reference.finding_rules: every parameter present, severities valid, errors name the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from cakupan.core.config import ConfigError
from cakupan.core.findings_config import PARAMETERS, load_finding_rules, write_finding_rules
from cakupan_dev.synth import DUE_DAY

CONFIG = Path(__file__).resolve().parents[2] / "config"
CODES = {"BILLED_COUNT_MISMATCH", "BILLED_AMOUNT_MISMATCH", "BILLING_MISSING", "PAYMENT_UNPAID", "PAYMENT_SHORTFALL",
         "PAYMENT_LATE", "DOUBLE_FUNDED_CROSS_REGENCY", "DOUBLE_FUNDED_TWO_SOURCES", "CLAIM_UNKNOWN_PERSON",
         "CLAIM_BEFORE_START", "CLAIM_NOT_ENROLLED", "CLAIM_PREMIUM_UNPAID", "CLAIM_PREMIUM_PARTIAL",
         "NIK_REGION_MISMATCH", "NIK_BIRTHDATE_MISMATCH", "AGE_OUT_OF_RANGE", "BIRTH_DATE_IMPOSSIBLE", "PROMISE_BEHIND",
         "PROMISE_NO_DATA", "REPORT_COVERED_MISMATCH", "REPORT_COUNT_MISMATCH", "REPORT_RATE_MISMATCH",
         "DELIVERY_MISSING", "DELIVERY_LATE"}
DOMAIN = Path(__file__).resolve().parents[3] / "shared" / "domain.md"
MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "findings"


def test_committed_config_loads():
    rules = load_finding_rules(CONFIG)
    assert set(rules.parameters) == set(PARAMETERS)
    assert set(rules.codes) == CODES
    assert {c.severity for c in rules.codes.values()} <= {"error", "warning", "info"}


@pytest.mark.skipif(not DOMAIN.is_file(), reason="../shared/domain.md is not present")
def test_nik_region_severity_is_what_domain_md_says():
    """domain.md, the source of truth: "A worker may live in a regency other than the one that issued the NIK:
    mismatch is a warning, not an error." The published severity says the same."""
    text = " ".join(DOMAIN.read_text(encoding="utf-8").split())
    assert "issued the NIK: mismatch is a warning, not an error" in text
    assert load_finding_rules(CONFIG).codes["NIK_REGION_MISMATCH"].severity == "warning"


def test_due_day_agrees_with_the_generator():
    assert load_finding_rules(CONFIG).parameters["payment.due_day_of_next_month"] == DUE_DAY


def test_every_code_is_raised_by_a_model():
    sql = "\n".join(p.read_text(encoding="utf-8") for p in MODELS.rglob("int_findings_*.sql"))
    assert all(f"'{code}'" in sql for code in CODES)


def test_write_finding_rules_replaces_the_table():
    con = duckdb.connect()
    n = write_finding_rules(con, CONFIG)
    assert n == write_finding_rules(con, CONFIG) == len(PARAMETERS) + len(CODES)  # replaced, not appended
    params = dict(con.execute("select name, number_value from reference.finding_rules where kind = 'parameter'")
                  .fetchall())
    assert params["promise.consecutive_months"] >= 1 and params["age.min"] < params["age.max"]
    sev = dict(con.execute("select name, text_value from reference.finding_rules where kind = 'code'").fetchall())
    assert sev["PAYMENT_UNPAID"] == "error"


@pytest.mark.parametrize(("path", "value", "message"), [
    (("payment", "grace_days"), "three", "payment.grace_days"),
    (("age", "min"), 70, "age.min"),
    (("payment", "due_day_of_next_month"), 31, "due_day_of_next_month"),
    (("codes", "PAYMENT_LATE", "severity"), "urgent", "codes.PAYMENT_LATE.severity"),
])
def test_bad_config_names_the_key(tmp_path, path, value, message):
    data = yaml.safe_load((CONFIG / "findings.yml").read_text(encoding="utf-8"))
    node = data
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    (tmp_path / "findings.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_finding_rules(tmp_path)


def test_missing_config_file_is_a_config_error(tmp_path):
    shutil.copy(CONFIG / "rates.yml", tmp_path / "rates.yml")
    with pytest.raises(ConfigError, match="findings.yml"):
        load_finding_rules(tmp_path)
