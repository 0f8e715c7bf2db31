"""The chain under a real Airflow deployment, not `airflow dags test`: a throwaway PostgreSQL metadata database
(through asyncpg and psycopg2, as Airflow 3 uses both), the four components — scheduler, dag-processor, triggerer,
api-server — started as processes with the LocalExecutor, synthetic deliveries dropped in the inbox and the DAGs
unpaused. Nothing is triggered by hand: the hourly ingest runs at once on unpausing, its raw-zone Asset event makes
the scheduler start transform/publish, and the gate publishes. Then the raw zone is corrupted and an operator
re-runs the gate (REST API clearTaskInstances): it fails, the published file keeps its bytes, and the gate's own message
is what the failure log and the auditor report show. (Re-running the gate rather than a whole new run keeps the
test to one dbt build: each of the ~45 dbt tasks pays a task start-up.)

Every process the test starts runs in its own process group and is stopped (SIGTERM, then SIGKILL) at the end,
also when a test fails or the run is interrupted; the PostgreSQL cluster is stopped and deleted.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

import duckdb
import pytest
from _support import BIN, TEST_KEY
from cakupan.quality.texts import run_message

# One ingest and one transform run (~60 tasks, each paying a task start-up): issue 20 measured 2 min 52 s for both
# on this machine when quiet; 25 min here with other test runs beside it (load 15-20), so more than 1200 s
pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.timeout(2400)]

INGEST, TRANSFORM = "cakupan_ingest", "cakupan_transform_publish"
BATCH_FILES = 5                                     # small batches, so a few of them run here
# an error-level line in a component's console log or a task log (structlog console and JSON renderings)
ERROR_LINE = re.compile(r"\[(error|critical)\s*\]|\"level\":\s*\"(error|critical)\"|\bERROR\b(?!=)")


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    from cakupan_dev.airflow_stack import AirflowStack, StackError
    from cakupan_dev.pgcluster import ClusterError, PgCluster
    from cakupan_dev.synth import SynthSpec, generate

    try:
        pg = PgCluster.start()
    except ClusterError as exc:
        pytest.fail(f"cannot start a throwaway PostgreSQL cluster ({exc}); `make postgres-deps` installs the server")
    root = tmp_path_factory.mktemp("scheduler")
    home = root / "home"
    truth = generate(SynthSpec(regencies=["73.72", "73.73"], months=["2025-03", "2025-04"], workers=12, seed=20,
                               formats=("csv", "xlsx")), home / "inbox")
    (home / "inbox" / "73.72" / "register_parepare_2025-05.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    # The scheduler sleeps scheduler_idle_sleep_time (default 1 s) after a loop with nothing to do, and each of the
    # transform's ~46 dependent dbt tasks waits for its next loop: 0.2 s took the runs' gaps between tasks from
    # 33.6 / 35.2 s to 17.5 / 19.5 s (bench/findings.md "Session 21"). Deployments keep Airflow's default.
    stack = AirflowStack(root, pg, home, BIN, CAKUPAN_PSEUDONYM_KEY=TEST_KEY, CAKUPAN_BATCH_FILES=str(BATCH_FILES),
                         AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME="0.2")
    try:
        pg.create_database("airflow")
        stack.start()
        yield stack, truth
    except StackError as exc:
        pytest.fail(str(exc))
    finally:
        stack.stop()
        pg.stop()


@pytest.fixture(scope="module")
def clean_chain(deployment):
    """Unpause the DAGs and let the scheduler run ingest → Asset → transform → gate → publish by itself."""
    dep, truth = deployment
    dep.wait_serialized([INGEST, TRANSFORM])
    dep.airflow("dags", "unpause", TRANSFORM)
    dep.airflow("dags", "unpause", INGEST)          # hourly, catchup off: unpausing runs it at once
    ingest = dep.wait_run_finished(INGEST, 0, 600)
    dep.airflow("dags", "pause", INGEST)            # no second hourly run while the test goes on
    transform = dep.wait_run_finished(TRANSFORM, 0, 1200)
    return dep, truth, ingest, transform


def test_ingest_runs_by_itself_in_batches_and_quarantines_the_bad_file(clean_chain):
    dep, truth, ingest, _ = clean_chain
    run_id, run_type, state = ingest
    assert (run_type, state) == ("scheduled", "success"), dep.task_states(run_id)
    states = dep.task_states(run_id)
    batches = [k for k in states if k.startswith("load_batch[")]
    assert len(batches) == -(-(len(truth["files"]) + 1) // BATCH_FILES)  # ceil(files / batch size) tasks
    assert all(states[b] == "success" for b in batches)             # the corrupt file did not fail its batch
    with duckdb.connect(str(dep.home / "warehouse" / "work.duckdb"), read_only=True) as con:
        loads = {r[0]: r[1:] for r in con.execute(
            "select file_name, status, error_code, rows_in, rows_loaded, rows_quarantined, run_id "
            "from audit.loads").fetchall()}
    assert loads.pop("register_parepare_2025-05.xlsx")[:2] == ("rejected", "FILE_CORRUPT")
    for f in truth["files"]:               # every file its own manifest row, counts from the generator's truth
        assert loads[Path(f["path"]).name] == ("loaded", None, f["rows_in"], f["loaded"], f["quarantined"], run_id)
    assert len(loads) == len(truth["files"])


def test_the_asset_event_starts_transform_which_publishes(clean_chain):
    dep, truth, _, transform = clean_chain
    run_id, run_type, state = transform
    assert run_type == "asset_triggered", transform
    assert state == "success", {k: v for k, v in dep.task_states(run_id).items() if v != "success"}
    with duckdb.connect(str(dep.home / "published" / "cakupan.duckdb"), read_only=True) as con:
        enrolled = dict(con.execute("select regency_code || ' ' || strftime(month_start, '%Y-%m'), enrolled "
                                    "from marts.mart_coverage_monthly").fetchall())
        status = con.execute("select status from audit.publishes where run_id = ?", [run_id]).fetchone()
    assert enrolled == {f"{r['regency_code']} {r['month']}": r["enrolled"] for r in truth["coverage_by_regency_month"]}
    assert status == ("published",)


def test_a_clean_run_logs_no_error_line(clean_chain):
    dep, _, ingest, transform = clean_chain
    logs = {name: dep.log(name) for name in ("scheduler", "dag-processor")}
    logs["ingest tasks"] = dep.task_logs(INGEST, ingest[0])
    logs["transform tasks"] = dep.task_logs(TRANSFORM, transform[0])
    assert logs["ingest tasks"] and logs["transform tasks"]
    errors = {name: [ln for ln in text.splitlines() if ERROR_LINE.search(ln)][:5] for name, text in logs.items()}
    assert errors == {name: [] for name in logs}
    assert "XCom not found" not in logs["scheduler"] + logs["ingest tasks"]
    assert not (dep.home / "logs" / "task_failures.jsonl").exists()


def _dbt_import_gaps(dep, run_id: str) -> list[float]:
    """Per dbt task of the run: seconds from cosmos' profile set-up to its "Trying to run dbtRunner" log line, where
    the task imports dbt's runner unless its process was forked with it loaded."""
    import datetime as dt

    folder = dep.airflow_home / "logs" / f"dag_id={TRANSFORM}" / f"run_id={run_id}"
    gaps = []
    for log in sorted(folder.glob("task_id=dbt.*/attempt=1.log")):
        at = {}
        for line in log.read_text(errors="replace").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            event = str(rec.get("event", ""))
            for mark in ("Using user-supplied profiles.yml", "Trying to run dbtRunner"):
                if event.startswith(mark) and mark not in at:
                    at[mark] = dt.datetime.fromisoformat(rec["timestamp"])
        if len(at) == 2:
            gaps.append((at["Trying to run dbtRunner"] - at["Using user-supplied profiles.yml"]).total_seconds())
    return gaps


