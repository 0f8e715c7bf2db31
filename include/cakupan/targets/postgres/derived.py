"""The tables derived whole from config/ and the narrative reports at every run (reference.sectors, rates,
configured_regencies, finding_rules…, raw.report_facts): written by the same code as on DuckDB into an in-memory
DuckDB, then copied whole into PostgreSQL in one transaction (COPY). Nothing is copied incrementally and nothing
else is copied: the raw zone, quarantine and audit are written in PostgreSQL directly (`writer`, `records`)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import closing, contextmanager

from cakupan.core.settings import Settings
from cakupan.targets.postgres.params import connect, q, qt
from cakupan.targets.postgres.zones import columns, ensure_zones
from cakupan.targets.zones import REPORT_FACTS_DDL

log = logging.getLogger("cakupan.targets.postgres.derived")

DERIVED_SCHEMAS = ("reference", "raw")

# DuckDB column types (information_schema.columns.data_type) -> PostgreSQL types (as format_type() prints them)
DUCK_TO_PG = {
    "BOOLEAN": "boolean", "TINYINT": "smallint", "SMALLINT": "smallint", "INTEGER": "integer", "BIGINT": "bigint",
    "HUGEINT": "numeric(38,0)", "UTINYINT": "smallint", "USMALLINT": "integer", "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)", "FLOAT": "real", "DOUBLE": "double precision", "VARCHAR": "character varying",
    "DATE": "date", "TIME": "time without time zone", "TIMESTAMP": "timestamp without time zone",
    "TIMESTAMP WITH TIME ZONE": "timestamp with time zone", "INTERVAL": "interval", "JSON": "json", "UUID": "uuid",
}


def pg_type(duck_type: str) -> tuple[str, bool]:
    """(PostgreSQL type, needs a cast to text before it is written as CSV)."""
    t = duck_type.upper()
    if t.startswith("DECIMAL"):
        return "numeric" + t[len("DECIMAL"):].replace(" ", ""), False
    if t in DUCK_TO_PG:
        return DUCK_TO_PG[t], t == "JSON"
    return "text", True  # lists, structs, maps, blobs...: their text form


def duck_tables(duck, schemas) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """A DuckDB database's base tables in these schemas: (schema, table, [(column, DuckDB type)])."""
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


def copy_rows(duck, cur, table: str, cols: list[tuple[str, str]], where: str = "") -> int:
    """COPY the rows of a DuckDB table (`schema.table`, optionally filtered) into the PostgreSQL table of the same
    name, through CSV in memory (Arrow's writer: every text quoted, NULL empty, as PostgreSQL's CSV reads them), in
    the cursor's transaction; return the rows PostgreSQL copied."""
    import pyarrow.csv as pacsv

    select = ", ".join(f"cast({q(c)} as varchar) as {q(c)}" if pg_type(ty)[1] else q(c) for c, ty in cols)
    rows = duck.sql(f"select {select} from {table} {where}").to_arrow_table()
    if rows.num_rows == 0:
        return 0
    buf = io.BytesIO()
    pacsv.write_csv(rows, buf, pacsv.WriteOptions(include_header=False))
    buf.seek(0)
    schema, name = table.split(".")
    cur.copy_expert(f"copy {qt(schema, name)} ({', '.join(q(c) for c, _ in cols)}) from stdin with (format csv)", buf)
    return cur.rowcount


def replace_tables(duck, con, schemas=DERIVED_SCHEMAS) -> int:
    """Replace every table of these DuckDB schemas in PostgreSQL, whole, in one transaction (a table whose columns
    changed is recreated: dbt recreates the staging views dropped with it); return the rows copied."""
    copied = 0
    try:
        with con.cursor() as cur:
            for schema, table, cols in duck_tables(duck, schemas):
                want = [(c, pg_type(ty)[0]) for c, ty in cols]
                if columns(cur, schema, table) == want:
                    cur.execute(f"truncate {qt(schema, table)}")
                else:
                    cur.execute(f"drop table if exists {qt(schema, table)} cascade")
                    cur.execute(f"create table {qt(schema, table)} ("
                                + ", ".join(f"{q(c)} {ty}" for c, ty in want) + ")")
                copied += copy_rows(duck, cur, f"{schema}.{table}", cols)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return copied


@contextmanager
def derived_tables(settings: Settings) -> Iterator:
    """An in-memory DuckDB for the derived tables; on a clean exit they replace PostgreSQL's, in one transaction."""
    import duckdb

    with closing(duckdb.connect(":memory:")) as duck:
        duck.execute("create schema raw; create schema reference;")
        duck.execute(REPORT_FACTS_DDL)
        yield duck
        with closing(connect(settings, application_name="cakupan-prepare")) as con:
            con.autocommit = True
            ensure_zones(con)
            con.autocommit = False
            n = replace_tables(duck, con)
    log.info("derived tables replaced in PostgreSQL: %d rows", n)
