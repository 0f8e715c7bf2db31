"""Workbooks (.xlsx, .xls, .ods) read with python-calamine, in a forked child process unless surely harmless.

The spreadsheet library is native code: a damaged .xls can make it panic, and a stray cell in XFD1048576 makes it
allocate the whole used range and abort the process. In a child (with a memory cap and a time limit) either ends
as FILE_CORRUPT for this file only. A small .xlsx whose cells all lie in a small area is read in-process: a fork
per file costs more than reading it.
"""

from __future__ import annotations

import bisect
import faulthandler
import io
import itertools
import os
import pickle
import re
import select
import signal
import tempfile
import zipfile
from collections.abc import Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from python_calamine import CalamineWorkbook

from cakupan.core.messages import Msg
from cakupan.ingest.readers.blocks import FORMULA_NO_VALUE, FileRejected, Rows, column_number, letters_of
from cakupan.ingest.readers.cells import is_blank_row
from cakupan.ingest.readers.odsmerge import content_xml, error_cells_in, ranges_in
from cakupan.ingest.readers.odstail import Trimmed, without_far_blanks
from cakupan.ingest.readers.sheetslices import SlicedSheet, sliced_sheets
from cakupan.ingest.readers.sniff import SMALL_WORKBOOK_MAX_BYTES, is_worksheet_part, sheet_parts
from cakupan.ingest.readers.xlsgap import Gapless, error_cells, without_long_gaps
from cakupan.ingest.readers.xmlscan import ERROR_TYPE, FORMULA_TAG, has_formula

WORKBOOK_TIMEOUT_S = 600
CHILD_EXTRA_MEMORY = 6 << 30     # address space a workbook reader child may add to what the parent already uses
IN_PROCESS_MAX_BYTES = SMALL_WORKBOOK_MAX_BYTES   # an .xlsx up to this size whose cells all lie in a small area ...
IN_PROCESS_MAX_CELLS = 2_000_000        # ... is read in-process
_XLSX_CELL_REFS = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')
_XLSX_ROW_REFS = re.compile(rb'<row r="([0-9]{1,7})"')
_XLSX_DIMENSION = re.compile(rb'<dimension ref="([A-Z]{0,3})([0-9]{0,7})(?::([A-Z]{0,3})([0-9]{0,7}))?"')
_XLSX_PREFIXED = re.compile(rb"<\w+:(?:c|row)[\s>/]")
_XLSX_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_XLSX_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]+)</(?:\w+:)?v>")
_XLSX_CELL_REF = re.compile(rb'\sr="([A-Z]{1,3})([0-9]{1,7})"')
XML_SCAN_PIECE = 8 << 20     # bytes of a worksheet's XML scanned for formulas at a time
FORMULA_MARK_MAX_ROWS_BEYOND = 10_000   # a formula cell this far below the data is not marked (no huge area)
AREA_MAX_CELLS = 1 << 27     # a sheet read in slices whose rows, as wide as the widest, would hold more is rejected
COLLAPSE_BLANK_ROWS = 1 << 16   # a run of more blank rows than this between a sliced sheet's filled rows is made one,
COLLAPSE_AFTER = 64             # ... or as many as leave this many rows first (the header's are in the first 43)

Sheets = list[tuple[str, list[list]]]


def read_workbook(path: Path, skip_sheets: Sequence[str] = (), data: bytes | None = None,
                  worksheets: dict[str, bytes] | None = None) -> Sheets:
    """Read a workbook's visible sheets as rows of cell values, in a forked child process so that a damaged file
    cannot take the loader down (in-process without fork(), and for a small .xlsx (`_small_plain_xlsx`)).
    `data`: the file's bytes, when the caller read them already (nothing else is read from the path then);
    `worksheets`: its worksheets' XML by part name, when unzipped already (`sniff.check_container`)."""
    if not hasattr(os, "fork"):
        return _sheets_in_process(path, skip_sheets, data)
    if (small := _small_plain_xlsx(path, data, worksheets)) is not None:
        return _sheets_in_process(path, skip_sheets, data, small)
    fd, tmp = tempfile.mkstemp(prefix="cakupan-workbook-", suffix=".pickle")
    os.close(fd)
    err = tmp + ".stderr"
    done_r, done_w = os.pipe()          # the child holds the write end: EOF on the read end = the child is gone
    pid = 0
    try:
        pid = os.fork()
        if pid == 0:
            _child(path, skip_sheets, tmp, err, done_r, data)
        os.close(done_w)
        done_w = -1
        status = _wait_for_child(pid, done_r)
        if status is not None:
            pid = 0                     # reaped
        check_child(status, err)
        with open(tmp, "rb") as f:
            result = pickle.load(f)
    finally:
        if pid > 0:                     # past the time limit, or the wait cut short by a signal handler that
            end_child(pid)              # raised: the child goes too (killed and reaped)
        for fd_ in (done_r, done_w):
            if fd_ >= 0:
                os.close(fd_)
        for name in (tmp, err):
            try:
                os.unlink(name)
            except OSError:
                pass
    if result[0] == "rejected":
        raise FileRejected(result[1], result[2])
    return result[1]


