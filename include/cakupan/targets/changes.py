"""The changed-rows store of the publish history: every published state in one DuckDB file, as row versions.

`published/history/changes.duckdb` holds, for every table a published file has (all its schemas), the rows as
versions over a state sequence number: the data columns, `_from` (the first state holding the row) and `_to` (the
first state no longer holding it; null: still current), keyed by `_hash` (md5 of the row as JSON, the column names
included) and `_ord` (its ordinal among identical rows, so duplicate rows survive). `_store.states` has one row per
state: `seq`, the history record's name, the run id, whether retention still keeps it readable, and per table its
store table, row count, an order-independent content digest (the sum of the rows' hashes' low 64 bits), and its
columns with their types and comments, and the table's comment.

Appending state k is one transaction: the rows of the state not open in the store are inserted with `_from = k`,
the open rows the state no longer has get `_to = k`. Reading state k: `_from <= k and (_to is null or _to > k)`,
in the state's own column order and types. A column added between two states is added to the store table (older
rows read it as absent: older states do not list it); a column whose type changed starts a new generation of the
store table (`<table>__g2`…), the old generation's rows closed. Retention (`retain`) marks states unreadable and
deletes every row version whose interval holds no readable state.

One writer at a time (an exclusive `flock` on `history/.changes.lock`, taken inside the history lock); a rebuild
holds it shared, so it never opens the file while a writer has it open. A process killed during an append leaves
the store at its previous state (the transaction never committed).

The digests are computed by DuckDB from the rows' JSON text: a DuckDB upgrade that wrote some value differently in
JSON would make a rebuilt state fail its check ("damaged"), never read back wrong.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import duckdb

from cakupan.core.messages import Msg

STORE = "changes.duckdb"
META = "_store"
KEYS = ("_hash", "_ord", "_from", "_to")
ROW_HASH = "md5_number(to_json(t)::varchar)"
# the low 64 bits of each row hash, summed: `& mask` gives what `% 2**64` gives, ~400x faster on uhugeint in DuckDB
LOW64 = "18446744073709551615::uhugeint"
DIGEST = f"coalesce(sum(({ROW_HASH} & {LOW64})::hugeint), 0)::varchar"


class StoreDamaged(ValueError):
    """A state rebuilt from the store does not match what was recorded when it was appended."""


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def store_path(folder: Path) -> Path:
    return folder / STORE


@contextmanager
def locked(folder: Path, exclusive: bool) -> Iterator[None]:
    fd = os.open(folder / ".changes.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _ensure_meta(con) -> None:
    con.execute(f"create schema if not exists {META}")
    con.execute(f"create table if not exists {META}.states (seq integer primary key, name varchar not null unique, "
                "run_id varchar, appended_at timestamp, readable boolean not null, tables json not null)")


def stored(folder: Path) -> dict[str, int]:
    """The states in the store (readable or not): record name -> seq. Empty when there is no store yet."""
    if not store_path(folder).exists():
        return {}
    with locked(folder, exclusive=False), closing(duckdb.connect(str(store_path(folder)), read_only=True)) as con:
        if not con.execute("select count(*) from information_schema.tables where table_schema = ? and "
                           "table_name = 'states'", [META]).fetchone()[0]:
            return {}
        return dict(con.execute(f"select name, seq from {META}.states").fetchall())


def _columns(con, catalog: str, schema: str, table: str) -> list[list]:
    return [list(r) for r in con.execute(
        "select column_name, data_type, comment from duckdb_columns() where database_name = ? and schema_name = ? "
        "and table_name = ? order by column_index", [catalog, schema, table]).fetchall()]


def _store_tables(con) -> list[tuple[str, str]]:
    return con.execute("select schema_name, table_name from duckdb_tables() where database_name = current_database() "
                       f"and schema_name <> '{META}' and not temporary").fetchall()


def append(folder: Path, name: str, run_id: str, state: Path) -> int:
    """Append the published file `state` as the next state; return its seq. One transaction (see the module)."""
    with locked(folder, exclusive=True), closing(duckdb.connect(str(store_path(folder)))) as con:
        _ensure_meta(con)
        got = con.execute(f"select seq from {META}.states where name = ?", [name]).fetchone()
        if got:
            return got[0]
        con.execute("attach ? as pub (read_only)", [str(state)])
        try:
            con.execute("begin")
            seq = con.execute(f"select coalesce(max(seq), 0) + 1 from {META}.states").fetchone()[0]
            latest = {}      # (schema, table) -> its store table, from the states that listed it (the last wins)
            for (tables,) in con.execute(f"select tables from {META}.states order by seq").fetchall():
                for key, t in json.loads(tables).items():
                    latest[key] = t["store"]
            tables, current = {}, set()
            for schema, table, comment in con.execute(
                    "select schema_name, table_name, comment from duckdb_tables() where database_name = 'pub' "
                    "order by 1, 2").fetchall():
                key = f"{schema}.{table}"
                cols = _columns(con, "pub", schema, table)
                into = _store_table(con, schema, table, cols, latest.get(key))
                current.add((schema, into))
                tables[key] = dict(zip(("rows", "digest"), _append_table(con, seq, schema, table, into, cols)),
                                   store=into, columns=cols, comment=comment)
            for schema, table in _store_tables(con):      # a table this state no longer has (or an old generation)
                if (schema, table) not in current:
                    con.execute(f"update {q(schema)}.{q(table)} set _to = ? where _to is null", [seq])
            con.execute(f"insert into {META}.states values (?, ?, ?, ?, true, ?)",
                        [seq, name, run_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), json.dumps(tables)])
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            con.execute("detach pub")
        con.execute("checkpoint")
        return seq


def _store_table(con, schema: str, table: str, cols: list[list], current: str | None) -> str:
    """The store table holding this table's rows: the current generation, a column added to it when the state has
    a new one; a new generation when a column's type changed."""
    into = current or table
    have = {c: ty for c, ty, _ in _columns(con, current_db(con), schema, into)}
    if have and any(c in have and have[c] != ty for c, ty, _ in cols):
        n = 2
        while _columns(con, current_db(con), schema, f"{table}__g{n}"):
            n += 1
        into, have = f"{table}__g{n}", {}
    con.execute(f"create schema if not exists {q(schema)}")
    if not have:
        con.execute(f"create table {q(schema)}.{q(into)} (" + ", ".join(f"{q(c)} {ty}" for c, ty, _ in cols)
                    + ", _hash uhugeint, _ord bigint, _from integer, _to integer)")
    for c, ty, _ in cols:
        if have and c not in have:
            con.execute(f"alter table {q(schema)}.{q(into)} add column {q(c)} {ty}")
    return into


