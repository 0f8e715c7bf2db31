"""What the Airflow DAGs share: assets, default args, the writer pool, cosmos configs, the failure callback.

Cheap to import at DAG parse time: no I/O and no dbt calls here; heavy modules are imported inside tasks.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import time
from pathlib import Path

from cakupan.core.settings import DBT_PROJECT_DIR, Settings

OWNER = "cakupan-data-engineering"
WRITER_POOL = os.environ.get("CAKUPAN_WRITER_POOL", "cakupan_duckdb_writer")   # 1 slot: one writer per DuckDB file
MANIFEST_PATH = Path(os.environ.get("CAKUPAN_DBT_MANIFEST", DBT_PROJECT_DIR / "target" / "manifest.json"))
RAW_ASSET_URI = "cakupan://warehouse/raw"
SOURCE_ASSET_URIS = {s: f"cakupan://warehouse/raw/{s}" for s in ("register", "contributions", "claims", "city_report")}
PUBLISHED_ASSET_URI = "cakupan://published/marts"
# The ingest DAG loads files in batches (one mapped task each): a task's start-up (~2-3 s under a real scheduler) is
# paid per batch, not per file. A batch closes at whichever limit comes first.
BATCH_MAX_FILES = int(os.environ.get("CAKUPAN_BATCH_FILES", "500"))
BATCH_MAX_BYTES = int(float(os.environ.get("CAKUPAN_BATCH_MB", "512")) * 2**20)

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


def plan_batches(paths: list[str], max_files: int = BATCH_MAX_FILES, max_bytes: int = BATCH_MAX_BYTES,
                 ) -> list[list[str]]:
    """Cut the pending files, kept in load order (oldest first: which copy of the same bytes is the duplicate
    depends on it), into consecutive batches of at most `max_files` files and about `max_bytes` bytes (a file
    bigger than that is a batch of its own)."""
    batches: list[list[str]] = []
    size = 0
    for p in paths:
        try:
            n = Path(p).stat().st_size
        except OSError:
            n = 0                       # gone or unreadable: its load records that
        if not batches or len(batches[-1]) >= max(1, max_files) or (batches[-1] and size + n > max_bytes):
            batches.append([])
            size = 0
        batches[-1].append(p)
        size += n
    return batches


def combine_batches(summaries: list[dict]) -> dict:
    """Add up the batch summaries of `cakupan.ingest.run.load_batch` into one summary of the run."""
    out: dict = {"batches": len(summaries), "files": 0, "status": {}, "rows_loaded": {}, "rows_quarantined": 0,
                 "not_loaded": []}
    for s in summaries:
        out["files"] += s["files"]
        out["rows_quarantined"] += s["rows_quarantined"]
        out["not_loaded"] += s["not_loaded"]
        for key in ("status", "rows_loaded"):
            for k, v in s[key].items():
                out[key][k] = out[key].get(k, 0) + v
    return out


def failures_file(settings: Settings) -> Path:
    """Where failed task attempts are recorded (JSON lines), read into audit.task_failures and the report."""
    return settings.logs_dir / "task_failures.jsonl"


def record_failure(context) -> None:
    """on_failure_callback: append the failure (dag, task, run, try, error) where the auditor report shows it.

    Under a real scheduler a task-level callback runs in the task's own process and gets the task's exception (the
    gate's message, dbt's error); the DAG-level callback runs later in the dag-processor with only a `reason`
    (e.g. "task_failure"), so it writes a line only when no task of that run recorded its own error."""
    try:
        settings = Settings.from_env()
        ti = context.get("ti") or context.get("task_instance")
        run_id = getattr(context.get("dag_run"), "run_id", None) or context.get("run_id")
        exc = context.get("exception")
        path = failures_file(settings)
        if exc is None and run_id and _task_failure_recorded(path, run_id, wait=10):
            return
        rec = {
            "run_id": run_id,
            "dag_id": getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None),
            "task_id": getattr(ti, "task_id", None),
            "failed_at": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
            "try_number": getattr(ti, "try_number", None),
            "error": str(exc if exc is not None else f"the run failed ({context.get('reason') or 'no reason given'})"
                         )[:2000],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, default=str) + "\n")
    except Exception:  # noqa: BLE001, S110 - a failure callback must never raise
        pass


def _task_failure_recorded(path: Path, run_id: str, wait: float = 0) -> bool:
    """Whether a task of this run wrote its own error to the failures file, waiting up to `wait` seconds: a task
    reports its state before its callback runs, so the run's callback can start a moment before that line."""
    deadline = time.monotonic() + wait
    while True:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("run_id") == run_id and rec.get("task_id") and not str(rec.get("error", "")).startswith(
                    "the run failed ("):
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


