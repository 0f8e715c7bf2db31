"""OpenLineage (opt-in, README "OpenLineage"): a real `airflow dags test` run of the ingest DAG and one cosmos task of
the transform DAG (`airflow tasks test`) emit START/COMPLETE RunEvents.

The provider is not in the main venv (importing it through cosmos costs every parse of the transform DAG about
0.2 s, see README). `make test` builds a second venv with the extra `lineage` (`make lineage-venv`:
.venv-lineage), and this test runs Airflow from there.
"""

from __future__ import annotations

import json

import pytest
from _support import ROOT, airflow_dags_test, airflow_tasks_test, dag_run_succeeded

LINEAGE_BIN = ROOT / ".venv-lineage" / "bin"

if not (LINEAGE_BIN / "airflow").exists():
    pytest.skip("the lineage venv is missing: `make lineage-venv` (make test builds it)", allow_module_level=True)

pytestmark = pytest.mark.integration


def test_airflow_runs_write_openlineage_events_to_the_file_transport(tmp_path, airflow_home, synth_inbox):
    home = tmp_path / "home"
    synth_inbox(home, regencies=("73.72",), months=("2025-03",), workers=5, formats=("csv",))
    events_file = tmp_path / "openlineage.jsonl"
    transport = json.dumps({"type": "file", "log_file_path": str(events_file), "append": True})
    proc = airflow_dags_test(airflow_home, home, "cakupan_ingest", bin_dir=LINEAGE_BIN,
                             AIRFLOW__OPENLINEAGE__TRANSPORT=transport, AIRFLOW__OPENLINEAGE__NAMESPACE="cakupan-test")
    assert dag_run_succeeded(proc), proc.stdout[-3000:] + proc.stderr[-3000:]
    assert events_file.exists(), "no OpenLineage event was written:\n" + proc.stdout[-3000:] + proc.stderr[-3000:]
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    seen = {(e["job"]["name"], e["eventType"]) for e in events if "run" in e and "job" in e}
    for task_id in ("discover", "load_batch"):
        job = f"cakupan_ingest.{task_id}"
        assert {(job, "START"), (job, "COMPLETE")} <= seen, sorted(seen)
    assert {e["job"]["namespace"] for e in events} == {"cakupan-test"}
    run_ids = {e["run"]["runId"] for e in events if e["job"]["name"] == "cakupan_ingest.discover"}
    assert len(run_ids) == 1                                    # START and COMPLETE of the same task run

    # cosmos' part: a dbt model's task names the table it read and the table it built. One task of the transform DAG
    # run by `airflow tasks test` is enough (the whole DAG is run by tests/dags/test_airflow_runs.py)
    events_file.unlink()
    task = "dbt.stg_register__enrollments_model_build"
    proc = airflow_tasks_test(airflow_home, home, "cakupan_transform_publish", task, bin_dir=LINEAGE_BIN,
                              AIRFLOW__OPENLINEAGE__TRANSPORT=transport, AIRFLOW__OPENLINEAGE__NAMESPACE="cakupan-test")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    complete = {e["job"]["name"]: e for e in events if e["eventType"] == "COMPLETE"}
    model = complete[f"cakupan_transform_publish.{task}"]
    assert [o["name"] for o in model["outputs"]] == ["work.staging.stg_register__enrollments"]
    assert model["outputs"][0]["namespace"].startswith("duckdb://")
    assert "work.raw.register" in [i["name"] for i in model["inputs"]]
