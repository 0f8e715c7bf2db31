"""Settle the published file to the server's last promote (PostgreSQL).

On PostgreSQL a publish or rollback switches two things: the server's `published` schemas (the promote
transaction: the commit point) and then the exported file `published/cakupan.duckdb` with its history record (a
publish exports after its promote; a rollback renames the kept file after its promote). The promote transaction
also writes one row to `audit.promotes` (run id, kind publish | rollback, for a rollback the run it restored, the
reason and the sha256 of the kept file, and the moment). A process killed between the two steps leaves the server
on the new state and the file, and its history, on the previous one.

`settle` brings the file to the server's state, never the other way round: when the last promote has no complete
history record from its promote on, it exports the live published schemas (or, for a rollback, copies the kept file
it restored when it is still there and its sha256 is the one the promote named), and records it (record, then
rename: `published_file.swap_and_record`) under the promote's run id, kind and time. A publish's audit.publishes row
(its published sha256), publish_history and restated figures are written as the publish would have; the promote's
row gets `settled_at`, and a warning says so. It runs holding the publish lock: at the start of every publish and
rollback (`PostgresTarget.publishing`, `rollback.rollback`) and before a history read (`settle_for_read`, which
does not wait for a publisher at work: that one finishes its own switch).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from contextlib import closing
from dataclasses import dataclass

from cakupan.core.settings import Settings
from cakupan.targets import history
from cakupan.targets.base import PublishRecord, insert_publish_record
from cakupan.targets.history import Entry, HistoryError, utc_now
from cakupan.targets.postgres.export import export_published_to_duckdb
from cakupan.targets.postgres.history import keep_published_state, record_figures
from cakupan.targets.postgres.params import PgError, connect
from cakupan.targets.postgres.publish import publish_lock
from cakupan.targets.postgres.records import open_records
from cakupan.targets.postgres.zones import PUBLISHED_AUDIT
from cakupan.targets.published_file import remove_quietly, swap_and_record
from cakupan.targets.rollback import source, verified_copy

log = logging.getLogger("cakupan.targets.postgres.settle")

PROMOTES = "audit.promotes"
COLUMNS = ("run_id", "kind", "restores", "reason", "sha256", "promoted_at")


@dataclass(frozen=True)
class Promote:
    """One row of audit.promotes: a state the server made its published one."""

    run_id: str
    kind: str                     # publish | rollback
    restores: str | None          # a rollback: the run whose state it republished
    reason: str | None
    sha256: str | None            # a rollback: the kept file's sha256 (a publish's file is exported after)
    promoted_at: dt.datetime      # UTC, naive, the promoting process's clock (as history records are)


def note_promote(cur, run_id: str, kind: str = "publish", restores: str | None = None, reason: str | None = None,
                 sha256: str | None = None, when: dt.datetime | None = None) -> None:
    """Write the promote's row, inside the promote transaction (`promote_next(also=…)`)."""
    cur.execute(f"insert into {PROMOTES} ({', '.join(COLUMNS)}) values ({', '.join(['%s'] * len(COLUMNS))})",
                [run_id, kind, restores, reason, sha256, when or utc_now()])


def last_promote(con) -> Promote | None:
    """The server's last promote (None before the first one this version recorded); ends the transaction."""
    try:
        with con.cursor() as cur:
            cur.execute("select to_regclass(%s)", [PROMOTES])
            if cur.fetchone()[0] is None:
                return None
            cur.execute(f"select {', '.join(COLUMNS)} from {PROMOTES} order by promoted_at desc, seq desc limit 1")
            got = cur.fetchone()
    finally:
        con.rollback()
    return Promote(*got) if got else None


def in_step(settings: Settings, last: Promote, writer: bool = True) -> bool:
    """The published file is the last promote's state: a complete history record of its run from its promote on.
    A `writer` (holding the publish lock) waits for the history lock, so a killed writer's intended record is
    settled first; a reader's look needs no lock (a read-only history folder)."""
    if writer:
        with history.writing(settings):
            done = history.entries(settings)
    else:
        done = history.entries(settings)
    return any(e.run_id == last.run_id and e.published_at >= last.promoted_at for e in done)


