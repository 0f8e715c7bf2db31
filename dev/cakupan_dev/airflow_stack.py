"""A real Airflow 3 deployment for tests and benchmarks: the four components — scheduler, dag-processor, triggerer,
api-server — as processes with the LocalExecutor, against a PostgreSQL metadata database (a `PgCluster`).

    with PgCluster.start() as pg:
        pg.create_database("airflow")
        with AirflowStack(root, pg, cakupan_home, bin_dir) as stack:   # db migrate, pool, four components
            stack.wait_serialized(["cakupan_ingest"]); stack.airflow("dags", "unpause", "cakupan_ingest")
            stack.wait_run_finished("cakupan_ingest", 0, 600)

Every component runs in its own process group and `stop()` (also at interpreter exit) sends it SIGTERM, then
SIGKILL to what is left, so the task processes the executor forked go too. The environment is the one README
"Running Airflow natively" documents.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from cakupan_dev.pgcluster import PgCluster, free_port

COMPONENTS = ("scheduler", "dag-processor", "triggerer", "api-server")
DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"


def _exit_on_sigterm() -> None:
    """Make SIGTERM exit through the interpreter (finalizers, atexit) so the components are stopped too; only
    where nobody installed a handler, and only from the main thread."""
    with contextlib.suppress(ValueError):
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


class StackError(RuntimeError):
    """A component exited, a command failed or a wait timed out; the message carries the logs' tails."""


