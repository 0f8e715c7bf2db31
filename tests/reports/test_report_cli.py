"""`cakupan reports extract` through Typer's CliRunner, and the flat rows for raw.report_facts."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from cakupan.reports.cli import app
from cakupan.reports.extract import extract_file
from cakupan.reports.review import ReviewConfig, review_facts
from cakupan.reports.vocabulary import ExtractionConfig
from cakupan.reports.warehouse import facts_to_rows
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
SEED_DIR = REPO.parent / "shared" / "city_reports"
ARTICLES = REPO / "tests" / "fixtures" / "articles"
CONFIG = REPO / "config"

ROW_KEYS = {
    "fact_id",
    "source_file",
    "regency_code",
    "event_date",
    "event_kind",
    "fact_kind",
    "segment",
    "role",
    "value",
    "value_text",
    "unit",
    "effective_month",
    "sentence",
    "start",
    "end",
    "confidence",
    "status",
    "reviewed_by",
    "reviewed_at",
    "review_why",
}

runner = CliRunner()


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


@pytest.mark.skipif(not SEED_DIR.exists(), reason="seed city reports (../shared/city_reports) not present")
def test_extract_json_on_seed_folder():
    result = runner.invoke(app, ["extract", str(SEED_DIR), "--json", "--config", str(CONFIG)])
    assert result.exit_code == 0, result.output
    objects = _lines(result.stdout)
    facts = [o for o in objects if o["type"] == "fact"]
    skipped = [o for o in objects if o["type"] == "skipped"]
    assert {o["type"] for o in objects} <= {"fact", "skipped"}
    for f in facts:
        assert set(f) == ROW_KEYS | {"type"}
    got = {
        (f["source_file"][:3], f["regency_code"], f["role"], f["segment"], f["value"], f["effective_month"])
        for f in facts
        if f["fact_kind"] == "count"
    }
    assert got == {
        ("000", "73.72", "previous", "pekerja_rentan", 750.0, None),
        ("000", "73.72", "total", "pekerja_rentan", 1000.0, "2025-04-01"),
        ("002", "73.73", "total", "pekerja_rentan", 4000.0, None),  # no start stated: the ledger uses March
        ("002", "73.73", "part", "pekerja_rentan", 2000.0, None),
        ("002", "73.73", "part", "nelayan", 2000.0, None),
    }
    rate = [f for f in facts if f["fact_kind"] == "participation_rate"]
    assert [(r["regency_code"], r["value"], r["unit"], r["event_date"]) for r in rate] == [
        ("73.72", 48.0, "percent", "2024-10-03")
    ]
    assert [s["code"] for s in skipped] == ["DUPLICATE"]
    # the committed review file has no decisions: status follows the auto-accept threshold
    assert {f["status"] for f in facts} <= {"accepted", "proposed"}


def test_extract_table_output():
    result = runner.invoke(
        app,
        ["extract", str(ARTICLES / "103_gowa_budget.txt"), "--config", str(CONFIG)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "73.06" in result.output and "budget" in result.output
    assert "PER_PERSON_AMOUNT" in result.output


def test_extract_applies_review_decisions(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG / "regencies", config / "regencies")
    shutil.copy(CONFIG / "sectors.yml", config / "sectors.yml")
    facts = extract_file(ARTICLES / "102_maros_target.txt", ExtractionConfig.from_dir(config)).facts
    target = next(f for f in facts if f.role == "target")
    (config / "report_facts.yml").write_text(
        "auto_accept_confidence: 0.8\n"
        f"decisions:\n  - {{fact_id: '{target.fact_id}', decision: reject, by: Auditor, at: 2025-03-01, "
        "why: 'not in the MoU'}\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["extract", str(ARTICLES / "102_maros_target.txt"), "--json", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    rows = {o["fact_id"]: o for o in _lines(result.stdout) if o["type"] == "fact"}
    assert rows[target.fact_id]["status"] == "rejected"
    assert rows[target.fact_id]["reviewed_by"] == "Auditor"
    assert rows[target.fact_id]["reviewed_at"] == "2025-03-01"


def test_bad_review_file_fails_with_its_name(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG / "regencies", config / "regencies")
    (config / "report_facts.yml").write_text("auto_accept_confidence: 2\n", encoding="utf-8")
    result = runner.invoke(app, ["extract", str(ARTICLES / "102_maros_target.txt"), "--config", str(config)])
    assert result.exit_code == 1
    assert "auto_accept_confidence" in result.output


def test_missing_path_fails():
    result = runner.invoke(app, ["extract", "/nonexistent/report.txt", "--config", str(CONFIG)])
    assert result.exit_code == 2


def test_facts_to_rows_is_json_serialisable():
    facts = extract_file(ARTICLES / "101_pinrang_mou.txt", ExtractionConfig.from_dir(CONFIG)).facts
    rows = facts_to_rows(review_facts(facts, ReviewConfig(0.8)))
    json.dumps(rows)  # no Decimal, date or dataclass left
    by_kind = {}
    for r in rows:
        assert set(r) == ROW_KEYS
        by_kind.setdefault(r["fact_kind"], []).append(r)
    branch = by_kind["branch"][0]
    assert (branch["value"], branch["value_text"], branch["unit"]) == (None, "Kantor Cabang Parepare", "text")
    total = next(r for r in by_kind["count"] if r["role"] == "total")
    assert (total["value"], total["value_text"], total["effective_month"]) == (1500.0, None, None)  # no start stated
    assert total["event_date"] == date(2025, 1, 14).isoformat()
    assert total["status"] == "accepted" and total["reviewed_by"] == "auto"


def test_extract_json_notes_a_regency_that_is_not_configured(tmp_path):
    report = tmp_path / "brebes.txt"
    report.write_text(
        "Pemkab Brebes Lindungi Pekerja Rentan\n\nBREBES - Pemerintah Kabupaten Brebes menandatangani MoU dengan "
        "BPJS Ketenagakerjaan, Kamis (25/7/2024). Pemkab Brebes akan mengikutsertakan 3.000 pekerja rentan.\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["extract", str(report), "--json", "--config", str(CONFIG)])
    assert result.exit_code == 0, result.output
    objects = _lines(result.stdout)
    [fact] = [o for o in objects if o["type"] == "fact"]
    assert (fact["regency_code"], fact["value"]) == ("33.29", 3000.0)
    [note] = [o for o in objects if o["type"] == "note"]
    assert note["code"] == "REGENCY_NOT_CONFIGURED" and "config/regencies/33.29.yml" in note["reason"]