def _child(path: Path, skip_sheets: Sequence[str], out: str, err: str, done_r: int, data: bytes | None) -> None:
    """The forked child: read the sheets, pickle what came of it to `out`, and exit (never returns)."""
    code = 0
    try:
        # SIGTERM ends the child as the default does, whatever handler the loader's process had (Airflow's task
        # runner returns from its own: an inherited copy would run here and let the child read on); Ctrl-C, sent
        # to the whole foreground group, is the parent's to handle (it ends the child)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        os.close(done_r)
        faulthandler.disable()                       # a native abort is expected here, not a bug to dump
        fd_err = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd_err, 2)                           # keep the native reader's last words for the detail
        limit_memory()
        try:
            result: tuple = ("ok", _sheets_in_process(path, skip_sheets, data))
        except FileRejected as exc:
            result = ("rejected", exc.code, exc.detail)
        except BaseException as exc:  # noqa: BLE001
            result = ("rejected", "FILE_CORRUPT", Msg("error.ingest.library", kind=type(exc).__name__, error=str(exc)[:200]))
        with open(os.open(out, os.O_WRONLY), "wb") as f:      # (not truncated: see `sheetslices._cut`)
            pickler = pickle.Pickler(f, protocol=pickle.HIGHEST_PROTOCOL)
            pickler.fast = True     # no memo: rows of cells share nothing, and a memo of every cell costs
            pickler.dump(result)    # ~100 bytes a cell here and again in the unpickling writer
    except BaseException:  # noqa: BLE001
        code = 1
    finally:
        os._exit(code)


def end_child(pid: int) -> None:
    """Kill a workbook reader child not yet reaped, and reap it."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):     # reaped already (a signal came just after the wait)
        pass


def _wait_for_child(pid: int, done: int) -> int | None:
    """The child's wait status once it ended (reaped); None if it did not end within the time limit."""
    ready, _, _ = select.select([done], [], [], WORKBOOK_TIMEOUT_S)
    if not ready:
        return None
    return os.waitpid(pid, 0)[1]


def check_child(status: int | None, err: str) -> None:
    """Reject the file if its child did not end well (`status` None: the time limit passed)."""
    if status is None:
        raise FileRejected("FILE_CORRUPT", Msg("error.ingest.timeout", seconds=WORKBOOK_TIMEOUT_S))
    if os.WIFSIGNALED(status) or os.WEXITSTATUS(status) != 0:
        why = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}")
        last = _last_line(err)
        raise FileRejected("FILE_CORRUPT", Msg("error.ingest.reader_stopped", why=why + (": " + last if last else "")))