class AirflowStack:
    """Airflow's four components as real processes; `query()` reads the metadata database."""

    def __init__(self, root: Path, pg: PgCluster, home: Path, bin_dir: Path, parallelism: int = 4,
                 **extra_env: str):
        self.root, self.pg, self.home, self.bin = Path(root), pg, Path(home), Path(bin_dir)
        self.airflow_home = self.root / "airflow"
        self.airflow_home.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CAKUPAN_", "AIRFLOW"))}
        env.update({
            "CAKUPAN_HOME": str(self.home), "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False", "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "GX_ANALYTICS_ENABLED": "False", "NO_COLOR": "1",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://cakupan@{pg.host}:{pg.port}/airflow",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            # every component signs and checks the execution API's tokens with the same secret (>= 64 bytes)
            "AIRFLOW__API_AUTH__JWT_SECRET": "throwaway-jwt-secret-shared-by-every-component-of-this-deployment",
            "AIRFLOW__API__SECRET_KEY": "throwaway-api-secret",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # a busy 2-core machine: the api-server's first task-start request has taken 35 s here (default 5 s)
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "90",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        })
        env.update(extra_env)
        self.env = env

    # -------------------------------------------------------------------------------------------- processes
    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """Run one `airflow` CLI command in this deployment's environment; raise StackError if it fails."""
        proc = subprocess.run([str(self.bin / "airflow"), *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if proc.returncode != 0:
            raise StackError(f"airflow {' '.join(args)}: {proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
        return proc

    def start(self) -> AirflowStack:
        """Migrate the metadata database, create the writer pool, start the four components, wait for the API."""
        atexit.register(self.stop)
        _exit_on_sigterm()
        self.airflow("db", "migrate")
        self.airflow("pools", "set", "cakupan_duckdb_writer", "1", "one writer per DuckDB file")
        for name in COMPONENTS:
            args = [name, "--host", "127.0.0.1", "--port", str(self.port)] if name == "api-server" else [name]
            with open(self.root / f"{name}.log", "w") as log:
                self.procs[name] = subprocess.Popen([str(self.bin / "airflow"), *args], env=self.env, stdout=log,
                                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.wait(self._api_up, 300, "the api-server to answer")
        return self

    def stop(self) -> None:
        """Stop every component's process group: SIGTERM, then SIGKILL what is left after 30 s. Safe twice."""
        for p in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for p in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)     # the group: task processes the executor forked, too
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(10)

    def __enter__(self) -> AirflowStack:  # noqa: PYI034 - Python 3.11 floor
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log(self, name: str) -> str:
        """A component's console log (stdout and stderr)."""
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def task_logs(self, dag_id: str, run_id: str) -> str:
        """Every task log of one DAG run."""
        folder = self.airflow_home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        return "\n".join(p.read_text(errors="replace") for p in sorted(folder.rglob("*.log")))

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds each component's main process has used so far, with its children that ended (the
        dag-processor's parsing processes); the scheduler's executor workers, and the tasks they run, are not in
        its figure while they live. Diff two readings to see what the components cost during a run."""
        tick = os.sysconf("SC_CLK_TCK")
        out = {}
        for name, p in self.procs.items():
            try:
                fields = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[name] = round(sum(int(f) for f in fields[11:15]) / tick, 1)   # utime stime cutime cstime
        return out

    # -------------------------------------------------------------------------------------------- state
    def _api_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/monitor/health", timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        """Call the api-server's REST API (`/api/v2/...`) with a JWT from `/auth/token` (SimpleAuthManager with
        every user an admin, as this throwaway deployment runs it)."""
        import json
        import urllib.request

        def call(m: str, p: str, data: dict | None, token: str | None = None) -> dict:
            req = urllib.request.Request(f"http://127.0.0.1:{self.port}{p}", method=m,
                                         data=None if data is None else json.dumps(data).encode(),
                                         headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {token}"} if token else {})})
            try:
                with urllib.request.urlopen(req, timeout=120) as r:
                    return json.loads(r.read() or b"{}")
            except urllib.error.HTTPError as exc:
                raise StackError(f"{m} {p}: HTTP {exc.code} {exc.read()[:1000]!r}") from None

        return call(method, path, body, call("GET", "/auth/token", None)["access_token"])

    def query(self, sql: str, params=()) -> list[tuple]:
        """Rows of a query on the metadata database."""
        con = self.pg.connect(dbname="airflow")
        try:
            with con.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            con.close()

    def runs(self, dag_id: str) -> list[tuple[str, str, str]]:
        """(run_id, run_type, state) of a DAG's runs, oldest first."""
        return self.query("select run_id, run_type, state from dag_run where dag_id = %s order by id", [dag_id])

    def task_states(self, run_id: str) -> dict[str, str]:
        """task_id (task_id[map_index] for mapped tasks) → state, for one run."""
        return {f"{t}[{m}]" if m >= 0 else t: s for t, m, s in self.query(
            "select task_id, map_index, state from task_instance where run_id = %s", [run_id])}

    def wait(self, ready: Callable, timeout: float, what: str, every: float = 2):
        """Poll `ready()` until it gives a truthy value (returned); raise StackError if a component exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise StackError(f"airflow {name} exited ({p.returncode}):\n{self.log(name)[-4000:]}")
            got = ready()
            if got:
                return got
            time.sleep(every)
        raise StackError(f"timed out waiting for {what}:\n" + "\n".join(
            f"--- {n}\n{self.log(n)[-2500:]}" for n in ("scheduler", "dag-processor")))

    def wait_serialized(self, dag_ids: list[str], timeout: float = 300) -> None:
        """Wait until the dag-processor has written these DAGs to the metadata database."""
        self.wait(lambda: len(self.query("select dag_id from serialized_dag where dag_id = any(%s)",
                                         [list(dag_ids)])) == len(set(dag_ids)), timeout,
                  f"the dag-processor to serialize {', '.join(dag_ids)}")

    def wait_run_finished(self, dag_id: str, after: int, timeout: float, every: float = 2) -> tuple[str, str, str]:
        """Wait for a run of `dag_id` beyond its first `after` runs to end; return (run_id, run_type, state)."""
        def done():
            return next((r for r in self.runs(dag_id)[after:] if r[2] in ("success", "failed")), None)
        return self.wait(done, timeout, f"a finished run of {dag_id}", every)
