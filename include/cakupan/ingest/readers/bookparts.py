"""A big workbook read part by part: its reader child finds the header, then makes each part's data rows into a
block and sends it, while the writer validates and writes the part before (`BookParts`).

Read whole (`workbook.read_workbook`), a 1 M-row register workbook held every cell as a Python object twice (the
child's rows, pickled, and the writer's, unpickled) and the writer made all of them into one block before the first
was validated: 1.8 GB in the child and 1.9 GB in the writer. Here the child holds the spreadsheet library's copy of
the cells and one part's rows, the writer one part, and the child's work on a part (the rows' texts, which are data
and which are totals or notes: `layout.block_from_rows`) runs on the other CPU while the writer works.

Only what gives the same blocks as the whole read is read so: an .xlsx, .xlsm or .ods whose visible sheets (not
skipped) with a header all find it in their first rows and are of one kind (a sheet a district, as offices send
them; sheets of notes or instructions beside them are sheets without a header, as read whole), no formula cell
without a saved value, and nothing in a column without a header label below it. The child says "whole" for
anything else (a sheet that may be a contributions recap too), and the file is read whole. The library's copy of
every sheet with a header is held from the start (its header is needed before the first part) and each goes once
its parts are sent: the child's peak is that of one sheet of all the rows, except for an .xlsx sheet of 48 MiB
of XML or more, or one whose rows reach far below or far right of its data, which is read in slices of rows
(`sheetslices`; its values far right moved to follow its data, named by their own letters in each part as read
whole: `blocks.Rows`): then it is that of a slice or two. An .ods is read without its blank cells far below or far
right of its data (`odstail`), as read whole (a 200,000-row .ods with a space 16,000 columns right of its header:
its child died at 3.4 GB and the file was rejected; now 721 MB, 6 s).
"""

from __future__ import annotations

import faulthandler
import functools
import gc
import io
import operator
import os
import pickle
import select
import signal
import struct
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

from cakupan.core.contracts import all_contracts
from cakupan.core.messages import Msg
from cakupan.ingest.arrays import as_arrow
from cakupan.ingest.readers.blocks import Block, FileRejected, ReadOptions, Rows, letters_of
from cakupan.ingest.readers.cells import is_blank_row
from cakupan.ingest.readers.header import HEADER_SCAN_ROWS, find_header, title_text
from cakupan.ingest.readers.layout import block_from_rows
from cakupan.ingest.readers.recap import recap_rows
from cakupan.ingest.readers.sheetslices import SlicedSheet, big_sheet_parts, sliced_sheets
from cakupan.ingest.readers.sniff import part_damaged
from cakupan.ingest.readers.workbook import (
    WORKBOOK_TIMEOUT_S,
    check_child,
    end_child,
    fill_merged,
    formulas_meanwhile,
    formulas_without_value,
    limit_memory,
    merges_of,
    ods_content,
    open_workbook,
    visible_sheets,
)

BOOK_STREAM_MIN_BYTES = 8 << 20      # an .xlsx this big is read part by part (about 100,000 rows of a register)
BOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods")
_LENGTH = struct.Struct("<Q")


def book_streamable(path: Path, data: bytes) -> bool:
    """A workbook big enough, of a kind, to be read part by part (its container is checked when it is read), where
    a reader child can be forked."""
    return (len(data) >= BOOK_STREAM_MIN_BYTES and path.suffix.lower() in BOOK_SUFFIXES
            and data[:4] == b"PK\x03\x04" and hasattr(os, "fork"))


