"""Loaded by every Airflow process at start-up (the `airflow.policy` entry point in pyproject.toml; it defines no
policy, so nothing of Airflow's behaviour changes).

In the processes that fork the task processes — the scheduler, whose LocalExecutor workers fork a process for each
task, and a Celery worker — it imports dbt's runner once, so each dbt task (a transform run with a task per model
has about 50, run one at a time on DuckDB) forks with dbt loaded instead of importing it: about 2 s of CPU a task,
most of the gap between cosmos' set-up and "Trying to run dbtRunner" in each dbt task's log. The api-server,
dag-processor, triggerer and `airflow` CLI commands do not import it. `CAKUPAN_PRELOAD_DBT=0` turns it off.
"""

from __future__ import annotations

import contextlib
import os
import sys


def forks_tasks(argv: list[str]) -> bool:
    """Whether this Airflow command is one whose processes fork task processes: `airflow scheduler` or
    `airflow celery worker` (options before or between the words allowed)."""
    words = [a for a in argv[1:] if not a.startswith("-")]
    return words[:1] == ["scheduler"] or words[:2] == ["celery", "worker"]


def wanted(argv: list[str], environ) -> bool:
    """Preload dbt in this process: it forks tasks and `CAKUPAN_PRELOAD_DBT` is not 0."""
    return environ.get("CAKUPAN_PRELOAD_DBT", "1").strip() != "0" and forks_tasks(argv)


if wanted(sys.argv, os.environ):
    # a broken dbt install shows in the dbt task itself, with dbt's own message; the scheduler starts regardless
    with contextlib.suppress(Exception):
        import dbt.cli.main  # noqa: F401
