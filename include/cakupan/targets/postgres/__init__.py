"""The PostgreSQL warehouse target (CAKUPAN_TARGET=postgres): the same chain on a server, with a read-only BI role.

    inbox ─ ingest (DuckDB: vectorised validation, pseudonyms) ─▶ work.duckdb raw / quarantine / audit / reference
      │ sync.sync_work_to_pg: COPY into PostgreSQL schemas raw, quarantine, audit, reference (one transaction;
      │                       raw and quarantine incrementally by load_id, the rest replaced)
      ▼
    dbt-postgres builds staging / intermediate / marts from the same models
      │ publish.build_next: published_next (the published marts) + published_audit_next (audit exports)
      ▼
    GX gate with a SQL datasource on published_next, published_audit_next and raw ─▶ audit.checks
      │ pass only: publish.promote_next, ONE transaction that replaces the rows of every published table with the
      │ validated ones (new or restructured tables are moved in) and grants SELECT to the BI role
      ▼
    published (BI role cakupan_bi: USAGE + SELECT here and nowhere else) ─▶ export.export_published_to_duckdb →
    published/cakupan.duckdb (marts.*, audit.*), so the auditor report and `cakupan trace` work unchanged.

work.duckdb stays the staging area and the system of record for the audit tables (runs, checks, publishes); the
PostgreSQL audit schema is a replica refreshed at every sync. A failed gate leaves `published` untouched and keeps
published_next for inspection (and exports it as the candidate file next-<run_id>.duckdb, like the DuckDB target).

Modules: params (where the server is), zones (schemas, the BI role), sync (work file → PostgreSQL), publish
(candidate schemas, verdict, promote), export (PostgreSQL → the published file), docs (dbt descriptions for BI),
target (the steps the pipeline asks of this target).
"""
