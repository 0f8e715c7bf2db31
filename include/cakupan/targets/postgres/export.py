"""Export PostgreSQL schemas into a DuckDB file with the published file's layout (marts.*, audit.*), so the auditor
report, `cakupan trace` and `cakupan coverage` read the same file whatever the target."""

from __future__ import annotations

import os
import tempfile
from contextlib import closing
from pathlib import Path

from cakupan.core.files import fsync_file
from cakupan.core.messages import Msg
from cakupan.core.settings import Settings
from cakupan.targets.postgres.params import PgError, connect, q, qt
from cakupan.targets.postgres.zones import PUBLISHED, PUBLISHED_AUDIT, schema_exists, tables

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
                if not schema_exists(cur, pg_schema):
                    raise PgError(Msg("error.pg.no_schema", schema=pg_schema))
                duck.execute(f"create schema {duck_schema}")
                for t in tables(cur, pg_schema):
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
    fsync_file(tmp)
    os.replace(tmp, path)
    fsync_file(path)
    return path
