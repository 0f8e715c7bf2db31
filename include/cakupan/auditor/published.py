"""Read-only access to one snapshot of the published file, for the auditor site."""

from __future__ import annotations

import duckdb


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
