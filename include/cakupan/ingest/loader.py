"""Loading: a delivered file → raw rows + quarantined rows + one manifest row, atomically, nothing lost.

For every file: rows in = rows loaded + rows quarantined, asserted inside the load transaction. The `Loader` is the
only writer of the work warehouse; it holds a `Preparer` (read, check, validate: no database) for the files no
reader process prepared. A file is never modified or deleted; its bytes are read once (`inbox.read_delivery`) and
the SHA-256 recorded is theirs; the same bytes are loaded once per regency folder (a copy in another regency's
folder is judged by its content, not its hash); an interrupted load is detected and redone, a failed one is tried
again by the next ingest. A file's received time is when Cakupan first saw it (`audit.inbox_files`), never the
sender's modification time; an inbox file that changed less than the settle time ago waits for a later ingest.
A whole file and a big CSV written part by part go through the same completion path.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.core.contracts import SOURCES, Contract, reason, reasons
from cakupan.core.messages import Msg, language, text
from cakupan.core.settings import Settings
from cakupan.ingest import discover, parsing
from cakupan.ingest.inbox import (
    Delivery,
    FileChanging,
    Meta,
    folder_of,
    manifest_path,
    read_delivery,
    shown_name,
)
from cakupan.ingest.keys import check_key
from cakupan.ingest.prepare import Prepared, Preparer, Streamed, streamable
from cakupan.ingest.readers import Block, FileRejected, ReadResult
from cakupan.ingest.validate import (
    HAS_PROBLEM,
    PARTICIPANT_KEY,
    PERIOD,
    REGENCY,
    SHEET,
    SOURCE_ROW,
    UNSPLIT,
    Batch,
    FileFacts,
)
from cakupan.targets import for_settings
from cakupan.targets.base import RawWriter
from cakupan.targets.zones import raw_columns

log = logging.getLogger("cakupan.ingest.loader")


def _arrow_memory_pool() -> None:
    """Arrow allocates through jemalloc (as DuckDB does) unless ARROW_DEFAULT_MEMORY_POOL says otherwise.

    With pyarrow's default, mimalloc, a big load that started after the machine sat idle spent seconds of system
    time zeroing pages the hypervisor had taken back (BENCHMARKS.md).
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:     # a pyarrow built without jemalloc keeps its default
        pass


_arrow_memory_pool()

STREAM_READERS = 1          # reader threads (parts of a big CSV read and validated ahead of the writer)
STAGE_MAX_ROWS = 20_000     # batches up to this many rows are checked into a temp table first (see _insert)
# what a reader process gives the writer: the bytes' SHA-256 and stamp with what came of them (None: not read)
ReaderWork = tuple[Meta | None, "Prepared | BaseException | None"]


class LoadInvariantError(AssertionError):
    """rows in != rows loaded + rows quarantined: the load is rolled back."""


@dataclass
class LoadResult:
    """One manifest row, as printed by `cakupan ingest`."""

    load_id: int | None
    file: str
    source: str | None
    regency_code: str | None
    period: str | None
    status: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error_code: str | None = None
    error_message: str | None = None
    duplicate_of: int | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Load:
    """The file a load writes, and its manifest row."""

    path: Path
    rel: str                    # the path as the manifest records it (relative to the inbox)
    sha: str
    received: dt.datetime
    load_id: int


@dataclass
class _Written:
    """What a load's parts wrote, counted where it was written (the invariant is checked on these)."""

    blocks: list[Block] = field(default_factory=list)
    numbers: list[pa.Table] = field(default_factory=list)     # each part's money and count values (totals)
    periods: set[dt.date] = field(default_factory=set)
    loaded: int = 0
    any_quarantined: bool = False


