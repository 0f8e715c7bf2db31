"""The PostgreSQL publish steps: build the candidate schemas (published_next, published_audit_next), fingerprint
them, add the gate's verdict, and promote them into `published` / `published_audit` in one transaction.

Readers during a publish see the old state or the new one, never a mix:
- Every publish but a model change replaces the rows of each published table inside one transaction (DELETE +
  INSERT from the validated table): MVCC isolates readers. Each transaction or statement sees the old state or the
  new one in every table, never waits, never errors; the publisher never waits for readers.
- A model change (a published table added, dropped or with other columns) cannot be done with rows. Name lookup is
  not MVCC: a REPEATABLE READ reader whose snapshot is older than the new tables' rows would find the new tables
  and see them empty (tests/postgres/test_promote.py shows the mix this gave). So the whole schema is switched, every
  table moved in from published_next (its rows committed before the switch), and only when that is safe: (1) no
  reader transaction whose snapshot is older than those rows is open (the publisher waits for them: it cannot
  make them see the new rows), then (2) every published table is locked ACCESS EXCLUSIVE in one fixed order,
  each lock under a lock_timeout shorter than deadlock_timeout (the publisher gives way; readers never get an
  error), retried; then the tables are swapped in the same transaction. Any reader that starts after (1) sees
  either the old tables (it holds them: the locks wait for it) or the new ones with all their rows.
Both waits are bounded (CAKUPAN_PG_PUBLISH_WAIT seconds, default 300): progress lines say what the publish waits
for, then one error names the tables and the sessions holding them; `published` is unchanged.

Publishers are serialised by a lock on audit.publish_lock, a table only the pipeline role can lock (no other role
has a privilege on it or USAGE on schema audit): a BI session cannot take it, so it cannot lock the publisher out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from cakupan.core.messages import Msg, text
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
    ensure_zones,
    schema_exists,
    tables,
)

if TYPE_CHECKING:
    from cakupan.quality import GateResult

log = logging.getLogger("cakupan.targets.postgres.publish")

NEXT, AUDIT_NEXT = PUBLISHED + NEXT_SUFFIX, PUBLISHED_AUDIT + NEXT_SUFFIX
PUBLISH_LOCK_TABLE = "audit.publish_lock"
LOCK_TIMEOUT_MS = 500          # < deadlock_timeout (1 s): the publisher gives way before a reader could be aborted
PROGRESS_EVERY_S = 5.0


def publish_wait() -> float:
    """How long a publish waits for the publish lock, for old readers and for table locks (CAKUPAN_PG_PUBLISH_WAIT
    seconds, default 300)."""
    raw = os.environ.get("CAKUPAN_PG_PUBLISH_WAIT", "300")
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise PgError(Msg("error.pg.publish_wait", value=repr(raw))) from None


class Wait:
    """A bounded wait that says what it waits for: `tick` raises PgError(failure) once `wait_s` seconds have passed,
    and logs `progress` every PROGRESS_EVERY_S seconds until then."""

    def __init__(self, wait_s: float):
        self.wait_s = wait_s
        self.deadline = self.said = time.monotonic()
        self.deadline += wait_s

    def tick(self, failure: Msg, progress: Msg) -> None:
        now = time.monotonic()
        if now >= self.deadline:
            raise PgError(failure)
        if now - self.said >= PROGRESS_EVERY_S:
            self.said = now
            log.warning("%s", progress)


def holders(cur, tables_: Sequence[str]) -> list[str]:
    """Who holds (or waits for) a lock on these tables, other than this session: 'pid 123 role cakupan_bi
    (Metabase) on published.mart_x, in a transaction since 10:00:01, idle'."""
    cur.execute(
        "select a.pid, a.usename, a.application_name, a.state, a.xact_start, "
        "string_agg(distinct l.relation::regclass::text, ', ') "
        "from pg_locks l join pg_stat_activity a on a.pid = l.pid "
        "where l.locktype = 'relation' and l.relation = any(%s::regclass[]) and a.pid <> pg_backend_pid() "
        "group by 1, 2, 3, 4, 5 order by a.xact_start nulls last", [list(tables_)])
    return [_session(*r) for r in cur.fetchall()]