def _sheets_in_process(path: Path, skip_sheets: Sequence[str], data: bytes | None = None,
                       xmls: dict[str, bytes] | None = None) -> Sheets:
    """Read every visible, not skipped sheet of a workbook as rows of cell values (python-calamine); a formula
    cell whose result was never saved reads as `FORMULA_NO_VALUE` (an .xlsx's own XML says which; `xmls`: its
    worksheets' XML, when read already). A big .xlsx sheet, or one whose rows reach far below its data, is read in
    slices (`sheetslices`: the library never builds the area of a stray cell in row 1,048,001)."""
    xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    blanks = formulas_meanwhile(path if data is None else io.BytesIO(data)) if xlsx and xmls is None else None
    ods, trimmed, ods_errors = ods_content(path, data)
    gapless, xls_errors = xls_content(path, data)
    wb = open_workbook(path, gapless.data if gapless is not None else data if trimmed is None else trimmed.data)
    if gapless is not None and not set(gapless.jumps) <= set(wb.sheet_names):
        gapless, wb = None, open_workbook(path, data)   # (a sheet's name read otherwise: its rows' numbers unknown)
        xls_errors = error_cells(path.read_bytes() if data is None else data)
    out = []
    names = visible_sheets(wb, skip_sheets)
    sliced = sliced_sheets(path, data, names) if xlsx and xmls is None else {}
    marks: dict[str, list[tuple[int, int, str]]] | None = None
    moved: dict[str, list[tuple[int, int, str]]] = {}       # a sheet's formula marks, its columns moved (`Rows`)
    for name in names:
        try:
            if (cut := sliced.pop(name, None)) is not None:
                if marks is None:
                    marks = blanks.result()
                merges = list(cut.merged_cell_ranges or ())
                keep = max([-1, *(r for (_, _), (r, _) in merges), *(r for r, _, _ in marks.get(name, ()))])
                try:
                    rows, length, width = _rows_of_slices(cut, keep)
                finally:
                    cut.release()
                if cut.moved:       # (columns moved from far right: their formula marks too)
                    moved[name] = [(r, cut.moved.get(c, c), mark) for r, c, mark in marks.get(name, ())]
            else:
                sheet = wb.get_sheet_by_name(name)
                rows = sheet.to_python(skip_empty_area=False)
                merges = merges_of(sheet, name, ods)
                del sheet       # the library's copy of the cells goes before the next sheet's is read
                if trimmed is not None and name in trimmed.widths:
                    _as_whole_area(rows, trimmed.widths[name], merges)
                if name in ods_errors:      # (an .ods's error cells, at their places once far values are moved)
                    place = {c: p for p, c in trimmed.moved.get(name, {}).items()} if trimmed is not None else {}
                    _mark_formulas(rows, [(r, place.get(c, c), t) for r, c, t in ods_errors[name]])
                if trimmed is not None and name in trimmed.moved:     # (values far right moved: `odsfar`)
                    rows = Rows(rows, trimmed.moved[name])
                if name in xls_errors:      # (an .xls's error cells, at their rows once long gaps are made one)
                    _mark_formulas(rows, xls_errors[name])
                if gapless is not None and name in gapless.jumps:     # (long runs of empty rows made one)
                    rows = Rows(rows, None, _RowOf(gapless.jumps[name]))
                length, width = len(rows), 0
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            for rest in sliced.values():
                rest.release()
            if isinstance(exc, FileRejected):
                raise
            raise FileRejected("FILE_CORRUPT", Msg("error.ingest.sheet_error", sheet=repr(name),
                                                         error=str(exc)[:200])) from None
        fill_merged(rows, merges)
        out.append((name, rows, length, width))
    if xlsx:
        if marks is None:
            marks = (blanks.result() if blanks is not None
                     else formulas_without_value(path if data is None else io.BytesIO(data), xmls))
        for name, rows, length, width in out:
            _mark_formulas(rows, moved.get(name, marks.get(name, ())), length, width)
    for _, rows, _, _ in out:
        while rows and (rows[-1].count("") == len(rows[-1]) or is_blank_row(rows[-1])):
            rows.pop()      # the blank rows at the bottom: a stray space far below the data brings them all
    return [(name, rows) for name, rows, _, _ in out]


def _as_whole_area(rows: list[list], wide: int, merges: list) -> None:
    """The rows of an .ods sheet read without its far blank rows (`odstail`) made as the whole read's top rows: as
    wide as the stray cell left out made the area, and down to the last row a merged range covers (rows of no
    value, which the whole area holds and the merge fills)."""
    wide = max(wide, len(rows[0]) if rows else 0)
    rows.extend([] for _ in range(len(rows), max((r2 for (_, _), (r2, _) in merges), default=-1) + 1))
    for row in rows:
        if len(row) < wide:
            row.extend([""] * (wide - len(row)))