def current_db(con) -> str:
    return con.execute("select current_database()").fetchone()[0]


def _append_table(con, seq: int, schema: str, table: str, into: str, cols: list[list]) -> tuple[int, str]:
    """The rows of pub.schema.table as state `seq` of the store table `into`; returns its row count and digest."""
    names = ", ".join(q(c) for c, _, _ in cols)
    con.execute(f"create or replace temp table _new as select *, row_number() over (partition by _hash) as _ord "
                f"from (select {names}, {ROW_HASH} as _hash from pub.{q(schema)}.{q(table)} t)")
    target = f"{q(schema)}.{q(into)}"
    con.execute(f"update {target} set _to = ? where _to is null and not exists (select 1 from _new n "
                f"where n._hash = {target}._hash and n._ord = {target}._ord)", [seq])
    con.execute(f"insert into {target} ({names}, _hash, _ord, _from, _to) select {names}, _hash, _ord, ?, null "
                f"from _new n where not exists (select 1 from {target} o where o._to is null and o._hash = n._hash "
                "and o._ord = n._ord)", [seq])
    rows, digest = con.execute(f"select count(*), coalesce(sum((_hash & {LOW64})::hugeint), 0)::varchar "
                               "from _new").fetchone()
    con.execute("drop table _new")
    return rows, digest