def _session(pid, role, app, state, since, what=None) -> str:
    out = text("error.pg.session", pid=pid, role=role) + (f" ({app})" if app else "")
    if what:
        out += " " + text("error.pg.session_on", what=what)
    if since is not None:
        out += ", " + text("error.pg.session_since", since=f"{since:%Y-%m-%d %H:%M:%S}")
    return out + (f", {state}" if state else "")


@contextmanager
def publish_lock(settings: Settings, wait_s: float | None = None):
    """One publisher at a time per database: the EXCLUSIVE lock on audit.publish_lock, held in a transaction of a
    connection of its own for the whole publish. Waits at most `wait_s` (progress lines, then a PgError naming the
    holder)."""
    import psycopg2
    from psycopg2 import errors

    wait_s = publish_wait() if wait_s is None else wait_s
    con = connect(settings, application_name="cakupan-publish-lock")
    try:
        con.autocommit = True
        ensure_zones(con)
        con.autocommit = False
        wait = Wait(wait_s)
        with con.cursor() as cur:
            cur.execute("set idle_in_transaction_session_timeout = 0")  # the lock is held while others work
            while True:
                try:
                    cur.execute(f"set local lock_timeout = {LOCK_TIMEOUT_MS * 2}")
                    cur.execute(f"lock table {PUBLISH_LOCK_TABLE} in exclusive mode")
                    break
                except errors.LockNotAvailable:
                    con.rollback()
                    who = "; ".join(holders(cur, [PUBLISH_LOCK_TABLE])) or text("error.pg.session_ended")
                    con.rollback()
                    wait.tick(Msg("error.pg.publish_lock", table=PUBLISH_LOCK_TABLE, seconds=f"{wait_s:.0f}", who=who),
                              Msg("error.pg.wait_publish_lock", table=PUBLISH_LOCK_TABLE, who=who))
        yield
    finally:
        try:
            con.rollback()
        except psycopg2.Error:
            pass
        con.close()


def _comment(cur, kind: str, target: str, text: str) -> None:
    if text:
        cur.execute(f"comment on {kind} {target} is %s", [text])


def apply_docs(cur, schema: str, table: str, doc: dict | None) -> None:
    """The dbt descriptions of a mart (`docs.model_docs()[table]`) as its table and column comments."""
    if not doc:
        return
    _comment(cur, "table", qt(schema, table), doc["description"])
    for c, (_, desc) in doc["columns"].items():
        cur.execute("select 1 from information_schema.columns where table_schema = %s and "
                    "table_name = %s and column_name = %s", [schema, table, c])
        if cur.fetchone():
            _comment(cur, "column", f"{qt(schema, table)}.{q(c)}", desc)


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
            raise PgError(Msg("error.pg.no_marts", schema=marts_schema))
        for t in marts:
            cur.execute(f"create table {qt(NEXT, t)} as select * from {qt(marts_schema, t)}")
            apply_docs(cur, NEXT, t, docs.get(t))
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


def old_readers(cur) -> dict[str, str]:
    """Transactions of other roles that may read `published` and hold a snapshot now: {virtual transaction id:
    who}. Sampled after the next tables' rows are committed, they are the only readers whose snapshot may be older
    than those rows (after a schema switch they would find the new tables but not their rows). Read from pg_locks
    and the columns of pg_stat_activity every role may see (no pg_read_all_stats needed)."""
    cur.execute(
        "select l.virtualxid, a.pid, a.usename, a.application_name, a.state, a.xact_start "
        "from pg_stat_activity a join pg_locks l on l.pid = a.pid and l.locktype = 'virtualxid' and l.granted "
        "where a.pid <> pg_backend_pid() and a.backend_xmin is not null and a.usesysid is not null "
        "and a.usename <> current_user and has_schema_privilege(a.usesysid, %s, 'USAGE') order by a.pid",
        [PUBLISHED])
    return {vxid: _session(*who) for vxid, *who in cur.fetchall()}