def settle(settings: Settings, con) -> Entry | None:
    """Bring the published file to the server's last promote (see the module); hold the publish lock. Returns the
    history entry written, or None when the file was in step."""
    last = last_promote(con)
    if last is None or in_step(settings, last):
        return None
    log.warning("the published file is behind the server: %s %s was promoted at %s UTC but its process stopped "
                "before the published file was switched; bringing the file to the server's state",
                last.kind, last.run_id, f"{last.promoted_at:%Y-%m-%d %H:%M:%S}")
    candidate, how = _kept_state(settings, last), "the kept file"
    if candidate is None:
        candidate, how = export_published_to_duckdb(settings, settings.candidate_db(last.run_id)), "an export"
    try:
        kind = {"kind": "rollback", "restores": last.restores, "reason": last.reason} if last.kind == "rollback" \
            else {}
        done = swap_and_record(settings, candidate, last.run_id, now=last.promoted_at, **kind)
    finally:
        remove_quietly(candidate)
    loads, caused_by = _audit_publish(con, last, done), None
    if last.kind == "rollback":
        caused_by = f"rollback to {last.restores}: {last.reason}"
    try:   # the restatements' input, as the publish or rollback stores them (again: replaced)
        with open_records(settings, application_name="cakupan-settle") as records:
            record_figures(records, settings.published_db, last.run_id, last.promoted_at, loads, caused_by)
    except Exception as exc:  # noqa: BLE001 - the file is settled: a failure here is only logged
        log.error("settled, but the published figures were not recorded: %s", exc)
    log.warning("the published file now holds the state %s %s promoted (from %s, sha256 %s)", last.kind,
                last.run_id, how, done.sha256[:12])
    return done


def settle_first(settings: Settings, con) -> None:
    """`settle` at the start of a publish or rollback (holding the publish lock): a failure is logged, not raised,
    since the switch that follows brings the file to the server's state anyway (only the stopped one's history
    record is then missing)."""
    try:
        settle(settings, con)
    except Exception as exc:  # noqa: BLE001 - psycopg2's, DuckDB's and OS errors alike
        con.rollback()
        log.error("the published file could not be brought to the server's last promote: %s", exc)


def _kept_state(settings: Settings, last: Promote):
    """A rollback's kept file (or the same state rebuilt from the history store), copied and verified against the
    sha256 its promote named; None when it is gone or differs."""
    if last.kind != "rollback" or not last.sha256:
        return None
    kept = [e for e in history.entries(settings) if e.run_id == last.restores and e.readable]
    try:
        src = source(settings, kept[-1]) if kept else None
        if src is None or src.sha256 != last.sha256:
            return None
        return verified_copy(settings, src, last.run_id)[1]
    except HistoryError:
        return None


def _audit_publish(con, last: Promote, done: Entry) -> str:
    """The audit trail of the settled state: a publish's audit.publishes row (from the published audit schema, where
    the promote put it) with the published sha256, its publish_history, and the promote's settled_at. Returns the
    state's input loads."""
    with con.cursor() as cur:
        cur.execute("select input_loads from audit.publishes where run_id = %s and status = 'rolled_back' "
                    "order by published_at desc limit 1", [last.run_id])
        got = cur.fetchone()
        loads = got[0] if got else ""
        if last.kind == "publish":
            cols = [f.name for f in dataclasses.fields(PublishRecord)]
            cur.execute(f"select {', '.join(cols)} from {PUBLISHED_AUDIT}.publishes where run_id = %s and "
                        "status = 'published' order by published_at desc limit 1", [last.run_id])
            row = cur.fetchone()
            if row:
                rec = PublishRecord(*row)
                loads = rec.input_loads or ""
                cur.execute("delete from audit.publishes where run_id = %s and status = 'published'", [last.run_id])
                insert_publish_record(cur, dataclasses.replace(
                    rec, published_sha256=done.sha256, message=f"{rec.message}; the published file was exported at "
                    f"{utc_now():%Y-%m-%d %H:%M:%S} UTC by the next publish or history read (the publishing "
                    "process stopped after its promote)"), "audit.publishes", "%s")
        cur.execute(f"update {PROMOTES} set settled_at = %s where run_id = %s and promoted_at = %s",
                    [utc_now(), last.run_id, last.promoted_at])
    con.commit()
    if last.kind == "publish":
        try:
            keep_published_state(con, last.run_id, done.sha256, last.promoted_at)
        except Exception as exc:  # noqa: BLE001 - as a publish: published already, only logged
            con.rollback()
            log.error("settled, but publish_history could not be written: %s", exc)
    return loads


def settle_for_read(settings: Settings) -> None:
    """Before a history read on PostgreSQL: settle when the file is behind and no publisher is at work (it would
    switch the file itself). A server that cannot be reached is not checked (the read goes on with the file, as
    offline); a file known to be behind that cannot be settled now is a warning."""
    try:
        con = connect(settings, application_name="cakupan-settle", connect_timeout=5)
    except PgError as exc:
        log.info("the published file was not checked against the PostgreSQL server: %s", exc)
        return
    with closing(con):
        try:
            last = last_promote(con)
            if last is None or in_step(settings, last, writer=False):
                return
            with publish_lock(settings, wait_s=0):
                settle(settings, con)
        except Exception as exc:  # noqa: BLE001 - psycopg2's, DuckDB's and OS errors alike: the read goes on
            log.warning("the published file is behind the PostgreSQL server's published state and was not settled "
                        "now (%s); the next publish or history read settles it", " ".join(str(exc).split())[:300])
