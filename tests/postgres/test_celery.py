"""Several workers at once: with the raw zone in PostgreSQL, the ingest DAG's files load concurrently on two real
Celery workers (CeleryExecutor, a throwaway Redis broker and result backend, Airflow's metadata in SQLite, the
warehouse on the throwaway PostgreSQL cluster), and the marts built from what they loaded equal the DuckDB run of
the same inbox, row for row.

Everything runs for real and is started here: redis-server on a free loopback port, `airflow api-server`,
`scheduler`, `dag-processor` and two `airflow celery worker` processes, each in its own process group, all ended
at the end. Each worker names itself through [core] hostname_callable, so the task instances say which worker
ran them."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import duckdb
import pytest
from cakupan_dev.pgcluster import free_port
from pg_support import KEY, ROOT, cli
from test_parity import compare

pytestmark = [pytest.mark.postgres, pytest.mark.integration]

AIRFLOW = Path(sys.executable).parent / "airflow"
WORKERS = ("worker-one", "worker-two")
INGEST = "cakupan_ingest"


class Processes:
    """Started processes, each in a process group of its own, ended (TERM, then KILL) by `stop`."""

    def __init__(self, logs: Path):
        self.logs, self.procs = logs, []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        out = open(self.logs / f"{name}.log", "wb")   # noqa: SIM115 - closed with the process in stop()
        p = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                             cwd=self.logs)
        self.procs.append((name, p, out))
        return p

    def check(self) -> None:
        for name, p, _ in self.procs:
            if p.poll() is not None:
                raise AssertionError(f"{name} exited ({p.returncode}):\n{self.tail(name)}")

    def tail(self, name: str, n: int = 4000) -> str:
        f = self.logs / f"{name}.log"
        return f.read_text(errors="replace")[-n:] if f.exists() else ""

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            for _, p, _ in self.procs:
                if p.poll() is None:
                    try:
                        os.killpg(p.pid, sig)
                    except ProcessLookupError:
                        pass
            deadline = time.monotonic() + wait
            for _, p, _ in self.procs:
                try:
                    p.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        for _, p, out in self.procs:
            out.close()
            if p.poll() is None:     # a group that ignored SIGKILL is a finding, not something to leave behind
                raise AssertionError(f"process {p.pid} did not stop")


def _wait(what: str, check, timeout: float, procs: Processes, step: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check()
        got = check()
        if got:
            return got
        time.sleep(step)
    logs = "\n".join(f"--- {n}\n{procs.tail(n, 2500)}" for n, _, _ in procs.procs)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")


def _answers(url: str) -> bool:
    """The server answers (the workers' first calls to the execution API then need no cold start)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status == 200
    except (OSError, ValueError):
        return False


@pytest.fixture(scope="module")
def celery_ingest(chains, tmp_path_factory):
    """The chains' inbox ingested by the ingest DAG on two Celery workers into a fresh warehouse database."""
    redis = shutil.which("redis-server")
    if not redis:
        pytest.fail("redis-server is missing: `make system-deps` (or apt-get install redis-server) installs it")
    base = tmp_path_factory.mktemp("celery")
    home, af_home, logs = base / "home", base / "airflow", base / "logs"
    for d in (af_home, logs):
        d.mkdir()
    shutil.copytree(chains.duck_home / "inbox", home / "inbox")    # copy2: the same mtimes, so received_at
    pg, wh_db = chains.pg, "celery_warehouse"
    pg.create_database(wh_db)
    (base / "cakupan_celery_names.py").write_text(
        "import os\n\n\ndef hostname():\n    return os.environ['CAKUPAN_TEST_WORKER']\n")
    redis_port, api_port = free_port(), free_port()
    # Airflow's own metadata in SQLite, as `airflow standalone` keeps it (a PostgreSQL one needs asyncpg, which is
    # not in the lock); the Celery results in Redis beside the broker
    meta = f"sqlite:///{af_home / 'airflow.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CAKUPAN_"))}
    env.update({
        "AIRFLOW_HOME": str(af_home), "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"redis://127.0.0.1:{redis_port}/1",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": "celery-test-only-secret", "AIRFLOW__API__SECRET_KEY": "celery-test-only",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False", "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2", "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",     # as tests/deploy/test_scheduler.py: task gaps
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "cakupan_celery_names.hostname", "CAKUPAN_TEST_WORKER": "scheduler",
        "PYTHONPATH": str(base), "CAKUPAN_HOME": str(home), "CAKUPAN_TARGET": "postgres",
        "CAKUPAN_PSEUDONYM_KEY": KEY, "CAKUPAN_ENV_FILE": os.devnull, "NO_COLOR": "1",
        # batches of two files (issue 20's default is 500 per batch): enough mapped tasks for both workers
        "CAKUPAN_BATCH_FILES": "2",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "GX_ANALYTICS_ENABLED": "False",
        **pg.env(dbname=wh_db),
    })
    migrate = subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, text=True,
                             timeout=600, check=False)
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    procs = Processes(logs)
    try:
        procs.start("redis", [redis, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(base)], env)
        procs.start("api-server", [str(AIRFLOW), "api-server", "--host", "127.0.0.1", "--port", str(api_port),
                                   "--workers", "1"], env)
        procs.start("dag-processor", [str(AIRFLOW), "dag-processor"], env)
        procs.start("scheduler", [str(AIRFLOW), "scheduler"], env)
        for w in WORKERS:
            procs.start(w, [str(AIRFLOW), "celery", "worker", "--celery-hostname", f"{w}@%h", "--concurrency", "2",
                            "--skip-serve-logs", "--without-mingle", "--without-gossip"],
                        {**env, "CAKUPAN_TEST_WORKER": w})

        def rows(sql, params=()):
            with closing(sqlite3.connect(af_home / "airflow.db", timeout=30)) as con:
                return con.execute(sql, params).fetchall()

        _wait("the api-server", lambda: _answers(f"http://127.0.0.1:{api_port}/api/v2/monitor/health"), 300, procs)
        _wait("the DAG processor to serialize cakupan_ingest",
              lambda: rows("select 1 from serialized_dag where dag_id = ?", [INGEST]), 300, procs)
        unpause = subprocess.run([str(AIRFLOW), "dags", "unpause", INGEST], env=env, capture_output=True,
                                 text=True, timeout=300, check=False)
        assert unpause.returncode == 0, unpause.stdout[-2000:] + unpause.stderr[-2000:]
        # unpaused, the hourly DAG gets its latest run at once (catchup off): one run, no trigger needed
        run_id, state = _wait("the ingest run to finish", lambda: [r for r in rows(
            "select run_id, state from dag_run where dag_id = ? order by id limit 1", [INGEST])
            if r[1] in ("success", "failed")], 600, procs)[0]
        # a run that spans the top of the hour makes the scheduler create the next hourly run (it found no new
        # files, so its one load_batch was skipped: CI saw that run's task instance among the first run's). Pause,
        # let whatever a worker already took finish, and read only the first run's task instances.
        pause = subprocess.run([str(AIRFLOW), "dags", "pause", INGEST], env=env, capture_output=True, text=True,
                               timeout=300, check=False)
        assert pause.returncode == 0, pause.stdout[-2000:] + pause.stderr[-2000:]
        _wait("the workers to finish what they took", lambda: not rows(
            "select 1 from task_instance where dag_id = ? and state in ('queued', 'running')", [INGEST]),
            300, procs)
        tis = rows("select task_id, map_index, state, hostname, pool from task_instance where dag_id = ? "
                   "and run_id = ?", [INGEST, run_id])
    finally:
        procs.stop()
    return {"home": home, "db": wh_db, "state": [state], "tis": tis, "logs": logs}


