"""The PostgreSQL warehouse target (CAKUPAN_TARGET=postgres): the same chain on a server, with a read-only BI role.

    inbox ─ ingest (DuckDB: vectorised validation, pseudonyms) ─▶ work.duckdb raw / quarantine / audit / reference
      │ sync_work_to_pg: COPY into PostgreSQL schemas raw, quarantine, audit, reference (one transaction;
      │                  raw and quarantine incrementally by load_id, the rest replaced)
      ▼
    dbt-postgres builds staging / intermediate / marts from the same models
      │ build_next: published_next (the published marts) + published_audit_next (pseudonymised audit exports)
      ▼
    GX gate with a SQL datasource on published_next, published_audit_next and raw ─▶ audit.checks
      │ pass only: ONE transaction replaces the rows of every published table with the validated ones (new or
      │ restructured tables are moved in), grants SELECT to the BI role; published_next is dropped after
      ▼
    published (BI role cakupan_bi: USAGE + SELECT here and nowhere else) ─▶ export_published_to_duckdb →
    published/cakupan.duckdb (marts.*, audit.*), so the auditor report and `cakupan trace` work unchanged.

work.duckdb stays the staging area and the system of record for the audit tables (runs, checks, publishes); the
PostgreSQL audit schema is a replica refreshed at every sync. A failed gate leaves `published` untouched and keeps
published_next for inspection (and exports it as the candidate file next-<run_id>.duckdb, like the DuckDB path).

Readers during a publish: why rows, not a schema rename. `ALTER SCHEMA ... RENAME` takes no lock on the tables, and
name lookup is not MVCC: a REPEATABLE READ reader that read the old coverage table would read the new lineage table
in its next statement — a mix. Locking every old table first (ACCESS EXCLUSIVE) fixes that, but BI transactions
that read two tables in different orders then deadlock with the publisher again and again, and under a steady read
load the publish starves (tests/postgres/test_concurrent_reader.py showed it). Replacing the rows inside one
transaction lets MVCC isolate readers: each transaction or statement sees the old state or the new one in every
table, never waits, never errors, and the publisher never waits for readers. Only a table whose columns changed
(a model change) is moved in with DDL, after locking the published tables, under a short lock_timeout the
publisher retries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from cakupan.core.settings import DBT_PROJECT_DIR, Settings, SettingsError

log = logging.getLogger("cakupan.targets.postgres")

REPLICATED_SCHEMAS = ("raw", "quarantine", "audit", "reference")
DBT_SCHEMAS = ("staging", "intermediate", "marts")
PUBLISHED = "published"              # the BI schema: published marts only
PUBLISHED_AUDIT = "published_audit"  # pseudonymised audit exports (auditor report); not granted to BI
NEXT_SUFFIX, OLD_SUFFIX = "_next", "_old"
STATIC_TABLES = {("reference", t) for t in ("provinces", "regencies", "districts", "villages")}
DEFAULT_CONN_ID = "cakupan_postgres"
DEFAULT_BI_ROLE = "cakupan_bi"
PUBLISH_LOCK_KEY = 0x43414B55  # pg_advisory_lock key serialising publishers ("CAKU")

# DuckDB column types (information_schema.columns.data_type) -> PostgreSQL types (as format_type() prints them)
DUCK_TO_PG = {
    "BOOLEAN": "boolean", "TINYINT": "smallint", "SMALLINT": "smallint", "INTEGER": "integer", "BIGINT": "bigint",
    "HUGEINT": "numeric(38,0)", "UTINYINT": "smallint", "USMALLINT": "integer", "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)", "FLOAT": "real", "DOUBLE": "double precision", "VARCHAR": "character varying",
    "DATE": "date", "TIME": "time without time zone", "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone", "INTERVAL": "interval", "JSON": "json", "UUID": "uuid",
}


class PgError(RuntimeError):
    """A PostgreSQL step failed; the message says which and why."""


# ================================================================================= connection settings ========
@dataclass(frozen=True)
class PgParams:
    """Where the PostgreSQL warehouse is; built by `pg_params()` from the environment or an Airflow connection."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "cakupan"
    password: str = dataclasses.field(default="", repr=False)
    dbname: str = "cakupan"
    sslmode: str | None = None
    source: str = "defaults"

    def connect_kwargs(self) -> dict:
        kw = {"host": self.host, "port": self.port, "user": self.user, "dbname": self.dbname}
        if self.password:
            kw["password"] = self.password
        if self.sslmode:
            kw["sslmode"] = self.sslmode
        return kw

    def sqlalchemy_url(self) -> str:
        """SQLAlchemy URL (psycopg2 driver) for GX's SQL datasource."""
        from sqlalchemy.engine import URL

        url = URL.create("postgresql+psycopg2", username=self.user, password=self.password or None,
                         host=self.host, port=self.port, database=self.dbname,
                         query={"sslmode": self.sslmode} if self.sslmode else {})
        return url.render_as_string(hide_password=False)