def _rows_of_slices(sheet: SlicedSheet, keep: int) -> tuple[list[list], int, int]:
    """A sliced sheet's rows as the whole read gives them (every row from the first, from column A, as wide as the
    widest), less the blank rows below its last filled row and below row `keep` (0-based: the last a merged range
    or a formula mark may fill); and the whole read's number of rows and width. The blank rows between two slices
    are made only when a filled row follows them, and a run of more than COLLAPSE_BLANK_ROWS of them below row
    `keep` is made one blank row, or as many as leave the first COLLAPSE_AFTER rows as read (an "x" typed in row
    1,048,576 under a register: a million rows made, 4.6 s and 757 MB): the rows are then a `Rows` whose `row_of`
    gives each its own row number."""
    rows: list[list] = []
    held: list[list | None] = []     # blank rows not added yet (None: a row between slices)
    jumps: list[tuple[int, int]] = []   # (the first row after a run made one, the rows left out up to it)
    at = width = left_out = 0
    for top, left, part in sheet.slices():
        held.extend(itertools.repeat(None, top - at))
        pad = [""] * left
        for row in part:
            row = pad + row if left else row
            if row.count("") == len(row) or is_blank_row(row):
                held.append(row)
                continue
            if len(held) > COLLAPSE_BLANK_ROWS and keep < len(rows) + left_out:
                made = max(1, COLLAPSE_AFTER - len(rows))       # (the first rows, where the header is, as read)
                left_out += len(held) - made
                del held[made:]
                jumps.append((len(rows) + made, left_out))
            if held:
                rows.extend([] if r is None else r for r in held)
                held.clear()
            rows.append(row)
        width = max(width, left + len(part[0]) if part else 0)
        at = top + len(part)
    held = held[:max(0, keep + 1 - len(rows) - left_out)]
    if (len(rows) + len(held)) * width > AREA_MAX_CELLS:    # (a stray cell far below and far right of the data)
        raise FileRejected("FILE_CORRUPT", Msg("error.ingest.used_range_too_large", sheet=repr(sheet.name),
                                               rows=f"{at:,}".replace(",", "."), columns=f"{width:,}".replace(",", "."),
                                               cell=f"{letters_of(sheet)(width - 1)}{at}"))
    rows.extend([] if r is None else r for r in held)
    for row in rows:
        if len(row) < width:
            row.extend([""] * (width - len(row)))
    if jumps or sheet.columns:
        rows = Rows(rows, sheet.columns, _RowOf(jumps) if jumps else None)
    return rows, at, width


class _RowOf:
    """The 1-based row number of each of a sheet's rows by its place in them, runs of blank rows made one
    (`_rows_of_slices`): (the first row after such a run, the rows left out up to it), in order."""

    def __init__(self, jumps: list[tuple[int, int]]):
        self.at = [a for a, _ in jumps]
        self.left_out = [n for _, n in jumps]

    def __call__(self, i: int) -> int:
        k = bisect.bisect_right(self.at, i)
        return i + 1 + (self.left_out[k - 1] if k else 0)


def open_workbook(path: Path, data: bytes | None = None) -> CalamineWorkbook:
    """The workbook opened by python-calamine, or FILE_ENCRYPTED / FILE_CORRUPT."""
    try:
        return CalamineWorkbook.from_path(str(path)) if data is None else CalamineWorkbook.from_filelike(io.BytesIO(data))
    except BaseException as exc:  # calamine errors, and pyo3 PanicException (a BaseException)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        msg = str(exc)
        if "password" in msg.lower() or "encrypt" in msg.lower():
            raise FileRejected("FILE_ENCRYPTED") from None
        raise FileRejected("FILE_CORRUPT", msg[:200]) from None


def visible_sheets(wb: CalamineWorkbook, skip_sheets: Sequence[str] = ()) -> list[str]:
    """The names of the workbook's sheets that are read: visible, and not among the regency's sheets to skip."""
    skip = {s.lower() for s in skip_sheets}
    return [meta.name for meta in wb.sheets_metadata
            if meta.name.lower() not in skip and not str(getattr(meta, "visible", "Visible")).lower().endswith("hidden")]


def xls_content(path: Path, data: bytes | None) -> tuple[Gapless | None, dict[str, list[tuple[int, int, str]]]]:
    """An .xls (BIFF8) with its sheets' long runs of empty rows made one (`xlsgap.without_long_gaps`, or None) and
    its error cells per sheet, read from those bytes (`xlsgap.error_cells`: the library reads them as empty);
    (None, {}) for any other workbook."""
    if path.suffix.lower() != ".xls":
        return None, {}
    if data is None:
        try:
            data = path.read_bytes()
        except OSError:
            return None, {}
    gapless = without_long_gaps(data)
    return gapless, error_cells(data if gapless is None else gapless.data)


