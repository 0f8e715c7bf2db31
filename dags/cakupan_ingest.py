"""
### cakupan_ingest — regency inboxes → raw zone (Airflow 3)

Scans every configured regency's inbox (`config/regencies/*.yml`, so a new regency is configuration, not code),
cuts the new files into batches (oldest first; at most `CAKUPAN_BATCH_FILES` files, about `CAKUPAN_BATCH_MB` MB)
and loads each batch in one mapped task, so a task's start-up is paid per batch, not per file. Every file still
gets its own load — raw rows, quarantined rows and one manifest row, atomically — and its own reason codes: a bad
file is recorded in the manifest with its reason and never fails its batch or stops the others. A crashed
discovery or batch (not a bad file: a broken config, a full disk) fails the run, after the others were announced. Then an Asset
event per source that received data plus one on the raw zone, which schedules `cakupan_transform_publish`.
Reruns are idempotent: a file already processed (same path and bytes) is skipped; the same bytes under another
name are recorded as a duplicate. The pool comes from the target: on DuckDB the writers share the 1-slot pool
`cakupan_duckdb_writer` (one writer per DuckDB file); on PostgreSQL files load concurrently on every worker.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, dag, task
from airflow.sdk.exceptions import AirflowSkipException
from cakupan.orchestration import (
    DEFAULT_ARGS,
    RAW_ASSET_URI,
    SOURCE_ASSET_URIS,
    combine_batches,
    plan_batches,
    record_failure,
    task_settings,
)
from cakupan.targets import writer_pool

WRITER_POOL = writer_pool()      # DuckDB: one writer at a time; PostgreSQL: None (its own locking)

RAW_ASSET = Asset(RAW_ASSET_URI)
SOURCE_ASSETS = {s: Asset(uri) for s, uri in SOURCE_ASSET_URIS.items()}


@dag(
    dag_id="cakupan_ingest",
    schedule="@hourly",
    start_date=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(hours=2),
    default_args=DEFAULT_ARGS,
    on_failure_callback=record_failure,
    tags=["cakupan", "ingest", "raw"],
    doc_md=__doc__,
)
def cakupan_ingest():
    @task(pool=WRITER_POOL)
    def discover() -> list[list[str]]:
        """List the new files in every configured regency inbox, cut into batches. In the writer pool: it opens the
        warehouse as the loader does (an hourly run that began while a transform held a DuckDB file failed on its
        lock)."""
        from cakupan.ingest.loader import Loader

        loader = Loader(task_settings())
        try:
            return plan_batches([str(p) for p in loader.pending_files()])
        finally:
            loader.con.close()

    @task(pool=WRITER_POOL, max_active_tis_per_dag=1 if WRITER_POOL else None, multiple_outputs=False,
          map_index_template="{{ task.op_kwargs['paths'] | length }} files from "
                             "{{ task.op_kwargs['paths'][0].split('/')[-1] }}")
    def load_batch(paths: list[str], **context) -> dict:
        """Load a batch of files, each in its own transaction; a rejected file is a recorded outcome, not a failure."""
        from cakupan.ingest.run import load_batch as load

        return load(task_settings(), paths, run_id=context["dag_run"].run_id)

    @task(multiple_outputs=False, trigger_rule="all_done")
    def summarise(batches) -> dict:
        """Add up the batches (one read of the mapped results: no lookups past their end). Runs even when a batch
        failed, so the files the other batches loaded are announced and published all the same."""
        done = [b for b in batches[:] if b]
        if not done:
            raise AirflowSkipException("no batch to load")
        return combine_batches(done)

    @task(outlets=[RAW_ASSET], multiple_outputs=False)
    def announce_raw(summary: dict) -> dict:
        """Emit the raw-zone Asset event when any file loaded rows."""
        if not summary["status"].get("loaded"):
            raise AirflowSkipException("no file loaded rows: nothing to transform")
        return {"loaded_files": summary["status"]["loaded"], "rows": sum(summary["rows_loaded"].values())}

    def announcer(source: str):
        @task(task_id=f"announce_{source}", outlets=[SOURCE_ASSETS[source]])
        def announce(summary: dict) -> int:
            n = summary["rows_loaded"].get(source, 0)
            if n == 0:
                raise AirflowSkipException(f"no {source} rows loaded in this run")
            return n
        return announce

    @task(pool=WRITER_POOL, max_active_tis_per_dag=1 if WRITER_POOL else None, multiple_outputs=False)
    def export_rejections(summary: dict) -> dict:
        """Link rejection workbooks sent back to the delivery they fix, then write each delivery's rejected rows
        into its regency's outbox (personal data: only counts are logged, never a path or a row)."""
        from cakupan.outbox.fixes import record_fixes
        from cakupan.outbox.workbook import export_rejections as export

        settings = task_settings()
        linked = record_fixes(settings)
        return {"fixed_rows_linked": linked, "workbooks": len(export(settings))}

    @task(multiple_outputs=False)
    def every_batch_ran(batches) -> int:
        """The run's verdict: runs only when discovery and every batch succeeded, so a crashed discovery or batch
        fails the run (Airflow judges a run by its last tasks; summarise and the announcements still ran for the
        batches that loaded). No pending file: skipped with the batches, and the run succeeds."""
        return len(batches[:])

    batches = load_batch.expand(paths=discover())
    summary = summarise(batches)
    every_batch_ran(batches)
    export_rejections(summary)
    announce_raw(summary)
    for source in SOURCE_ASSETS:
        announcer(source)(summary)


cakupan_ingest()