def _from_uri(uri: str, source: str) -> PgParams:
    u = urlparse(uri)
    if u.scheme not in ("postgres", "postgresql", "postgresql+psycopg2"):
        raise SettingsError(f"{source}: not a PostgreSQL URI (scheme {u.scheme!r})")
    q = dict(p.split("=", 1) for p in u.query.split("&") if "=" in p)
    return PgParams(host=u.hostname or "127.0.0.1", port=u.port or 5432, user=unquote(u.username or "cakupan"),
                    password=unquote(u.password or ""), dbname=unquote(u.path.lstrip("/")) or "cakupan",
                    sslmode=q.get("sslmode"), source=source)


def _from_dsn(dsn: str, source: str) -> PgParams:
    if "://" in dsn:
        return _from_uri(dsn, source)
    from psycopg2.extensions import parse_dsn

    d = parse_dsn(dsn)
    return PgParams(host=d.get("host", "127.0.0.1"), port=int(d.get("port", 5432)), user=d.get("user", "cakupan"),
                    password=d.get("password", ""), dbname=d.get("dbname", "cakupan"), sslmode=d.get("sslmode"),
                    source=source)


def _from_airflow_conn(conn_id: str) -> PgParams | None:
    """An Airflow connection: AIRFLOW_CONN_<ID> (URI or JSON) without importing Airflow, else Airflow's lookup."""
    raw = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if raw:
        raw = raw.strip()
        if raw.startswith("{"):
            d = json.loads(raw)
            extra = d.get("extra") or {}
            extra = json.loads(extra) if isinstance(extra, str) else extra
            return PgParams(host=d.get("host") or "127.0.0.1", port=int(d.get("port") or 5432),
                            user=d.get("login") or "cakupan", password=d.get("password") or "",
                            dbname=d.get("schema") or "cakupan", sslmode=extra.get("sslmode"),
                            source=f"AIRFLOW_CONN_{conn_id.upper()}")
        return _from_uri(raw, f"AIRFLOW_CONN_{conn_id.upper()}")
    if not (os.environ.get("AIRFLOW_HOME") or os.environ.get("AIRFLOW__CORE__DAGS_FOLDER")):
        return None  # not running under Airflow: do not import it
    try:
        try:
            from airflow.sdk import BaseHook
        except ImportError:  # Airflow 2
            from airflow.hooks.base import BaseHook
        c = BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - no such connection, or no Airflow context: fall back to the defaults
        return None
    extra = c.extra_dejson if hasattr(c, "extra_dejson") else {}
    return PgParams(host=c.host or "127.0.0.1", port=int(c.port or 5432), user=c.login or "cakupan",
                    password=c.password or "", dbname=c.schema or "cakupan", sslmode=extra.get("sslmode"),
                    source=f"Airflow connection {conn_id}")


def pg_params(settings: Settings | None = None) -> PgParams:
    """Connection settings, first found wins: CAKUPAN_PG_DSN (settings.pg_dsn), CAKUPAN_PG_HOST/PORT/USER/PASSWORD/DB
    (+ CAKUPAN_PG_SSLMODE), the Airflow connection CAKUPAN_PG_CONN_ID (default `cakupan_postgres`), defaults."""
    env = os.environ
    dsn = (settings.pg_dsn if settings is not None else None) or env.get("CAKUPAN_PG_DSN")
    if dsn:
        return _from_dsn(dsn, "CAKUPAN_PG_DSN")
    keys = ("CAKUPAN_PG_HOST", "CAKUPAN_PG_PORT", "CAKUPAN_PG_USER", "CAKUPAN_PG_PASSWORD", "CAKUPAN_PG_DB")
    if any(env.get(k) for k in keys):
        try:
            port = int(env.get("CAKUPAN_PG_PORT") or 5432)
        except ValueError:
            raise SettingsError(f"CAKUPAN_PG_PORT must be a number, not {env.get('CAKUPAN_PG_PORT')!r}") from None
        return PgParams(host=env.get("CAKUPAN_PG_HOST") or "127.0.0.1", port=port,
                        user=env.get("CAKUPAN_PG_USER") or "cakupan", password=env.get("CAKUPAN_PG_PASSWORD") or "",
                        dbname=env.get("CAKUPAN_PG_DB") or "cakupan", sslmode=env.get("CAKUPAN_PG_SSLMODE") or None,
                        source="CAKUPAN_PG_* variables")
    conn = _from_airflow_conn(env.get("CAKUPAN_PG_CONN_ID", DEFAULT_CONN_ID))
    return conn or PgParams()


def pg_env(settings: Settings) -> dict[str, str]:
    """The variables profiles.yml reads for the postgres target (whatever the settings came from)."""
    p = pg_params(settings)
    env = {"CAKUPAN_PG_HOST": p.host, "CAKUPAN_PG_PORT": str(p.port), "CAKUPAN_PG_USER": p.user,
           "CAKUPAN_PG_PASSWORD": p.password, "CAKUPAN_PG_DB": p.dbname}
    if p.sslmode:
        env["CAKUPAN_PG_SSLMODE"] = p.sslmode
    return env


