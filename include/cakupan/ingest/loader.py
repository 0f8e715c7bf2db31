"""Loading: a delivered file → raw rows + quarantined rows + one manifest row, atomically, nothing lost.

For every file: rows in = rows loaded + rows quarantined, asserted inside the load transaction. The `Loader` is the
only writer of the work warehouse; it holds a `Preparer` (read, check, validate: no database) for the files no
reader process prepared. A file is never modified or deleted; the same bytes are loaded once; an interrupted load
is detected and redone. A whole file and a big CSV written part by part go through the same completion path.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.core.contracts import SOURCES, Contract, reason, reasons
from cakupan.core.files import sha256_file
from cakupan.core.settings import Settings
from cakupan.ingest import parsing
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


def _sha_or_empty(path: Path) -> str:
    """The file's SHA-256, or '' when it cannot be read (how the manifest records an unreadable file)."""
    try:
        return sha256_file(path)
    except OSError:
        return ""


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


class Loader:
    """Loads files into the target's raw zone through its writer (`targets.base.RawWriter`: the DuckDB work file,
    or PostgreSQL); one instance per writer connection. `con` runs the manifest SQL in the target, `stage` the
    vectorised SQL that shapes the rows."""

    def __init__(self, settings: Settings, con: duckdb.DuckDBPyConnection | None = None, run_id: str | None = None):
        self.settings = settings
        self.preparer = Preparer(settings)
        self._writer(RawWriter(con) if con is not None else None)
        self.run_id = run_id or dt.datetime.now(dt.UTC).strftime("cli__%Y%m%dT%H%M%S")

    def _writer(self, writer: RawWriter | None = None) -> None:
        self.writer = writer or for_settings(self.settings).raw_writer()
        self.con, self.stage = self.writer.con, self.writer.stage
        self._session()

    def _session(self) -> None:
        """What every file's checks use, set up once per connection."""
        self.stage.execute(f"set variable cakupan_reason_templates = {_templates_sql()}")  # bound once, not per file

    def reconnect(self) -> None:
        self._writer()

    # ---- discovery
    def pending_files(self) -> list[Path]:
        """List every file in the configured inboxes not yet processed (same path and bytes), oldest first."""
        out = []
        done = {(p, s) for p, s in self.con.execute(
            "select source_file, file_sha256 from audit.loads where status <> 'interrupted' "
            "and status <> 'started'").fetchall()}
        for r in self.preparer.regencies.values():
            folder = self.settings.inbox / r.inbox
            if not folder.is_dir():
                continue
            for p in folder.rglob("*"):
                if p.is_file() and not p.name.startswith((".", "~$")) and (self._rel(p), _sha_or_empty(p)) not in done:
                    out.append(p)
        out.sort(key=lambda p: (int(_mtime(p)), p.name))
        self.writer.reserve([self._rel(p) for p in out])     # load ids in this order, however they are loaded
        return out

    def _rel(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.settings.inbox))
        except ValueError:
            return str(path.resolve())

    # ---- one file: the manifest
    def load(self, path: Path, prepared: Prepared | BaseException | None = None) -> LoadResult:
        """Load one file: raw + quarantine + manifest in one transaction; file problems are recorded.

        `prepared` is what `Preparer.prepare(path)` gave (or raised) in a reader process, if it ran there.
        """
        path = Path(path)
        ahead = None
        if prepared is None and streamable(path):
            # a big CSV's header and lines are found while its SHA-256 is computed and the manifest consulted
            ahead = ThreadPoolExecutor(1, thread_name_prefix="cakupan-ahead")
            prepared = ahead.submit(self.preparer.prepare_stream, path)
        try:
            return self._load(path, self._rel(path), prepared)
        finally:
            self.writer.release()
            if ahead is not None:
                ahead.shutdown(wait=False)

    def _load(self, path: Path, rel: str, prepared: Prepared | Future | BaseException | None) -> LoadResult:
        try:
            sha = sha256_file(path)
            stat = path.stat()
        except OSError as exc:           # gone, or not readable (permissions, a broken link on a shared drive)
            return self._unreadable(path, rel, exc)
        received = dt.datetime.fromtimestamp(int(stat.st_mtime))
        started = self._start(path, rel, sha, stat.st_size, received)
        if isinstance(started, LoadResult):
            return started
        load = _Load(path, rel, sha, received, started)
        try:
            return self._load_rows(load, prepared)
        except (LoadInvariantError, KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - one file's failure (even a native panic) never stops the others
            return self._reject(load, exc)

    def _start(self, path: Path, rel: str, sha: str, size: int, received: dt.datetime) -> LoadResult | int:
        """Record the start of a load (outside the load's transaction: a killed load stays 'started'); or say the
        file was processed already (same path and bytes) or is a duplicate of a loaded file (same bytes)."""
        con = self.con
        self.writer.claim(sha)    # concurrent writers: one load of these bytes at a time, until `load` returns
        prior = con.execute("select load_id, status, source_file from audit.loads where file_sha256 = ? "
                            "and status not in ('interrupted') order by load_id", [sha]).fetchall()
        for load_id, status, src in prior:
            if status == "started":   # a killed process: its transaction never committed, but be sure
                self._remove_rows(load_id)
                con.execute("update audit.loads set status = 'interrupted', finished_at = now(), error_code = "
                            "'LOAD_INTERRUPTED', error_message = ? where load_id = ?",
                            [f"{Path(src).name}: " + reason("LOAD_INTERRUPTED").message, load_id])
        prior = [p for p in prior if p[1] != "started"]
        same_path = [p for p in prior if p[2] == rel]
        if same_path:
            return LoadResult(same_path[0][0], rel, None, None, None, "already_processed")
        load_id = self.writer.load_id(rel)
        con.execute(
            "insert into audit.loads (load_id, run_id, source_file, file_name, file_sha256, file_size, received_at, "
            "started_at, status) values (?, ?, ?, ?, ?, ?, ?, now(), 'started')",
            [load_id, self.run_id, rel, path.name, sha, size, received])
        loaded_prior = [p for p in prior if p[1] == "loaded"]
        if not loaded_prior:
            return load_id
        dup = loaded_prior[0][0]
        msg = f"{path.name}: " + reason("DUPLICATE_FILE").message + f" (first loaded as load {dup}, {loaded_prior[0][2]})"
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
            exc = FileRejected("INTERNAL_ERROR", f"{type(exc).__name__}: {str(exc)[:300]}")
        msg = f"{load.path.name}: {reason(exc.code).render(exc.column, exc.value)}" + (
            f" — {exc.detail}" if exc.detail else "")
        self.con.execute("update audit.loads set status = ?, finished_at = now(), rows_in = 0, rows_loaded = 0, "
                         "rows_quarantined = 0, error_code = ?, error_message = ? where load_id = ?",
                         [status, exc.code, msg, load.load_id])
        log.warning("%s %s", status, msg)
        return LoadResult(load.load_id, load.rel, None, None, None, status, error_code=exc.code, error_message=msg)

    def _unreadable(self, path: Path, rel: str, exc: OSError) -> LoadResult:
        """Record a file that cannot be read at all (no bytes, so no SHA-256: the manifest keeps an empty one)."""
        prior = self.con.execute("select load_id from audit.loads where source_file = ? and file_sha256 = '' "
                                 "and error_code = 'FILE_UNREADABLE'", [rel]).fetchone()
        if prior:
            return LoadResult(prior[0], rel, None, None, None, "already_processed")
        msg = f"{path.name}: {reason('FILE_UNREADABLE').message} — {type(exc).__name__}: {exc.strerror or exc}"
        load_id = self.con.execute("select nextval('audit.load_id_seq')").fetchone()[0]
        self.con.execute(
            "insert into audit.loads (load_id, run_id, source_file, file_name, file_sha256, started_at, finished_at, "
            "status, rows_in, rows_loaded, rows_quarantined, error_code, error_message) "
            "values (?, ?, ?, ?, '', now(), now(), 'rejected', 0, 0, 0, 'FILE_UNREADABLE', ?)",
            [load_id, self.run_id, rel, path.name, msg])
        log.warning("rejected %s", msg)
        return LoadResult(load_id, rel, None, None, None, "rejected", error_code="FILE_UNREADABLE", error_message=msg)

    def _remove_rows(self, load_id: int) -> None:
        """Delete whatever rows a load left in raw, quarantine and findings."""
        for source in SOURCES:
            self.con.execute(f"delete from raw.{source} where load_id = ?", [load_id])
        self.con.execute("delete from quarantine.rows where load_id = ?", [load_id])
        self.con.execute("delete from audit.load_findings where load_id = ?", [load_id])

    # ---- one file: the rows, in one transaction
    def _load_rows(self, load: _Load, prepared: Prepared | Future | BaseException | None) -> LoadResult:
        """Write the file whole (as prepared here or by a reader process), or a big CSV part by part."""
        if isinstance(prepared, Future):             # prepare_stream of a big CSV, started as the load began
            pa.scalar("")     # meanwhile: pyarrow's first conversion of a Python value imports pandas (0.1 s)
            streamed, prepared = prepared.result(), None
            if streamed is not None:
                return self._write_streamed(streamed, load)
        if isinstance(prepared, BaseException):      # what a reader process met, raised here as if met here
            raise prepared
        prep = prepared or self.preparer.prepare(load.path)
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
            return [block], self.preparer.validate([block], st.facts)

        with ThreadPoolExecutor(STREAM_READERS) as pool:
            ahead = [pool.submit(validated, read) for read in st.parts[:STREAM_READERS + 1]]
            pending = list(st.parts[STREAM_READERS + 1:])
            while ahead:
                part = ahead.pop(0).result()
                yield part
                if pending:
                    ahead.append(pool.submit(validated, pending.pop(0)))

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
            raise LoadInvariantError(f"{load.rel}: rows in {rows_in} != loaded {written.loaded} + quarantined "
                                     f"{quarantined}")
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
        con.register("incoming", batch.table)
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
        is its reason), and a message naming the file, sheet, row and each reason in words."""
        items = ", ".join(f"{{'column': {_sql_str(c.label)}, 'code': {_q(c.error)}, "
                          f"'value': {_q(c.shown) if c.shown else 'null'}::varchar}}" for c in batch.checks)
        shown = "case when length(p.value) > 60 then left(p.value, 57) || '...' else coalesce(p.value, '') end"
        render = f"replace(replace(getvariable('cakupan_reason_templates')[p.code], '{{column}}', p.column), " \
                 f"'{{value}}', {shown})"
        self.stage.execute(f"""
            insert into quarantine.rows
            with q as (
                select *, list_filter([{items}], lambda x: x.code is not null) as problem_list
                from {staged} where {_q(HAS_PROBLEM)}
            )
            select {load.load_id}, $source, $rel, $sha, {_q(SHEET)}, {_q(SOURCE_ROW)}, {_q(REGENCY)},
                   problem_list[1].code, problem_list[1].column,
                   $name || ', sheet ' || coalesce(nullif({_q(SHEET)}, ''), '-') || ', row ' || {_q(SOURCE_ROW)}
                       || ': ' || array_to_string(list_transform(problem_list, lambda p: {render}), '; '),
                   to_json(list_transform(problem_list, lambda p: {{'column': p.column, 'code': p.code}})),
                   {_q(PARTICIPANT_KEY)}, raw_cells
            from q
        """, {"source": contract.source, "rel": load.rel, "sha": load.sha, "name": Path(load.rel).name})

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
                        where = f"sheet {b.sheet}, row {row_no}" if b.sheet else f"row {row_no}"
                        self.con.execute(
                            "insert into audit.load_findings values (?, 'TOTAL_MISMATCH', ?, ?, ?, ?)",
                            [load_id, col, float(stated), float(whole),
                             (f"{where}: the total row says {stated} for '{col}' but the rows above add up to "
                              f"{_plain(whole)}.")])
                previous = above
            offset += b.n_rows

    def _sheet_findings(self, result: ReadResult, load_id: int) -> None:
        """Record every sheet that has content but no recognisable header (it was not read)."""
        for name in result.sheets_without_header:
            self.con.execute(
                "insert into audit.load_findings values (?, 'SHEET_NO_HEADER', null, null, null, ?)",
                [load_id, f"sheet {name}: {reason('SHEET_NO_HEADER').message}"])


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


@functools.cache
def _templates_sql() -> str:
    """SQL: a MAP from every registered reason code to its message template."""
    return "MAP {" + ", ".join(f"{_sql_str(code)}: {_sql_str(r.message)}" for code, r in reasons().items()) + "}"


def _sql_str(text: str) -> str:
    """Quote a text as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _q(name: str) -> str:
    """Quote a column name as an SQL identifier (batch columns are named 'text:nik', 'error:nik/kpj', ...)."""
    return '"' + name.replace('"', '""') + '"'


def _plain(x: float) -> str:
    """Render a sum without a spurious fraction."""
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"
