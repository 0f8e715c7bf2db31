"""The `airflow.policy` entry point (cakupan.airflow_preload): the processes that fork task processes load dbt's
runner once at start-up; the others do not. Checked on real Airflow start-ups (`import airflow` runs its settings'
initialisation, which loads the policy entry points) in fresh interpreters of the project's venv."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from _support import BIN, ROOT, cakupan_env
from cakupan.airflow_preload import forks_tasks, wanted, warm_dbt

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


# A process that forks a child as the LocalExecutor does; the child runs one dbt command (as a cosmos task does,
# into its own target directory holding a copy of the partial-parse state an earlier command left under the same
# settings) and prints its own CPU seconds. `{setup}`: what the parent does before forking.
FORK_PROBE = """
import os, shutil, sys, tempfile, time
{setup}
from dbt.cli.main import dbtRunner
project, state = {project!r}, {state!r}
pid = os.fork()
if pid == 0:
    target = tempfile.mkdtemp()
    shutil.copyfile(os.path.join(state, 'partial_parse.msgpack'), os.path.join(target, 'partial_parse.msgpack'))
    cpu = time.process_time()
    ok = dbtRunner().invoke(['ls', '--log-level', 'none', '--project-dir', project, '--profiles-dir', project,
                             '--target-path', target, '--log-path', target, '--select', 'dim_month']).success
    print('child', ok, time.process_time() - cpu, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


def _run_probe(code: str, env: dict[str, str]) -> str:
    """Run a probe in the project's venv; return its stdout. The probe and its fork are killed when it ends (a
    fork left waiting for ever included)."""
    proc = subprocess.Popen([str(BIN / "python"), "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=240)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err[-2000:]
    return out


def _probe_env(tmp_path) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    return cakupan_env(tmp_path / "home", AIRFLOW_HOME=str(tmp_path / "airflow"), TMPDIR=str(tmp))


def _parse_state(tmp_path) -> Path:
    """The partial-parse state of the project under the probes' settings (a cosmos task copies the one its
    predecessors left; the project's own target/ was parsed by `make manifest` under other settings, and dbt
    parses a project whole when the profile's variables differ)."""
    state = tmp_path / "state"
    project = str(ROOT / "dbt_project")
    proc = subprocess.run([str(BIN / "dbt"), "parse", "--quiet", "--project-dir", project, "--profiles-dir", project,
                           "--target-path", str(state), "--log-path", str(state)], env=_probe_env(tmp_path),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return state


def _child_cpu(tmp_path, setup: str, state: Path) -> tuple[float, str]:
    code = FORK_PROBE.format(setup=setup, project=str(ROOT / "dbt_project"), state=str(state))
    out = _run_probe(code, _probe_env(tmp_path))
    child = [line.split() for line in out.splitlines() if line.startswith("child ")]
    assert child and child[0][1] == "True", out[-2000:]
    return float(child[0][2]), out


def _tree(path: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns) for p in path.rglob("*")}


def test_the_scheduler_runs_dbt_once_so_its_forks_start_warm(tmp_path):
    """The forks of a real scheduler start-up run a dbt command with well under the CPU of the forks of a process
    that only imported dbt (dbt's first command builds its serialisers and validators: ~1 s of CPU measured); the
    warm-up prints nothing and leaves no directory of its own behind."""
    state = _parse_state(tmp_path)
    cold = [_child_cpu(tmp_path, "import dbt.cli.main", state)[0] for _ in range(2)]
    warm, out = _child_cpu(tmp_path, "sys.argv = ['airflow', 'scheduler']; import airflow", state)
    assert warm < 0.7 * min(cold), (warm, cold)
    assert [line for line in out.splitlines() if not line.startswith("child ")] == []
    assert not [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith("cakupan-dbt-warm-")]


THREADS_PROBE = """
import os, sys
from pathlib import Path
from dbt.cli.main import dbtRunner
from cakupan.airflow_preload import warm_dbt
project = {project!r}
before = len(os.listdir('/proc/self/task'))
ok = warm_dbt(Path(project))
after = len(os.listdir('/proc/self/task'))
print('warm', ok, before, after, flush=True)
if after != before:
    sys.exit(0)          # a fork now could wait forever
pid = os.fork()
if pid == 0:
    target = os.path.join(project, 'child-target')
    ok = dbtRunner().invoke(['parse', '--no-partial-parse', '--quiet', '--project-dir', project, '--profiles-dir',
                             project, '--target-path', target, '--log-path', target]).success
    print('child', ok, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


def test_the_warm_up_leaves_no_thread_so_a_fork_can_parse_every_model(tmp_path):
    """A warm-up that parses the whole project (no partial-parse state: a fresh clone, a changed project) leaves
    no thread behind, and a fork then parses every model itself (dbt's static parser runs a Rust thread pool: one
    started before the fork would leave the fork waiting for threads it does not have)."""
    project = tmp_path / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    out = _run_probe(THREADS_PROBE.format(project=str(project)), cakupan_env(tmp_path / "home"))
    lines = dict(line.split(" ", 1) for line in out.splitlines() if line.startswith(("warm ", "child ")))
    ok, before, after = lines["warm"].split()
    assert ok == "True" and after == before, lines
    assert lines["child"] == "True", out[-2000:]


def test_the_warm_up_writes_nothing_into_the_project(tmp_path):
    """Not its target/ (manifest, partial-parse state, run artefacts) nor a logs/ folder: the tasks copy from it."""
    project = tmp_path / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("logs", "dbt_packages"))
    assert (project / "target" / "partial_parse.msgpack").is_file()
    before = _tree(project)
    assert warm_dbt(project) is True
    assert _tree(project) == before


def test_a_warm_up_on_a_broken_project_reports_it_and_raises_nothing(tmp_path):
    (tmp_path / "dbt_project.yml").write_text("name: [not a project\n")
    assert warm_dbt(tmp_path) is False
    assert warm_dbt(tmp_path / "missing") is False