def connect(settings: Settings | None = None, **kw):
    """Open a psycopg2 connection to the warehouse database (the pipeline role)."""
    import psycopg2

    p = pg_params(settings)
    try:
        return psycopg2.connect(**p.connect_kwargs(), application_name=kw.pop("application_name", "cakupan"), **kw)
    except psycopg2.OperationalError as exc:
        raise PgError(f"cannot connect to PostgreSQL at {p.host}:{p.port} database {p.dbname} as {p.user} "
                      f"(settings from {p.source}): {str(exc).strip()}") from exc


def bi_role() -> str:
    """The read-only BI role's name (CAKUPAN_PG_BI_ROLE, default cakupan_bi)."""
    return os.environ.get("CAKUPAN_PG_BI_ROLE", DEFAULT_BI_ROLE)


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def qt(schema: str, table: str) -> str:
    return f"{q(schema)}.{q(table)}"


# ================================================================================= zones and the BI role =====
def init_pg(con) -> None:
    """Create the replicated zones' schemas (idempotent) and lock down default privileges; commits."""
    with con.cursor() as cur:
        for s in (*REPLICATED_SCHEMAS, *DBT_SCHEMAS):
            cur.execute(f"create schema if not exists {q(s)}")
    con.commit()
    # Nobody but the owner creates anything: no CREATE on schema public (PostgreSQL < 15 grants it to PUBLIC)
    _best_effort(con, "revoke create on schema public from public")


def _best_effort(con, sql: str, params=None) -> bool:
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
    if not exists and not _best_effort(con, f"create role {q(role)} login noinherit"):
        raise PgError(f"the BI role {role} does not exist and the pipeline role cannot create it: ask the DBA to "
                      f"run `create role {role} login` (docs/postgres.md)")
    if password:
        _best_effort(con, f"alter role {q(role)} password %s", [password])
    _best_effort(con, f"alter role {q(role)} set default_transaction_read_only = on")
    _best_effort(con, f"grant connect on database {q(db)} to {q(role)}")
    # no temporary tables, no new schemas in this database for anyone who is not granted them explicitly
    _best_effort(con, f"revoke create, temporary on database {q(db)} from public")
    for s in (*REPLICATED_SCHEMAS, *DBT_SCHEMAS, PUBLISHED_AUDIT, "public"):
        _best_effort(con, f"do $$ begin if exists (select 1 from pg_namespace where nspname = '{s}') then "
                          f"execute 'revoke all on schema {q(s)} from {q(role)}'; end if; end $$")
    return role


# ================================================================================= sync from work.duckdb =====
@dataclass
class SyncStats:
    tables: int = 0
    rows_copied: int = 0
    rows_deleted: int = 0
    skipped: int = 0
    seconds: float = 0.0


def _pg_type(duck_type: str) -> tuple[str, bool]:
    """(PostgreSQL type, needs a cast to text in the COPY query)."""
    t = duck_type.upper()
    if t.startswith("DECIMAL"):
        return "numeric" + t[len("DECIMAL"):].replace(" ", ""), False
    if t in DUCK_TO_PG:
        return DUCK_TO_PG[t], False
    return "text", True  # lists, structs, maps, blobs...: their text form


def _duck_tables(duck, schemas) -> list[tuple[str, str, list[tuple[str, str]]]]:
    rows = duck.execute(
        "select c.table_schema, c.table_name, c.column_name, c.data_type from information_schema.columns c "
        "join information_schema.tables t on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema "
        "and t.table_name = c.table_name where t.table_type = 'BASE TABLE' and c.table_catalog = current_database() "
        f"and c.table_schema in ({', '.join('?' for _ in schemas)}) "
        "order by c.table_schema, c.table_name, c.ordinal_position", list(schemas)).fetchall()
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for s, t, c, ty in rows:
        out.setdefault((s, t), []).append((c, ty))
    return [(s, t, cols) for (s, t), cols in out.items()]


def _pg_columns(cur, schema: str, table: str) -> list[tuple[str, str]]:
    cur.execute("select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
                "join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = %s and c.relname = %s and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped "
                "order by a.attnum", [schema, table])
    return cur.fetchall()