def test_the_ingest_dag_spreads_its_files_over_two_celery_workers(celery_ingest):
    tis = celery_ingest["tis"]
    assert celery_ingest["state"] == ["success"], tis
    loads = [t for t in tis if t[0] == "load_batch"]
    assert len(loads) >= 5 and all(t[2] == "success" for t in loads), loads
    by_worker = {w: sum(1 for t in loads if t[3] == w) for w in WORKERS}
    assert all(n > 0 for n in by_worker.values()), f"both workers must load files: {by_worker}"
    assert {t[4] for t in loads} == {"default_pool"}, "on PostgreSQL the load tasks take no 1-slot writer pool"


def test_each_file_has_one_manifest_row_and_the_duckdb_load_ids(chains, celery_ingest):
    """Files loaded concurrently, yet one manifest row each, the same outcome per file as the DuckDB run, and the
    same load ids: taken at discovery in delivery order, whichever worker loaded first."""
    want_sql = ("select load_id, source_file, status, rows_in, rows_loaded, rows_quarantined, error_code "
                "from audit.loads order by load_id")
    with closing(duckdb.connect(str(chains.duck_home / "warehouse" / "work.duckdb"), read_only=True)) as d:
        want = d.execute(want_sql).fetchall()
    con = chains.pg.connect(dbname=celery_ingest["db"])
    with closing(con), con.cursor() as cur:
        cur.execute(want_sql)
        got = cur.fetchall()
        cur.execute("select count(*) from audit.load_reservations")
        left = cur.fetchone()[0]
    assert got == want
    assert len({r[1] for r in got}) == len(got)
    assert left == 0


def test_marts_built_from_the_celery_ingest_equal_the_duckdb_run(chains, celery_ingest):
    home, db = celery_ingest["home"], celery_ingest["db"]
    for step in ("build", "publish"):
        cli(home, step, target="postgres", pg=chains.pg, dbname=db)
    with closing(duckdb.connect(str(chains.duck_home / "published" / "cakupan.duckdb"), read_only=True)) as d, \
            closing(chains.pg.connect(dbname=db)) as p:
        counts = compare(d, "marts", p, "published")
    assert counts["mart_coverage_monthly"] > 0 and counts["mart_lineage"] > 0
