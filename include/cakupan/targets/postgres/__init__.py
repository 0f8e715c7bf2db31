"""The PostgreSQL warehouse target (CAKUPAN_TARGET=postgres): the same chain on a server, the server the one system
of record, with a read-only BI role.

    inbox ─ ingest: each file read and validated in-process as on DuckDB (the same Loader), its rows COPYed into
      │    PostgreSQL raw / quarantine in the file's own transaction (writer.PgRawWriter), the manifest and the
      │    invariant there too; runs, checks and publishes recorded there (records.Records)
      ▼
    dbt-postgres builds staging / intermediate / marts from the same models
      │ publish.build_next: published_next (the published marts) + published_audit_next (audit exports)
      ▼
    GX gate with a SQL datasource on published_next, published_audit_next and raw ─▶ audit.checks
      │ pass only: publish.promote_next, ONE transaction: rows replaced (MVCC), or on a model change every table
      │ switched once no older reader is left and the tables are locked in one order (bounded, explained waits)
      ▼
    published (BI role cakupan_bi: USAGE + SELECT here and nowhere else) ─▶ export.export_published_to_duckdb →
    published/cakupan.duckdb (marts.*, audit.*), so the auditor report and `cakupan trace` work unchanged.

No work file and no replica: nothing to keep in step, so nothing can drift, and the gate reads what BI reads. A
failed gate leaves `published` untouched and keeps published_next for inspection (and exports it as the candidate
file next-<run_id>.duckdb, like the DuckDB target). Publishers are serialised by a lock only the pipeline role can
take (audit.publish_lock).

Modules: params (where the server is, one-line connection errors), records (DuckDB-style SQL on PostgreSQL), zones
(the system of record's DDL, the vendored areas, the BI role and its gaps), writer (the loader's writer), derived
(config-derived tables, copied whole), publish (candidate schemas, verdict, publish lock, promote), export
(PostgreSQL → the published file), docs (dbt descriptions for BI), target (the steps the pipeline asks of this
target).
"""