def _copy_rows(duck, cur, schema: str, table: str, cols: list[tuple[str, str]], where: str = "",
               params: list | None = None, tmpdir: Path | None = None) -> int:
    """COPY rows of a work.duckdb table into the same PostgreSQL table through a CSV file."""
    select = ", ".join(f"cast({q(c)} as varchar) as {q(c)}" if _pg_type(ty)[1] else q(c) for c, ty in cols)
    with tempfile.NamedTemporaryFile(suffix=".csv", dir=tmpdir, delete=False) as f:
        path = f.name
    try:
        duck.execute(f"copy (select {select} from {qt(schema, table)} {where}) to '{path}' "
                     "(format csv, header false)", params or [])
        if os.path.getsize(path) == 0:
            return 0
        with open(path, "rb") as fh:
            cur.copy_expert(f"copy {qt(schema, table)} ({', '.join(q(c) for c, _ in cols)}) from stdin "
                            "with (format csv)", fh)
        return cur.rowcount
    finally:
        os.unlink(path)


def sync_work_to_pg(settings: Settings, schemas: tuple[str, ...] = REPLICATED_SCHEMAS, full: bool = False,
                    con=None) -> SyncStats:
    """Copy raw, quarantine, audit and reference from work.duckdb into the same PostgreSQL schemas, in one
    transaction. Tables with a load_id column in raw and quarantine are synced incrementally: loads whose row count
    differs (new, redone or removed) are replaced; other tables are replaced whole, except the vendored area tables
    (copied when their row count changes). A table whose columns changed is recreated (dependent dbt views are
    dropped with it; dbt recreates them). Idempotent: a second sync copies nothing new."""
    from cakupan.targets.zones import connect_work

    t0 = time.monotonic()
    stats = SyncStats()
    own = con is None
    con = con or connect(settings)
    try:
        init_pg(con)
        with closing(connect_work(settings)) as duck, con.cursor() as cur, \
                tempfile.TemporaryDirectory(prefix="cakupan-sync-") as tmp:
            for schema, table, cols in _duck_tables(duck, schemas):
                stats.tables += 1
                want = [(c, _pg_type(ty)[0]) for c, ty in cols]
                have = _pg_columns(cur, schema, table)
                fresh = have != want
                if fresh:
                    ddl = ", ".join(f"{q(c)} {ty}" for c, ty in want)
                    cur.execute(f"drop table if exists {qt(schema, table)} cascade")
                    cur.execute(f"create table {qt(schema, table)} ({ddl})")
                by_load = schema in ("raw", "quarantine") and any(c == "load_id" for c, _ in cols)
                if by_load and not fresh and not full:
                    duck_counts = dict(duck.execute(f"select load_id, count(*) from {qt(schema, table)} "
                                                    "group by load_id").fetchall())
                    cur.execute(f"select load_id, count(*) from {qt(schema, table)} group by load_id")
                    pg_counts = dict(cur.fetchall())
                    stale = [k for k, n in pg_counts.items() if duck_counts.get(k) != n]
                    new = [k for k, n in duck_counts.items() if pg_counts.get(k) != n]
                    if stale:
                        cur.execute(f"delete from {qt(schema, table)} where load_id = any(%s)"
                                    + (" or load_id is null" if None in stale else ""),
                                    [[k for k in stale if k is not None]])
                        stats.rows_deleted += cur.rowcount
                    if new:
                        nulls = None in new
                        ids = [k for k in new if k is not None]
                        where = "where list_contains(?, load_id)" + (" or load_id is null" if nulls else "")
                        stats.rows_copied += _copy_rows(duck, cur, schema, table, cols, where, [ids], Path(tmp))
                    continue
                if not fresh and not full and (schema, table) in STATIC_TABLES:
                    cur.execute(f"select count(*) from {qt(schema, table)}")
                    if cur.fetchone()[0] == duck.execute(f"select count(*) from {qt(schema, table)}").fetchone()[0]:
                        stats.skipped += 1
                        continue
                if not fresh:
                    cur.execute(f"truncate {qt(schema, table)}")
                stats.rows_copied += _copy_rows(duck, cur, schema, table, cols, tmpdir=Path(tmp))
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        if own:
            con.close()
    stats.seconds = time.monotonic() - t0
    log.info("synced %d tables into PostgreSQL: %d rows copied, %d deleted, %d unchanged reference tables, %.1fs",
             stats.tables, stats.rows_copied, stats.rows_deleted, stats.skipped, stats.seconds)
    return stats


# ================================================================================= the published set ========
def _tables(cur, schema: str) -> list[str]:
    cur.execute("select table_name from information_schema.tables where table_schema = %s "
                "and table_type = 'BASE TABLE' order by table_name", [schema])
    return [t for (t,) in cur.fetchall()]


def _schema_exists(cur, schema: str) -> bool:
    cur.execute("select exists (select 1 from pg_namespace where nspname = %s)", [schema])
    return cur.fetchone()[0]


def published_marts(cur, schema: str = "marts") -> list[str]:
    """The marts to publish (the same rule as the DuckDB path: the named published marts, then other mart_*)."""
    from cakupan.targets.duckdb import PUBLISHED_MARTS

    have = set(_tables(cur, schema))
    extra = sorted(t for t in have if t.startswith("mart_") and t not in PUBLISHED_MARTS)
    return [t for t in PUBLISHED_MARTS if t in have] + extra