class Loader:
    """Loads files into the target's raw zone through its writer (`targets.base.RawWriter`: the DuckDB work file,
    or PostgreSQL); one instance per writer connection. `con` runs the manifest SQL in the target, `stage` the
    vectorised SQL that shapes the rows."""

    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection | None = None, run_id: str | None = None):
        self.settings = settings
        self.preparer = Preparer(settings)
        self._writer(RawWriter(con) if con is not None else None)
        self.run_id = run_id or dt.datetime.now(dt.UTC).strftime("cli__%Y%m%dT%H%M%S")
        check_key(self.con, settings, self.run_id)      # another key than the warehouse's: refused, nothing written
        self.waiting: list[LoadResult] = []             # inbox files the last discovery left for a later ingest

    def _writer(self, writer: RawWriter | None = None) -> None:
        self.writer = writer or for_settings(self.settings).raw_writer()
        self.con, self.stage = self.writer.con, self.writer.stage
        self._session()

    def _session(self) -> None:
        """What every file's checks use, set up once per connection. On the embedded target, DuckDB's memory limit
        while loading (CAKUPAN_INGEST_MEMORY_LIMIT): a big load's written row groups are already on disk, and
        DuckDB's default (80 % of RAM) kept them cached too (BENCHMARKS.md "Memory")."""
        if self.stage is self.con:
            self.con.execute(f"set memory_limit = '{self.settings.ingest_memory_limit}'")
        self.stage.execute(f"set variable cakupan_reason_templates = {_templates_sql(language())}")  # once, not per file

    def reconnect(self) -> None:
        self._writer()

    # ---- discovery
    def pending_files(self) -> list[Path]:
        """Every entry of the configured regency folders not yet processed, in the order they were first seen
        (`discover.pending`); the files still changing are left in `self.waiting` for a later ingest."""
        pending, waiting = discover.pending(self.con, self.settings,
                                            [r.inbox for r in self.preparer.regencies.values()])
        self.waiting = [self._waiting(path, rel, why) for path, rel, why in waiting]
        for w in self.waiting:
            log.info("%s", w.error_message)
        self.writer.reserve([self._rel(p) for p in pending])   # load ids in this order, however they load
        return pending

    def _rel(self, path: Path) -> str:
        return manifest_path(path, self.settings.inbox)

    # ---- one file: the manifest
    def load(self, path: Path, prepared: ReaderWork | None = None) -> LoadResult:
        """Load one file: raw + quarantine + manifest in one transaction; file problems are recorded.

        `prepared` is what a reader process gave for the file (`run`): the SHA-256 and stamp of the bytes it read
        with what `Preparer.prepare` made of them (or raised), or (None, why it read nothing).
        """
        path = Path(path)
        rel = self._rel(path)
        if prepared is not None and prepared[0] is not None:
            return self._load(path, rel, prepared[0], prepared[1])
        if prepared is not None and isinstance(prepared[1], FileRejected | FileChanging):
            return self._not_read(path, rel, prepared[1])
        try:
            delivery = read_delivery(path, self.settings.inbox)
        except (FileRejected, FileChanging) as exc:
            return self._not_read(path, rel, exc)
        ahead, work = None, delivery
        if streamable(path, delivery.data):
            # a big CSV's header and lines are found while its SHA-256 is computed and the manifest consulted
            ahead = ThreadPoolExecutor(1, thread_name_prefix="cakupan-ahead")
            work = ahead.submit(self.preparer.prepare_stream, path, delivery.data)
        try:
            return self._load(path, rel, delivery.meta, work, delivery)
        finally:
            self.writer.release()
            if ahead is not None:
                ahead.shutdown(wait=False)

    def _load(self, path: Path, rel: str, meta: Meta, work, delivery: Delivery | None = None) -> LoadResult:
        received = discover.received_at(self.con, rel, meta)
        started = self._start(path, rel, meta.sha256, meta.stamp.size, received)
        if isinstance(started, LoadResult):
            return started
        load = _Load(path, rel, meta.sha256, received, started)
        try:
            return self._load_rows(load, work, delivery)
        except LoadInvariantError as exc:   # rolled back: the manifest says why, and the error stops the run
            self._invariant_broken(load, exc)
            raise
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - one file's failure (even a native panic) never stops the others
            return self._reject(load, exc)

    def _start(self, path: Path, rel: str, sha: str, size: int, received: dt.datetime) -> LoadResult | int:
        """Record the start of a load (outside the load's transaction: a killed load stays 'started'); or say the
        file was processed already (same path and bytes, not failed) or is a duplicate of a file loaded from the
        same regency folder (same bytes)."""
        con = self.con
        self.writer.claim(sha)    # concurrent writers: one load of these bytes at a time, until `load` returns
        prior = con.execute("select load_id, status, source_file from audit.loads where file_sha256 = ? "
                            "and status not in ('interrupted') order by load_id", [sha]).fetchall()
        for load_id, status, src in prior:
            if status == "started":   # a killed process: its transaction never committed, but be sure
                self._remove_rows(load_id)
                con.execute("update audit.loads set status = 'interrupted', finished_at = now(), error_code = "
                            "'LOAD_INTERRUPTED', error_message = ? where load_id = ?",
                            [f"{shown_name(Path(src).name)}: " + reason("LOAD_INTERRUPTED").message, load_id])
        prior = [p for p in prior if p[1] not in ("started", "failed")]
        same_path = [p for p in prior if p[2] == rel]
        if same_path:
            return LoadResult(same_path[0][0], rel, None, None, None, "already_processed")
        load_id = self.writer.load_id(rel)
        con.execute(
            "insert into audit.loads (load_id, run_id, source_file, file_name, file_sha256, file_size, received_at, "
            "started_at, status) values (?, ?, ?, ?, ?, ?, ?, now(), 'started')",
            [load_id, self.run_id, rel, shown_name(path.name), sha, size, received])
        loaded_prior = [p for p in prior if p[1] == "loaded" and folder_of(p[2]) == folder_of(rel)]
        if not loaded_prior:
            # the same bytes already rejected from this folder: a duplicate delivery, not a new one (they would
            # only be rejected again); a file rejected for a passing reason (still changing, unreadable) is not,
            # nor an empty file (every empty file has the same bytes, and "empty" says more than "duplicate")
            rejected_prior = con.execute(
                "select load_id, source_file, error_code from audit.loads where file_sha256 = ? and status = "
                "'rejected' and error_code not in ('FILE_CHANGING', 'FILE_UNREADABLE', 'FILE_EMPTY') order by load_id",
                [sha]).fetchall()
            rejected_prior = [p for p in rejected_prior if folder_of(p[1]) == folder_of(rel)]
            if not rejected_prior:
                return load_id
            dup, first, code = rejected_prior[0]
            msg = f"{shown_name(path.name)}: {reason('DUPLICATE_FILE').message} " + text(
                "error.ingest.duplicate_rejected", load=dup, first=first, code=code)
            return self._mark_duplicate(load_id, rel, dup, msg)
        dup = loaded_prior[0][0]
        msg = f"{shown_name(path.name)}: {reason('DUPLICATE_FILE').message} " + text(
            "error.ingest.duplicate_loaded", load=dup, first=loaded_prior[0][2])
        return self._mark_duplicate(load_id, rel, dup, msg)

    def _mark_duplicate(self, load_id: int, rel: str, dup: int, msg: str) -> LoadResult:
        con = self.con
        con.execute("update audit.loads set status = 'duplicate', finished_at = now(), rows_in = 0, "
                    "rows_loaded = 0, rows_quarantined = 0, error_code = 'DUPLICATE_FILE', error_message = ?, "
                    "duplicate_of = ? where load_id = ?", [msg, dup, load_id])
        log.info("%s: duplicate of load %s", rel, dup)
        return LoadResult(load_id, rel, None, None, None, "duplicate", error_code="DUPLICATE_FILE",
                          error_message=msg, duplicate_of=dup)

    def _reject(self, load: _Load, exc: BaseException) -> LoadResult:
        """Record a file-level rejection (or an internal error) on the load's manifest row."""
        status = "rejected"
        if not isinstance(exc, FileRejected):
            log.exception("internal error loading %s", load.rel)
            status = "failed"
            exc = FileRejected("INTERNAL_ERROR", Msg("error.ingest.library", kind=type(exc).__name__, error=str(exc)[:300]))
        msg = f"{shown_name(load.path.name)}: {reason(exc.code).render(exc.column, exc.value)}" + (
            f" — {exc.detail}" if exc.detail else "")
        self.con.execute("update audit.loads set status = ?, finished_at = now(), rows_in = 0, rows_loaded = 0, "
                         "rows_quarantined = 0, error_code = ?, error_message = ? where load_id = ?",
                         [status, exc.code, msg, load.load_id])
        log.warning("%s %s", status, msg)
        return LoadResult(load.load_id, load.rel, None, None, None, status, error_code=exc.code, error_message=msg)

    def _invariant_broken(self, load: _Load, exc: LoadInvariantError) -> None:
        """Record on the manifest row that rows in != loaded + quarantined (a bug: nothing of the file was kept)."""
        msg = f"{load.path.name}: {reason('LOAD_INVARIANT').message} ({exc})"
        self.con.execute("update audit.loads set status = 'failed', finished_at = now(), rows_in = 0, rows_loaded = 0, "
                         "rows_quarantined = 0, error_code = 'LOAD_INVARIANT', error_message = ? where load_id = ?",
                         [msg, load.load_id])
        log.error("%s", msg)

    def _not_read(self, path: Path, rel: str, exc: FileRejected | FileChanging) -> LoadResult:
        """A file whose bytes were not read: it changed while being read (it waits, nothing is recorded), or it
        is refused unopened — a link out of the inbox, not a regular file, not readable: recorded once, with an
        empty SHA-256."""
        if isinstance(exc, FileChanging):
            return self._waiting(path, rel, str(exc))
        prior = self.con.execute("select load_id from audit.loads where source_file = ? and file_sha256 = '' "
                                 "and error_code = ?", [rel, exc.code]).fetchone()
        if prior:
            return LoadResult(prior[0], rel, None, None, None, "already_processed")
        msg = f"{shown_name(path.name)}: {reason(exc.code).message}" + (f" — {exc.detail}" if exc.detail else "")
        load_id = self.con.execute("select nextval('audit.load_id_seq')").fetchone()[0]
        self.con.execute(
            "insert into audit.loads (load_id, run_id, source_file, file_name, file_sha256, started_at, finished_at, "
            "status, rows_in, rows_loaded, rows_quarantined, error_code, error_message) "
            "values (?, ?, ?, ?, '', now(), now(), 'rejected', 0, 0, 0, ?, ?)",
            [load_id, self.run_id, rel, shown_name(path.name), exc.code, msg])
        log.warning("rejected %s", msg)
        return LoadResult(load_id, rel, None, None, None, "rejected", error_code=exc.code, error_message=msg)

    def _waiting(self, path: Path, rel: str, why: str) -> LoadResult:
        """A file left for a later ingest because it is (or was just) changing: not a load, not recorded."""
        msg = f"{shown_name(path.name)}: {reason('FILE_CHANGING').message} ({why})"
        return LoadResult(None, rel, None, None, None, "waiting", error_code="FILE_CHANGING", error_message=msg)

    def _remove_rows(self, load_id: int) -> None:
        """Delete whatever rows a load left in raw, quarantine and findings."""
        for source in SOURCES:
            self.con.execute(f"delete from raw.{source} where load_id = ?", [load_id])
        self.con.execute("delete from quarantine.rows where load_id = ?", [load_id])
        self.con.execute("delete from audit.load_findings where load_id = ?", [load_id])

    # ---- one file: the rows, in one transaction
    def _load_rows(self, load: _Load, work: Delivery | Prepared | Future | BaseException,
                   delivery: Delivery | None) -> LoadResult:
        """Write the file whole (its bytes as read, prepared here or by a reader process), or a big CSV part by
        part."""
        if isinstance(work, Future):             # prepare_stream of a big CSV, started as the load began
            pa.scalar("")     # meanwhile: pyarrow's first conversion of a Python value imports pandas (0.1 s)
            streamed, work = work.result(), delivery
            if streamed is not None:
                if delivery is not None:
                    delivery.drop_bytes()
                return self._write_streamed(streamed, load)
        if isinstance(work, BaseException):      # what a reader process met, raised here as if met here
            raise work
        prep = work if isinstance(work, Prepared) else self.preparer.prepare(load.path, work.data)
        return self._write(load, prep.facts, [(prep.result.blocks, prep.batch)], lambda _: prep.result)

    def _write_streamed(self, st: Streamed, load: _Load) -> LoadResult:
        """Load a big CSV part by part in one transaction: reader threads read and validate the next parts while
        this one writes the current (DuckDB and Arrow release the GIL)."""
        with closing(self._parts_ahead(st)) as parts:
            return self._write(load, st.facts, parts, st.result)

    def _parts_ahead(self, st: Streamed) -> Iterator[tuple[list[Block], Batch]]:
        """Each part of a big CSV, read and validated ahead of the writer (the next one while one is written)."""
        def validated(read: Callable[[], Block]) -> tuple[list[Block], Batch]:
            block = read()
            batch = self.preparer.validate([block], st.facts)
            self.preparer.check_nik_regions(batch, st.facts)
            # the writer keeps every part's block until the load completes, for its row numbers and totals only:
            # the cells (the part's text, ~all of a 1M-row file's size once more) are dropped once validated
            return [replace(block, cells={}, extra_cells={})], batch

        # The next part is submitted before this one is handed over, so a reader works while the writer writes,
        # and no finished part waits in memory beside the one being written and the one being read.
        with ThreadPoolExecutor(STREAM_READERS) as pool:
            ahead = [pool.submit(validated, read) for read in st.parts[:STREAM_READERS]]
            pending = list(st.parts[STREAM_READERS:])
            while ahead:
                done = ahead.pop(0)
                if pending:
                    ahead.append(pool.submit(validated, pending.pop(0)))
                yield done.result()

    def _write(self, load: _Load, facts: FileFacts, parts: Iterable[tuple[list[Block], Batch]],
               read: Callable[[list[Block]], ReadResult]) -> LoadResult:
        """Insert every part's valid rows into raw.<source> and the others into quarantine.rows, then complete the
        load, all in one transaction. `read` gives the file as read from the blocks written."""
        contract = facts.contract
        numeric = [c.name for c in contract.columns if c.type in ("money", "count")]
        written = _Written()
        try:
            self.con.execute("begin transaction")
            for blocks, batch in parts:
                loaded = self._insert(batch, contract, load)
                written.loaded += loaded
                written.any_quarantined |= loaded < batch.num_rows
                written.blocks += blocks
                written.numbers.append(batch.values(numeric))
                written.periods |= batch.periods()
                del batch
            return self._complete(read(written.blocks), facts, written, load)
        except BaseException:
            self._rollback()
            raise

    def _complete(self, result: ReadResult, facts: FileFacts, written: _Written, load: _Load) -> LoadResult:
        """After the rows are written: assert rows in = loaded + quarantined, record the total-row and sheet
        findings, mark the load loaded and commit."""
        contract, rows_in = facts.contract, result.rows_in
        reasons_count = self._reasons(load.load_id) if written.any_quarantined else {}
        quarantined = sum(reasons_count.values())
        if written.loaded + quarantined != rows_in:
            raise LoadInvariantError(Msg("error.ingest.invariant", file=load.rel, rows_in=rows_in,
                                         loaded=written.loaded, quarantined=quarantined))
        period = None
        if written.loaded and len(written.periods) == 1:
            period = self.con.execute(f"select max(period) from raw.{contract.source} where load_id = ?",
                                      [load.load_id]).fetchone()[0]
        self._check_totals(result.blocks, pa.concat_tables(written.numbers), load.load_id)
        self._sheet_findings(result, load.load_id)
        self.con.execute(
            "update audit.loads set status = 'loaded', finished_at = now(), source = ?, regency_code = ?, period = ?, "
            "rows_in = ?, rows_loaded = ?, rows_quarantined = ?, notes_skipped = ?, encoding = ?, delimiter = ?, "
            "sheets = ? where load_id = ?",
            [contract.source, facts.regency, period, rows_in, written.loaded, quarantined,
             sum(b.notes_skipped for b in result.blocks), result.encoding, result.delimiter,
             ",".join(b.sheet for b in result.blocks if b.sheet), load.load_id])
        self.con.execute("commit")
        return LoadResult(load.load_id, load.rel, contract.source, facts.regency,
                          period.isoformat()[:7] if period else None, "loaded", rows_in, written.loaded, quarantined,
                          reasons=reasons_count)

    def _reasons(self, load_id: int) -> dict[str, int]:
        """The quarantined rows of a load, counted by reason where they were written."""
        return dict(self.con.execute("select reason_code, count(*) from quarantine.rows where load_id = ? "
                                     "group by reason_code", [load_id]).fetchall())

    def _rollback(self) -> None:
        try:
            self.con.execute("rollback")
        except duckdb.TransactionException:
            pass  # the failure came before the transaction opened

    def _insert(self, batch: Batch, contract: Contract, load: _Load) -> int:
        """Insert the batch's valid rows into raw.<source> and the others into quarantine.rows (in the open
        transaction); return the rows loaded. Each row's problems and its quarantine message (file, sheet, row and
        every reason in words) are computed by DuckDB (the writer's stage), not row by row in Python."""
        con = self.stage
        # DuckDB reads `incoming` from this frame's local (a replacement scan). Not `con.register`: a registered
        # view dropped inside the open load transaction keeps its Arrow table alive until the commit, so a big CSV
        # held every part it had written (~0.4 GB of a 1M-row file; BENCHMARKS.md "Memory").
        incoming = batch.table  # noqa: F841
        staged = f"(select *, {_raw_cells_sql(batch)} as raw_cells from incoming)"
        # A big batch is inserted straight from this query (materialising every column once more cost more than
        # the work saved); a small one is staged in a temp table once, because planning the query twice (raw
        # insert, quarantine insert) costs more than running it.
        if batch.num_rows <= STAGE_MAX_ROWS:
            con.execute(f"create or replace temp table staged as select * from {staged}")
            staged = "staged"
        lineage = {"load_id": f"{load.load_id}", "source_file": "$rel", "file_sha256": "$sha",
                   "received_at": "$received", "period": _q(PERIOD), "participant_key": _q(PARTICIPANT_KEY),
                   "raw_cells": "raw_cells", "sheet": _q(SHEET), "source_row": _q(SOURCE_ROW),
                   "regency_code": _q(REGENCY)}
        cols = raw_columns(contract)
        select = [lineage.get(c) or _q(batch.columns[c].value) for c in cols]
        # what was written, counted where it was written (the loader's invariant is checked on these)
        loaded = con.execute(f"insert into raw.{contract.source} ({', '.join(cols)}) select {', '.join(select)} "
                             f"from {staged} where not {_q(HAS_PROBLEM)}",
                             {"rel": load.rel, "sha": load.sha, "received": load.received}).fetchone()[0]
        if loaded < batch.num_rows:
            self._quarantine(staged, batch, contract, load)
        return self.writer.flush(contract.source, load.load_id, loaded)

    def _quarantine(self, staged: str, batch: Batch, contract: Contract, load: _Load) -> None:
        """Insert the staged rows that have a problem into quarantine.rows: every problem of the row (the first
        is its reason), and a message naming the file, sheet, row and each reason in words.

        Two messages: `message` quotes the cells as delivered (the regency's own, it stays in the raw zone);
        `public_message`, the one published and reported, quotes no personal column (a NIK, a name, a birth date, a
        KPJ, or a whole unsplit row of a source holding them) and no long digit run, whichever column holds it."""
        incoming = batch.table  # noqa: F841   (read by DuckDB in `staged`: see _insert)
        personal = _personal_labels(contract)
        items = ", ".join(f"{{'column': {_sql_str(c.label)}, 'code': {_q(c.error)}, "
                          f"'value': {_q(c.shown) if c.shown else 'null'}::varchar, "
                          f"'personal': {'true' if c.label in personal else 'false'}}}" for c in batch.checks)
        shown = "case when length(p.value) > 60 then left(p.value, 57) || '...' else coalesce(p.value, '') end"
        # the NIK as normalised stays beside the row in the raw zone (a re-key recomputes the pseudonym from it)
        nik = _q(batch.columns["nik"].value) if "nik" in batch.columns else "null"
        public = (f"case when p.personal then {_sql_str(text('word.personal_not_shown'))} else regexp_replace("
                  f"{shown}, '{LONG_DIGITS_RE2}', {_sql_str(text('word.long_number'))}, 'g') end")
        template = "replace(getvariable('cakupan_reason_templates')[p.code], '{column}', p.column)"
        sheet, row = (_sql_str(f", {text(k)} ") for k in ("word.sheet", "word.row"))
        where = f"{sheet} || coalesce(nullif({_q(SHEET)}, ''), '-') || {row} || {_q(SOURCE_ROW)} || ': '"
        self.stage.execute(f"""
            insert into quarantine.rows (load_id, source, source_file, file_sha256, sheet, source_row, regency_code,
                                         reason_code, column_name, message, reasons, participant_key, raw_cells,
                                         nik, public_message)
            with q as (
                select *, list_filter([{items}], lambda x: x.code is not null) as problem_list
                from {staged} where {_q(HAS_PROBLEM)}
            )
            select {load.load_id}, $source, $rel, $sha, {_q(SHEET)}, {_q(SOURCE_ROW)}, {_q(REGENCY)},
                   problem_list[1].code, problem_list[1].column,
                   $name || {where} || array_to_string(list_transform(problem_list,
                       lambda p: replace({template}, '{{value}}', {shown})), '; '),
                   to_json(list_transform(problem_list, lambda p: {{'column': p.column, 'code': p.code,
                                                                    'value': {public}}})),
                   {_q(PARTICIPANT_KEY)}, raw_cells, {nik},
                   $rel || {where} || array_to_string(list_transform(problem_list,
                       lambda p: replace({template}, '{{value}}', {public})), '; ')
            from q
        """, {"source": contract.source, "rel": load.rel, "sha": load.sha, "name": shown_name(Path(load.rel).name)})

    def _check_totals(self, blocks: list[Block], numbers: pa.Table, load_id: int) -> None:
        """Compare each total row's numbers with the sum of the rows above it; a mismatch is a finding.

        A total row may close the whole sheet (TOTAL / JUMLAH) or only the rows since the previous total (a
        sub-total per village); it agrees if it matches either sum. Quarantined rows count: the clerk's total
        covers every row they typed.
        """
        offset = 0
        for b in blocks:
            previous = 0
            for row_no, above, cells in b.total_rows:
                for col in numbers.column_names:
                    stated = _stated_number(cells.get(col))
                    if stated is None:
                        continue
                    values = numbers[col]
                    whole = pc.sum(values.slice(offset, above)).as_py() or 0
                    part = pc.sum(values.slice(offset + previous, above - previous)).as_py() or 0
                    if min(abs(float(stated) - float(whole)), abs(float(stated) - float(part))) > 0.005:
                        where = (f"{text('word.sheet')} {b.sheet}, " if b.sheet else "") + f"{text('word.row')} {row_no}"
                        self.con.execute(
                            "insert into audit.load_findings values (?, 'TOTAL_MISMATCH', ?, ?, ?, ?)",
                            [load_id, col, float(stated), float(whole),
                             text("load.total_mismatch", where=where, stated=stated, column=col, sum=_plain(whole))])
                previous = above
            offset += b.n_rows

    def _sheet_findings(self, result: ReadResult, load_id: int) -> None:
        """Record every sheet that has content but no recognisable header (it was not read), and, once per file,
        the columns the contract does not know (kept in raw_cells only)."""
        if note := result.extra_columns_note(shown_name(result.path.name)):
            self.con.execute("insert into audit.load_findings values (?, 'EXTRA_COLUMNS', null, null, null, ?)",
                             [load_id, note])
        for name in result.sheets_without_header:
            self.con.execute(
                "insert into audit.load_findings values (?, 'SHEET_NO_HEADER', null, null, null, ?)",
                [load_id, f"{text('word.sheet')} {name}: {reason('SHEET_NO_HEADER').message}"])