def ods_content(path: Path, data: bytes | None) -> tuple[dict | None, Trimmed | None, dict]:
    """An .ods's merged ranges per sheet (python-calamine gives an .ods none), the file without its blank cells
    far below or far right of its data, its values far right moved to follow it (`odstail`, `odsfar`; None when it
    has neither), and its error cells per sheet (`odsmerge.error_cells_in`: the library reads them as empty), its
    content.xml read once; (None, None, {}) for any other workbook."""
    if not _is_ods(path, data):
        return None, None, {}
    xml = content_xml(path if data is None else io.BytesIO(data))
    return ranges_in(xml), without_far_blanks(path.read_bytes() if data is None else data, xml), error_cells_in(xml)


def merges_of(sheet, name: str, ods: dict | None) -> list:
    """A sheet's merged ranges: the library's, or an .ods's from its content.xml (`ods_content`)."""
    merges = sheet.merged_cell_ranges
    if merges is None and ods is not None:
        merges = ods.get(name)
    return list(merges or ())


def _is_ods(path: Path, data: bytes | None) -> bool:
    """An OpenDocument spreadsheet: its name says so, or its zip's first part is the ODS `mimetype`."""
    if path.suffix.lower() == ".ods":
        return True
    if data is None:
        with path.open("rb") as f:
            data = f.read(100)
    head = data[:100]
    return b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet" in head


def fill_merged(rows: list[list], merges, first: int = 0, carried: dict | None = None) -> None:
    """Copy each merged range's value (held by its top-left cell only) into every cell of the range that lies in
    the sheet's used area: a header label merged over two rows or a group label over three columns, and a district
    merged down its block of data rows, then read as if written out in every cell. `rows` may be a part of the
    sheet (`first`: the 0-based sheet row of its first; `bookparts`): a range whose top-left cell lies in an
    earlier part takes the value that cell had (`carried`, kept as the parts go)."""
    carried = {} if carried is None else carried
    stop = first + len(rows)
    for (r1, c1), (r2, c2) in merges:
        if r2 < first or r1 >= stop:
            continue
        if r1 >= first and c1 < len(rows[r1 - first]):
            carried[(r1, c1)] = rows[r1 - first][c1]
        value = carried.get((r1, c1))
        if value is None or value == "":
            continue
        for r in range(max(r1, first), min(r2, stop - 1) + 1):
            row = rows[r - first]
            for c in range(c1, min(c2, len(row) - 1) + 1):
                if row[c] is None or row[c] == "":
                    row[c] = value


def formulas_meanwhile(source, skip: Collection[str] = ()) -> Future:
    """`formulas_without_value(source)` in a thread of its own: the worksheets' XML unzipped and scanned for formulas
    while the library reads the cells (it lets go of the interpreter as it does: ~15 % of a big workbook's
    reading). `skip`: worksheet parts not scanned (a big sheet's cut looks for formulas as it goes)."""
    scan = ThreadPoolExecutor(1, thread_name_prefix="cakupan-formulas")
    try:
        return scan.submit(formulas_without_value, source, None, skip)
    finally:
        scan.shutdown(wait=False)