DEFAULT_ARGS = {
    "owner": OWNER,
    # a task that fails for a passing reason (a lock, a network drive) is tried again; CAKUPAN_TASK_RETRIES sets
    # how often (default 2). Data problems fail without retries (AirflowFailException) whatever this says.
    "retries": int(os.environ.get("CAKUPAN_TASK_RETRIES", "2")),
    "retry_delay": dt.timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=10),
    "execution_timeout": dt.timedelta(minutes=60),
    # every task records its own error (the gate's message, dbt's error, a batch's crash) in its own process
    "on_failure_callback": record_failure,
}


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


def dbt_task_mode() -> str:
    """How the transform DAG runs dbt (CAKUPAN_DBT_TASKS): `model` (default) renders one cosmos task per model,
    its tests after it (per-model retries, logs and OpenLineage events); `build` runs one `dbt build` task, as
    `cakupan run` does, and saves each model's task start-up (~2.5 s of CPU each under a real executor, ~50 of
    them): for small machines and short national runs. Anything else is a configuration error, raised at parse."""
    mode = os.environ.get("CAKUPAN_DBT_TASKS", "model").strip().lower() or "model"
    if mode not in ("model", "build"):
        from cakupan.core.messages import Msg

        raise ValueError(Msg("error.config.dbt_tasks", value=repr(mode)))
    return mode


_thaw_after_task = False


def freeze_heap(context) -> None:
    """pre_execute of each dbt task: move every object the task's process holds to the collector's permanent
    generation (`gc.freeze`, as Airflow's LocalExecutor does before it forks its workers).

    cosmos runs a full `gc.collect()` after each dbt command (`cosmos.dbt.runner._cleanup_dbt_adapters`, against
    leaked semaphores, cosmos#2334). Without this it walks every object of the process — Airflow, cosmos, the DAG
    parsed from its manifest, dbt: 0.45 s in a task process of its own, 33.7 s of a 143 s transform run under
    `airflow dags test` (46 dbt tasks in one process). Frozen, only what the dbt command made is walked."""
    global _thaw_after_task
    # a process that had frozen nothing (`airflow dags test`, `tasks test`) gets its collector back after the task;
    # one forked from a LocalExecutor worker keeps what the worker froze frozen, as before the task
    _thaw_after_task = gc.get_freeze_count() == 0
    gc.freeze()


def thaw_heap(context, result=None) -> None:
    """post_execute of each dbt task: undo `freeze_heap` where the process had frozen nothing before it."""
    if _thaw_after_task:
        gc.unfreeze()


DBT_VARS = {"period_from": "{{ params.period_from or '' }}", "period_to": "{{ params.period_to or '' }}"}


def dbt_task_flags() -> list[str]:
    """dbt's global flags for the cosmos tasks: `--no-write-json` unless the OpenLineage provider is installed.

    Each task's dbt writes manifest.json (1.3 MB, pure-Python JSON) and run_results.json into the copy of the
    project cosmos makes for the task and deletes after it; the only reader is cosmos' OpenLineage processor (the
    tables a model read and built). Measured per task in one process: 1.1-1.3 s of CPU with them, 0.7-0.8 s
    without, ~46 tasks a run. The partial-parse file cosmos keeps between tasks is written either way."""
    import importlib.util

    return [] if importlib.util.find_spec("airflow.providers.openlineage") else ["--no-write-json"]
