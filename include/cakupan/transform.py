"""Run dbt (in-process, dbtRunner) against the work warehouse; the same env the Airflow/cosmos tasks use."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

from cakupan.core.messages import Msg
from cakupan.core.settings import DBT_PROJECT_DIR, Settings
from cakupan.targets import for_settings


class DbtError(RuntimeError):
    """dbt failed; the message names the failing nodes."""


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment variables for dbt: its own, and those profiles.yml reads for the target (`Target.dbt_env`)."""
    return {"DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "DBT_LOG_PATH": str(settings.logs_dir / "dbt"),
            **for_settings(settings).dbt_env()}


@contextmanager
def _environ(extra: dict[str, str]):
    old = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def dbt_vars(period_from: str | None = None, period_to: str | None = None) -> dict[str, str]:
    """dbt vars for a backfill window ('YYYY-MM' or 'YYYY-MM-DD'), normalised to first-of-month dates."""
    def norm(v: str | None) -> str:
        if not v:
            return ""
        v = str(v)
        return v[:7] + "-01" if len(v) >= 7 else v
    return {"period_from": norm(period_from), "period_to": norm(period_to)}


def run_dbt(settings: Settings, args: list[str], vars: dict | None = None, target_path: Path | None = None):
    """Invoke dbt with the project's profile; return dbt's result (run results); raise DbtError naming failed
    nodes. Artifacts go to `target_path`, by default the target's own folder (`Target.dbt_target_path`)."""
    from dbt.cli.main import dbtRunner

    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    cli = [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target-path", str(target_path or for_settings(settings).dbt_target_path)]
    if vars:
        cli += ["--vars", json.dumps(vars)]
    with _environ(dbt_env(settings)):
        try:
            res = dbtRunner().invoke(cli)
        finally:
            release_duckdb_handles()
    if not res.success:
        failed = []
        for r in getattr(res.result, "results", None) or []:
            if str(getattr(r, "status", "")).lower() in ("error", "fail"):
                failed.append(f"{r.node.name}: {(r.message or '').strip()[:300]}")
        detail = "; ".join(failed) or str(res.exception or "see the dbt log")
        raise DbtError(Msg("error.dbt.failed", args=" ".join(args), detail=detail))
    return res.result


def release_duckdb_handles() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for the life of the process (in-process dbt runs).

    Without this, the work file stays open read-write after `dbt build`, and the same process cannot open it
    read-only, nor attach it elsewhere; in production each Airflow task is its own process, but `airflow dags
    test`, the CLI and the tests run dbt in-process.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-duckdb not installed (PostgreSQL-only deployment)
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
            DuckDBConnectionManager._ENV = None
