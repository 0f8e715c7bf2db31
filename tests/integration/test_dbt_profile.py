"""dbt as the pipeline runs it: the profile's DuckDB settings reach dbt's connection, and builds write their
artifacts into the home's own target folder, never into the manifest cosmos renders the DAG from."""

from __future__ import annotations

import hashlib

import pytest
from cakupan import pipeline
from cakupan.core.settings import DBT_PROJECT_DIR
from cakupan.targets.zones import connect_work
from cakupan.transform import run_dbt

pytestmark = pytest.mark.integration


def memory_limit(settings) -> str:
    result = run_dbt(settings, ["show", "--inline", "select current_setting('memory_limit') as m"])
    return result.results[0].agate_table.rows[0][0]


def test_the_build_runs_with_a_bounded_duckdb_memory_limit(settings_factory, monkeypatch):
    s = settings_factory()
    connect_work(s).close()                          # the warehouse file dbt opens
    monkeypatch.delenv("CAKUPAN_DUCKDB_MEMORY_LIMIT", raising=False)
    assert memory_limit(s) == "953.6 MiB"          # 1GB = 10^9 bytes, the default of profiles.yml
    monkeypatch.setenv("CAKUPAN_DUCKDB_MEMORY_LIMIT", "300MB")
    assert memory_limit(s) == "286.1 MiB"


def test_builds_leave_the_manifest_cosmos_reads_untouched(settings_factory, synth_inbox):
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    assert manifest.is_file(), "make test builds it first (make manifest)"
    before = (manifest.stat().st_mtime_ns, hashlib.sha256(manifest.read_bytes()).hexdigest())
    s = settings_factory()
    synth_inbox(s.home, months=("2025-03",))
    assert pipeline.run_all(s).published
    assert pipeline.unit_tests(s)
    target = s.home / "dbt" / "target-duckdb"
    assert (target / "manifest.json").is_file() and (target / "run_results.json").is_file()
    assert (manifest.stat().st_mtime_ns, hashlib.sha256(manifest.read_bytes()).hexdigest()) == before
    # a new home's first build starts from make manifest's partial-parse file: dbt never parses the whole project
    log = (s.logs_dir / "dbt" / "dbt.log").read_text(encoding="utf-8")
    assert "Partial parsing enabled" in log and "Starting full parse" not in log
