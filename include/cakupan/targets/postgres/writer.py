"""The loader's writer on PostgreSQL: the raw zone, quarantine and manifest live in the server only.

Each file is read and validated in-process exactly as on DuckDB (the same `Loader`, the same vectorised SQL): the
loader shapes a part's raw and quarantine rows in an in-memory DuckDB (the stage), and `flush` COPYs them into
PostgreSQL inside the load's own transaction, where the loader then counts what PostgreSQL holds and checks rows in
= loaded + quarantined before it commits. No copy of the raw zone exists anywhere else, so none can drift.

Several processes may load at once (Airflow workers): PostgreSQL's own locking keeps one manifest row per file
(a session advisory lock on the file's bytes, held from the manifest check to the end of the load), load ids come
from the sequence, taken at discovery in delivery order (`reserve`) so that the domain's tie-break (received time,
then load id) does not depend on which worker finished first.
"""

from __future__ import annotations

from collections.abc import Sequence

from cakupan.core.contracts import all_contracts
from cakupan.core.settings import Settings
from cakupan.targets.base import RawWriter
from cakupan.targets.postgres.derived import copy_rows, duck_tables
from cakupan.targets.postgres.records import open_records
from cakupan.targets.zones import AUDIT_DDL, raw_table_ddl

FILE_LOCK = 0x43414B56     # pg_advisory_lock(FILE_LOCK, hashtext(sha256)): one load of the same bytes at a time


def _stage():
    """An in-memory DuckDB with the raw and quarantine tables of the work file (what the loader's SQL writes)."""
    import duckdb

    stage = duckdb.connect(":memory:")
    stage.execute(AUDIT_DDL)
    for contract in all_contracts().values():
        stage.execute(raw_table_ddl(contract))
    return stage


class PgRawWriter(RawWriter):
    """Manifest SQL in PostgreSQL (`records.Records`), rows staged in DuckDB and COPYed in (see the module)."""

    def __init__(self, settings: Settings):
        records = open_records(settings, application_name="cakupan-load")
        try:
            stage = _stage()
        except BaseException:
            records.close()
            raise
        records._also.append(stage.close)
        super().__init__(records, stage)
        self.pg = records.pg
        self._claimed: str | None = None
        self._tables = {(s, t): cols for s, t, cols in duck_tables(stage, ("raw", "quarantine"))}

    def claim(self, sha: str) -> None:
        self.release()
        with self.pg.cursor() as cur:
            cur.execute("select pg_advisory_lock(%s, hashtext(%s))", [FILE_LOCK, sha])
        self._claimed = sha

    def release(self) -> None:
        if self._claimed is None:
            return
        sha, self._claimed = self._claimed, None
        import psycopg2

        try:
            with self.pg.cursor() as cur:
                cur.execute("select pg_advisory_unlock(%s, hashtext(%s))", [FILE_LOCK, sha])
        except psycopg2.Error:  # an aborted transaction or a lost connection: the session's end releases it
            pass

    def reserve(self, rels: Sequence[str]) -> None:
        if not rels:
            return
        with self.pg.cursor() as cur:
            cur.execute("select nextval('audit.load_id_seq') from generate_series(1, %s)", [len(rels)])
            ids = sorted(i for (i,) in cur.fetchall())
            cur.execute("begin")
            try:
                cur.execute("delete from audit.load_reservations where source_file = any(%s)", [list(rels)])
                cur.execute("insert into audit.load_reservations (source_file, load_id) "
                            "select * from unnest(%s::varchar[], %s::bigint[])", [list(rels), ids])
                cur.execute("commit")
            except BaseException:
                cur.execute("rollback")
                raise

    def load_id(self, rel: str) -> int:
        with self.pg.cursor() as cur:
            cur.execute("delete from audit.load_reservations where source_file = %s returning load_id", [rel])
            row = cur.fetchone()
            if row:
                return row[0]
        return super().load_id(rel)

    def flush(self, source: str, load_id: int, staged: int) -> int:
        """COPY the load's staged raw and quarantine rows into PostgreSQL (the open load transaction), then empty
        the stage; return the raw rows PostgreSQL copied."""
        where = f"where load_id = {int(load_id)}"
        with self.pg.cursor() as cur:
            loaded = copy_rows(self.stage, cur, f"raw.{source}", self._tables[("raw", source)], where)
            copy_rows(self.stage, cur, "quarantine.rows", self._tables[("quarantine", "rows")], where)
        # recreated, not deleted from: a big CSV's parts leave nothing behind in memory
        self.stage.execute(f"drop table raw.{source}; drop table quarantine.rows")
        self.stage.execute(raw_table_ddl(all_contracts()[source]))
        self.stage.execute(AUDIT_DDL)
        return loaded