def _stated_number(cell: object):
    """The number a total row's cell states, or None (blank, or not a number)."""
    if cell is None or cell == "":
        return None
    try:
        return parsing.parse_number(cell)
    except parsing.ParseError:
        return None


def _raw_cells_sql(batch: Batch) -> str:
    """SQL: JSON of every mapped cell of a row as delivered, keyed by its header as written (per sheet)."""
    def one(labels: list[tuple[str, str]]) -> str:
        return "json_object(" + ", ".join(f"{_sql_str(k)}, {_q(col)}" for k, col in labels) + ")"

    per_sheet = batch.cell_labels
    cells = (one(next(iter(per_sheet.values()))) if len(per_sheet) == 1 else
             f"case {_q(SHEET)} " + " ".join(f"when {_sql_str(s)} then {one(labels)}"
                                            for s, labels in per_sheet.items()) + " end")
    if not batch.any_unsplit:
        return cells
    return f"case when {_q(UNSPLIT)} is not null then json_object('(row as delivered)', {_q(UNSPLIT)}) else {cells} end"


# a run of 12 or more digits, single spaces, dots or hyphens between them allowed (a NIK, a KPJ, a phone number
# typed into another column): RE2, for DuckDB's regexp_replace
LONG_DIGITS_RE2 = "[0-9](?:[ .-]?[0-9]){11,}"


def _personal_labels(contract: Contract) -> set[str]:
    """The check labels whose quoted value is personal data: the contract's personal columns, and the whole row
    as delivered ("(row)") of a source that holds any."""
    labels = {c.name for c in contract.columns if c.personal}
    return labels | {"(row)"} if labels else labels


@functools.cache
def _templates_sql(lang: str) -> str:
    """SQL: a MAP from every registered reason code to its message template in the language."""
    return "MAP {" + ", ".join(f"{_sql_str(code)}: {_sql_str(r.template(lang))}" for code, r in reasons().items()) + "}"


def _sql_str(text: str) -> str:
    """Quote a text as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _q(name: str) -> str:
    """Quote a column name as an SQL identifier (batch columns are named 'text:nik', 'error:nik/kpj', ...)."""
    return '"' + name.replace('"', '""') + '"'


def _plain(x: float) -> str:
    """Render a sum without a spurious fraction."""
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"
