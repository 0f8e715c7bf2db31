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
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.core.contracts import SOURCES, Contract, reason
from cakupan.core.messages import Msg, language, text
from cakupan.core.settings import Settings
from cakupan.ingest import discover, parsing
from cakupan.ingest.inbox import (
    Delivery,
    FileChanging,
    Meta,
    folder_of,
    manifest_path,
    part_rereader,
    read_delivery,
    shown_name,
)
from cakupan.ingest.keys import check_key
from cakupan.ingest.prepare import Prepared, Preparer, Streamed, nik_regions, streamable
from cakupan.ingest.readers import Block, FileRejected, ReadResult
from cakupan.ingest.stage_sql import file_refs, quarantine_sql, raw_insert_sql, staged_select, templates_sql
from cakupan.ingest.validate import HAS_PROBLEM, PERIOD, Batch, FileFacts
from cakupan.targets import for_settings
from cakupan.targets.base import RawWriter

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
# parts read and validated ahead of the one being written (the reader thread works through them in order). Two:
# a part's insert takes 0.07 s or, when it fills a row group (every second part), 0.27 s, while reading and
# validating a part takes ~0.15 s; one ahead made each side wait for the other in turn (issue shape, 1M rows,
# whole process: 5.9 -> 5.0 s, +15 MB peak; bench/findings.md "Session 44")
PARTS_AHEAD = 2
STAGE_MAX_ROWS = 20_000     # batches up to this many rows are checked into a temp table first (see _insert)
# DuckDB checkpoints the work file when its write-ahead log passes this (its default: 16 MiB). Each checkpoint
# rewrites the row groups appended since the last one, so a national inbox of small files, checkpointed every
# 16 MiB, spent a tenth of its time there; every commit is in the log (and synced) either way
CHECKPOINT_THRESHOLD = "256MiB"
# Memory DuckDB's block allocator keeps for its blocks while the loader writes the work file (it keeps it, and the
# setting cannot be lowered). Without it, every block DuckDB evicts at the ingest memory limit (its cached written
# row groups) makes it hand all freed memory back to the system (jemalloc purge and malloc_trim, which trims the
# reader's heap too), and the next part's strings fault fresh pages in: a 1M-row CSV took ~330k page faults,
# ~1 s of system CPU; with 64 MB, ~230k and 0.1-0.5 s less wall, the peak RSS the same (bench/findings.md
# "Session 29")
BLOCK_ALLOCATOR_MEMORY = "64MB"
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
    loaded_periods: set[dt.date] = field(default_factory=set)     # the periods of the rows without a problem
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
        """What every file's checks use, set up once per connection. On the embedded target, also DuckDB's memory
        limit while loading (CAKUPAN_INGEST_MEMORY_LIMIT): a big load's written row groups are already on disk, and
        DuckDB's default (80 % of RAM) kept them cached too (BENCHMARKS.md "Memory of a big CSV")."""
        self.stage.execute(f"set variable cakupan_reason_templates = {templates_sql(language())}")  # once, not per file
        if self.stage is self.con:      # the DuckDB writer: its stage is the work file
            self.con.execute(f"set checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
            self.con.execute(f"set memory_limit = '{self.settings.ingest_memory_limit}'")
            try:
                self.con.execute(f"set block_allocator_memory = '{BLOCK_ALLOCATOR_MEMORY}'")
            except duckdb.InvalidInputException:
                pass        # (this DuckDB already keeps more for its blocks: it cannot be lowered)

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
        ahead, work, book = None, delivery, None
        if streamable(path, delivery.data):
            # a big CSV's header and lines are found while its SHA-256 is computed and the manifest consulted, a big
            # workbook's by its reader child (forked here, not in the thread)
            book = self.preparer.open_book(path, delivery.data)
            ahead = ThreadPoolExecutor(1, thread_name_prefix="cakupan-ahead")
            # (a CSV's parts read their bytes again from the file, so that neither they nor its lines are held)
            work = ahead.submit(self.preparer.prepare_stream, path, delivery.data,
                                part_rereader(path, delivery.stamp), book)
        try:
            return self._load(path, rel, delivery.meta, work, delivery)
        finally:
            self.writer.release()
            if book is not None:
                book.kill()         # (reaped: a thread still waiting for it hears it is gone)
            if ahead is not None:
                ahead.shutdown(wait=book is not None)
            if book is not None:
                book.close()

    def _load(self, path: Path, rel: str, meta: Meta, work, delivery: Delivery | None = None) -> LoadResult:
        received = discover.received_at(self.con, rel, meta)
        started = self._start(path, rel, meta.sha256, meta.stamp.size, received)
        if isinstance(started, LoadResult):
            return started
        return self._load_started(_Load(path, rel, meta.sha256, received, started), work, delivery)

    def _load_started(self, load: _Load, work, delivery: Delivery | None = None) -> LoadResult:
        """Write a load whose manifest row says 'started': its rows, or why the file was rejected."""
        try:
            return self._load_rows(load, work, delivery)
        except LoadInvariantError as exc:   # rolled back: the manifest says why, and the error stops the run
            self._invariant_broken(load, exc)
            raise
        except FileChanging as exc:         # a big CSV's part no longer the bytes read first: rolled back
            return self._changed_while_loading(load, exc)
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
        prior = con.execute("select load_id, status, source_file, error_code from audit.loads where file_sha256 = ? "
                            "and status not in ('interrupted') order by load_id", [sha]).fetchall()
        for load_id, status, src, _ in prior:
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
            rejected_prior = [(p[0], p[2], p[3]) for p in prior if p[1] == "rejected" and folder_of(p[2]) == folder_of(rel)
                              and p[3] not in ("FILE_CHANGING", "FILE_UNREADABLE", "FILE_EMPTY")]
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

    def _changed_while_loading(self, load: _Load, exc: FileChanging) -> LoadResult:
        """A file that changed while it was loaded (rolled back): its load is recorded interrupted, and the file
        waits for a later ingest, as one that changed while it was read."""
        waiting = self._waiting(load.path, load.rel, str(exc))
        self.con.execute("update audit.loads set status = 'interrupted', finished_at = now(), error_code = "
                         "'FILE_CHANGING', error_message = ? where load_id = ?", [waiting.error_message, load.load_id])
        log.warning("%s", waiting.error_message)
        return replace(waiting, load_id=load.load_id)

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
        if isinstance(work, Future):             # prepare_stream of a big file, started as the load began
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
        """Load a big CSV or workbook part by part in one transaction: a reader thread reads (a workbook's: takes
        from its reader child) and validates the next part while this one writes the current (DuckDB and Arrow
        release the GIL), DuckDB on one thread meanwhile."""
        with closing(self._parts_ahead(st)) as parts, self._one_thread():
            return self._write(load, st.facts, parts, st.result)

    @contextmanager
    def _one_thread(self) -> Iterator[None]:
        """DuckDB's threads set to one while the parts are written, then set back. A part's insert runs on one
        thread whatever the setting (its table is one row group), and the reader thread needs the other CPU: with
        DuckDB's default (a thread a CPU) a 1M-row CSV took 5-15 % longer on two CPUs (bench/findings.md "A big
        CSV's writer, session 11")."""
        threads = self.stage.execute("select current_setting('threads')").fetchone()[0]
        self.stage.execute("set threads = 1")
        try:
            yield
        finally:
            try:
                self.stage.execute(f"set threads = {int(threads)}")
            except duckdb.Error:
                pass    # (a connection the failed load broke: what failed is what the caller hears of)

    def _parts_ahead(self, st: Streamed) -> Iterator[tuple[list[Block], Batch]]:
        """Each part of a big CSV or workbook, read and validated ahead of the writer (the next ones while one is
        written); once all are, the file's NIK regions are judged on all its NIKs, as a file read whole is."""
        regions: list[dict[str, int]] = []     # each part's valid NIKs by region

        def validated(read: Callable[[], Block]) -> tuple[list[Block], Batch]:
            block = read()
            batch = self.preparer.validate([block], st.facts)
            regions.append(nik_regions(batch, st.facts))
            # the writer keeps every part's block until the load completes, for its row numbers and totals only:
            # the cells (the part's text, ~all of a 1M-row file's size once more) are dropped once validated
            return [block.validated()], batch

        # PARTS_AHEAD parts are submitted before one is handed over, and the next when it is, so the reader works
        # while the writer writes a slow part, and at most one finished part waits beside the one being written.
        with ThreadPoolExecutor(STREAM_READERS) as pool:
            ahead = [pool.submit(validated, read) for read in st.parts[:PARTS_AHEAD]]
            pending = list(st.parts[PARTS_AHEAD:])
            try:
                while ahead:
                    done = ahead.pop(0)
                    if pending:
                        ahead.append(pool.submit(validated, pending.pop(0)))
                    yield done.result()
                self.preparer.judge_nik_regions(sum(map(Counter, regions), Counter()), st.facts)
            finally:    # a load that failed does not wait for a part not yet started
                for later in ahead:
                    later.cancel()

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
                written.loaded_periods |= loaded_periods(batch)
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
        # the file's period: its loaded rows' when all its rows name one (the raw rows are the valid rows)
        period = max(written.loaded_periods) if written.loaded_periods and len(written.periods) == 1 else None
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
        every reason in words) are computed by DuckDB (the writer's stage), not row by row in Python
        (`stage_sql`)."""
        refs = file_refs(load.load_id)
        incoming = batch.table  # noqa: F841   (DuckDB reads it by name from this frame: see _stage)
        staged = self._stage(batch)
        # what was written, counted where it was written (the loader's invariant is checked on these)
        loaded = self.stage.execute(raw_insert_sql(batch, contract, staged, refs),
                                    {"rel": load.rel, "sha": load.sha, "received": load.received}).fetchone()[0]
        if loaded < batch.num_rows:
            self._quarantine(staged, batch, contract, load)
        return self.writer.flush(contract.source, load.load_id, loaded)

    def _stage(self, batch: Batch) -> str:
        """Register the batch's table in the stage; return what the inserts read it as.

        A big batch is inserted straight from a query (materialising every column once more cost more than the work
        saved); a small one is staged in a temp table once, because planning the query twice (raw insert,
        quarantine insert) costs more than running it.

        DuckDB reads `incoming` from the executing frame's local of that name (a replacement scan: `_stage`,
        `_insert` and `_quarantine` each hold one). Not `register`: a registered view dropped inside the open load
        transaction keeps its Arrow table alive until the commit, so a big CSV held every part it had written
        (~0.4 GB of a 1M-row file; BENCHMARKS.md "Memory of a big CSV")."""
        incoming = batch.table  # noqa: F841
        staged = staged_select(batch)
        if batch.num_rows <= STAGE_MAX_ROWS:
            self.stage.execute(f"create or replace temp table staged as select * from {staged}")
            return "staged"
        return staged

    def _quarantine(self, staged: str, batch: Batch, contract: Contract, load: _Load) -> None:
        """Insert the staged rows that have a problem into quarantine.rows (`stage_sql.quarantine_sql`)."""
        incoming = batch.table  # noqa: F841   (see _stage)
        self.stage.execute(quarantine_sql(batch, contract, staged, file_refs(load.load_id)),
                           {"source": contract.source, "rel": load.rel, "sha": load.sha,
                            "name": shown_name(Path(load.rel).name)})

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


def loaded_periods(batch: Batch) -> set[dt.date]:
    """The distinct periods of the batch's rows without a problem (the rows raw.<source> gets)."""
    valid = pc.filter(batch.table[PERIOD], pc.invert(batch.table[HAS_PROBLEM]))     # not the whole table
    return set(pc.unique(valid).drop_null().to_pylist())


def _stated_number(cell: object):
    """The number a total row's cell states, or None (blank, or not a number)."""
    if cell is None or cell == "":
        return None
    try:
        return parsing.parse_number(cell)
    except parsing.ParseError:
        return None


def _plain(x: float) -> str:
    """Render a sum without a spurious fraction."""
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"
