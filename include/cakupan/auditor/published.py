"""Read-only access to the published file: `open_published` for every read command (coverage, findings, trace, the
auditor site), and `PublishedDb`, one snapshot of it for the auditor site.

A published file that is missing, truncated or overwritten with something else is said in one sentence naming the
file and what to do (`PublishedFileError`), never as a database error: DuckDB may open a truncated file and fail only
when a query reaches a missing block, so the whole read is guarded, not only the opening.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from cakupan.core.messages import Msg


class PublishedFileError(RuntimeError):
    """The published file is missing or cannot be read; the message names it and says what to do."""


def damaged(path: Path, exc: BaseException) -> Msg:
    """The sentence for a published file that cannot be read."""
    return Msg("error.published.damaged", path=path, detail=" ".join(str(exc).split())[:200])


@contextmanager
def open_published(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published file; any failure to open or read it is a PublishedFileError."""
    path = Path(path)
    if not path.exists():
        raise PublishedFileError(Msg("error.published.nothing", path=path))
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise PublishedFileError(damaged(path, exc)) from None
    try:
        yield con
    except duckdb.Error as exc:
        raise PublishedFileError(damaged(path, exc)) from None
    finally:
        con.close()


class Row(dict):
    """One published row; a column the file lacks reads as None (older published files have fewer columns)."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self.get(name)


class PublishedDb:
    """Read-only access to one published snapshot; missing tables read as None, not errors."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.tables = {f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}

    def has(self, table: str) -> bool:
        return table in self.tables

    def rows(self, sql: str, params: list | None = None) -> list[Row]:
        cur = self.con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [Row(zip(cols, r)) for r in cur.fetchall()]

    def table(self, table: str, order: str = "") -> list[Row] | None:
        if not self.has(table):
            return None
        return self.rows(f"select * from {table} {order}")

    def columns(self, table: str) -> list[str]:
        s, t = table.split(".", 1)
        return [c for (c,) in self.con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position", [s, t]).fetchall()]
