"""The PostgreSQL zones: the system of record (raw, quarantine, audit, reference: the same tables as DuckDB's work
file, from the same DDL), the published schemas, and the read-only BI role that reads `published` and `publish_history`
and nothing else; small catalogue queries the other modules share."""

from __future__ import annotations

import hashlib
import logging
import os
import re

from cakupan.core.contracts import all_contracts
from cakupan.core.messages import Msg
from cakupan.core.settings import REFERENCE_DIR
from cakupan.targets.postgres.params import PgError, q, qt
from cakupan.targets.zones import AUDIT_DDL, REPORT_FACTS_DDL, raw_table_ddl

log = logging.getLogger("cakupan.targets.postgres.zones")

ZONE_SCHEMAS = ("raw", "quarantine", "audit", "reference")
ZONES_LOCK = (0x43414B55, 1)         # pg_advisory_xact_lock key: one process creates the zones at a time
AREA_TABLES = ("provinces", "regencies", "districts", "villages")   # vendored Kemendagri areas (reference.*)

# PostgreSQL-only tables of the system of record
PG_DDL = """
-- load ids taken at discovery, in delivery order (see RawWriter.reserve); a load takes its file's and deletes it
create table if not exists audit.load_reservations (
    source_file varchar primary key,
    load_id bigint not null,
    reserved_at timestamp not null default now()
);
-- the publish lock: a publisher holds this table's EXCLUSIVE lock for the whole publish. Only the pipeline role
-- (its owner) can lock it: no other role has a privilege on it or USAGE on schema audit.
create table if not exists audit.publish_lock (held_by varchar);
-- every promote of `published` (publish or rollback), written by the promote transaction itself: the server's
-- state, to which the published file is settled if the process stopped before switching it (postgres.settle)
create table if not exists audit.promotes (
    seq bigserial,
    run_id varchar not null,
    kind varchar not null,            -- publish | rollback
    restores varchar,                 -- a rollback: the run whose state it republished
    reason varchar,
    sha256 varchar,                   -- a rollback: the sha256 of the kept file it restored
    promoted_at timestamp not null,
    settled_at timestamp              -- when the published file was brought to this state after a stopped process
);
"""
DBT_SCHEMAS = ("staging", "intermediate", "marts")
PUBLISHED = "published"              # the BI schema: published marts only
PUBLISH_HISTORY = "publish_history"  # what was published at each past run (coverage, restatements): BI may read it
BI_READABLE = (PUBLISHED, PUBLISH_HISTORY)
PUBLISHED_AUDIT = "published_audit"  # pseudonymised audit exports (auditor report); not granted to BI
NEXT_SUFFIX = "_next"                # published_next, published_audit_next: the candidate of a publish
DEFAULT_BI_ROLE = "cakupan_bi"


def bi_role() -> str:
    """The read-only BI role's name (CAKUPAN_PG_BI_ROLE, default cakupan_bi)."""
    return os.environ.get("CAKUPAN_PG_BI_ROLE", DEFAULT_BI_ROLE)


def zones_ddl() -> str:
    """The DDL of the system of record on PostgreSQL: DuckDB's (targets.zones: the raw tables from the contracts,
    quarantine, audit) in PostgreSQL's spelling, and the PostgreSQL-only tables."""
    duck = "\n".join([AUDIT_DDL, *(raw_table_ddl(c) + ";" for c in all_contracts().values()), REPORT_FACTS_DDL + ";"])
    return re.sub(r"\bdouble\b(?! precision)", "double precision", duck) + PG_DDL


def _expected_tables() -> set[tuple[str, str]]:
    return {(m.group(1), m.group(2)) for m in re.finditer(r"create table if not exists (\w+)\.(\w+)", zones_ddl())}