class BookParts:
    """A big workbook's reader child and what it sends: `head()` first, then `part(k)` in order, then `close()`.

    The child starts reading when this is made (in the thread that makes it); it sends the header, each part as a
    block, and ends. Every wait for it is bounded by WORKBOOK_TIMEOUT_S; a child that stops (a native abort, its
    memory cap) rejects the file as FILE_CORRUPT with its last words, as a whole read does."""

    def __init__(self, path: Path, data: bytes, options: ReadOptions, part_rows: int, first_rows: int):
        fd, self._err = tempfile.mkstemp(prefix="cakupan-workbook-", suffix=".stderr")
        os.close(fd)
        self._r, w = os.pipe()
        self._pid = os.fork()
        if self._pid == 0:
            os.close(self._r)
            _child(w, self._err, path, data, options, part_rows, first_rows)
        os.close(w)
        self._next = 0
        self._lock = threading.Lock()

    def head(self) -> tuple[list[Block], list[Callable[[], Block]], list[str]] | None:
        """Each sheet's header as a block without rows, a reader for each part (called in order; a part is of one
        sheet, the sheets in order) and the sheets with content but no header; or None when the file must be read
        whole (the child has ended then)."""
        got = self._frame()
        if got[0] == "whole":
            return None
        _, headers, n, without = got
        return headers, [self._reader(k) for k in range(n)], without

    def _reader(self, k: int) -> Callable[[], Block]:
        def read() -> Block:
            if k != self._next:
                raise RuntimeError(f"part {k} asked for before part {self._next}")
            _, at, block = self._frame()
            if at != k:
                raise RuntimeError(f"the reader child sent part {at} for part {k}")
            self._next = k + 1
            return block
        return read

    def _frame(self) -> tuple:
        """The child's next message; a rejection it sends is raised here."""
        (n,) = _LENGTH.unpack(self._read(_LENGTH.size))
        got = pickle.loads(self._read(n))
        if got[0] == "rejected":
            raise FileRejected(got[1], got[2])
        return got

    def _read(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            ready, _, _ = select.select([self._r], [], [], WORKBOOK_TIMEOUT_S)
            if not ready:
                check_child(None, self._err)
            piece = os.read(self._r, min(n - len(out), 1 << 20))
            if not piece:       # the child is gone before it said all
                status = self._reap()
                check_child(status, self._err)
                raise FileRejected("FILE_CORRUPT", Msg("error.ingest.reader_stopped", why="exit 0"))
            out += piece
        return bytes(out)

    def _take_pid(self) -> int:
        with self._lock:
            pid, self._pid = self._pid, 0
        return pid

    def _reap(self) -> int:
        pid = self._take_pid()
        return os.waitpid(pid, 0)[1] if pid > 0 else 0

    def kill(self) -> None:
        """End the child if it still runs, and reap it (a thread waiting for what it sends then hears it is gone)."""
        if (pid := self._take_pid()) > 0:
            end_child(pid)

    def close(self) -> None:
        """`kill`, then let the child's pipe and stderr file go (no thread may be waiting for it then)."""
        self.kill()
        if self._r >= 0:
            os.close(self._r)
            self._r = -1
        try:
            os.unlink(self._err)
        except OSError:
            pass


# ------------------------------------------------------------------------------------------------ the child --
def _child(w: int, err: str, path: Path, data: bytes, options: ReadOptions, part_rows: int, first_rows: int) -> None:
    """The forked child: send the header and the parts over `w`, or why not, and exit (never returns)."""
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)   # (as `workbook._child`)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        faulthandler.disable()
        fd_err = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd_err, 2)
        limit_memory()
        gc.disable()        # rows of cells hold no cycle (`prepare.collector_paused`)
        out = os.fdopen(w, "wb", buffering=1 << 20)
        try:
            for message in _messages(path, data, options, part_rows, first_rows):
                _send(out, message)
        except FileRejected as exc:
            _send(out, ("rejected", exc.code, exc.detail))
        except BrokenPipeError:
            raise
        except BaseException as exc:  # noqa: BLE001
            _send(out, ("rejected", "FILE_CORRUPT", Msg("error.ingest.library", kind=type(exc).__name__,
                                                          error=str(exc)[:200])))
        out.flush()
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)


def _send(out, message: tuple) -> None:
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True     # (no memo: `workbook._child`)
    pickler.dump(message)
    out.write(_LENGTH.pack(buf.tell()))
    out.write(buf.getbuffer())
    out.flush()


def _messages(path: Path, data: bytes, options: ReadOptions, part_rows: int, first_rows: int) -> Iterator[tuple]:
    """("head", header blocks, number of parts, sheets without a header), then ("part", k, block) for each, sheet
    after sheet; or ("whole",)."""
    big = big_sheet_parts(path, data)      # (their cut looks for formulas: not unzipped a third time to do so)
    marks = formulas_meanwhile(io.BytesIO(data), skip=big)
    ods, trimmed, ods_errors = ods_content(path, data)  # (an .ods without its blank cells far below or far right)
    wb = open_workbook(path, data if trimmed is None else trimmed.data)
    names = visible_sheets(wb, options.skip_sheets)
    if any(name in ods_errors for name in names):
        yield ("whole",)    # (an .ods's error cell: the whole read marks it, `workbook._sheets_in_process`)
        return
    sliced = sliced_sheets(path, data, names)
    if _untested_damaged(data, big, sliced):
        yield ("whole",)    # (the whole read's check of every part names it, as for a workbook read whole)
        return
    cut_formulas = {name: cut.formulas for name, cut in sliced.items()}
    sheet_of = _parsed_ahead(path, data, wb, [name for name in names if name not in sliced])
    sheets, without = _sheet_heads(sheet_of, names, options, ods, sliced)
    del wb, sheet_of    # (each sheet holds its cells: the library's copies of the file and its shared strings go)
    if sheets is None or _formula_without_value(data, names, marks, big, cut_formulas) or (trimmed is not None and (
            trimmed.moved or any(s.name in trimmed.widths and any(r2 > s.sheet.end[0] for (_, _), (r2, _) in s.merges)
                                 for s in sheets))):
        yield ("whole",)    # (a sheet of notes too; a merged range reaching rows left out: the whole read makes them;
        return              # columns moved from far right: named by the whole read, `blocks.Rows`)
    plans = [(s, [0, *range(min(s.n_data, first_rows if i == 0 else part_rows), s.n_data, part_rows)])
             for i, s in enumerate(sheets)]
    yield ("head", [s.header_block() for s in sheets], sum(len(bounds) for _, bounds in plans), without)
    k = 0
    for s, bounds in plans:
        for a, b in zip(bounds, [*bounds[1:], s.n_data], strict=True):
            yield ("part", k, _columnar(s.part(a, b)))
            k += 1
        s.release()     # (the library's copy of this sheet's cells goes before the next sheet's parts are made)


