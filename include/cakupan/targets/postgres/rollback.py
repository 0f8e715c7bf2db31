"""Rollback on the PostgreSQL target: `published` and `published_audit` become an earlier publish's state again.

The state is the published file that publish exported (kept in `published/history/`, verified by its sha256, or
rebuilt from the history's changed-rows store and checked against its digests: `targets.rollback.source`): its
`marts` and `audit` tables are loaded into published_next / published_audit_next, then promoted exactly as a
publish promotes them (`publish.promote_next`: one transaction; rows replaced under MVCC, or the whole schema
switched for a model change), so a BI reader sees the old state or the restored one, never a mix. The same
transaction writes the rollback's row in audit.publishes (with the reason) and its coverage in publish_history.
Then the stored file itself, byte for byte, becomes the published file (record, then rename: `targets.history`),
and the restated figures are stored in the server's audit.published_figures. A process killed between the promote
and the rename leaves the server restored and the file behind: `settle` finishes the rename at the next publish,
rollback or history read.
"""

from __future__ import annotations

import logging
import tempfile
from contextlib import closing
from pathlib import Path

import duckdb

from cakupan.core.messages import Msg
from cakupan.core.settings import Settings
from cakupan.targets.base import insert_publish_record
from cakupan.targets.history import Entry, utc_now
from cakupan.targets.postgres.docs import model_docs
from cakupan.targets.postgres.export import _duck_type
from cakupan.targets.postgres.history import append_state, grant_history, record_figures
from cakupan.targets.postgres.params import PgError, connect, q, qt
from cakupan.targets.postgres.publish import AUDIT_NEXT, NEXT, apply_docs, promote_next, publish_lock
from cakupan.targets.postgres.records import open_records
from cakupan.targets.postgres.settle import note_promote, settle_first
from cakupan.targets.postgres.zones import PUBLISHED, PUBLISHED_AUDIT, ensure_bi_role
from cakupan.targets.published_file import remove_quietly, swap_and_record
from cakupan.targets.rollback import restorable, rollback_record, verified_copy

log = logging.getLogger("cakupan.targets.postgres.rollback")

DUCK_TO_PG = {
    "BOOLEAN": "boolean", "TINYINT": "smallint", "SMALLINT": "smallint", "INTEGER": "integer", "BIGINT": "bigint",
    "HUGEINT": "numeric", "FLOAT": "real", "DOUBLE": "double precision", "VARCHAR": "varchar", "DATE": "date",
    "TIMESTAMP": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz", "JSON": "jsonb", "UUID": "uuid",
    "TIME": "time", "INTERVAL": "interval",
}
SAME = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}     # the export's spelling of DuckDB's type names


def _pg_type(duck_type: str) -> str:
    if duck_type.startswith("DECIMAL"):
        return duck_type.replace("DECIMAL", "numeric")
    return DUCK_TO_PG.get(duck_type, "varchar")


def _live_types(cur, schema: str, table: str) -> list[tuple[str, str]]:
    """A live table's columns with the DuckDB type its export has (what the kept file holds for it)."""
    cur.execute("select column_name, data_type, numeric_precision, numeric_scale from information_schema.columns "
                "where table_schema = %s and table_name = %s order by ordinal_position", [schema, table])
    out = []
    for c, ty, p, s in cur.fetchall():
        d = _duck_type(ty, p, s)
        out.append((c, SAME.get(d, d)))
    return out


def restore_next(con, state: Path) -> dict[str, int]:
    """Fill published_next and published_audit_next with the tables of a kept published file (its `marts` and
    `audit` schemas). A table whose columns and types are the live one's gets the live types (the promote then
    replaces rows); any other is created from the file's types (a model change: the promote switches the schema).
    Commits; returns the rows per table, checked against the file."""
    docs = model_docs()
    rows: dict[str, int] = {}
    with con.cursor() as cur, closing(duckdb.connect(str(state), read_only=True)) as duck, \
            tempfile.TemporaryDirectory(prefix="cakupan-rollback-") as tdir:
        for nxt in (NEXT, AUDIT_NEXT):
            cur.execute(f"drop schema if exists {q(nxt)} cascade")
            cur.execute(f"create schema {q(nxt)}")
        for src, live, nxt in (("marts", PUBLISHED, NEXT), ("audit", PUBLISHED_AUDIT, AUDIT_NEXT)):
            names = [t for (t,) in duck.execute(
                "select table_name from information_schema.tables where table_catalog = current_database() "
                "and table_schema = ? order by 1", [src]).fetchall()]
            if not names:
                raise PgError(Msg("error.pg.rollback_no_tables", state=state.name, schema=src))
            for t in names:
                cols = [(c, SAME.get(ty, ty)) for c, ty in duck.execute(
                    "select column_name, data_type from information_schema.columns where table_catalog = "
                    "current_database() and table_schema = ? and table_name = ? order by ordinal_position",
                    [src, t]).fetchall()]
                if _live_types(cur, live, t) == cols:
                    cur.execute(f"create table {qt(nxt, t)} (like {qt(live, t)})")
                else:
                    cur.execute(f"create table {qt(nxt, t)} (" + ", ".join(f"{q(c)} {_pg_type(ty)}" for c, ty in cols)
                                + ")")
                if src == "marts":
                    apply_docs(cur, nxt, t, docs.get(t))
                csv = Path(tdir) / f"{src}.{t}.csv"
                duck.execute(f"copy (select * from {src}.\"{t}\") to '{csv}' (format csv, header false)")
                with open(csv, "rb") as fh:
                    cur.copy_expert(f"copy {qt(nxt, t)} from stdin with (format csv)", fh)
                csv.unlink()
                want = duck.execute(f'select count(*) from {src}."{t}"').fetchone()[0]
                cur.execute(f"select count(*) from {qt(nxt, t)}")
                rows[f"{src}.{t}"] = got = cur.fetchone()[0]
                if got != want:
                    raise PgError(Msg("error.pg.rollback_rows", table=f"{src}.{t}", state=state.name, got=got,
                                      want=want))
    con.commit()
    return rows


def rollback(settings: Settings, run_id: str, reason: str) -> Entry:
    """Republish the state `run_id` published on the PostgreSQL target (see the module); returns the history entry.
    Any failure before the promote leaves `published` and the published file unchanged."""
    src = restorable(settings, run_id, reason)
    reason = reason.strip()
    rb_id, candidate = verified_copy(settings, src)
    try:
        with publish_lock(settings), closing(connect(settings, application_name="cakupan-rollback")) as con:
            settle_first(settings, con)     # a killed publish or rollback before this one: its file first
            ensure_bi_role(con)
            restore_next(con, candidate)
            rec = rollback_record(rb_id, utc_now(), src, reason)

            def audit_rows(cur) -> None:    # in the promote's transaction: recorded exactly when it is published
                insert_publish_record(cur, rec, "audit.publishes", "%s")
                append_state(cur, rb_id, src.sha256, rec.published_at)
                note_promote(cur, rb_id, "rollback", run_id, reason, src.sha256, rec.published_at)

            promote_next(con, also=audit_rows)
            grant_history(con)
            done = swap_and_record(settings, candidate, rb_id, kind="rollback", restores=run_id, reason=reason)
    finally:
        remove_quietly(candidate)
    try:
        with open_records(settings, application_name="cakupan-rollback") as records:
            record_figures(records, settings.published_db, rb_id, rec.published_at, rec.input_loads,
                           caused_by=f"rollback to {run_id}: {reason}")
    except Exception as exc:  # noqa: BLE001 - rolled back already: a failure here is only logged
        log.error("rolled back, but the restated figures were not recorded: %s", exc)
    return done

