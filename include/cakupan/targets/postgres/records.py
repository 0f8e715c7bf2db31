"""The PostgreSQL system of record through DuckDB's connection API, so the steps that write the manifest and the audit
tables (the loader, the run record, the gate's results, the publish record) run their one SQL text on either target.

`Records.execute(sql, params)` takes `?` placeholders (those outside string literals become psycopg2's `%s`) and
returns the cursor (`fetchone`, `fetchall`, `rowcount`). The connection is in autocommit mode, as a DuckDB
connection is: each statement commits unless a transaction is begun with `begin transaction`, and `commit` /
`rollback` end it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cakupan.core.settings import Settings
from cakupan.targets.postgres.params import connect


def pyformat(sql: str) -> str:
    """`?` placeholders → `%s`, and a literal `%` → `%%` (psycopg2's escaping), outside quoted strings and names."""
    out, quote = [], None
    for ch in sql:
        if quote:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        if ch == "%":
            out.append("%%")
            continue
        out.append(ch)
    return "".join(out)


class Records:
    """A psycopg2 connection (autocommit) with DuckDB's `execute`; closes `also` (e.g. a stage) when closed."""

    def __init__(self, con, also: Iterable[Callable[[], None]] = ()):
        self.pg = con
        self._also = list(also)

    def execute(self, sql: str, params=None):
        cur = self.pg.cursor()
        if params is None:
            cur.execute(sql)
        else:
            cur.execute(pyformat(sql), list(params))
        return cur

    def close(self) -> None:
        for close in self._also:
            close()
        self._also = []
        self.pg.close()

    def __enter__(self) -> Records:  # noqa: PYI034 - Python 3.11 floor; Self adds nothing here
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_records(settings: Settings, application_name: str = "cakupan") -> Records:
    """The system of record on PostgreSQL, its zones created on first use."""
    from cakupan.targets.postgres.zones import ensure_zones

    con = connect(settings, application_name=application_name)
    con.autocommit = True
    try:
        ensure_zones(con)
    except BaseException:
        con.close()
        raise
    return Records(con)
