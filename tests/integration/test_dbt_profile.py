"""The dbt profile's DuckDB settings reach the connection dbt builds with."""

from __future__ import annotations

import pytest
from cakupan.transform import run_dbt
from cakupan.warehouse import connect_work

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
