"""The `airflow.policy` entry point (cakupan.airflow_preload): the processes that fork task processes load dbt's
runner once at start-up; the others do not. Checked on real Airflow start-ups (`import airflow` runs its settings'
initialisation, which loads the policy entry points) in fresh interpreters of the project's venv."""

from __future__ import annotations

import subprocess

import pytest
from _support import BIN, cakupan_env
from cakupan.airflow_preload import forks_tasks, wanted

PROBE = ("import sys; sys.argv = {argv!r}; import airflow; "
         "print('dbt' if 'dbt.cli.main' in sys.modules else 'none')")


def _loaded(tmp_path, argv: list[str], **extra: str) -> str:
    env = cakupan_env(tmp_path / "home", AIRFLOW_HOME=str(tmp_path / "airflow"), **extra)
    proc = subprocess.run([str(BIN / "python"), "-c", PROBE.format(argv=argv)], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.split()[-1]


@pytest.mark.parametrize(("argv", "expected"), [
    (["airflow", "scheduler"], True),
    (["/venv/bin/airflow", "scheduler", "--pid", "/run/s.pid"], True),
    (["airflow", "celery", "worker", "--concurrency", "2"], True),
    (["airflow", "api-server", "--port", "8080"], False),
    (["airflow", "dag-processor"], False),
    (["airflow", "triggerer"], False),
    (["airflow", "celery", "flower"], False),
    (["airflow", "dags", "test", "cakupan_transform_publish"], False),
    (["airflow", "tasks", "test", "cakupan_ingest", "discover"], False),
    (["airflow"], False),
])
def test_only_the_processes_that_fork_tasks_preload(argv, expected):
    assert forks_tasks(argv) is expected
    assert wanted(argv, {}) is expected
    assert wanted(argv, {"CAKUPAN_PRELOAD_DBT": "0"}) is False
    assert wanted(argv, {"CAKUPAN_PRELOAD_DBT": "1"}) is expected


def test_a_real_airflow_start_up_loads_dbt_in_the_scheduler_only(tmp_path):
    assert _loaded(tmp_path, ["airflow", "scheduler"]) == "dbt"
    assert _loaded(tmp_path, ["airflow", "celery", "worker"]) == "dbt"
    assert _loaded(tmp_path, ["airflow", "api-server"]) == "none"
    assert _loaded(tmp_path, ["airflow", "scheduler"], CAKUPAN_PRELOAD_DBT="0") == "none"
