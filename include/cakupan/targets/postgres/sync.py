"""Copy the work file's raw, quarantine, audit and reference zones into the same PostgreSQL schemas, so dbt builds
in PostgreSQL from the rows ingest validated in DuckDB (COPY through CSV files, one transaction)."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from cakupan.core.settings import Settings
from cakupan.targets.postgres.params import connect, q, qt
from cakupan.targets.postgres.zones import REPLICATED_SCHEMAS, columns, init_pg
from cakupan.targets.zones import connect_work

log = logging.getLogger("cakupan.targets.postgres.sync")

# the vendored area tables: copied again only when their row count changes
STATIC_TABLES = {("reference", t) for t in ("provinces", "regencies", "districts", "villages")}

# DuckDB column types (information_schema.columns.data_type) -> PostgreSQL types (as format_type() prints them)
DUCK_TO_PG = {
    "BOOLEAN": "boolean", "TINYINT": "smallint", "SMALLINT": "smallint", "INTEGER": "integer", "BIGINT": "bigint",
    "HUGEINT": "numeric(38,0)", "UTINYINT": "smallint", "USMALLINT": "integer", "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)", "FLOAT": "real", "DOUBLE": "double precision", "VARCHAR": "character varying",
    "DATE": "date", "TIME": "time without time zone", "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone", "INTERVAL": "interval", "JSON": "json", "UUID": "uuid",
}


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


def duck_tables(duck, schemas) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The work file's base tables in these schemas: (schema, table, [(column, DuckDB type)])."""
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


def _copy_rows(duck, cur, schema: str, table: str, cols: list[tuple[str, str]], where: str = "",
               params: list | None = None, tmpdir: Path | None = None) -> int:
    """COPY rows of a work.duckdb table into the same PostgreSQL table through a CSV file."""
    select = ", ".join(f"cast({q(c)} as varchar) as {q(c)}" if _pg_type(ty)[1] else q(c) for c, ty in cols)
    with tempfile.NamedTemporaryFile(suffix=".csv", dir=tmpdir, delete=False) as f:
        path = f.name
    try:
        duck.execute(f"copy (select {select} from {qt(schema, table)} {where}) to ? (format csv, header false)",
                     [*(params or []), path])   # the path as a parameter: a temporary folder may hold a quote
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
    t0 = time.monotonic()
    stats = SyncStats()
    own = con is None
    con = con or connect(settings)
    try:
        init_pg(con)
        with closing(connect_work(settings)) as duck, con.cursor() as cur, \
                tempfile.TemporaryDirectory(prefix="cakupan-sync-") as tmp:
            for schema, table, cols in duck_tables(duck, schemas):
                stats.tables += 1
                want = [(c, _pg_type(ty)[0]) for c, ty in cols]
                have = columns(cur, schema, table)
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

