"""The PostgreSQL publish steps: build the candidate schemas (published_next, published_audit_next), fingerprint
them, add the gate's verdict, and promote them into `published` / `published_audit` in one transaction.

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
import hashlib
import time
from collections.abc import Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from cakupan.core.settings import Settings
from cakupan.targets.base import AUDIT_EXPORTS, PublishRecord, insert_publish_record
from cakupan.targets.postgres.docs import model_docs
from cakupan.targets.postgres.params import PgError, connect, q, qt
from cakupan.targets.postgres.zones import (
    NEXT_SUFFIX,
    PUBLISHED,
    PUBLISHED_AUDIT,
    bi_role,
    columns,
    schema_exists,
    tables,
)

if TYPE_CHECKING:
    from cakupan.quality import GateResult

PUBLISH_LOCK_KEY = 0x43414B55  # pg_advisory_lock key serialising publishers ("CAKU")
NEXT, AUDIT_NEXT = PUBLISHED + NEXT_SUFFIX, PUBLISHED_AUDIT + NEXT_SUFFIX


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


def _comment(cur, kind: str, target: str, text: str) -> None:
    if text:
        cur.execute(f"comment on {kind} {target} is %s", [text])


def build_next(con, marts: Sequence[str], marts_schema: str = "marts") -> list[str]:
    """Fill published_next (the given marts, where built) and published_audit_next (audit exports) from the built
    marts and the audit replica, with the dbt descriptions as table/column comments (BI tools show them); commits.
    Returns the marts copied."""
    docs = model_docs()
    with con.cursor() as cur:
        cur.execute(f"drop schema if exists {q(NEXT)} cascade")
        cur.execute(f"drop schema if exists {q(AUDIT_NEXT)} cascade")
        cur.execute(f"create schema {q(NEXT)}")
        cur.execute(f"create schema {q(AUDIT_NEXT)}")
        built = set(tables(cur, marts_schema))
        marts = [t for t in marts if t in built]
        if not marts:
            raise PgError(f"no marts in schema {marts_schema}: run the dbt build first")
        for t in marts:
            cur.execute(f"create table {qt(NEXT, t)} as select * from {qt(marts_schema, t)}")
            d = docs.get(t)
            if d:
                _comment(cur, "table", qt(NEXT, t), d["description"])
                for c, (_, desc) in d["columns"].items():
                    cur.execute("select 1 from information_schema.columns where table_schema = %s and "
                                "table_name = %s and column_name = %s", [NEXT, t, c])
                    if cur.fetchone():
                        _comment(cur, "column", f"{qt(NEXT, t)}.{q(c)}", desc)
        for name, sql in AUDIT_EXPORTS.items():
            cur.execute(f"create table {qt(AUDIT_NEXT, name)} as {sql}")
    con.commit()
    return marts


def fingerprint(con, schemas: tuple[str, ...]) -> str:
    """A SHA-256 of the schemas' contents (table names, columns and the sorted row hashes); the PostgreSQL
    counterpart of the candidate file's hash in audit.publishes.candidate_sha256."""
    h = hashlib.sha256()
    with con.cursor() as cur:
        for s in schemas:
            for t in tables(cur, s):
                cur.execute("select string_agg(column_name || ' ' || data_type, ',' order by ordinal_position) "
                            "from information_schema.columns where table_schema = %s and table_name = %s", [s, t])
                cols = cur.fetchone()[0]
                cur.execute(f"select count(*), encode(sha256(convert_to(coalesce(string_agg(h, '' order by h), ''), "
                            f"'UTF8')), 'hex') from (select md5(x::text) as h from {qt(s, t)} x) y")
                n, digest = cur.fetchone()
                h.update(f"{s.removesuffix(NEXT_SUFFIX)}.{t}({cols}) {n} {digest}\n".encode())
    con.commit()
    return h.hexdigest()


