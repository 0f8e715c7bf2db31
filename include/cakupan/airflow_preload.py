"""Loaded by every Airflow process at start-up (the `airflow.policy` entry point in pyproject.toml; it defines no
policy, so nothing of Airflow's behaviour changes).

In the processes that fork the task processes — the scheduler, whose LocalExecutor workers fork a process for each
task, and a Celery worker — it imports dbt's runner once, so each dbt task (a transform run with a task per model
has about 50, run one at a time on DuckDB) forks with dbt loaded instead of importing it: about 2 s of CPU a task,
most of the gap between cosmos' set-up and "Trying to run dbtRunner" in each dbt task's log — and runs `dbt ls`
once (`warm_dbt`), so the forks also inherit what dbt builds on its first command (~1 s of CPU a task). The
api-server, dag-processor, triggerer and `airflow` CLI commands do not import it. `CAKUPAN_PRELOAD_DBT=0` turns it
off.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path


def forks_tasks(argv: list[str]) -> bool:
    """Whether this Airflow command is one whose processes fork task processes: `airflow scheduler` or
    `airflow celery worker` (options before or between the words allowed)."""
    words = [a for a in argv[1:] if not a.startswith("-")]
    return words[:1] == ["scheduler"] or words[:2] == ["celery", "worker"]


def wanted(argv: list[str], environ) -> bool:
    """Preload dbt in this process: it forks tasks and `CAKUPAN_PRELOAD_DBT` is not 0."""
    return environ.get("CAKUPAN_PRELOAD_DBT", "1").strip() != "0" and forks_tasks(argv)


def warm_dbt(project_dir: Path) -> bool:
    """Run `dbt ls` once on the project in this process, into a throwaway target and log directory (the project's
    own `target/` and logs are not touched; nothing is printed): dbt builds its (de)serialisers and the project and
    profile validators on first use, ~1 s of CPU that every forked dbt task would pay again. The warehouse is not
    opened (`ls` needs no connection) and no thread is left running. Returns whether dbt ran the command without
    an error."""
    from dbt.cli.main import dbtRunner

    with tempfile.TemporaryDirectory(prefix="cakupan-dbt-warm-") as tmp:
        state = project_dir / "target" / "partial_parse.msgpack"
        if state.is_file():      # the tasks parse from a partial-parse state too: warm that reader as well
            shutil.copyfile(state, Path(tmp) / state.name)
        try:
            result = dbtRunner().invoke([
                "ls", "--quiet", "--log-level", "none", "--log-level-file", "none", "--no-write-json",
                # no thread may outlive the command (a fork has none of them): not dbt's static parser, whose
                # Rust thread pool would deadlock every fork that parses a model; no usage-stats sender
                "--no-static-parser", "--no-send-anonymous-usage-stats",
                "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
                "--target-path", tmp, "--log-path", tmp, "--resource-type", "model"])
        finally:
            from dbt.adapters.factory import reset_adapters

            reset_adapters()     # as cosmos does after each command: no adapter (nor its locks) is inherited
            gc.collect()
    return bool(result.success)


if wanted(sys.argv, os.environ):
    # a broken dbt install or project shows in the dbt task itself, with dbt's own message; the scheduler starts
    # regardless
    with contextlib.suppress(Exception):
        import dbt.cli.main  # noqa: F401

        from cakupan.core.settings import DBT_PROJECT_DIR

        warm_dbt(DBT_PROJECT_DIR)