def _wait_for_old_readers(con, old: dict[str, str], wait: Wait) -> None:
    while old:
        with con.cursor() as cur:
            cur.execute("select virtualxid from pg_locks where locktype = 'virtualxid' and virtualxid = any(%s)",
                        [list(old)])
            still = {v for (v,) in cur.fetchall()}
        con.rollback()
        old = {v: who for v, who in old.items() if v in still}
        if not old:
            return
        who = "; ".join(old.values())
        wait.tick(Msg("error.pg.old_readers", seconds=f"{wait.wait_s:.0f}", who=who),
                  Msg("error.pg.wait_old_readers", n=len(old), who=who))
        time.sleep(0.2)


def promote_next(con, role: str | None = None, lock_timeout_ms: int = LOCK_TIMEOUT_MS,
                 deadline_s: float | None = None, also: Callable[[object], None] | None = None) -> dict:
    """Publish published_next into published (and published_audit_next into published_audit) in ONE transaction.

    Without a model change: the rows of every table are replaced (MVCC; no wait, no lock on readers). With one in
    a pair (a table added, dropped or with other columns): the pair's live tables are all swapped for the next
    ones, after no older reader is left and every live table is locked (see the module). The BI role is granted
    USAGE + SELECT on `published` in the same transaction. Waits at most `deadline_s` (CAKUPAN_PG_PUBLISH_WAIT):
    progress lines, then a PgError naming the tables and holders. `also(cursor)` runs last in the same transaction
    (a rollback's audit and history rows). Returns {"attempts": n, "tables": {table: how}}."""
    import psycopg2
    from psycopg2 import errors

    role = role or bi_role()
    wait_s = publish_wait() if deadline_s is None else deadline_s
    pairs = [(PUBLISHED, NEXT), (PUBLISHED_AUDIT, AUDIT_NEXT)]
    con.commit()    # every row of the next schemas is committed before the readers are sampled
    wait = Wait(wait_s)
    attempt, pause, waited_for_readers = 0, 0.05, False
    while True:
        attempt += 1
        held: list[str] = []
        try:
            with con.cursor() as cur:
                cur.execute(f"set local lock_timeout = {int(lock_timeout_ms)}")
                plans = {}
                for live, nxt in pairs:
                    if not schema_exists(cur, nxt):
                        raise PgError(Msg("error.pg.no_next", schema=nxt))
                    plans[live] = _plan(cur, live, nxt)
                swap = [live for live, plan in plans.items() if plan != {"*": "rename"}
                        and any(step != "rows" for step in plan.values())]
                if swap and not waited_for_readers:
                    old = old_readers(cur)
                    con.rollback()
                    _wait_for_old_readers(con, old, wait)
                    waited_for_readers = True
                    attempt -= 1
                    continue
                held = [qt(live, t) for live in sorted(swap) for t in tables(cur, live)]
                if held:   # one fixed order: the publisher never holds one while waiting for an earlier one
                    cur.execute(f"lock table {', '.join(sorted(held))} in access exclusive mode")
                done: dict[str, str] = {}
                for live, nxt in pairs:
                    plan = _swap_plan(cur, live, nxt) if live in swap else plans[live]
                    done.update({f"{live}.{t}": h for t, h in _promote_pair(cur, live, nxt, plan).items()})
                cur.execute(f"grant usage on schema {q(PUBLISHED)} to {q(role)}")
                cur.execute(f"grant select on all tables in schema {q(PUBLISHED)} to {q(role)}")
                if also is not None:
                    also(cur)
            con.commit()
            break
        except (errors.LockNotAvailable, errors.DeadlockDetected) as exc:
            con.rollback()
            with con.cursor() as cur:
                who = "; ".join(holders(cur, held) if held else []) or "sessions that have just ended"
            con.rollback()
            tables_ = ", ".join(sorted(held)) or " ".join(str(exc).split())
            wait.tick(Msg("error.pg.table_locks", seconds=f"{wait_s:.0f}", tables=tables_, who=who),
                      Msg("error.pg.wait_table_locks", tables=tables_, who=who))
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
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


def _swap_plan(cur, live: str, nxt: str) -> dict[str, str]:
    """Every table of `live` replaced by `nxt`'s (a model change: the whole schema switches, see the module)."""
    new, old = tables(cur, nxt), set(tables(cur, live))
    plan = {t: ("replace" if t in old else "add") for t in new}
    plan.update({t: "drop" for t in sorted(old - set(new))})
    return plan
