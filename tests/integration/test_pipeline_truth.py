"""End to end in one process: synthetic deliveries → ingest → dbt build → GX gate → publish, against ground truth.

Expected values are computed here from the generator's ground truth (what it generated), never from the marts.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import duckdb
import pytest
from cakupan import pipeline

pytestmark = pytest.mark.integration

ALL_SCENARIOS = ("late_payment", "partial_payment", "unpaid_month", "correction", "duplicate_worker", "bad_rows")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected_coverage(truth: dict) -> dict[tuple[str, str], tuple]:
    """(regency, YYYY-MM) -> (enrolled, protected, billed, paid) from the per-funding-source ground truth."""
    out: dict[tuple[str, str], list] = {}
    for r in truth["coverage"]:
        key = (r["regency_code"], r["month"])
        acc = out.setdefault(key, [0, 0, 0, 0])
        # protected per regency x month x funding source = min(enrolled, floor(paid / unit)) (domain.md)
        unit = truth["unit_premium"]
        acc[1] += min(r["enrolled"], r["amount_paid"] // unit)
        acc[2] += r["amount_billed"]
        acc[3] += r["amount_paid"]
    for r in truth["coverage_by_regency_month"]:  # distinct people enrolled across funding sources
        out[(r["regency_code"], r["month"])][0] = r["enrolled"]
    return {k: tuple(v) for k, v in out.items()}


def published_coverage(path: Path) -> dict[tuple[str, str], tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select regency_code, strftime(month_start, '%Y-%m'), enrolled, protected, "
                           "premium_billed, premium_paid from marts.mart_coverage_monthly").fetchall()
    return {(r[0], r[1]): (r[2], r[3], float(r[4]), float(r[5])) for r in rows}


@pytest.mark.parametrize("scenarios", [(), ALL_SCENARIOS], ids=["clean", "all-scenarios"])
def test_published_marts_equal_ground_truth(settings_factory, synth_inbox, scenarios):
    s = settings_factory()
    truth = synth_inbox(s.home, months=("2025-03", "2025-04", "2025-05", "2025-06"), scenarios=scenarios)
    out = pipeline.run_all(s)
    assert out.published, out.message
    assert published_coverage(s.published_db) == expected_coverage(truth)
    # every file's outcome equals what the generator says a correct reader finds
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        loads = {r[0]: r[1:] for r in con.execute(
            "select source_file, rows_in, rows_loaded, rows_quarantined from audit.loads where status='loaded'"
        ).fetchall()}
    for f in truth["files"]:
        assert loads[f["path"]] == (f["rows_in"], f["loaded"], f["quarantined"]), f["path"]


def test_rerun_is_idempotent(settings_factory, synth_inbox):
    s = settings_factory()
    synth_inbox(s.home, scenarios=("correction",))
    pipeline.run_all(s)
    first = published_coverage(s.published_db)
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        raw_before = con.execute("select count(*) from raw.register").fetchone()[0]
    out = pipeline.run_all(s)                       # same inbox again: nothing new is loaded
    assert out.published
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        assert con.execute("select count(*) from raw.register").fetchone()[0] == raw_before
    assert published_coverage(s.published_db) == first


def test_failed_gate_leaves_published_file_byte_identical(settings_factory, synth_inbox):
    s = settings_factory()
    synth_inbox(s.home)
    assert pipeline.run_all(s).published
    before = sha(s.published_db)
    # corrupt the built marts the way a bug would: more protected than enrolled (dbt ran already)
    with duckdb.connect(str(s.work_db)) as con:
        con.execute("update marts.mart_coverage_monthly set protected = enrolled + 7 where month_start = '2025-04-01'")
    out = pipeline.gate_and_publish(s, "corrupted-run")
    assert not out.published
    assert any(r.expectation == "protected <= enrolled" for r in out.gate.errors)
    assert sha(s.published_db) == before
    assert out.candidate.exists()                    # kept for inspection
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        status = con.execute("select status from audit.publishes where run_id = 'corrupted-run'").fetchone()[0]
        checks = con.execute("select count(*) from audit.checks where run_id = 'corrupted-run'").fetchone()[0]
    assert status == "blocked" and checks > 20


def test_a_mart_that_shrank_by_more_than_half_warns_with_its_row_count(settings_factory, synth_inbox):
    """Marts checked only for their row count against the previous publish (read without their columns)."""
    s = settings_factory()
    synth_inbox(s.home, scenarios=ALL_SCENARIOS)
    assert pipeline.run_all(s).published
    with duckdb.connect(str(s.work_db)) as con:
        before = con.execute("select count(*) from marts.mart_findings_evidence").fetchone()[0]
        assert before >= 4
        con.execute("delete from marts.mart_findings_evidence where rowid % 4 <> 0")     # keep about a quarter
        after = con.execute("select count(*) from marts.mart_findings_evidence").fetchone()[0]
    out = pipeline.gate_and_publish(s, "shrunk-run")
    assert out.published                                              # a warning does not block
    by_table = {r.table_name: r for r in out.gate.results
                if r.expectation == f"row count within tolerance of previous {before}"}
    shrunk = by_table["marts.mart_findings_evidence"]
    assert not shrunk.success and shrunk.severity == "warn" and shrunk.observed_value == str(after)
    assert any(r.success for r in out.gate.results if r.expectation.startswith("row count within tolerance")
               and r.table_name != "marts.mart_findings_evidence")


def test_reader_never_sees_a_half_published_state(settings_factory, synth_inbox):
    s = settings_factory()
    synth_inbox(s.home, months=("2025-03", "2025-04"))
    assert pipeline.run_all(s, run_id="state-a").published
    with duckdb.connect(str(s.published_db), read_only=True) as con:
        rows_a = con.execute("select count(*) from marts.mart_coverage_monthly").fetchone()[0]
    synth_inbox(s.home, months=("2025-03", "2025-04", "2025-05"))   # one more month arrives
    pipeline.ingest(s, "state-b")
    pipeline.prepare(s)
    pipeline.build(s)

    seen, errors, stop = [], [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                with duckdb.connect(str(s.published_db), read_only=True) as con:
                    run = con.execute("select max(run_id) from audit.publishes where status = 'published'"
                                      ).fetchone()[0]
                    n = con.execute("select count(*) from marts.mart_coverage_monthly").fetchone()[0]
                    m = con.execute("select count(distinct month_start) from marts.mart_lineage").fetchone()[0]
                seen.append((run, n, m))
            except Exception as exc:  # noqa: BLE001 - any error at all is a failure of atomic publish
                errors.append(repr(exc))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(3):
            assert pipeline.gate_and_publish(s, f"state-b{i}").published
            time.sleep(0.05)
    finally:
        time.sleep(0.2)
        stop.set()
        t.join()
    assert not errors, errors[:3]
    assert len(seen) > 5
    for run, n, m in seen:
        if run == "state-a":
            assert (n, m) == (rows_a, 2)
        else:
            assert run.startswith("state-b") and (n, m) == (rows_a + 3, 3)   # 3 regencies x 1 new month


def test_dbt_unit_tests_pass_on_the_built_warehouse(settings_factory, synth_inbox):
    """Scheduled builds leave dbt's unit tests out (`pipeline.build`); they run here, every one of them."""
    import yaml

    defined = set()
    for f in (Path(pipeline.__file__).parents[2] / "dbt_project" / "models").rglob("*.yml"):
        defined |= {u["name"] for u in (yaml.safe_load(f.read_text()) or {}).get("unit_tests", [])}
    assert len(defined) >= 7
    s = settings_factory()
    synth_inbox(s.home, months=("2025-03", "2025-04"))
    assert pipeline.run_all(s).published
    got = pipeline.unit_tests(s)
    assert {name for name, _ in got} == defined
    assert all(status == "pass" for _, status in got), got