def formulas_without_value(source, xmls: dict[str, bytes] | None = None, skip: Collection[str] = (),
                           only: Collection[str] | None = None) -> dict[str, list[tuple[int, int, str]]]:
    """Per sheet name, the (row, column) (0-based) of every formula cell of an .xlsx that has no saved result
    (written by a program that does not calculate), with FORMULA_NO_VALUE, and of every cell whose value is an
    error (a formula's, "#N/A" of a VLOOKUP that found nothing, or one pasted as a value), with its text: the
    spreadsheet library reads both as empty. `xmls`:
    the worksheets' XML by part name (`_small_plain_xlsx`), when read already; `skip`: worksheet parts left out,
    `only`: the only ones looked at."""
    out: dict[str, list[tuple[int, int, str]]] = {}
    if xmls is not None and not any(has_formula(xml) for xml in xmls.values()):
        return out
    try:
        with zipfile.ZipFile(source) as zf:
            sheets = {}
            for part in (xmls if xmls is not None else zf.namelist()):
                if part in skip or (only is not None and part not in only):
                    continue
                if is_worksheet_part(part) and (xmls is not None or _part_has_formula(zf, part)):
                    xml = zf.read(part) if xmls is None else xmls[part]
                    if has_formula(xml):
                        sheets[part] = xml
            if not sheets:
                return out
            names = sheet_parts(zf)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, RuntimeError, NotImplementedError, EOFError):
        return out
    for part, xml in sheets.items():
        name = names.get(part)
        if name is None:
            continue
        for attrs, body in _XLSX_CELL.findall(xml):
            if not body:
                continue
            if ERROR_TYPE.search(attrs):        # (a formula's error, or one pasted as a value)
                value = _XLSX_VALUE.search(body)
                mark = value[1].decode("ascii", "replace") if value else None
            else:
                mark = FORMULA_NO_VALUE if FORMULA_TAG.search(body) and not _XLSX_VALUE.search(body) else None
            ref = _XLSX_CELL_REF.search(attrs) if mark is not None else None
            if ref:
                out.setdefault(name, []).append((int(ref[2]) - 1, column_number(ref[1]) - 1, mark))
    return out


def _part_has_formula(zf: zipfile.ZipFile, part: str) -> bool:
    """Whether a worksheet part holds a formula tag, read a piece at a time (a big sheet's XML is many times its
    cells' size: held whole beside them it was most of a big workbook's peak memory)."""
    tail = b""
    with zf.open(part) as f:
        while piece := f.read(XML_SCAN_PIECE):
            # (a tag cut between two pieces, "<x:" | "f>", is in the bytes about the cut: not a copy of the piece)
            if has_formula(piece) or has_formula(tail + piece[:16]):
                return True
            tail = piece[-16:]
    return False


def _mark_formulas(rows: list[list], cells, length: int | None = None, width: int = 0) -> None:
    """Write each given cell's mark (FORMULA_NO_VALUE, or its error's text) into it where it reads as empty (rows
    and columns are added as needed, as wide as the first). `length`: the sheet's rows in the library's area (default: `rows`', which may be fewer
    when the blank rows at the bottom were left out, `_rows_of_slices`); `width`: its width, when `rows` is empty."""
    length = len(rows) if length is None else length
    for r, c, mark in cells:
        if r >= length + FORMULA_MARK_MAX_ROWS_BEYOND or c >= 16384:
            continue
        wide = max((len(x) for x in rows[:1]), default=width)
        while len(rows) <= r:
            rows.append([""] * wide)
        row = rows[r]
        if len(row) <= c:
            row.extend([""] * (c + 1 - len(row)))
        if row[c] is None or row[c] == "" or mark != FORMULA_NO_VALUE:     # (an error whatever the library read)
            row[c] = mark


def limit_memory() -> None:
    try:
        import resource

        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (used + CHILD_EXTRA_MEMORY, resource.RLIM_INFINITY))
    except (OSError, ValueError, ImportError):
        pass


