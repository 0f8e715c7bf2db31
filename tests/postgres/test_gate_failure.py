"""A failed gate on PostgreSQL leaves `published` (and the published file) exactly as it was."""

from __future__ import annotations

import json
from contextlib import closing

import duckdb
import pytest
from cakupan import pipeline, quality
from cakupan.core.files import sha256_file
from cakupan.targets.postgres.params import connect
from cakupan.targets.postgres.publish import fingerprint
from cakupan.targets.postgres.zones import DEFAULT_BI_ROLE, PUBLISHED, PUBLISHED_AUDIT
from pg_support import cli

pytestmark = pytest.mark.postgres


def _state(settings):
    with closing(connect(settings)) as con:
        fp = fingerprint(con, (PUBLISHED, PUBLISHED_AUDIT))
        with con.cursor() as cur:
            cur.execute("select coalesce(sum(protected), 0) from published.mart_coverage_monthly")
            protected = cur.fetchone()[0]
    return fp, protected, sha256_file(settings.published_db)


def _blocked_record(settings, run_id):
    with closing(connect(settings)) as con, con.cursor() as cur:
        cur.execute("select status, gate_success, errors, message from audit.publishes where run_id = %s", [run_id])
        return cur.fetchone()


def test_corrupt_mart_blocks_the_publish(chains, tmp_path):
    settings, db = chains.clone(tmp_path, "gatefail")
    before = _state(settings)
    with closing(connect(settings)) as con, con.cursor() as cur:
        # a data defect a model bug could cause: more protected workers than enrolled ones
        cur.execute("update marts.mart_coverage_monthly set protected = enrolled + 5 "
                    "where enrolled is not null and month_start = (select min(month_start) from "
                    "marts.mart_coverage_monthly where enrolled is not null)")
        assert cur.rowcount >= 1
        con.commit()
    run_id = pipeline.new_run_id("gatefail")
    out = pipeline.gate_and_publish(settings, run_id)

    assert not out.published
    assert any(r.expectation == "protected <= enrolled" for r in out.gate.errors)
    assert _state(settings) == before  # PostgreSQL published schemas and the published file: unchanged
    status, gate_success, errors, message = _blocked_record(settings, run_id)
    assert (status, gate_success) == ("blocked", False) and errors >= 1 and "protected <= enrolled" in message
    # the candidate stays for inspection: in PostgreSQL, and exported like a DuckDB candidate file
    with closing(connect(settings)) as con, con.cursor() as cur:
        cur.execute("select count(*) from published_next.mart_coverage_monthly where protected > enrolled")
        assert cur.fetchone()[0] >= 1
        cur.execute("select status from audit.publishes where run_id = %s", [run_id])
        assert cur.fetchone() == ("blocked",)  # recorded in PostgreSQL, the one system of record
    assert out.candidate == settings.candidate_db(run_id) and out.candidate.exists()
    with closing(duckdb.connect(str(out.candidate), read_only=True)) as c:
        assert c.execute("select count(*) from audit.checks where run_id = ? and not success and severity = 'error'",
                         [run_id]).fetchone()[0] >= 1
    # BI still reads the old published state
    bi = chains.pg.connect(user=DEFAULT_BI_ROLE, dbname=db)
    with closing(bi), bi.cursor() as cur:
        cur.execute("select coalesce(sum(protected), 0) from published.mart_coverage_monthly")
        assert cur.fetchone()[0] == before[1]


def test_impossible_expectation_blocks_the_publish(chains, tmp_path, monkeypatch):
    """Any error-severity check blocks: add one no data can pass (GX and PostgreSQL stay real)."""
    settings, _ = chains.clone(tmp_path, "impossible")
    before = _state(settings)
    from cakupan.quality import gate

    real = gate.mart_checks

    def with_impossible(previous_counts, rules=None):
        E = quality._gx().expectations
        return real(previous_counts, rules) + [quality.Check(
            "marts", "marts.mart_coverage_monthly", E.ExpectTableRowCountToBeBetween(min_value=10**9), "error",
            "impossible row count")]

    monkeypatch.setattr(gate, "mart_checks", with_impossible)
    run_id = pipeline.new_run_id("impossible")
    out = pipeline.gate_and_publish(settings, run_id)
    assert not out.published
    assert [r.expectation for r in out.gate.errors] == ["impossible row count"]
    assert _state(settings) == before
    assert _blocked_record(settings, run_id)[0] == "blocked"