def model_docs() -> dict[str, dict]:
    """Descriptions from the dbt YAML under models/: {model: {"description", "columns": {name: (type, desc)}}}."""
    from cakupan.core.files import load_yaml

    out: dict[str, dict] = {}
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.yml")):
        doc = load_yaml(path.read_text(encoding="utf-8")) or {}
        for m in doc.get("models") or []:
            cols = {}
            for c in m.get("columns") or []:
                cols[c["name"]] = (c.get("data_type"), " ".join(str(c.get("description") or "").split()))
            out[m["name"]] = {"description": " ".join(str(m.get("description") or "").split()), "columns": cols,
                              "file": path.relative_to(DBT_PROJECT_DIR).as_posix()}
    return out


def _comment(cur, kind: str, target: str, text: str) -> None:
    if text:
        cur.execute(f"comment on {kind} {target} is %s", [text])


def build_next(con, marts_schema: str = "marts") -> list[str]:
    """Fill published_next (the published marts) and published_audit_next (audit exports) from the built marts and
    the audit replica, with the dbt descriptions as table/column comments (BI tools show them); commits."""
    from cakupan.targets.duckdb import AUDIT_EXPORTS

    nxt, anxt = PUBLISHED + NEXT_SUFFIX, PUBLISHED_AUDIT + NEXT_SUFFIX
    docs = model_docs()
    with con.cursor() as cur:
        cur.execute(f"drop schema if exists {q(nxt)} cascade")
        cur.execute(f"drop schema if exists {q(anxt)} cascade")
        cur.execute(f"create schema {q(nxt)}")
        cur.execute(f"create schema {q(anxt)}")
        marts = published_marts(cur, marts_schema)
        if not marts:
            raise PgError(f"no marts in schema {marts_schema}: run the dbt build first")
        for t in marts:
            cur.execute(f"create table {qt(nxt, t)} as select * from {qt(marts_schema, t)}")
            d = docs.get(t)
            if d:
                _comment(cur, "table", qt(nxt, t), d["description"])
                for c, (_, desc) in d["columns"].items():
                    cur.execute("select 1 from information_schema.columns where table_schema = %s and "
                                "table_name = %s and column_name = %s", [nxt, t, c])
                    if cur.fetchone():
                        _comment(cur, "column", f"{qt(nxt, t)}.{q(c)}", desc)
        for name, sql in AUDIT_EXPORTS.items():
            cur.execute(f"create table {qt(anxt, name)} as {sql.replace('work.', '')}")
    con.commit()
    return marts


def fingerprint(con, schemas: tuple[str, ...]) -> str:
    """A SHA-256 of the schemas' contents (table names, columns and the sorted row hashes); the PostgreSQL
    counterpart of the candidate file's hash in audit.publishes.candidate_sha256."""
    h = hashlib.sha256()
    with con.cursor() as cur:
        for s in schemas:
            for t in _tables(cur, s):
                cur.execute("select string_agg(column_name || ' ' || data_type, ',' order by ordinal_position) "
                            "from information_schema.columns where table_schema = %s and table_name = %s", [s, t])
                cols = cur.fetchone()[0]
                cur.execute(f"select count(*), encode(sha256(convert_to(coalesce(string_agg(h, '' order by h), ''), "
                            f"'UTF8')), 'hex') from (select md5(x::text) as h from {qt(s, t)} x) y")
                n, digest = cur.fetchone()
                h.update(f"{s.removesuffix(NEXT_SUFFIX)}.{t}({cols}) {n} {digest}\n".encode())
    con.commit()
    return h.hexdigest()