def _untested_damaged(data: bytes, big: dict[str, str], sliced: dict[str, SlicedSheet]) -> bool:
    """Whether a big worksheet part (`big`, part -> sheet name) that was not cut fails its CRC, or cannot be
    inflated. The parent's check of the container leaves these parts to the child (`prepare.prepare_stream`); a
    cut reads its part through to its end, its CRC tested there (`sliced_sheets` cuts nothing if one fails), so
    only a hidden sheet's part, or one not cut, is unzipped here."""
    parts = [part for part, name in big.items() if name not in sliced]
    if not parts:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return any(part_damaged(z, part) for part in parts)
    except Exception:  # noqa: BLE001 - zlib.error, ...: the whole read's check says what is wrong
        return True


def _parsed_ahead(path: Path, data: bytes, wb, names: list[str]) -> Callable[[str], object]:
    """The library's sheet of each name, asked for in order: the sheets of an .xlsx are parsed whole as soon as a
    thread is free, on two threads with a workbook object each (the library lets go of the interpreter as it
    parses, but one object serves one call at a time): four district sheets of 50,000 rows took 1.58 s one after
    another, 0.80 s so. What a sheet's parse raises is raised when it is asked for. An .ods is parsed as it is
    opened: its sheets are asked of `wb`."""
    if len(names) < 2 or path.suffix.lower() not in (".xlsx", ".xlsm"):
        return wb.get_sheet_by_name
    books = [wb, open_workbook(path, data)]
    pools = [ThreadPoolExecutor(1, thread_name_prefix="cakupan-sheets") for _ in books]
    parsed = {name: pools[i % 2].submit(books[i % 2].get_sheet_by_name, name) for i, name in enumerate(names)}
    for pool in pools:
        pool.shutdown(wait=False)
    return lambda name: parsed[name].result()


def _formula_without_value(data: bytes, names: list[str], marks, big: dict[str, str],
                           cut_formulas: dict[str, bool]) -> bool:
    """Whether a sheet to be read holds a formula cell without a saved result (the file is then read whole): the
    other worksheets' scan (`marks`), and a big one's own scan only where its cut found a formula tag in its rows,
    or it was not cut (read whole by the library)."""
    if any(marks.result().get(name) for name in names):
        return True
    again = [part for part, name in big.items() if name in names and cut_formulas.get(name, True)]
    return bool(again) and any(formulas_without_value(io.BytesIO(data), only=again).get(name) for name in names)


class _Sheet:
    """One sheet read part by part: the library's sheet, its first rows, the header found in them."""

    def __init__(self, name: str, sheet, merges: list, head: list[list], rows: Iterator[list], header,
                 carried: dict[tuple[int, int], object]):
        self.name, self.sheet, self.merges, self.header, self.rows = name, sheet, merges, header, rows
        self.n_data = sheet.end[0] - header.row
        self.above = head[: header.row + 1]
        self.taken = head[header.row + 1:]
        self.carried = carried      # each merged range's value, as the parts go

    def header_block(self) -> Block:
        return self.header.block(self.name, title_text(self.above, self.header), letters_of(self._moved([])))

    def _moved(self, rows: list[list]) -> list[list]:
        """Rows of a sliced sheet whose columns far right were moved (`sheetslices._far_columns`) as `Rows`, which
        name those columns by their own letters."""
        columns = getattr(self.sheet, "columns", None) if isinstance(self.sheet, SlicedSheet) else None
        if not columns:
            return rows
        return Rows(rows, columns)

    def part(self, a: int, b: int) -> Block:
        """The block of the sheet's data rows [a, b) (0-based below the header)."""
        chunk = self.taken[: b - a]
        del self.taken[: b - a]
        chunk += [next(self.rows) for _ in range(b - a - len(chunk))]
        first = self.header.row + 1 + a          # the chunk's first row, 0-based in the sheet
        fill_merged(chunk, self.merges, first, self.carried)
        return block_from_rows(self._moved(self.above + chunk), self.name, self.header, unlabelled=True,
                               source_row_of=functools.partial(operator.add, a + 1))

    def release(self) -> None:
        if isinstance(self.sheet, SlicedSheet):
            self.sheet.release()
        self.sheet = self.rows = None


