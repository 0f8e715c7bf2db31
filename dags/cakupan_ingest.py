"""
### cakupan_ingest — regency inboxes → raw zone (Airflow 3)

Scans every configured regency's inbox (`config/regencies/*.yml`, so a new regency is configuration, not code),
loads each new file in its own mapped task — raw rows, quarantined rows and one manifest row, atomically — and
then emits an Asset event per source that received data plus one on the raw zone, which schedules
`cakupan_transform_publish`. A bad file is recorded in the manifest with its reason and never stops the others.
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
    @task
    def discover() -> list[str]:
        """List the new files in every configured regency inbox."""
        from cakupan.ingest.loader import Loader

        loader = Loader(task_settings())
        try:
            return [str(p) for p in loader.pending_files()]
        finally:
            loader.con.close()

    @task(pool=WRITER_POOL, max_active_tis_per_dag=1 if WRITER_POOL else None, map_index_template="{{ task.op_kwargs['path'].split('/')[-1] }}",
          on_failure_callback=record_failure)
    def load_file(path: str, **context) -> dict:
        """Load one file; a rejected file is a recorded outcome, not a task failure."""
        from pathlib import Path

        from cakupan.ingest.loader import Loader

        loader = Loader(task_settings(), run_id=context["dag_run"].run_id)
        try:
            return loader.load(Path(path)).to_dict()
        finally:
            loader.con.close()

    @task(outlets=[RAW_ASSET])
    def announce_raw(results: list[dict]) -> dict:
        """Emit the raw-zone Asset event when any file loaded rows."""
        loaded = [r for r in results if r["status"] == "loaded"]
        if not loaded:
            raise AirflowSkipException("no file loaded rows: nothing to transform")
        return {"loaded_files": len(loaded), "rows": sum(r["rows_loaded"] for r in loaded)}

    def announcer(source: str):
        @task(task_id=f"announce_{source}", outlets=[SOURCE_ASSETS[source]])
        def announce(results: list[dict]) -> int:
            n = sum(r["rows_loaded"] for r in results if r["status"] == "loaded" and r["source"] == source)
            if n == 0:
                raise AirflowSkipException(f"no {source} rows loaded in this run")
            return n
        return announce

    @task(pool=WRITER_POOL)
    def export_rejections(results: list[dict]) -> dict:
        """Link rejection workbooks sent back to the delivery they fix, then write each delivery's rejected rows
        into its regency's outbox (personal data: only counts are logged, never a path or a row)."""
        from cakupan.outbox.fixes import record_fixes
        from cakupan.outbox.workbook import export_rejections as export

        settings = task_settings()
        linked = record_fixes(settings)
        return {"fixed_rows_linked": linked, "workbooks": len(export(settings))}

    results = load_file.expand(path=discover())
    export_rejections(results)
    announce_raw(results)
    for source in SOURCE_ASSETS:
        announcer(source)(results)


cakupan_ingest()
