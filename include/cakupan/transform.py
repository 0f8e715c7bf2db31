"""Run dbt (in-process, dbtRunner) against the work warehouse; the same env the Airflow/cosmos tasks use."""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from cakupan.core.messages import Msg
from cakupan.core.settings import DBT_PROJECT_DIR, Settings
from cakupan.targets import for_settings

PARTIAL_PARSE_FILE = "partial_parse.msgpack"


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


def _profile_env(settings: Settings) -> tuple[dict[str, str], Path | None]:
    """dbt's environment, and the folder to run it in.

    dbt reparses the whole project (about 6 s of CPU) when the profile's connection values differ from those its
    partial-parse file was written with, and the DuckDB path is one of them. So dbt opens the work file by its
    bare name from inside its folder: every home then hashes the same profile, and a new home starts from the
    partial-parse file `make manifest` wrote (`_seed_partial_parse`) instead of a full parse."""
    env = dbt_env(settings)
    if env.get("CAKUPAN_TARGET") != "duckdb" or "CAKUPAN_WORK_DB" not in env:
        return env, None
    work = Path(env["CAKUPAN_WORK_DB"])
    return {**env, "CAKUPAN_WORK_DB": work.name}, work.parent


def _seed_partial_parse(target_path: Path) -> None:
    """Start a target folder that has no partial-parse file from the one `make manifest` wrote (same project,
    same profile hash: see `_profile_env`). dbt checks it (dbt version, project files, vars, profile) and reparses
    what differs, so a stale seed costs only the full parse it would have cost anyway."""
    seed = DBT_PROJECT_DIR / "target" / PARTIAL_PARSE_FILE
    dest = target_path / PARTIAL_PARSE_FILE
    if dest.exists() or not seed.is_file():
        return
    target_path.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{PARTIAL_PARSE_FILE}.{os.getpid()}")
    shutil.copyfile(seed, tmp)
    os.replace(tmp, dest)


@contextmanager
def _cwd(path: Path | None):
    if path is None:
        yield
        return
    path.mkdir(parents=True, exist_ok=True)
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


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
    target_path = Path(target_path or for_settings(settings).dbt_target_path)
    cli = [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target-path", str(target_path)]
    if vars and any(vars.values()):      # all empty = dbt_project.yml's defaults; passing them would change the
        cli += ["--vars", json.dumps(vars)]          # vars hash and cost a full parse (see _seed_partial_parse)
    env, cwd = _profile_env(settings)
    _seed_partial_parse(target_path)
    with _environ(env), _cwd(cwd):
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
