"""What the Airflow DAGs share: assets, default args, the writer pool, cosmos configs, the failure callback.

Cheap to import at DAG parse time: no I/O and no dbt calls here; heavy modules are imported inside tasks.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from cakupan.core.settings import DBT_PROJECT_DIR, Settings

OWNER = "cakupan-data-engineering"
WRITER_POOL = os.environ.get("CAKUPAN_WRITER_POOL", "cakupan_duckdb_writer")   # 1 slot: one writer per DuckDB file
MANIFEST_PATH = Path(os.environ.get("CAKUPAN_DBT_MANIFEST", DBT_PROJECT_DIR / "target" / "manifest.json"))
RAW_ASSET_URI = "cakupan://warehouse/raw"
SOURCE_ASSET_URIS = {s: f"cakupan://warehouse/raw/{s}" for s in ("register", "contributions", "claims", "city_report")}
PUBLISHED_ASSET_URI = "cakupan://published/marts"

DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 2,
    "retry_delay": dt.timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=10),
    "execution_timeout": dt.timedelta(minutes=60),
}


def task_settings() -> Settings:
    """Settings inside a task: environment first, the pseudonym key from an Airflow Variable if not in env."""
    s = Settings.from_env()
    if not s.pseudonym_key:
        try:
            from airflow.sdk import Variable

            key = Variable.get("cakupan_pseudonym_key", default=None)
        except Exception:  # noqa: BLE001 - no Airflow context or no such variable: the step will say so
            key = None
        if key:
            s = Settings.from_env(pseudonym_key=key)
    return s


def failures_file(settings: Settings) -> Path:
    """Where failed task attempts are recorded (JSON lines), read into audit.task_failures and the report."""
    return settings.logs_dir / "task_failures.jsonl"


def record_failure(context) -> None:
    """on_failure_callback: append the failure (dag, task, run, try, error) where the auditor report shows it."""
    try:
        settings = Settings.from_env()
        ti = context.get("ti") or context.get("task_instance")
        rec = {
            "run_id": getattr(context.get("dag_run"), "run_id", None) or context.get("run_id"),
            "dag_id": getattr(ti, "dag_id", None),
            "task_id": getattr(ti, "task_id", None),
            "failed_at": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
            "try_number": getattr(ti, "try_number", None),
            "error": str(context.get("exception") or context.get("reason") or "")[:2000],
        }
        path = failures_file(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, default=str) + "\n")
    except Exception:  # noqa: BLE001, S110 - a failure callback must never raise
        pass


def cosmos_configs():
    """Return (ProjectConfig, ProfileConfig, ExecutionConfig, RenderConfig) for the dbt task group."""
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    project = ProjectConfig(dbt_project_path=DBT_PROJECT_DIR, project_name="cakupan")
    # A plain local Path, not the ObjectStoragePath cosmos makes of `manifest_path=`: reading through
    # ObjectStoragePath reports the read to Airflow's hook-lineage collector, whose first use loads every
    # plugin (cosmos' own pulls in FastAPI) — about 0.2 s of each parse of the DAG file for a local file.
    # cosmos only calls exists(), open() and str() on it (parse) and copies it into the run's target/ (tasks).
    project.manifest_path = MANIFEST_PATH
    profile = ProfileConfig(profile_name="cakupan", target_name=os.environ.get("CAKUPAN_TARGET", "duckdb"),
                            profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml")
    execution = ExecutionConfig(execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER)
    # BUILD: each model's task runs the model and then its tests (`dbt build --select model`), so tests run
    # right after each model with half the tasks of AFTER_EACH; tests spanning two models get their own task.
    render = RenderConfig(load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.BUILD,
                          should_detach_multiple_parents_tests=True, emit_datasets=False)
    return project, profile, execution, render


DBT_VARS = {"period_from": "{{ params.period_from or '' }}", "period_to": "{{ params.period_to or '' }}"}