def test_each_dbt_task_forks_with_dbt_loaded(clean_chain):
    """The scheduler preloads dbt's runner (cakupan.airflow_preload), so the ~45 dbt tasks, run one at a time on
    DuckDB, do not each import it: in their logs, cosmos' set-up and its call of dbt are well under a second apart
    (~2 s of import each when this suite measured it without the preload)."""
    dep, _, _, transform = clean_chain
    gaps = sorted(_dbt_import_gaps(dep, transform[0]))
    assert len(gaps) >= 40
    assert gaps[len(gaps) // 2] < 0.7, gaps


def test_a_failed_gate_keeps_the_published_bytes_and_records_the_gates_own_reason(clean_chain):
    dep, _, _, transform = clean_chain
    run_id = transform[0]
    pub = dep.home / "published" / "cakupan.duckdb"
    before = sha(pub)
    # the raw zone corrupted behind the loader's back: a coverage start no contract allows (gate check
    # 'coverage_start in range' of the raw suite, an error-severity check)
    with duckdb.connect(str(dep.home / "warehouse" / "work.duckdb")) as con:
        con.execute("update raw.register set coverage_start = date '1900-01-01' where source_row = "
                    "(select min(source_row) from raw.register)")
    # an operator re-runs the gate of the published run (its dbt tasks need not run again for this) through the
    # REST API: `airflow tasks clear` selects runs by logical date, which an Asset-triggered run does not have
    dep.api("POST", f"/api/v2/dags/{TRANSFORM}/clearTaskInstances",
            {"dag_run_id": run_id, "task_ids": ["gate_and_publish"], "include_downstream": True,
             "only_failed": False, "dry_run": False})
    dep.wait(lambda: dep.runs(TRANSFORM)[0][2] == "failed", 600, "the re-run gate to fail the run")
    states = dep.task_states(run_id)
    assert states["gate_and_publish"] == "failed" and states["auditor_report"] == "success", states
    assert sha(pub) == before                                        # readers never saw anything change
    with duckdb.connect(str(dep.home / "warehouse" / "work.duckdb"), read_only=True) as con:
        status, message = con.execute("select status, message from audit.publishes where run_id = ? "
                                      "order by published_at desc limit 1", [run_id]).fetchone()
        failed_check = con.execute("select count(*) from audit.checks where run_id = ? and not success and "
                                   "severity = 'error' and expectation = 'coverage_start in range'",
                                   [run_id]).fetchone()[0]
    assert status == "blocked" and failed_check >= 1
    records = [json.loads(x) for x in (dep.home / "logs" / "task_failures.jsonl").read_text().splitlines()]
    # the task's own callback, in the task's process, with the gate's message — not the dag-processor's
    # "task_failure" (the DAG-level callback writes nothing when a task recorded its own error)
    assert [(r["run_id"], r["dag_id"], r["task_id"]) for r in records] == [(run_id, TRANSFORM, "gate_and_publish")]
    # stored in English (audit.publishes), shown in the deployment's language (CAKUPAN_LANG unset: Indonesian)
    shown = run_message(message, "id")
    assert shown != message and shown in records[0]["error"] and "berkas terbitan tidak diubah" in records[0]["error"]
    # the auditor report (written again by the run's own auditor_report task) shows that reason for that run
    site = "\n".join(p.read_text(errors="replace") for p in (dep.home / "reports" / "site").rglob("*.html"))
    assert "gate_and_publish" in site
    assert html.escape(shown, quote=False) in site or html.escape(shown) in site