def _sheet_heads(sheet_of: Callable[[str], object], names: list[str], options: ReadOptions, ods: dict | None = None,
                 slices: dict | None = None) -> tuple[list[_Sheet] | None, list[str]]:
    """Each visible sheet's header, found in its first rows, and the sheets with content but no header; None for a
    workbook that must be read whole to give what the whole read gives (`readers._read_workbook`): no sheet with a
    header, a sheet with one whose data a part alone cannot read (`_unlabelled_filled`), a lone sheet with no rows
    below its header, a sheet that may be a contributions recap, or sheets of different kinds. Beside others, a
    sheet of a header alone (a district with no one yet) is sent as one part of no rows, as read whole. `slices`:
    the sheets read in slices (`sheetslices`), by name; `sheet_of`, the library's sheet of any other name."""
    contracts = all_contracts()
    sheets: list[_Sheet] = []
    without: list[str] = []
    for name in names:
        try:
            sheet = slices[name] if slices and name in slices else sheet_of(name)
            merges = merges_of(sheet, name, ods)
            start, end = sheet.start, sheet.end
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            raise FileRejected("FILE_CORRUPT", Msg("error.ingest.sheet_error", sheet=repr(name),
                                                         error=str(exc)[:200])) from None
        if start is None or end is None:
            continue        # (an empty sheet: the whole read skips it)
        rows = _padded(sheet.iter_rows(), start[1])
        head = [next(rows) for _ in range(min(end[0] + 1, HEADER_SCAN_ROWS + 2))]
        carried: dict[tuple[int, int], object] = {}
        fill_merged(head, merges, 0, carried)
        header = find_header(head, contracts, options.overrides, options.defaults)
        if header is None:
            whole = head + list(rows)
            fill_merged(whole, merges, 0)
            if all(is_blank_row(r) for r in whole):
                continue
            if recap_rows(whole) is not None:
                return None, []
            without.append(name)
            continue
        if (header.row + 1 >= len(head) and len(names) == 1) or _unlabelled_filled(sheet, start[1], header, merges):
            return None, []
        sheets.append(_Sheet(name, sheet, merges, head, rows, header, carried))
    if len({s.header.source for s in sheets}) > 1:
        weak = [s for s in sheets if len(s.header.mapping) < 2]
        if len(weak) < len(sheets):      # (a one-word "header" beside real data sheets: a sheet without one)
            sheets = [s for s in sheets if len(s.header.mapping) >= 2]
            without += [s.name for s in weak]
    if not sheets or len({s.header.source for s in sheets}) > 1:
        return None, []
    return sheets, without


def _columnar(block: Block) -> Block:
    """The part's texts made Arrow arrays here, on the child's CPU: the writer makes them so anyway, and an array is
    sent as its buffers (a list of texts is pickled and unpickled a string at a time: ~0.45 s each way for 122,880
    rows). A column with number or date cells stays a list (`Block.keys` marks those cells in it)."""
    block.cells = {c: v if block.typed.get(c) else as_arrow(v, pa.string()) for c, v in block.cells.items()}
    block.extra_cells = {k: as_arrow(v, pa.string()) for k, v in block.extra_cells.items()}
    block.source_rows = as_arrow(block.source_rows, pa.int32())
    block.nik_numeric = as_arrow(block.nik_numeric, pa.bool_())
    return block


def _padded(rows: Iterator[list], left: int) -> Iterator[list]:
    """The sheet's rows from its first column (the library's rows start at the first used one), as
    `to_python(skip_empty_area=False)` gives them."""
    if not left:
        yield from rows
        return
    pad = [""] * left
    for row in rows:
        yield pad + row


def _unlabelled_filled(sheet, left: int, header, merges: list) -> bool:
    """Whether any cell below the header lies in a column without a header label, or a merged range reaches one:
    `block_from_rows` keeps such a column only where a data row fills it, which a part alone cannot know for the
    whole sheet."""
    known = set(header.mapping.values()) | {j for j, h in enumerate(header.headers) if h}
    if isinstance(sheet, SlicedSheet):      # (its cells asked of the XML, merges beyond its first slice too)
        return (any(r2 > header.row and any(j not in known for j in range(c1, c2 + 1)) for (_, c1), (r2, c2) in merges)
                or sheet.filled_beyond(known, header.row))
    loose = [j for j in range(left, sheet.end[1] + 1) if j not in known]
    if not loose:
        return False
    if any(r2 > header.row and any(c1 <= j <= c2 for j in loose) for (_, c1), (r2, c2) in merges):
        return True
    at = [j - left for j in loose]
    return any(i > header.row and any(row[j] not in ("", None) for j in at)
               for i, row in enumerate(sheet.iter_rows()))
