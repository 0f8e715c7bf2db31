"""The PostgreSQL zones: the schemas the pipeline creates, the published schemas, and the read-only BI role that
reads `published` and nothing else; small catalogue queries the other modules share."""

from __future__ import annotations

import logging
import os

from cakupan.targets.postgres.params import PgError, q

log = logging.getLogger("cakupan.targets.postgres.zones")

REPLICATED_SCHEMAS = ("raw", "quarantine", "audit", "reference")
DBT_SCHEMAS = ("staging", "intermediate", "marts")
PUBLISHED = "published"              # the BI schema: published marts only
PUBLISHED_AUDIT = "published_audit"  # pseudonymised audit exports (auditor report); not granted to BI
NEXT_SUFFIX = "_next"                # published_next, published_audit_next: the candidate of a publish
DEFAULT_BI_ROLE = "cakupan_bi"


def bi_role() -> str:
    """The read-only BI role's name (CAKUPAN_PG_BI_ROLE, default cakupan_bi)."""
    return os.environ.get("CAKUPAN_PG_BI_ROLE", DEFAULT_BI_ROLE)


def init_pg(con) -> None:
    """Create the replicated zones' schemas (idempotent) and lock down default privileges; commits."""
    with con.cursor() as cur:
        for s in (*REPLICATED_SCHEMAS, *DBT_SCHEMAS):
            cur.execute(f"create schema if not exists {q(s)}")
    con.commit()
    # Nobody but the owner creates anything: no CREATE on schema public (PostgreSQL < 15 grants it to PUBLIC)
    best_effort(con, "revoke create on schema public from public")


def best_effort(con, sql: str, params=None) -> bool:
    """Run a statement that needs privileges the pipeline role may lack (a DBA can do it once instead)."""
    import psycopg2

    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
        con.commit()
        return True
    except psycopg2.Error as exc:
        con.rollback()
        log.warning("skipped (%s): %s", str(exc).strip().splitlines()[0], sql)
        return False


def ensure_bi_role(con, role: str | None = None, password: str | None = None) -> str:
    """Create the read-only BI role if missing (LOGIN, read-only transactions), let it connect, and make sure it
    can reach nothing but the published schema. Grants on `published` itself are given at every publish."""
    role = role or bi_role()
    password = password if password is not None else os.environ.get("CAKUPAN_PG_BI_PASSWORD")
    with con.cursor() as cur:
        cur.execute("select current_database(), exists (select 1 from pg_roles where rolname = %s)", [role])
        db, exists = cur.fetchone()
    con.commit()
    if not exists and not best_effort(con, f"create role {q(role)} login noinherit"):
        raise PgError(f"the BI role {role} does not exist and the pipeline role cannot create it: ask the DBA to "
                      f"run `create role {role} login` (docs/postgres.md)")
    if password:
        best_effort(con, f"alter role {q(role)} password %s", [password])
    best_effort(con, f"alter role {q(role)} set default_transaction_read_only = on")
    best_effort(con, f"grant connect on database {q(db)} to {q(role)}")
    # no temporary tables, no new schemas in this database for anyone who is not granted them explicitly
    best_effort(con, f"revoke create, temporary on database {q(db)} from public")
    for s in (*REPLICATED_SCHEMAS, *DBT_SCHEMAS, PUBLISHED_AUDIT, "public"):
        best_effort(con, f"do $$ begin if exists (select 1 from pg_namespace where nspname = '{s}') then "
                         f"execute 'revoke all on schema {q(s)} from {q(role)}'; end if; end $$")
    return role


def tables(cur, schema: str) -> list[str]:
    """The base tables of a schema, by name."""
    cur.execute("select table_name from information_schema.tables where table_schema = %s "
                "and table_type = 'BASE TABLE' order by table_name", [schema])
    return [t for (t,) in cur.fetchall()]


def schema_exists(cur, schema: str) -> bool:
    cur.execute("select exists (select 1 from pg_namespace where nspname = %s)", [schema])
    return cur.fetchone()[0]


def columns(cur, schema: str, table: str) -> list[tuple[str, str]]:
    """A table's (column, type as format_type() prints it), in order; empty when there is no such table."""
    cur.execute("select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
                "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = %s and c.relname = %s and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped "
                "order by a.attnum", [schema, table])
    return cur.fetchall()