def append_verdict(con, gate: GateResult, record: PublishRecord, audit_schema: str = AUDIT_NEXT) -> None:
    """Add this run's check results and publish record to the next audit schema (marts untouched); commits.

    No raw validations: on PostgreSQL the raw suite runs over every raw row on each run."""
    from psycopg2.extras import execute_values

    rows = [dataclasses.astuple(r) for r in gate.results]
    with con.cursor() as cur:
        cur.execute(f"delete from {qt(audit_schema, 'checks')} where run_id = %s", [gate.run_id])
        if rows:
            cols = ", ".join(f.name for f in dataclasses.fields(gate.results[0]))
            execute_values(cur, f"insert into {qt(audit_schema, 'checks')} ({cols}) values %s", rows)
        insert_publish_record(cur, record, qt(audit_schema, "publishes"), "%s")
    con.commit()


def _description(cur, schema: str, table: str, column: str | None = None) -> str | None:
    if column is None:
        cur.execute("select obj_description(%s::regclass, 'pg_class')", [qt(schema, table)])
    else:
        cur.execute("select col_description(%s::regclass, (select attnum from pg_attribute where attrelid = "
                    "%s::regclass and attname = %s))", [qt(schema, table), qt(schema, table), column])
    return cur.fetchone()[0]


def _plan(cur, live: str, nxt: str) -> dict[str, str]:
    """How each table of `live` becomes what `nxt` holds: {table: rows | add | replace | drop}, or {"*": rename}."""
    if not schema_exists(cur, live):
        return {"*": "rename"}
    new, old = tables(cur, nxt), set(tables(cur, live))
    plan = {t: ("rows" if t in old and columns(cur, live, t) == columns(cur, nxt, t) else
                "replace" if t in old else "add") for t in new}
    plan.update({t: "drop" for t in sorted(old - set(new))})
    return plan


def _promote_pair(cur, live: str, nxt: str, plan: dict[str, str]) -> dict[str, str]:
    """Carry out a plan inside the caller's transaction; return {table: what was done}."""
    if plan == {"*": "rename"}:  # first publish: nobody can be reading it yet
        cur.execute(f"alter schema {q(nxt)} rename to {q(live)}")
        return {t: "renamed" for t in tables(cur, live)}
    how: dict[str, str] = {}
    for t, step in plan.items():
        if step == "rows":  # rows, not relations, change: readers keep their snapshot and never wait (MVCC)
            cur.execute(f"delete from {qt(live, t)}")
            cur.execute(f"insert into {qt(live, t)} select * from {qt(nxt, t)}")
            for col, _ in columns(cur, live, t):
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
    pairs = [(PUBLISHED, NEXT), (PUBLISHED_AUDIT, AUDIT_NEXT)]
    deadline = time.monotonic() + deadline_s
    attempt, pause = 0, 0.05
    while True:
        attempt += 1
        try:
            with con.cursor() as cur:
                cur.execute(f"set local lock_timeout = {int(lock_timeout_ms)}")
                plans = {}
                for live, nxt in pairs:
                    if not schema_exists(cur, nxt):
                        raise PgError(f"schema {nxt} is missing: nothing to publish")
                    plans[live] = _plan(cur, live, nxt)
                ddl = any(step in ("replace", "add", "drop") for plan in plans.values() for step in plan.values())
                if ddl:
                    # DDL is not MVCC-safe: first wait until no reader transaction holds any published table, so
                    # none can read one table before the change and another after it
                    held = [(live, t) for live in plans if schema_exists(cur, live) for t in tables(cur, live)]
                    cur.execute("lock table " + ", ".join(qt(s_, t) for s_, t in sorted(held))
                                + " in access exclusive mode")
                done: dict[str, str] = {}
                for live, nxt in pairs:
                    done.update({f"{live}.{t}": h for t, h in _promote_pair(cur, live, nxt, plans[live]).items()})
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
            for t in tables(cur, live):
                cur.execute(f"analyze {qt(live, t)}")
    con.commit()
    return {"attempts": attempt, "tables": done}