def ensure_zones(con) -> None:
    """Create the zones' schemas and tables when any is missing (idempotent; concurrent writers create them once,
    under an advisory transaction lock) and lock down default privileges. `con` is in autocommit mode."""
    want = _expected_tables()
    with con.cursor() as cur:
        cur.execute("select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                    "where c.relkind in ('r', 'p') and n.nspname = any(%s)", [list(ZONE_SCHEMAS)])
        if want <= set(cur.fetchall()):
            return
    was = con.autocommit
    con.autocommit = False
    try:
        with con.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(%s, %s)", list(ZONES_LOCK))
            for s in (*ZONE_SCHEMAS, *DBT_SCHEMAS):
                cur.execute(f"create schema if not exists {q(s)}")
            cur.execute(zones_ddl())
            # a warehouse whose audit.loads came from an earlier layout: the sequence continues after its ids
            cur.execute("select coalesce(max(load_id), 0) from audit.loads")
            top = cur.fetchone()[0]
            cur.execute("select last_value from audit.load_id_seq")
            if top >= cur.fetchone()[0]:
                cur.execute("select setval('audit.load_id_seq', %s)", [top])
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.autocommit = was
    # Nobody but the owner creates anything: no CREATE on schema public (PostgreSQL < 15 grants it to PUBLIC)
    best_effort(con, "revoke create on schema public from public")


def ensure_areas(con) -> None:
    """The vendored Kemendagri areas (reference.provinces … villages) as DuckDB's work file has them (every column
    text); copied again only when the vendored file changed (its SHA-256 is the table's comment). Commits."""
    for name in AREA_TABLES:
        path = REFERENCE_DIR / f"{name}.csv"
        mark = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        with con.cursor() as cur:
            cur.execute("select obj_description(to_regclass(%s), 'pg_class')", [f"reference.{name}"])
            if cur.fetchone()[0] == mark:
                continue
            header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
            cur.execute(f"drop table if exists {qt('reference', name)} cascade")   # dbt recreates its views
            cur.execute(f"create table {qt('reference', name)} ({', '.join(f'{q(c)} varchar' for c in header)})")
            with open(path, "rb") as fh:
                cur.copy_expert(f"copy {qt('reference', name)} from stdin with (format csv, header true)", fh)
            cur.execute(f"comment on table {qt('reference', name)} is %s", [mark])
        con.commit()


def best_effort(con, sql: str, params=None, quiet: bool = False) -> bool:
    """Run a statement that needs privileges the pipeline role may lack (a DBA can do it once instead); `quiet`:
    say nothing when it fails (what it was for is reported by `bi_role_gaps`)."""
    import psycopg2

    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
        con.commit()
        return True
    except psycopg2.Error as exc:
        con.rollback()
        (log.debug if quiet else log.warning)("skipped (%s): %s", str(exc).strip().splitlines()[0], sql)
        return False


# functions that create large objects: revoked from PUBLIC (by the DBA: their owner is the bootstrap superuser)
LARGE_OBJECT_FUNCTIONS = ("lo_create(oid)", "lo_creat(integer)", "lo_from_bytea(oid, bytea)", "lo_import(text)",
                          "lo_import(text, oid)")


def dba_sql(role: str, db: str) -> str:
    """What a DBA runs once, as a superuser, for what the pipeline role cannot do itself (docs/postgres.md)."""
    return "; ".join([
        f"alter role {q(role)} set default_transaction_read_only = on",
        *(f"revoke execute on function {f} from public" for f in LARGE_OBJECT_FUNCTIONS),
        "revoke connect on database postgres, template1 from public",
    ]) + f"  (then grant CONNECT on those databases to the roles that need it; {role} needs only {db})"


def ensure_bi_role(con, role: str | None = None, password: str | None = None) -> str:
    """Create the read-only BI role if missing (LOGIN, read-only transactions), let it connect, and make sure it
    can reach nothing but the published schema and write nothing anywhere, even in a read-write transaction (no
    TEMP, no CREATE, no large objects, no other database). Grants on `published` itself are given at every publish.
    What the pipeline role may not do (a DBA-created role, functions and databases it does not own) is logged once,
    with the SQL a DBA runs (`bi_role_gaps`)."""
    role = role or bi_role()
    password = password if password is not None else os.environ.get("CAKUPAN_PG_BI_PASSWORD")
    with con.cursor() as cur:
        cur.execute("select current_database(), exists (select 1 from pg_roles where rolname = %s)", [role])
        db, exists = cur.fetchone()
    con.commit()
    if not exists and not best_effort(con, f"create role {q(role)} login noinherit"):
        raise PgError(Msg("error.pg.bi_role", role=role))
    if password:
        best_effort(con, f"alter role {q(role)} password %s", [password])
    best_effort(con, f"alter role {q(role)} set default_transaction_read_only = on")
    best_effort(con, f"grant connect on database {q(db)} to {q(role)}")
    # no temporary tables, no new schemas in this database for anyone who is not granted them explicitly
    best_effort(con, f"revoke create, temporary on database {q(db)} from public")
    for s in (*ZONE_SCHEMAS, *DBT_SCHEMAS, PUBLISHED_AUDIT, "public"):
        best_effort(con, f"do $$ begin if exists (select 1 from pg_namespace where nspname = '{s}') then "
                         f"execute 'revoke all on schema {q(s)} from {q(role)}'; end if; end $$")
    # where the pipeline role may (a superuser, or the owner): no large objects, no other database
    for f in LARGE_OBJECT_FUNCTIONS:
        best_effort(con, f"revoke execute on function {f} from public", quiet=True)
    with con.cursor() as cur:
        cur.execute("select datname from pg_database where datallowconn and datname <> current_database() and "
                    "has_database_privilege(%s, datname, 'CONNECT') order by 1", [role])
        others = [d for (d,) in cur.fetchall()]
    con.commit()
    for d in others:
        best_effort(con, f"revoke connect on database {q(d)} from public", quiet=True)
    gaps = bi_role_gaps(con, role)
    if gaps:
        log.warning("the BI role %s is not yet as docs/postgres.md describes: %s. The pipeline role cannot change "
                    "this; a DBA runs once, as a superuser: %s", role, "; ".join(gaps), dba_sql(role, db))
    return role


def bi_role_gaps(con, role: str | None = None) -> list[str]:
    """What keeps the BI role from being exactly as documented: read-only by default, no write privilege anywhere
    (no TEMP, no CREATE, no large objects, no table privilege but SELECT on `published` and `publish_history`), no other
    database, no
    role attribute or membership that gives more. Empty when it is."""
    role = role or bi_role()
    gaps = []
    with con.cursor() as cur:
        cur.execute("select rolsuper or rolcreaterole or rolcreatedb or rolreplication or rolbypassrls from pg_roles "
                    "where rolname = %s", [role])
        row = cur.fetchone()
        if row is None:
            con.commit()
            return [f"role {role} does not exist"]
        if row[0]:
            gaps.append("it has a role attribute beyond LOGIN (superuser, createrole, createdb, replication or "
                        "bypassrls)")
        cur.execute("select string_agg(r.rolname, ', ') from pg_auth_members m join pg_roles r on r.oid = m.roleid "
                    "where m.member = (select oid from pg_roles where rolname = %s)", [role])
        member = cur.fetchone()[0]
        if member:
            gaps.append(f"it is a member of {member}")
        cur.execute("select exists (select 1 from pg_db_role_setting s join pg_roles r on r.oid = s.setrole "
                    "where r.rolname = %s and s.setdatabase in (0, (select oid from pg_database where datname = "
                    "current_database())) and 'default_transaction_read_only=on' = any(s.setconfig))", [role])
        if not cur.fetchone()[0]:
            gaps.append("its sessions are not read-only by default (default_transaction_read_only)")
        cur.execute("select has_database_privilege(%s, current_database(), 'CREATE'), "
                    "has_database_privilege(%s, current_database(), 'TEMP')", [role, role])
        create, temp = cur.fetchone()
        if create or temp:
            gaps.append("it may create schemas or temporary tables in this database")
        cur.execute("select string_agg(nspname, ', ') from pg_namespace where has_schema_privilege(%s, oid, 'CREATE')",
                    [role])
        schemas = cur.fetchone()[0]
        if schemas:
            gaps.append(f"it may create objects in schema {schemas}")
        cur.execute("select string_agg(distinct table_schema || '.' || table_name || ' ' || privilege_type, ', ') "
                    "from information_schema.role_table_grants where grantee = %s and "
                    "(privilege_type <> 'SELECT' or table_schema <> all(%s))", [role, list(BI_READABLE)])
        tables_ = cur.fetchone()[0]
        if tables_:
            gaps.append(f"it holds table privileges beyond SELECT on {' and '.join(BI_READABLE)}: {tables_}")
        lo = []
        for f in LARGE_OBJECT_FUNCTIONS:
            cur.execute("select has_function_privilege(%s, %s, 'EXECUTE')", [role, f])
            if cur.fetchone()[0]:
                lo.append(f.split("(")[0])
        if lo:
            gaps.append(f"it may create large objects ({', '.join(sorted(set(lo)))} are executable by PUBLIC)")
        cur.execute("select string_agg(datname, ', ' order by datname) from pg_database where datallowconn and "
                    "datname <> current_database() and has_database_privilege(%s, datname, 'CONNECT')", [role])
        others = cur.fetchone()[0]
        if others:
            gaps.append(f"it may connect to other databases ({others}: CONNECT granted to PUBLIC)")
    con.commit()
    return gaps


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