def append_gate_results(con, gate, publish_row: tuple, audit_schema: str) -> None:
    """Add this run's check results and publish record to the next audit schema (marts untouched); commits."""
    rows = [(r.run_id, r.suite, r.expectation, r.expectation_type, r.table_name, r.column_name, r.severity,
             r.success, r.observed_value, r.unexpected_count, r.unexpected_sample, r.details, r.checked_at)
            for r in gate.results]
    from psycopg2.extras import execute_values

    with con.cursor() as cur:
        cur.execute(f"delete from {qt(audit_schema, 'checks')} where run_id = %s", [gate.run_id])
        if rows:
            execute_values(cur, f"insert into {qt(audit_schema, 'checks')} values %s", rows)
        cur.execute(f"insert into {qt(audit_schema, 'publishes')} values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    list(publish_row))
    con.commit()


# ================================================================================= promote ==================
def _columns(cur, schema: str, table: str) -> list[tuple[str, str]]:
    return _pg_columns(cur, schema, table)


def _description(cur, schema: str, table: str, column: str | None = None) -> str | None:
    if column is None:
        cur.execute("select obj_description(%s::regclass, 'pg_class')", [qt(schema, table)])
    else:
        cur.execute("select col_description(%s::regclass, (select attnum from pg_attribute where attrelid = "
                    "%s::regclass and attname = %s))", [qt(schema, table), qt(schema, table), column])
    return cur.fetchone()[0]


def _plan(cur, live: str, nxt: str) -> dict[str, str]:
    """How each table of `live` becomes what `nxt` holds: {table: rows | add | replace | drop}, or {"*": rename}."""
    if not _schema_exists(cur, live):
        return {"*": "rename"}
    new, old = _tables(cur, nxt), set(_tables(cur, live))
    plan = {t: ("rows" if t in old and _columns(cur, live, t) == _columns(cur, nxt, t) else
                "replace" if t in old else "add") for t in new}
    plan.update({t: "drop" for t in sorted(old - set(new))})
    return plan


def _promote_pair(cur, live: str, nxt: str, plan: dict[str, str]) -> dict[str, str]:
    """Carry out a plan inside the caller's transaction; return {table: what was done}."""
    if plan == {"*": "rename"}:  # first publish: nobody can be reading it yet
        cur.execute(f"alter schema {q(nxt)} rename to {q(live)}")
        return {t: "renamed" for t in _tables(cur, live)}
    how: dict[str, str] = {}
    for t, step in plan.items():
        if step == "rows":  # rows, not relations, change: readers keep their snapshot and never wait (MVCC)
            cur.execute(f"delete from {qt(live, t)}")
            cur.execute(f"insert into {qt(live, t)} select * from {qt(nxt, t)}")
            for col, _ in _columns(cur, live, t):
                want = _description(cur, nxt, t, col)
                if want != _description(cur, live, t, col):
                    cur.execute(f"comment on column {qt(live, t)}.{q(col)} is %s", [want])
            want = _description(cur, nxt, t)
            if want != _description(cur, live, t):
                cur.execute(f"comment on table {qt(live, t)} is %s", [want])
            how[t] = "rows replaced"
        elif step in ("replace", "add"):  # a model change: the validated table itself moves in
            if step == "replace":
                cur.execute(f"drop table {qt(live, t)}")
            cur.execute(f"alter table {qt(nxt, t)} set schema {q(live)}")
            how[t] = "table replaced" if step == "replace" else "table added"
        else:
            cur.execute(f"drop table {qt(live, t)}")
            how[t] = "dropped"
    return how


def promote_next(con, role: str | None = None, lock_timeout_ms: int = 500, deadline_s: float = 300.0) -> dict:
    """Publish published_next into published (and published_audit_next into published_audit) in ONE transaction.

    Tables whose columns are unchanged (every publish but a model change) get their rows replaced — DELETE + INSERT
    in the publishing transaction — so PostgreSQL's MVCC does the isolation: a reader's transaction (or statement)
    sees the snapshot it started with, old or new, in every table at once; readers never wait and the publisher
    never waits for them. New, restructured or dropped tables need DDL, which is not MVCC-safe: for that rare case
    (a model change) the transaction first locks every published table (ACCESS EXCLUSIVE, so reader transactions
    holding one finish first), with a short lock_timeout, retried with backoff (the publisher gives way; readers
    never get an error) until `deadline_s`. The BI role is granted USAGE + SELECT on `published` in
    the same transaction. Returns {"attempts": n, "tables": {schema.table: how}}."""
    import psycopg2
    from psycopg2 import errors

    role = role or bi_role()
    pairs = [(PUBLISHED, PUBLISHED + NEXT_SUFFIX), (PUBLISHED_AUDIT, PUBLISHED_AUDIT + NEXT_SUFFIX)]
    deadline = time.monotonic() + deadline_s
    attempt, pause = 0, 0.05
    while True:
        attempt += 1
        try:
            with con.cursor() as cur:
                cur.execute(f"set local lock_timeout = {int(lock_timeout_ms)}")
                plans = {}
                for live, nxt in pairs:
                    if not _schema_exists(cur, nxt):
                        raise PgError(f"schema {nxt} is missing: nothing to publish")
                    plans[live] = _plan(cur, live, nxt)
                ddl = any(step in ("replace", "add", "drop") for plan in plans.values() for step in plan.values())
                if ddl:
                    # DDL is not MVCC-safe: first wait until no reader transaction holds any published table, so
                    # none can read one table before the change and another after it
                    held = [(live, t) for live in plans if _schema_exists(cur, live) for t in _tables(cur, live)]
                    cur.execute("lock table " + ", ".join(qt(s_, t) for s_, t in sorted(held))
                                + " in access exclusive mode")
                tables: dict[str, str] = {}
                for live, nxt in pairs:
                    tables.update({f"{live}.{t}": h for t, h in _promote_pair(cur, live, nxt, plans[live]).items()})
                cur.execute(f"grant usage on schema {q(PUBLISHED)} to {q(role)}")
                cur.execute(f"grant select on all tables in schema {q(PUBLISHED)} to {q(role)}")
            con.commit()
            break
        except (errors.LockNotAvailable, errors.DeadlockDetected) as exc:
            con.rollback()
            if time.monotonic() > deadline:
                raise PgError(f"could not publish within {deadline_s:.0f}s: readers kept their locks on tables "
                              f"whose structure changed ({str(exc).strip()}); published is unchanged") from exc
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
        except psycopg2.Error:
            con.rollback()
            raise
    with con.cursor() as cur:  # what is left of the next schemas (moved tables are gone from them)
        for _, nxt in pairs:
            cur.execute(f"drop schema if exists {q(nxt)} cascade")
        for live, _ in pairs:
            for t in _tables(cur, live):
                cur.execute(f"analyze {qt(live, t)}")
    con.commit()
    return {"attempts": attempt, "tables": tables}


# ================================================================================= export to DuckDB ==========
PG_TO_DUCK = {
    "boolean": "BOOLEAN", "smallint": "SMALLINT", "integer": "INTEGER", "bigint": "BIGINT", "real": "FLOAT",
    "double precision": "DOUBLE", "character varying": "VARCHAR", "text": "VARCHAR", "character": "VARCHAR",
    "date": "DATE", "timestamp without time zone": "TIMESTAMP", "timestamp with time zone": "TIMESTAMPTZ",
    "json": "JSON", "jsonb": "JSON", "uuid": "UUID", "time without time zone": "TIME", "interval": "INTERVAL",
}


def _duck_type(data_type: str, precision, scale) -> str:
    if data_type == "numeric":
        if precision is None:
            return "DOUBLE"  # unconstrained numeric: no DuckDB DECIMAL holds every value
        return f"DECIMAL({precision},{scale or 0})"
    return PG_TO_DUCK.get(data_type, "VARCHAR")


def export_published_to_duckdb(settings: Settings, path: Path, marts_schema: str = PUBLISHED,
                               audit_schema: str = PUBLISHED_AUDIT) -> Path:
    """Copy the published schemas into a DuckDB file with the published file's layout (marts.*, audit.*), read in
    one REPEATABLE READ transaction (one consistent state), written to a temporary file and renamed over `path`."""
    import duckdb

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    for p in (tmp, tmp.with_name(tmp.name + ".wal")):
        if p.exists():
            p.unlink()
    con = connect(settings)
    try:
        con.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with con.cursor() as cur, closing(duckdb.connect(str(tmp))) as duck, \
                tempfile.TemporaryDirectory(prefix="cakupan-export-") as tdir:
            for pg_schema, duck_schema in ((marts_schema, "marts"), (audit_schema, "audit")):
                if not _schema_exists(cur, pg_schema):
                    raise PgError(f"schema {pg_schema} does not exist: nothing published yet")
                duck.execute(f"create schema {duck_schema}")
                for t in _tables(cur, pg_schema):
                    cur.execute("select column_name, data_type, numeric_precision, numeric_scale "
                                "from information_schema.columns where table_schema = %s and table_name = %s "
                                "order by ordinal_position", [pg_schema, t])
                    cols = [(c, _duck_type(ty, p, s)) for c, ty, p, s in cur.fetchall()]
                    duck.execute(f"create table {qt(duck_schema, t)} ("
                                 + ", ".join(f"{q(c)} {ty}" for c, ty in cols) + ")")
                    csv = Path(tdir) / f"{pg_schema}.{t}.csv"
                    with open(csv, "wb") as fh:
                        cur.copy_expert(f"copy (select * from {qt(pg_schema, t)}) to stdout with (format csv)", fh)
                    if csv.stat().st_size:
                        spec = "{" + ", ".join(f"'{c}': '{ty}'" for c, ty in cols) + "}"
                        duck.execute(f"insert into {qt(duck_schema, t)} select * from read_csv(?, header = false, "
                                     f"columns = {spec}, auto_detect = false, allow_quoted_nulls = false, "
                                     "quote = '\"', escape = '\"', delim = ',')", [str(csv)])
                    csv.unlink()
            duck.execute("checkpoint")
        con.rollback()
    finally:
        con.close()
    from cakupan.targets.duckdb import _fsync

    _fsync(tmp)
    os.replace(tmp, path)
    _fsync(path)
    return path


# ================================================================================= the publish step =========
@contextmanager
def publish_lock(settings: Settings):
    """One publisher at a time per database (session advisory lock)."""
    con = connect(settings, application_name="cakupan-publish-lock")
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute("select pg_advisory_lock(%s)", [PUBLISH_LOCK_KEY])
        yield
    finally:
        con.close()  # closing the session releases the advisory lock


def gate_and_publish(settings: Settings, run_id: str):
    """The PostgreSQL publish: build published_next, run the GX gate on it (SQL datasource), promote it into
    published in one transaction only if no error check failed, then export the published schemas to published/cakupan.duckdb.
    Returns a cakupan.pipeline.PublishOutcome."""
    from cakupan.pipeline import PublishOutcome
    from cakupan.quality import record_results, run_gate_sql
    from cakupan.targets import duckdb as pub
    from cakupan.targets.zones import connect_work

    settings.ensure_dirs()
    params = pg_params(settings)
    nxt, anxt = PUBLISHED + NEXT_SUFFIX, PUBLISHED_AUDIT + NEXT_SUFFIX
    with publish_lock(settings), closing(connect(settings)) as con:
        sync_work_to_pg(settings, ("audit",), con=con)  # the audit exports include this run's record
        ensure_bi_role(con)
        build_next(con)
        cand_sha = fingerprint(con, (nxt, anxt))
        with con.cursor() as cur:
            previous = PUBLISHED if _schema_exists(cur, PUBLISHED) else None
        con.commit()
        gate = run_gate_sql(params.sqlalchemy_url(), run_id, marts_schema=nxt, audit_schema=anxt,
                            previous_schema=previous, raw_schema="raw", docs_dir=settings.reports_dir / "gx")
        with closing(connect_work(settings)) as duck:
            record_results(duck, gate)
            loads = pub.input_loads(duck)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if not gate.success:
            msg = "gate failed: " + "; ".join(f"{r.table_name} {r.expectation}" for r in gate.errors[:10])
            row = (run_id, now, "blocked", cand_sha, None, loads, False, len(gate.errors), len(gate.warnings), msg)
            with closing(connect_work(settings)) as duck:
                duck.execute("insert into audit.publishes values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", list(row))
            append_gate_results(con, gate, row, anxt)
            candidate = export_published_to_duckdb(settings, settings.candidate_db(run_id), nxt, anxt)
            sync_work_to_pg(settings, ("audit",), con=con)
            log.error("%s; the published schema is unchanged; %s and %s kept for inspection (and exported to %s)",
                      msg, nxt, anxt, candidate)
            return PublishOutcome(run_id, False, gate, candidate, msg)
        row = (run_id, now, "published", cand_sha, None, loads, True, 0, len(gate.warnings),
               f"{len(gate.results)} checks, {len(gate.warnings)} warnings")
        append_gate_results(con, gate, row, anxt)
        promoted = promote_next(con)
        log.info("published: %s (attempt %d)", ", ".join(f"{t} {h}" for t, h in promoted["tables"].items()),
                 promoted["attempts"])
        sha = None
        try:
            candidate = export_published_to_duckdb(settings, settings.candidate_db(run_id))
            sha = pub.swap_in(settings, candidate, run_id)
        finally:  # the PostgreSQL publish happened: record it even if the DuckDB export failed
            with closing(connect_work(settings)) as duck:
                duck.execute("insert into audit.publishes values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [row[0], row[1], row[2], row[3], sha, *row[5:9],
                              row[9] if sha else row[9] + "; the DuckDB export of the published schema failed"])
            sync_work_to_pg(settings, ("audit",), con=con)
        return PublishOutcome(run_id, True, gate, settings.published_db, row[-1], sha)


