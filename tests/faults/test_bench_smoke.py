"""Smoke test of `make bench` at small scale (20 regencies): every phase runs and BENCHMARKS.md is written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import shapes

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_bench_small_scale_writes_the_report(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    work = tmp_path / "bench"
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--scale", "small", "--out", str(out), "--workdir",
                           str(work), "--no-profile", "--no-history"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    for needle in ("## Machine", "## Results", "rows/s", "DuckDB `read_csv`", "incremental run",
                   "dags/cakupan_ingest.py", "python-calamine vs openpyxl", "peak RSS", "district sheets"):
        assert needle in text, needle
    report = json.loads((work / "report.json").read_text())
    assert report["dataset"]["regencies"] == 20
    assert all(p["ok"] for p in report["phases"].values()), [k for k, p in report["phases"].items() if not p["ok"]]
    # the big workbook's rows over a sheet a district load as the one-sheet workbook's do
    one, sheets = report["phases"]["ingest_big_xlsx"], report["phases"]["ingest_big_xlsx_sheets"]
    assert sheets["status"] == one["status"] == "loaded" and sheets["rows_in"] == one["rows_in"] > 0
    # ... and so do they saved with shared strings, as Excel saves them
    shared = report["phases"]["ingest_big_xlsx_shared"]
    assert (shared["status"], shared["rows_in"], shared["rows_loaded"], shared["rows_quarantined"]) == (
        "loaded", one["rows_in"], one["rows_loaded"], one["rows_quarantined"])
    # Cakupan loads every register CSV shape (a peer may refuse one: `pasted`'s lone carriage returns; the table
    # names its error)
    assert set(report["shapes"]) == set(shapes.SHAPES)
    assert all(x["ok"] for r in report["shapes"].values() for x in r["loaders"]["cakupan"]), report["shapes"]
    # bare DuckDB, told the dialect its sniffer gets wrong, reads every record of those shapes (a cut row as two),
    # and runs on no other shape
    told = {s for s, r in report["shapes"].items() if "duckdb_told" in r["loaders"]}
    assert told == set(shapes.TOLD) == {"alt_enter", "pasted"}
    for shape in told:
        runs = report["shapes"][shape]["loaders"]["duckdb_told"]
        assert all(x["ok"] and x["rows"] >= report["shapes"][shape]["rows"] for x in runs), runs
    assert "DuckDB `read_csv`, told the dialect" in text
    # every phase says how much CPU went outside it while it ran (/proc/stat less its own), and the report
    # says whether that made the run's wall times unreliable
    assert all(p["other_cpu_s"] >= 0 for p in report["phases"].values())
    assert "CPU s outside the phase" in text
    assert ("Other processes used the CPUs during this run" in text) != ("The CPUs were the run's own" in text)
    # each DAG file is timed as the DAG processor parses it (forked from its manager, with Airflow's models loaded)
    # and in a bare interpreter with only airflow.sdk imported
    for dag in ("cakupan_ingest", "cakupan_transform_publish"):
        assert report["phases"][f"dag_{dag}"]["bare"] is False and report["phases"][f"bare_dag_{dag}"]["bare"]
    assert text.count("as the DAG processor parses it") == 2 and "only `airflow.sdk`" in text
    # what one more small file costs: two inboxes of small files, the larger with more files, every file loaded
    pair = report["per_file"]["runs"][0]
    assert pair["large"]["files"] > pair["small"]["files"] > 0
    assert pair["small"]["status"] == {"loaded": pair["small"]["files"]}
    assert pair["large"]["status"] == {"loaded": pair["large"]["files"]}
    assert "one more small file in the ingest step" in text
    summary = report["phases"]["full_summary"]
    assert summary["balance_violations"] == 0
    assert report["phases"]["full_publish"]["published"] is True
