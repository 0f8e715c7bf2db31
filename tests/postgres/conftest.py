"""Fixtures for the PostgreSQL target: a real throwaway cluster per session (per xdist worker), and the full chain
run once on each target (DuckDB and PostgreSQL) from the same inbox, shared by the chain, BI role, parity, gate and
concurrency tests.

Reuse the cluster elsewhere: `from cakupan_dev.pgcluster import PgCluster`, or import the `pg_cluster` fixture
below into another conftest.py.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from cakupan_dev.pgcluster import ClusterError, PgCluster
from pg_support import Chains, cli, write_inbox


@pytest.fixture(scope="session")
def pg_cluster():
    """A real PostgreSQL cluster in a temporary folder on a free loopback port; stopped and deleted at the end."""
    try:
        cluster = PgCluster.start()
    except ClusterError as exc:
        pytest.fail(f"cannot start a throwaway PostgreSQL cluster ({exc}); `make postgres-deps` installs the server")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def chains(pg_cluster, tmp_path_factory) -> Chains:
    """`cakupan run` on DuckDB and twice on PostgreSQL (the second run exercises incremental models, the row-count
    checks against the previous publish and a publish over an existing published schema)."""
    base = tmp_path_factory.mktemp("pgchain")
    duck_home, pg_home = base / "duck", base / "pg"
    write_inbox(duck_home / "inbox")
    shutil.copytree(duck_home / "inbox", pg_home / "inbox")  # copy2: same mtimes, so the same received_at
    with ThreadPoolExecutor(2) as pool:  # independent homes and warehouses: run the two targets side by side
        runs = [pool.submit(cli, duck_home, "run", target="duckdb"),
                pool.submit(cli, pg_home, "run", target="postgres", pg=pg_cluster)]
        for r in runs:
            r.result()
    cli(pg_home, "run", target="postgres", pg=pg_cluster)
    return Chains(pg_cluster, "cakupan", duck_home, pg_home)
