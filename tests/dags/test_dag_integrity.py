"""Every DAG file imports with no errors or warnings, parses without connections, and carries the house rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((ROOT / "dags").glob("*.py"))


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("af")))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] = "False"
    from airflow.models import DagBag

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = DagBag(dag_folder=str(ROOT / "dags"))
    ours = [w for w in caught if str(ROOT / "dags") in str(w.filename)]
    return bag, ours


def test_dag_files_import_without_errors_or_warnings(dagbag):
    bag, ours = dagbag
    assert bag.import_errors == {}
    assert not ours, [str(w.message) for w in ours]
    assert {"cakupan_ingest", "cakupan_transform_publish"} <= set(bag.dag_ids)


def test_every_dag_file_names_airflow_and_defines_a_dag(dagbag):
    bag, _ = dagbag
    for f in DAG_FILES:
        assert "airflow" in f.read_text(), f"{f.name}: the parser skips files without the word 'airflow'"
    assert len(bag.dags) == len(DAG_FILES)


@pytest.mark.parametrize("dag_id", ["cakupan_ingest", "cakupan_transform_publish"])
def test_house_rules(dagbag, dag_id):
    dag = dagbag[0].dags[dag_id]
    assert dag.tags and "cakupan" in dag.tags
    assert dag.doc_md and len(dag.doc_md) > 200
    assert dag.max_active_runs == 1
    assert dag.on_failure_callback is not None
    assert dag.dagrun_timeout is not None
    for t in dag.tasks:
        assert t.owner == "cakupan-data-engineering", t.task_id
        assert t.retries >= 2, t.task_id
        assert t.retry_exponential_backoff, t.task_id
        assert t.execution_timeout is not None, t.task_id


def test_transform_is_scheduled_on_the_raw_asset_and_takes_a_period_range(dagbag):
    dag = dagbag[0].dags["cakupan_transform_publish"]
    assert "cakupan://warehouse/raw" in repr(dag.timetable.asset_condition)
    assert {"period_from", "period_to", "recheck_raw"} <= set(dag.params.keys())
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    assert len(dbt_tasks) > 10                        # rendered from the manifest by cosmos
    writers = [t for t in dag.tasks if t.pool == "cakupan_duckdb_writer"]
    assert any(t.task_id == "gate_and_publish" for t in writers)


# the tasks that never open the warehouse (they read what other tasks returned, or only decide the run)
NO_WAREHOUSE = {"summarise", "announce_raw", "every_batch_ran", "verdict"}


def test_every_task_that_opens_the_warehouse_runs_in_the_writer_pool(dagbag):
    """DuckDB lets one process write a file: every task that opens the warehouse takes the writer pool's one slot,
    so an hourly ingest that starts while a transform writes waits for it instead of failing on the file's lock
    (the discovery once did, under the real scheduler, when a test ran across the hour)."""
    for dag_id in ("cakupan_ingest", "cakupan_transform_publish"):
        for t in dagbag[0].dags[dag_id].tasks:
            if (t.task_id not in NO_WAREHOUSE and not t.task_id.startswith("announce_")
                    and type(t).__name__ != "EmptyOperator"):      # (cosmos' placeholders for ephemeral models)
                assert t.pool == "cakupan_duckdb_writer", (dag_id, t.task_id, t.pool)
    ingest = {t.task_id for t in dagbag[0].dags["cakupan_ingest"].tasks if t.pool == "cakupan_duckdb_writer"}
    assert {"discover", "load_batch", "export_rejections"} <= ingest
    transform = dagbag[0].dags["cakupan_transform_publish"].tasks
    assert sum(t.task_id.startswith("dbt.") and t.pool == "cakupan_duckdb_writer" for t in transform) > 10


def test_ingest_emits_an_asset_per_source(dagbag):
    dag = dagbag[0].dags["cakupan_ingest"]
    outlets = {str(getattr(o, "uri", o)) for t in dag.tasks for o in t.outlets}
    assert {"cakupan://warehouse/raw", "cakupan://warehouse/raw/register", "cakupan://warehouse/raw/contributions",
            "cakupan://warehouse/raw/claims", "cakupan://warehouse/raw/city_report"} <= outlets


def test_dags_parse_with_no_connections_and_no_dbt_call(tmp_path):
    """Parse in a clean process with no connections and dbt made unrunnable: the manifest is all cosmos needs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN", "AIRFLOW_VAR"))}
    env.update({"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "PATH": "/nonexistent", "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False"})
    code = ("import sys; sys.modules['dbt.cli.main'] = None\n"       # any dbt invocation at parse time fails
            "from airflow.models import DagBag\n"
            f"b = DagBag(dag_folder={str(ROOT / 'dags')!r})\n"
            "assert not b.import_errors, b.import_errors\n"
            "print(sorted(b.dag_ids))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "cakupan_transform_publish" in out.stdout


def test_parsing_the_transform_dag_loads_no_airflow_plugin(tmp_path):
    """cosmos reads the manifest as a plain local file: no hook-lineage collector, so no plugin (and no FastAPI)
    is loaded at parse time, as in the DAG processor's parse of the file (bench: dag_import)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CAKUPAN_"))}
    env.update({"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False"})
    code = ("import runpy, sys\n"
            "import airflow.sdk\n"
            f"runpy.run_path({str(ROOT / 'dags' / 'cakupan_transform_publish.py')!r})\n"
            "from airflow.sdk.lineage import get_hook_lineage_collector\n"
            "print('collector', get_hook_lineage_collector.cache_info().currsize)\n"
            "print('loaded', sorted(m for m in ('fastapi', 'cosmos.plugin.airflow3') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "collector 0" in out.stdout and "loaded []" in out.stdout, out.stdout[-2000:]


@pytest.mark.parametrize("mode", ["build", "everything"])
def test_one_build_task_by_configuration_and_a_wrong_value_is_an_import_error(tmp_path, mode):
    """CAKUPAN_DBT_TASKS=build renders one dbt_build task between prepare and the gate instead of the cosmos group;
    a value that is neither model nor build stops the DAG file's import with a message naming the variable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN", "AIRFLOW_VAR", "CAKUPAN_"))}
    env.update({"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "CAKUPAN_LANG": "en",
                "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False", "CAKUPAN_DBT_TASKS": mode})
    code = ("import json\nfrom airflow.models import DagBag\n"
            f"b = DagBag(dag_folder={str(ROOT / 'dags')!r})\n"
            "d = b.dags.get('cakupan_transform_publish')\n"
            "print(json.dumps({'errors': list(b.import_errors.values()),\n"
            "  'tasks': sorted(d.task_ids) if d else [],\n"
            "  'gate_upstream': sorted(d.get_task('gate_and_publish').upstream_task_ids) if d else []}))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    if mode == "build":
        assert got["errors"] == []
        assert got["tasks"] == ["auditor_report", "dbt_build", "gate_and_publish", "prepare", "verdict"]
        assert got["gate_upstream"] == ["dbt_build"]
    else:
        assert got["tasks"] == [] and len(got["errors"]) == 1
        assert "CAKUPAN_DBT_TASKS='everything'" in got["errors"][0] and "model" in got["errors"][0]


def test_each_dbt_task_freezes_the_heap_for_cosmos_full_collection_and_thaws_it_after(dagbag):
    """cosmos runs a full gc.collect() after each dbt command; each dbt task freezes what its process held before
    it (pre_execute) so that collection walks only the dbt command's objects, and thaws it after (post_execute).
    Cyclic garbage made before the freeze survives a collection while frozen and is collected once thawed; a
    process that had frozen objects already (forked from a LocalExecutor worker, which froze them) keeps them
    frozen."""
    import gc
    import weakref

    from cakupan.orchestration import freeze_heap, thaw_heap

    dbt_tasks = [t for t in dagbag[0].dags["cakupan_transform_publish"].tasks
                 if type(t).__module__.startswith("cosmos.operators")]        # the sources' tasks are EmptyOperators
    assert len(dbt_tasks) > 40
    assert all(t._pre_execute_hook is freeze_heap and t._post_execute_hook is thaw_heap for t in dbt_tasks)

    class Node:
        pass

    def cycle():
        a, b = Node(), Node()
        a.other, b.other = b, a
        return a

    gc.unfreeze()
    gc.collect()
    before = cycle()
    held = weakref.ref(before)
    try:
        freeze_heap({})
        assert gc.get_freeze_count() > 0
        del before                      # garbage now, but frozen: a collection does not reach it
        made_in_task = weakref.ref(cycle())
        gc.collect()
        assert held() is not None and made_in_task() is None
    finally:
        thaw_heap({})
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert held() is None

    gc.freeze()                         # what a LocalExecutor worker froze before forking the task's process
    try:
        inherited = gc.get_freeze_count()
        freeze_heap({})
        thaw_heap({})
        assert gc.get_freeze_count() >= inherited > 0
    finally:
        gc.unfreeze()