def content_digest(tables: dict) -> str:
    """One digest of a whole state: sha256 of every table's name, row count and digest."""
    text = json.dumps({k: [t["rows"], t["digest"]] for k, t in sorted(tables.items())}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def rebuild(folder: Path, name: str, out: Path) -> dict:
    """Write state `name` from the store into the new DuckDB file `out` (its tables, column order, types and
    comments), then check every table's row count and digest against the state's record: StoreDamaged when one
    differs. Returns the state's tables record."""
    out.unlink(missing_ok=True)
    with locked(folder, exclusive=False), closing(duckdb.connect(str(out))) as con:
        con.execute("attach ? as st (read_only)", [str(store_path(folder))])
        got = con.execute(f"select seq, readable, tables from st.{META}.states where name = ?", [name]).fetchone()
        if not got or not got[1]:
            raise StoreDamaged(Msg("error.history.not_in_store", name=name))
        seq, _, tables = got
        tables = json.loads(tables)
        for key, t in tables.items():
            schema, table = key.split(".", 1)
            names = ", ".join(q(c) for c, _, _ in t["columns"])
            con.execute(f"create schema if not exists {q(schema)}")
            con.execute(f"create table {q(schema)}.{q(table)} (" + ", ".join(
                f"{q(c)} {ty}" for c, ty, _ in t["columns"]) + ")")
            con.execute(f"insert into {q(schema)}.{q(table)} select {names} from st.{q(schema)}.{q(t['store'])} "
                        "where _from <= ? and (_to is null or _to > ?)", [seq, seq])
            if t.get("comment"):
                con.execute(f"comment on table {q(schema)}.{q(table)} is {lit(t['comment'])}")
            for c, _, comment in t["columns"]:
                if comment:
                    con.execute(f"comment on column {q(schema)}.{q(table)}.{q(c)} is {lit(comment)}")
        con.execute("detach st")
        for key, t in tables.items():
            schema, table = key.split(".", 1)
            rows, digest = con.execute(f"select count(*), {DIGEST} from {q(schema)}.{q(table)} t").fetchone()
            if rows != t["rows"]:
                raise StoreDamaged(Msg("error.history.store_rows", table=key, rows=rows, want=t["rows"]))
            if digest != t["digest"]:
                raise StoreDamaged(Msg("error.history.store_digest", table=key, rows=rows))
        con.execute("checkpoint")
    return tables


def state_tables(folder: Path, name: str) -> dict:
    """The recorded tables (row counts, digests, columns) of a state in the store."""
    with locked(folder, exclusive=False), closing(duckdb.connect(str(store_path(folder)), read_only=True)) as con:
        got = con.execute(f"select tables from {META}.states where name = ?", [name]).fetchone()
    return json.loads(got[0]) if got else {}


def retain(folder: Path, readable: set[str]) -> int:
    """Retention: only the states named in `readable` stay readable; every row version whose interval holds no
    readable state is deleted (one transaction). Returns the row versions deleted."""
    if not store_path(folder).exists():
        return 0
    with locked(folder, exclusive=True), closing(duckdb.connect(str(store_path(folder)))) as con:
        _ensure_meta(con)
        con.execute("begin")
        try:
            con.execute(f"update {META}.states set readable = list_contains(?, name)", [sorted(readable)])
            gone = 0
            for schema, table in _store_tables(con):
                t = f"{q(schema)}.{q(table)}"
                gone += con.execute(f"delete from {t} where not exists (select 1 from {META}.states s where "
                                    f"s.readable and s.seq >= {t}._from and ({t}._to is null or s.seq < {t}._to))"
                                    ).fetchone()[0]
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("checkpoint")
        return gone


def row_versions(folder: Path) -> int:
    """How many row versions the store holds (all tables)."""
    if not store_path(folder).exists():
        return 0
    with locked(folder, exclusive=False), closing(duckdb.connect(str(store_path(folder)), read_only=True)) as con:
        return sum(con.execute(f"select count(*) from {q(s)}.{q(t)}").fetchone()[0] for s, t in _store_tables(con))
