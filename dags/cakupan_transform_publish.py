"""
### cakupan_transform_publish — dbt build → Great Expectations gate → atomic publish → auditor report (Airflow 3)

Scheduled on the raw-zone Asset that every successful `cakupan_ingest` load updates, and runnable by hand with a
period range (`period_from` / `period_to`, YYYY-MM) for backfills and reruns. dbt runs through astronomer-cosmos,
rendered from a manifest built ahead (`make manifest`; no dbt call at parse time), with tests after each model —
or, with `CAKUPAN_DBT_TASKS=build`, as one `dbt build` task (each Airflow task pays a start-up; README says when).
The gate validates the candidate file; only a passing gate renames it over `published/cakupan.duckdb`. A failed
gate or any failed task leaves the published file byte-for-byte as it was; the auditor report is written either way.
The GX gate is a task calling `cakupan.quality` rather than the GX provider's operator: see README ("Why not the
GX operator") — the operator validates at parse time or needs a SQL datasource that is broken on DuckDB.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, Param, dag, task
from cakupan.orchestration import (
    DBT_VARS,
    DEFAULT_ARGS,
    PUBLISHED_ASSET_URI,
    RAW_ASSET_URI,
    cosmos_configs,
    dbt_task_flags,
    dbt_task_mode,
    freeze_heap,
    record_failure,
    task_settings,
    thaw_heap,
)
from cakupan.targets import writer_pool

WRITER_POOL = writer_pool()      # DuckDB: one writer at a time; PostgreSQL: None (its own locking)
DBT_TASKS = dbt_task_mode()      # "model": a cosmos task per model (default); "build": one dbt build task


@dag(
    dag_id="cakupan_transform_publish",
    schedule=[Asset(RAW_ASSET_URI)],
    start_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(hours=3),
    default_args=DEFAULT_ARGS,
    on_failure_callback=record_failure,
    params={
        "period_from": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$",
                             description="First month to rebuild (YYYY-MM); empty = all."),
        "period_to": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$",
                           description="Last month to rebuild (YYYY-MM); empty = all."),
        "recheck_raw": Param(False, type="boolean",
                             description="Validate every raw row, not only the loads no published run has validated "
                                         "as they stand under the current raw suite."),
    },
    tags=["cakupan", "dbt", "quality", "publish"],
    doc_md=__doc__,
)
def cakupan_transform_publish():
    @task(pool=WRITER_POOL)
    def prepare(params=None, **context) -> int:
        """Record the run; copy config and reviewed narrative facts into the warehouse."""
        from cakupan import pipeline

        s = task_settings()
        run_id = context["dag_run"].run_id
        pipeline.start_run(s, run_id, params.get("period_from"), params.get("period_to"))
        # cosmos runs dbt next: recorded as running until the gate task, which runs only after every dbt task
        # succeeded, records it as succeeded; a failed build blocks a later `cakupan publish`
        pipeline.start_build(s, run_id, params.get("period_from"), params.get("period_to"))
        return pipeline.prepare(s)

    if DBT_TASKS == "build":
        @task(task_id="dbt_build", pool=WRITER_POOL)
        def dbt_build(params=None) -> None:
            """Every model and data test in one `dbt build` (what `cakupan run` does); a failure fails this task."""
            from cakupan import pipeline

            pipeline.run_dbt_build(task_settings(), params.get("period_from"), params.get("period_to"))

        dbt = dbt_build()
    else:
        from cosmos import DbtTaskGroup

        project, profile, execution, render = cosmos_configs()
        dbt = DbtTaskGroup(
            group_id="dbt",
            project_config=project,
            profile_config=profile,
            execution_config=execution,
            render_config=render,
            operator_args={"vars": DBT_VARS, "install_deps": False, "pool": WRITER_POOL,
                           "dbt_cmd_global_flags": dbt_task_flags(),
                           "pre_execute": freeze_heap, "post_execute": thaw_heap},
            default_args=DEFAULT_ARGS,
        )

    @task(pool=WRITER_POOL, outlets=[Asset(PUBLISHED_ASSET_URI)], multiple_outputs=False)
    def gate_and_publish(params=None, **context) -> dict:
        """Export the candidate, validate it with GX, publish atomically only if no error check failed."""
        from airflow.sdk.exceptions import AirflowFailException
        from cakupan import pipeline
        from cakupan.transform import release_duckdb_handles

        release_duckdb_handles()  # cosmos ran dbt in this process under `airflow dags test`
        s, run_id = task_settings(), context["dag_run"].run_id
        pipeline.finish_build(s, run_id, "succeeded")  # this task runs only when every dbt task succeeded
        out = pipeline.gate_and_publish(s, run_id, recheck_raw=bool((params or {}).get("recheck_raw")))
        if not out.published:  # a data problem: retrying cannot fix it, so fail without retries
            from cakupan.core.messages import text
            from cakupan.quality.texts import run_message

            raise AirflowFailException(text("gate.message.blocked", message=run_message(out.message),
                                            path=out.candidate))
        return {"published": True, "sha256": out.published_sha256, "warnings": len(out.gate.warnings)}

    @task(trigger_rule="all_done", pool=WRITER_POOL)
    def auditor_report(**context) -> str:
        """Close the run's audit record and write the auditor's HTML report (also after a failed gate). In the writer
        pool: it writes the audit record into the warehouse."""
        from cakupan import pipeline
        from cakupan.auditor.report import write_report

        s = task_settings()
        pipeline.finish_run_from_audit(s, context["dag_run"].run_id)
        return str(write_report(s))

    @task(multiple_outputs=False)
    def verdict(published: dict) -> dict:
        """Fail the run unless the publish succeeded (the report task always runs)."""
        return published

    published = gate_and_publish()
    report = auditor_report()
    prepare() >> dbt >> published >> report
    verdict(published) << report


cakupan_transform_publish()