def _last_line(path: str) -> str:
    """The last line a child wrote to its captured stderr (shortened), or ''."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    firsts = [ln for ln in lines if not ln.startswith(("note:", "stack backtrace", "at "))]
    return (firsts[0] if firsts else "")[:160]


def _small_plain_xlsx(path: Path, data: bytes | None = None,
                      worksheets: dict[str, bytes] | None = None) -> dict[str, bytes] | None:
    """For a small .xlsx whose every row, cell and dimension reference lies within IN_PROCESS_MAX_CELLS (the
    spreadsheet library allocates the whole used range: a far-away cell aborts it), its worksheets' XML by part
    name (read once: `formulas_without_value` looks at them again; `worksheets`: as the container's check unzipped
    them, then the zip is not opened here). Anything else, or any doubt (an .xls, a cell without a reference, a
    damaged zip), gives None."""
    try:
        size = path.stat().st_size if data is None else len(data)
        if path.suffix.lower() not in (".xlsx", ".xlsm") or size > IN_PROCESS_MAX_BYTES:
            return None
        if worksheets:
            if sum(map(len, worksheets.values())) > 16 * IN_PROCESS_MAX_BYTES:
                return None
        else:
            with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as zf:
                sheets = [i for i in zf.infolist() if is_worksheet_part(i.filename)]
                if not sheets or sum(i.file_size for i in sheets) > 16 * IN_PROCESS_MAX_BYTES:
                    return None
                worksheets = {info.filename: zf.read(info) for info in sheets}
    except (OSError, zipfile.BadZipFile, ValueError, RuntimeError, NotImplementedError, EOFError):
        return None
    return worksheets if all(_sheet_within(xml, IN_PROCESS_MAX_CELLS) for xml in worksheets.values()) else None


# A sheet written the plain way whose references are small has no match of the first two (every `<c` and `<row`
# tag starts with a reference of at most two letters and three digits) and none of the third (no namespace prefix
# on a cell or row tag, nor the text ":c " anywhere else): `_sheet_within`.
_XLSX_CELL_NOT_SMALL = re.compile(rb'<c(?=[\s>/])(?! r="[A-Z]{1,2}[0-9]{1,3}")')
_XLSX_ROW_NOT_SMALL = re.compile(rb'<row(?=[\s>/])(?! r="[0-9]{1,3}")')
_XLSX_MAYBE_PREFIXED = re.compile(rb":(?:c|row)[\s>/]")
_SMALL_COLUMNS, _SMALL_ROWS = 702, 999      # ZZ by 999


def _sheet_within(xml: bytes, limit: int) -> bool:
    """`_sheet_area(xml) <= limit`, said by three regex searches when the sheet is plainly written, every reference
    has at most two letters and three digits and the bound those give (ZZ by 999, or its dimension's) is within the
    limit; by `_sheet_area`, which lists every reference, otherwise. The three searches cost 0.27 ms on a 70 KB
    sheet, the eight counts and six searches they replace 1.1 ms (bench/findings.md)."""
    if not (_XLSX_MAYBE_PREFIXED.search(xml) or _XLSX_CELL_NOT_SMALL.search(xml) or _XLSX_ROW_NOT_SMALL.search(xml)):
        cols, rows = _SMALL_COLUMNS, _SMALL_ROWS
        if dimension := _XLSX_DIMENSION.search(xml):
            cols = max([cols, *(column_number(x) for x in (dimension[1], dimension[3] or b""))])
            rows = max([rows, *(int(x) for x in (dimension[2], dimension[4]) if x)])
        if cols * rows <= limit:
            return True
    return _sheet_area(xml) <= limit


def _plainly_written(xml: bytes) -> bool:
    """Every `<row` and `<c` tag of a sheet starts with its `r="..."`, and none has a namespace prefix."""
    cells, rows = xml.count(b'<c r="'), xml.count(b'<row r="')
    return (xml.count(b"<c ") + xml.count(b"<c>") + xml.count(b"<c/>") == cells
            and xml.count(b"<row ") + xml.count(b"<row>") + xml.count(b"<row/>") == rows
            and not _XLSX_PREFIXED.search(xml))


def _sheet_area(xml: bytes) -> float:
    """The cells of the rectangle every row, cell and dimension reference of a sheet lies in; inf when a position
    would have to be inferred, a reference is out of any sheet's bounds, or the sheet is not written the plain way
    (every `<row` and `<c` tag starting with its `r="..."`, no namespace prefix: Excel, LibreOffice, openpyxl):
    such a sheet is read in the forked child. Counted with byte searches and two regex passes, not tag by tag
    (a small workbook's sheet has thousands of cells)."""
    if not _plainly_written(xml):
        return float("inf")
    refs = _XLSX_CELL_REFS.findall(xml)          # (letters, digits)
    row_numbers = _XLSX_ROW_REFS.findall(xml)
    if len(refs) != xml.count(b'<c r="') or len(row_numbers) != xml.count(b'<row r="'):
        return float("inf")                     # a reference without letters or digits, or out of any sheet
    letters, digits = (set(x) for x in zip(*refs)) if refs else (set(), set())
    digits |= set(row_numbers)
    dimension = _XLSX_DIMENSION.search(xml)
    if dimension:
        letters |= {dimension[1], dimension[3] or b""}
        digits |= {dimension[2], dimension[4] or b""}
    max_col = max((column_number(x) for x in letters if x), default=0)
    max_row = max((int(x) for x in digits if x), default=0)
    return max_row * max(max_col, 1)
