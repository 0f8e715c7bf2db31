"""Helpers shared by the tests (importable: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BIN = Path(sys.executable).parent
TEST_KEY = "test-only-pseudonym-key"


def cakupan_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment for a subprocess running Cakupan or Airflow against `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAKUPAN_", "AIRFLOW"))}
    env.update({
        "CAKUPAN_HOME": str(home), "CAKUPAN_PSEUDONYM_KEY": TEST_KEY,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "GX_ANALYTICS_ENABLED": "False", "NO_COLOR": "1",
    })
    env.update(extra)
    return env


def run_cli(home: Path, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
    """Run `cakupan ARGS` in a subprocess against `home`."""
    proc = subprocess.run([str(BIN / "cakupan"), *args], env=cakupan_env(home, **extra), capture_output=True,
                          text=True, timeout=900, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"cakupan {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-5000:]}")
    return proc


def airflow_dags_test(airflow_home: Path, cakupan_home: Path, dag_id: str, conf: dict | None = None,
                      bin_dir: Path = BIN, mark_success: str | None = None, **extra: str) -> subprocess.CompletedProcess:
    """Run a real `airflow dags test DAG_ID` against a Cakupan home; return the finished process.

    `mark_success` is Airflow's own `--mark-success-pattern`: tasks whose id matches are marked successful without
    running. A test whose point lies after the dbt build (the gate, the publish) passes `DBT_TASKS` when the build it
    needs is already in the warehouse: each dbt task costs a task start-up (~2.5 s CPU, ~50 of them)."""
    cmd = [str(bin_dir / "airflow"), "dags", "test", dag_id]
    if conf:
        cmd += ["--conf", json.dumps(conf)]
    if mark_success:
        cmd += ["--mark-success-pattern", mark_success]
    # no retries: `dags test` would sleep through each retry delay (30 s, then 60 s) of a task meant to fail
    extra = {"CAKUPAN_TASK_RETRIES": "0", **extra}
    env = cakupan_env(cakupan_home, AIRFLOW_HOME=str(airflow_home), **extra)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)


# the cosmos task group's tasks in cakupan_transform_publish (Airflow fullmatches the whole task id: "^dbt\." matched
# none, and every dbt task of a "marked" run ran)
DBT_TASKS = r"dbt\..+"


def airflow_tasks_test(airflow_home: Path, cakupan_home: Path, dag_id: str, task_id: str, bin_dir: Path = BIN,
                       **extra: str) -> subprocess.CompletedProcess:
    """Run one task with a real `airflow tasks test DAG_ID TASK_ID` against a Cakupan home."""
    env = cakupan_env(cakupan_home, AIRFLOW_HOME=str(airflow_home), CAKUPAN_TASK_RETRIES="0", **extra)
    return subprocess.run([str(bin_dir / "airflow"), "tasks", "test", dag_id, task_id], env=env, capture_output=True,
                          text=True, timeout=900, check=False)


def dag_run_succeeded(proc: subprocess.CompletedProcess) -> bool:
    """Whether `airflow dags test` finished the run in state success."""
    return proc.returncode == 0 and "state=success" in (proc.stdout + proc.stderr)


def copy_samples(inbox: Path) -> None:
    """Copy the shared sample deliveries (Sidrap) into the 73.14 inbox."""
    dest = inbox / "73.14"
    dest.mkdir(parents=True, exist_ok=True)
    for p in (SHARED / "samples").iterdir():
        if p.suffix in (".xlsx", ".xls", ".csv"):
            shutil.copy2(p, dest / p.name)


@contextmanager
def immutable(folder: Path) -> Iterator[None]:
    """The folder made read-only even for root (chattr +i) for the block; the test is skipped where that is not
    possible (no chattr, or not permitted in this container)."""
    import pytest

    if shutil.which("chattr") is None:
        pytest.skip(f"chattr is not installed: no way to make {folder.name} read-only for root")
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not permitted here ({made.stderr.strip()})")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def load_one_way(settings, dest, way: str, monkeypatch):
    """Load one CSV of the inbox (`dest`) with a fresh Loader, one of the loader's three ways through a CSV: row by
    row ("row_by_row"), column-wise whole ("column_wise") or column-wise in parts of a few lines, the next read while
    one is written ("parts"). Returns (whether the column-wise reader read it, the load's result); the loader is
    closed."""
    from cakupan.ingest import prepare, readers
    from cakupan.ingest.loader import Loader

    used = []

    def spy(real):
        def call(*a, **k):
            out = real(*a, **k)
            used.append(out is not None)
            return out
        return call

    with monkeypatch.context() as mp:
        mp.setattr(readers, "FAST_CSV_MIN_LINES", 10**9 if way == "row_by_row" else 0)
        mp.setattr(readers, "fast_csv_block", spy(readers.fast_csv_block))
        mp.setattr(prepare, "fast_csv_parts", spy(prepare.fast_csv_parts))
        if way == "parts":
            mp.setattr(prepare, "STREAM_MIN_BYTES", 0)
            mp.setattr(prepare, "STREAM_PART_LINES", 97)
            mp.setattr(prepare, "STREAM_FIRST_PART_LINES", 31)
        ld = Loader(settings)
        try:
            r = ld.load(dest)
        finally:
            ld.con.close()
    return used == [True], r


def load_csv_one_way(settings, name: str, data: bytes, way: str, monkeypatch):
    """Write a CSV's bytes into the home's inbox (regency 73.72) and load it one of the loader's three ways
    (`load_one_way`), checking it went that way. Returns the load's result."""
    dest = settings.inbox / "73.72" / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    column_wise, r = load_one_way(settings, dest, way, monkeypatch)
    assert column_wise == (way != "row_by_row"), way
    return r