def test_the_reconciliations_run_on_postgres(chains, tmp_path):
    """The gate's reconciliations are the same SQL on PostgreSQL (GX's SQL datasource): on the clean chain each one
    runs and passes; a figure off its lineage, a raw row gone from the manifest and a NIK in the quarantine export
    each block, named by regency, month or file, and no NIK reaches a check result."""
    settings, _ = chains.clone(tmp_path, "recon")
    out = pipeline.gate_and_publish(settings, pipeline.new_run_id("recon"))
    assert out.published, out.message
    by_table = {r.table_name: r for r in out.gate.results}
    for table in ("check.lineage_figures", "check.raw_manifest", "check.last_build", "check.pseudonyms",
                  "check.nik_shaped_text", "check.periods_in_horizon", "check.promise_ceiling",
                  "check.month_over_month", "check.delivered_months", "check.new_error_findings"):
        assert table in by_table and by_table[table].details is None, (table, by_table.get(table))
    nik = "7372014501900001"
    with closing(connect(settings)) as con, con.cursor() as cur:
        cur.execute("update marts.mart_coverage_monthly set enrolled = enrolled + 5, shortfall = shortfall + 5 "
                    "where regency_code = '73.72' and month_start = '2025-04-01'")
        cur.execute("delete from raw.register where (load_id, source_row) = (select load_id, min(source_row) "
                    "from raw.register group by load_id order by load_id limit 1)")
        cur.execute("update quarantine.rows set participant_key = %s where (load_id, source_row) = (select "
                    "load_id, source_row from quarantine.rows order by 1, 2 limit 1)", [nik])
        con.commit()
    out = pipeline.gate_and_publish(settings, pipeline.new_run_id("recon-damaged"))
    assert not out.published
    errors = {r.table_name: r for r in out.gate.errors}
    assert "Kota Parepare (73.72) 2025-04: enrolled is" in errors["check.lineage_figures"].unexpected_sample
    assert "raw zone holds" in errors["check.raw_manifest"].unexpected_sample
    assert "audit.quarantine_rows.participant_key" in errors["check.pseudonyms"].unexpected_sample
    assert nik not in str([r.__dict__ for r in out.gate.results])


def test_a_corrupted_raw_row_blocks_the_publish_as_on_duckdb(chains, tmp_path):
    """The drift case of issue 24: a raw row corrupted behind the loader's back blocked DuckDB's publish but not
    PostgreSQL's, whose gate read a replica kept in step by row counts. Now the raw zone lives in PostgreSQL only
    (no work file to drift from), and the same corruption there (tests/dags/test_airflow_runs.py makes it in
    DuckDB's) blocks `cakupan publish` with exit 2, `published` and the published file unchanged."""
    settings, db = chains.clone(tmp_path, "drift")
    assert not settings.work_db.exists()
    before = _state(settings)
    with closing(connect(settings)) as con, con.cursor() as cur:
        cur.execute("update raw.register set coverage_start = date '1900-01-01' where source_row = "
                    "(select min(source_row) from raw.register)")
        assert cur.rowcount >= 1
        con.commit()
    out = cli(settings.home, "publish", "--json", target="postgres", pg=chains.pg, dbname=db, check=False)
    assert out.returncode == 2, out.stdout[-2000:] + out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    failed = {(f["table"], f["check"]) for f in json.loads(out.stdout)["failed"] if f["severity"] == "error"}
    assert ("raw.register", "coverage_start in range") in failed
    assert _state(settings) == before
    with closing(connect(settings)) as con, con.cursor() as cur:
        cur.execute("select count(*) from audit.checks where not success and severity = 'error' and "
                    "expectation = 'coverage_start in range'")
        assert cur.fetchone()[0] >= 1