# ================================================================================= docs =====================
def render_published_docs() -> str:
    """Markdown: every published mart with its grain (description) and columns, from the dbt YAML."""
    from cakupan.targets.duckdb import PUBLISHED_MARTS

    docs = model_docs()
    names = [m for m in PUBLISHED_MARTS if m in docs] + sorted(
        m for m in docs if m.startswith("mart_") and m not in PUBLISHED_MARTS)
    out = []
    for m in names:
        d = docs[m]
        out.append(f"### `{PUBLISHED}.{m}`\n\n{d['description']}\n\n_Source: `dbt_project/{d['file']}`._\n")
        out.append("| column | type | description |\n|---|---|---|")
        for c, (ty, desc) in d["columns"].items():
            out.append(f"| `{c}` | {ty or ''} | {desc.replace('|', '/')} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


DOCS_FILE = DBT_PROJECT_DIR.parent / "docs" / "postgres.md"
DOCS_BEGIN = "<!-- BEGIN GENERATED: published marts (python -m cakupan.targets.postgres docs --write) -->"
DOCS_END = "<!-- END GENERATED -->"


def docs_with_tables(text: str) -> str:
    """Replace the generated section of docs/postgres.md with the current render."""
    head, _, rest = text.partition(DOCS_BEGIN)
    _, _, tail = rest.partition(DOCS_END)
    return f"{head}{DOCS_BEGIN}\n\n{render_published_docs()}\n{DOCS_END}{tail}"


def _main(argv: list[str] | None = None) -> int:
    import sys

    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["docs"]:
        text = DOCS_FILE.read_text(encoding="utf-8")
        new = docs_with_tables(text)
        if "--write" in args:
            DOCS_FILE.write_text(new, encoding="utf-8")
            return 0
        if "--check" in args:
            return 0 if new == text else 1
        print(render_published_docs())
        return 0
    print("usage: python -m cakupan.targets.postgres docs [--write | --check]")
    return 2

