"""A big worksheet of an .xlsx read in slices of rows, so that the spreadsheet library never holds all its cells.

python-calamine reads a sheet whole: its copy of a 1 M-row register sheet was 1.3 GB in the reader child (a
space typed in row 1,048,001 under 130,000 rows: 715 MB). A worksheet's XML is a run of `<row>` elements, so the
big sheet's XML is cut, at row boundaries, into slices of about SLICE_BYTES, each written as a sheet of its own
into a stored (uncompressed) temporary workbook beside the original's styles (date formats), shared strings and
date system. The library opens that workbook once (its shared strings read once) and reads one slice at a time;
a slice's cells keep their own row and column references, so its rows take their places in the sheet, and rows
between two slices (blank in the XML) come back blank, as a whole read gives them. A small sheet whose rows reach
far below its data (`_stray`: a space typed in row 1,048,001 under 2,000 rows) is sliced too, whether it is
read in parts (`bookparts`) or whole (`workbook._rows_of_slices` leaves out the blank rows at the bottom), so the
library never builds the area down to the stray cell; so is one with a cell in column AAA or beyond (a space in
XFD3), and the cells that far right that the reader reads as blank are left out of its slices
(`_without_far_blanks`), so its rows are as wide as its data.

The cut is made before a `<row r="...">` tag, so a slice's first row has its reference and the library numbers
any row without one after it as the whole read does (the one before, plus one); rows far apart are sliced apart
(the library holds a slice's whole area). A sheet whose tags have a namespace prefix, whose XML ends inside its
rows or whose slices start out of order is not sliced (read whole, as before), nor is anything on any failure
(no room on disk); a row stored after the rows below it in a later slice rejects the file as it is read (no
spreadsheet program writes one; saved again, it is in order). The temporary workbook takes about the sheet's XML
on disk while the file is read; it is unlinked as soon as it is open.
"""

from __future__ import annotations

import contextlib
import functools
import html
import io
import itertools
import mmap
import os
import re
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from python_calamine import CalamineWorkbook

from cakupan.core.messages import Msg
from cakupan.ingest.parsing import cell_text
from cakupan.ingest.readers.blocks import FileRejected, column_letter, column_number
from cakupan.ingest.readers.header import HEADER_SCAN_ROWS
from cakupan.ingest.readers.sniff import sheet_parts, workbook_rels
from cakupan.ingest.readers.xmlscan import Ahead, has_formula, parsed_apart, proc_fd, unnamed

SLICE_SHEET_MIN_BYTES = 48 << 20    # a worksheet whose XML is this big (80,000-110,000 register rows) is sliced
SLICE_BYTES = 12 << 20              # XML of a slice (20,000-28,000 register rows)
_PIECE = 8 << 20                    # XML unzipped at a time while cutting
_MAX_SPAN = 1 << 16                 # a slice whose rows span more sheet rows than this ...
_GAP = 1 << 10                      # ... is cut where they jump more than this (`_jumps`)
_HEAD_MAX = 1 << 20                 # XML before <sheetData> (views, columns) at most
_ROOT = re.compile(rb"<worksheet\b[^>]*>")
_ROW_AT = re.compile(rb'<row r="([0-9]{1,7})"')
_MERGES = re.compile(rb"<mergeCells\b.*?</mergeCells>", re.DOTALL)
_WORKBOOK_PR = re.compile(rb"<workbookPr\b[^>]*/>")
_XML = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_END = b"</sheetData></worksheet>"
_FAR_CELL = re.compile(rb'<c r="[A-Z]{3}[0-9]')      # a cell in column AAA (the 703rd) or beyond
_FAR_CELL_XML = re.compile(rb'<c r="([A-Z]{3})([0-9]{1,7})"([^>]*?)(?:/>|>(.*?)</c>)', re.DOTALL)
_FAR = 702                                          # (0-based column AAA)
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})[0-9]')
_VALUE_CELL = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"[^>]*?>\s*<(?:v|is|f)\b')     # a cell holding something
_MERGE_REF = re.compile(rb'(<mergeCell ref=")([A-Z]{1,3})([0-9]{1,7})(?::([A-Z]{1,3})([0-9]{1,7}))?"')
_TYPE = re.compile(rb'\st="([A-Za-z]+)"')
_V = re.compile(rb"<v>([^<]*)</v>")
_INLINE = re.compile(rb"<is>(.*)</is>", re.DOTALL)
_SI = re.compile(rb"<si>(.*?)</si>|<si/>", re.DOTALL)
_SI_TAG = re.compile(rb"<si[\s>/]")
_T_TEXT = re.compile(rb"<t(?:\s[^>]*)?>([^<]*)</t>")
_TEXT_PARTS = re.compile(rb"<t(?:\s[^>]*)?>[^<]*</t>|<t/>|</?r>|<rPr>.*?</rPr>|<rPr/>", re.DOTALL)
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def sliced_sheets(path: Path, data: bytes | None, names: list[str]) -> dict[str, SlicedSheet]:
    """Each of the named sheets of an .xlsx/.xlsm whose worksheet XML is at least SLICE_SHEET_MIN_BYTES, or whose
    cells reach far below or far right of what it holds (`_stray`), and that can be cut (`_cut`), as a
    `SlicedSheet` (a small one's values far right moved to follow its data: `_far_columns`); the others are not in
    the result. Nothing, on any failure (a damaged zip, no room for the temporary workbook). `data`: the file's
    bytes (None: read from the path)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return {}
    out: dict[str, SlicedSheet] = {}
    try:
        with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as zf:
            parts = {name: part for part, name in sheet_parts(zf).items()}
            blank = functools.cache(lambda: _blank_strings(zf))   # (read once, only for a cell far right)
            for name in names:
                part = parts.get(name)
                if part is None:
                    continue
                moved = None
                if zf.getinfo(part).file_size < SLICE_SHEET_MIN_BYTES:
                    xml = zf.read(part)
                    if not _stray(xml):
                        continue
                    moved = _far_columns([xml], blank) or {}     # ({}: looked for, none to move)
                    del xml
                if (sheet := _cut(zf, part, name, blank, moved)) is not None:
                    out[name] = sheet
    except BaseException as exc:    # (the library's panics too: a BaseException)
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        for sheet in out.values():
            sheet.release()
        return {}       # read whole: the library's own read says what is wrong with the file, if anything
    return out


def big_sheet_parts(path: Path, data: bytes) -> dict[str, str]:
    """The worksheet parts of an .xlsx/.xlsm that `sliced_sheets` cuts for their size (SLICE_SHEET_MIN_BYTES),
    with their sheet names; nothing on any failure (the reader's own checks say what is wrong)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return {part: name for part, name in sheet_parts(zf).items()
                    if zf.getinfo(part).file_size >= SLICE_SHEET_MIN_BYTES}
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, RuntimeError, NotImplementedError, EOFError):
        return {}


class SlicedSheet:
    """A sheet read slice by slice, with what `bookparts` asks of a library sheet: `start` (0, 0), `end` (the
    last row with a cell, and the last column of the rows the header is looked for in), `merged_cell_ranges`,
    `iter_rows()` (every row from the sheet's first, from column A, all as wide) and `release()`; and
    `filled_beyond` for the check of cells in unlabelled columns (`bookparts._unlabelled_filled`), asked of the
    XML: below the header, a cell beyond that width is in such a column, so a part is cut to it only where the
    sheet would not be read in parts anyway."""

    def __init__(self, name: str, book: str, slices: int, last_row: int, formulas: bool = True):
        self.name = name
        self.formulas = formulas    # some row holds a formula tag (`has_formula`); False: none does
        self.moved: dict[int, int] | None = None      # a column past the data -> its place (`_far_columns`) ...
        self.columns: dict[int, int] | None = None    # ... and a place -> that column
        self._zip = zipfile.ZipFile(book)   # (`book`: a path with no name on disk, `_cut`: the disk it takes is
        self._wb = CalamineWorkbook.from_path(book)     # given back when these close)
        self._slices = slices
        self._ahead = ThreadPoolExecutor(1, thread_name_prefix="cakupan-slices")
        self._second = parsed_apart(self._ahead, self._zip.fp.fileno(), "s1") if slices > 1 else None
        self.merged_cell_ranges = self._wb.get_sheet_by_name("m").merged_cell_ranges
        self._first = self._wb.get_sheet_by_name("s0")
        self.width = 1      # as wide as the rows where the header is looked for: a label's column is within it
        for k in range(slices):
            sheet = self._first if k == 0 else (
                self._second.result() if k == 1 and self._second else self._wb.get_sheet_by_name(f"s{k}"))
            if sheet.end is not None:
                self.width = max(self.width, sheet.end[1] + 1)
                if sheet.end[0] >= HEADER_SCAN_ROWS + 2:
                    break
        self.start = (0, 0)
        self.end = (last_row, self.width - 1)

    def iter_rows(self) -> Iterator[list]:
        """The rows, each from column A and `width` wide, blank ones between slices and below the last."""
        width, at = self.width, 0
        for top, left, rows in self.slices():
            for _ in range(at, top):
                yield [""] * width
            pad = [""] * left
            for row in rows:
                row = pad + row if left else row
                yield row if len(row) == width else (row + [""] * (width - len(row)))[:width]
            at = top + len(rows)
            del rows
        for _ in range(at, self.end[0] + 1):
            yield [""] * width

    def slices(self) -> Iterator[tuple[int, int, list[list]]]:
        """Each slice with a cell as the library gives its area: its first row and column (0-based) and its rows,
        in order; the next slice is read by the library in a thread of its own (it lets go of the interpreter as it
        reads) while this one's rows are made into a part (the second from the time the workbook is opened:
        `xmlscan.parsed_apart`)."""
        at = 0
        ahead = self._ahead
        try:
            first, self._first, coming = self._first, None, None
            for k in range(self._slices):
                sheet, first = (first, None) if k == 0 else (coming.result(), None)    # (none held longer)
                if k + 1 < self._slices:
                    coming = self._second if k == 0 and self._second else ahead.submit(
                        self._wb.get_sheet_by_name, f"s{k + 1}")
                    self._second = None
                if sheet.start is None:
                    continue
                (top, left), rows = sheet.start, sheet.to_python(skip_empty_area=True)
                del sheet
                if top < at:        # (a row stored after rows below it, in a later slice than theirs)
                    raise FileRejected("FILE_CORRUPT", Msg("error.ingest.rows_out_of_order", sheet=repr(self.name),
                                                           row=top + 1))
                yield top, left, rows
                at = top + len(rows)
                del rows
        finally:
            ahead.shutdown(wait=True, cancel_futures=True)

    def filled_beyond(self, known: set[int], below: int) -> bool:
        """Whether a cell with a value lies in a column not in `known` (0-based) below the 0-based row `below`: any
        `<v>` or `<is>` in it counts (more than the library reads as filled: the sheet is then read whole). A
        sheet wider than ZZ is said filled."""
        if self.width >= 702:
            return True
        loose = [column_letter(j) for j in range(self.width) if j not in known]
        cell = re.compile(rb'<c r="(?:' + "|".join([*loose, *_from_column(self.width)]).encode()
                          + rb')([0-9]{1,7})"[^>]*?(/?)>')
        with mmap.mmap(self._zip.fp.fileno(), 0, access=mmap.ACCESS_READ) as book:
            for k in range(self._slices):
                start, end = self._stored(book, f"xl/worksheets/s{k}.xml")
                for m in cell.finditer(book, start, end):
                    if m[2] or int(m[1]) <= below + 1:
                        continue
                    stop = book.find(b"</c>", m.end(), end)
                    body = book[m.end(): stop if stop >= 0 else end]
                    if b"<v>" in body or b"<is>" in body or b"<v " in body:
                        return True
        return False

    def _stored(self, book: mmap.mmap, name: str) -> tuple[int, int]:
        """Where a slice's XML lies in the temporary workbook mapped (`book`): `_cut` stored it there uncompressed,
        so it is read in place, not copied out with its CRC checked again (~0.6 s for 1 M rows)."""
        info = self._zip.getinfo(name)
        names, extra = struct.unpack_from("<HH", book, info.header_offset + 26)    # (the local header's own lengths)
        start = info.header_offset + 30 + names + extra
        return start, start + info.compress_size

    def release(self) -> None:
        self._ahead.shutdown(wait=True)     # (the second slice's parse, if it is still going: it closes its file)
        self._first = self._wb = self._second = None
        with contextlib.suppress(OSError):
            self._zip.close()


def _cut(zf: zipfile.ZipFile, part: str, name: str, blank: Callable[[], frozenset[int]],
         moved: dict[int, int] | None = None) -> SlicedSheet | None:
    """The worksheet `part` cut into slices in a temporary workbook, or None where it is not written the plain
    way (then nothing is left on disk). `blank`: the shared strings read as blank; `moved`: the columns past its
    data moved to follow it (`_far_columns`; None: not looked for yet, then a big sheet with a value far right is
    cut again once they are found, its XML read once more)."""
    fd, book = tempfile.mkstemp(prefix="cakupan-slices-", suffix=".xlsx")
    book = unnamed(fd, book)
    try:
        # written through mkstemp's own descriptor: opened again by name it would be truncated, and ext4 then
        # starts writing a truncated file's pages to disk as it is closed (0.2-0.3 s of a 1M-row sheet's cut)
        with open(fd, "w+b", closefd=False) as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED,
                                                                   allowZip64=True) as out:
            slices, last_row, formulas = _write_slices(zf, part, out, blank, moved)
            _write_book(zf, out, slices)
        sheet = SlicedSheet(name, book, slices, last_row, formulas)
        if moved:
            sheet.moved, sheet.columns = moved, {place: column for column, place in moved.items()}
        return sheet
    except BaseException as exc:
        if isinstance(exc, _NotPlain):
            return None
        if isinstance(exc, _FarValues) and moved is None:
            return _cut(zf, part, name, blank, _far_columns(_row_pieces(zf, part), blank) or {})
        raise
    finally:
        os.close(fd)
        if book != proc_fd(fd):
            with contextlib.suppress(OSError):
                os.unlink(book)


class _NotPlain(Exception):
    """A sheet not written the plain way (`_write_slices`): read whole."""


class _FarValues(Exception):
    """A slice holds a value far right, and the columns to move were not looked for (`_cut`)."""


def _row_pieces(zf: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """A worksheet's XML in pieces of about _PIECE bytes, each cut before a `<row` tag (no cell is split)."""
    with Ahead(zf.open(part), _PIECE) as f:
        buf = b""
        while piece := f.read(_PIECE):
            buf += piece
            if (cut := buf.rfind(b"<row")) > 0:
                yield buf[:cut]
                buf = buf[cut:]
        yield buf


def _write_slices(zf: zipfile.ZipFile, part: str, out: zipfile.ZipFile, blank: Callable[[], frozenset[int]],
                  moved: dict[int, int] | None) -> tuple[int, int, bool]:
    """Write the sheet's rows as slices s0, s1, ... and its merged ranges as a sheet "m" of no rows (they follow the
    rows in the XML); the number of slices, the 0-based row of the last cell and whether some row holds a formula
    tag (looked for in each slice's XML as it is cut, so that the reader need not unzip the sheet again to know:
    `bookparts`). _NotPlain for a sheet not written the plain way."""
    with Ahead(zf.open(part), _PIECE) as f:
        buf = b""
        while (at := buf.find(b"<sheetData>")) < 0:
            if len(buf) > _HEAD_MAX or not (piece := f.read(_PIECE)):
                raise _NotPlain     # (no rows, an empty <sheetData/>, or a prefixed worksheet)
            buf += piece
        if (root := _ROOT.search(buf, 0, at)) is None:
            raise _NotPlain
        root, buf = root[0], buf[at + len(b"<sheetData>"):]
        k, last_row, tail, searched, before = 0, -1, None, 0, 0   # (searched: bytes of buf without </sheetData>;
        #                                                           before: the last row reference so far)
        formulas = False
        while tail is None:
            pieces = [buf]
            while sum(map(len, pieces)) < SLICE_BYTES and (piece := f.read(_PIECE)):
                pieces.append(piece)
            buf = b"".join(pieces) if len(pieces) > 1 else buf      # (the one copy of the slice's XML)
            del pieces
            stop = buf.find(b"</sheetData>", max(0, searched - 12))
            searched = len(buf)
            if stop >= 0:
                end, tail = stop, buf[stop:]
            else:
                end = buf.rfind(b'<row r="')
                if end <= 0:            # a row longer than a slice so far, or the XML ends inside <sheetData>
                    if not (piece := f.read(_PIECE)):
                        raise _NotPlain
                    buf += piece
                    continue
            if (first := _ROW_AT.search(buf, 0, end)) is not None:
                if int(first[1]) <= before:
                    raise _NotPlain     # (rows out of order: the library places them, a slice could not)
                before = int(_ROW_AT.match(buf, buf.rfind(b'<row r="', 0, end))[1])
            bounds = [0, *_jumps(buf, end), end]
            formulas = formulas or has_formula(buf, 0, end)
            for a, b in itertools.pairwise(bounds):
                rows: bytes | memoryview = memoryview(buf)[a:b]
                if _FAR_CELL.search(buf, a, b) is not None:     # (a cell far right: left out if blank)
                    rows = _without_far_blanks(bytes(rows), blank, moved)
                    if moved is None and _FAR_CELL.search(rows) is not None:
                        raise _FarValues
                    cell = _last_cell(rows, len(rows))
                else:
                    cell = _last_cell(buf, b)
                if cell is not None:
                    last_row = cell
                with out.open(f"xl/worksheets/s{k}.xml", "w") as g:
                    for bit in (_XML, root, b"<sheetData>", rows, _END):
                        g.write(bit)
                k += 1
                del rows
            buf = buf[end:]
            searched = len(buf)
        tail += f.read()        # (what follows the rows: the merged ranges, links, page set-up)
    merges = _MERGES.search(tail)
    out.writestr("xl/worksheets/m.xml", b"".join([_XML, root, b"<sheetData></sheetData>",
                                                  _moved_refs(merges[0], moved) if merges else b"",
                                                  b"</worksheet>"]))
    return k, last_row, formulas


def _from_column(j: int) -> list[str]:
    """Regex alternatives for the letters of every column from the 0-based j on (j < 702: up to ZZ)."""
    if j < 26:
        return [f"[{chr(65 + j)}-Z]", "[A-Z]{2,3}"]
    first, second = column_letter(j)
    out = [f"{first}[{second}-Z]", "[A-Z]{3}"]
    if first != "Z":
        out.append(f"[{chr(ord(first) + 1)}-Z][A-Z]")
    return out


def _stray(xml: bytes) -> bool:
    """Whether a worksheet's last row reference lies more than _MAX_SPAN rows below its number of rows, or a cell
    lies in column AAA or beyond (`_FAR_CELL`): a stray cell far below the data (a space typed in row 1,048,001) or
    far right of it (in XFD1), whose whole area the library would build, however small the file (a 120 KB register
    of 2,000 rows: 667 MB in its reader child; with the space in XFD1, 1.3 GB). `xml`: the worksheet's."""
    last = xml.rfind(b'<row r="')
    return ((last >= 0 and (m := _ROW_AT.match(xml, last)) is not None
             and int(m[1]) - xml.count(b"<row") > _MAX_SPAN) or _FAR_CELL.search(xml) is not None)


def _without_far_blanks(xml: bytes, blank: Callable[[], frozenset[int]], moved: dict[int, int] | None = None
                        ) -> bytes:
    """A slice's XML less its cells in column AAA or beyond that hold nothing the reader reads (`_far_blank`): the
    library would build every row as wide as such a cell; the others moved to their column's place in `moved`
    (`_far_columns`), when given."""
    def cell(m: re.Match) -> bytes:
        if _far_blank(m, blank):
            return b""
        if moved and (place := moved.get(_column_of(m[1]))) is not None:
            return b'<c r="' + column_letter(place).encode() + m[0][6 + len(m[1]):]
        return m[0]
    return _FAR_CELL_XML.sub(cell, xml)


def _far_blank(m: re.Match, blank: Callable[[], frozenset[int]]) -> bool:
    """Whether a cell (a match of `_FAR_CELL_XML`) holds a text that `parsing.cell_text` makes blank (spaces, an
    empty text, in plain or rich runs; a shared string of `blank()`, inline, or a plain text) and no formula. A cell
    in doubt (a phonetic run, an `_x...` escape) is not."""
    attrs, body = m[3], m[4]
    if body is None or b"<f" in body:
        return False
    kind = _TYPE.search(attrs)
    kind = kind[1] if kind else b"n"
    if kind == b"s":
        v = _V.fullmatch(body)
        return v is not None and v[1].isdigit() and int(v[1]) in blank()
    if kind == b"inlineStr":
        inline = _INLINE.fullmatch(body)
        return inline is not None and _blank_text(inline[1])
    if kind == b"str":
        v = _V.fullmatch(body)
        return v is not None and _blank_text(b"<t>" + v[1] + b"</t>")
    return False


def _far_columns(pieces: Iterable[bytes], blank: Callable[[], frozenset[int]]) -> dict[int, int] | None:
    """For a sheet with cells in column AAA or beyond that are not blank (`_far_blank`: an "x" typed in XFD1), each
    of their columns' place (0-based) once moved, in order, to follow the last column before AAA that a cell or a
    merged range takes: the rows are then as wide as the data and those cells, not 16,384 cells. A range from
    the data's columns to far right above the table (a title merged across the whole row) then ends at the last
    column kept within it (`_moved_refs`). None when there is no such cell, or a merged range reaches those
    columns from before AAA over a row of the table (its first row with two values) or from a column past the
    data, or spans a far column without a cell (the whole read's width then). `pieces`: the sheet's XML, whole or
    cut between rows (`_row_pieces`)."""
    far: set[int] = set()
    letters: set[bytes] = set()
    merges: list[re.Match] = []
    table = None        # the first row with two values or more (the table's; a title over the row lies above it)
    for xml in pieces:
        if table is None:
            table = _table_row(xml)
        if _FAR_CELL.search(xml) is not None:
            far.update(_column_of(m[1]) for m in _FAR_CELL_XML.finditer(xml) if not _far_blank(m, blank))
        letters.update(_CELL_COLUMN.findall(xml))
        if (end := xml.rfind(b"</sheetData>")) >= 0:
            merges += _MERGE_REF.finditer(xml, end)
    if not far:
        return None
    near = max((c for x in letters if (c := _column_of(x)) < _FAR), default=-1)
    across = []     # the first columns of the ranges from the data's columns to far right (a title over a row)
    for m in merges:
        first, last = _column_of(m[2]), _column_of(m[4] or m[2])
        if last < _FAR:
            near = max(near, last)
        elif first < _FAR:
            if table is None or int(m[5]) >= table:
                return None
            across.append(first)
        elif not far.issuperset(range(first, last + 1)):
            return None
    if any(first > near for first in across):
        return None
    return {column: near + 1 + k for k, column in enumerate(sorted(far))}


def _table_row(xml: bytes) -> int | None:
    """The first row of the sheet's XML (or a piece of it, cut between rows) with two cells holding something."""
    row, seen = None, 0
    for m in _VALUE_CELL.finditer(xml):
        seen = seen + 1 if m[1] == row else 1
        row = m[1]
        if seen == 2:
            return int(row)
    return None


def _moved_refs(merges: bytes, moved: dict[int, int] | None) -> bytes:
    """The merged ranges' XML with the moved columns' references at their places (`_far_columns`); a range from the
    data's columns to far right (a title merged over the whole row) ends at the last column kept within it."""
    if not moved:
        return merges

    def ref(m: re.Match) -> bytes:
        first, last = _column_of(m[2]), _column_of(m[4] or m[2])
        out = m[1] + column_letter(moved.get(first, first)).encode() + m[3]
        if m[4]:
            if first < _FAR <= last and last not in moved:
                last = max((c for c in moved if c <= last), default=None)
                end = moved[last] if last is not None else min(moved.values()) - 1
            else:
                end = moved.get(last, last)
            out += b":" + column_letter(end).encode() + m[5]
        return out + b'"'
    return _MERGE_REF.sub(ref, merges)


def _column_of(letters: bytes) -> int:
    """The 0-based column of a reference's letters (b"A" -> 0, b"XFD" -> 16383)."""
    return column_number(letters) - 1


def _blank_strings(zf: zipfile.ZipFile) -> frozenset[int]:
    """The indices of the workbook's shared strings that the reader reads as blank (`_blank_text`); none when its
    shared strings are not all written `<si>...</si>` (their indices could not be counted)."""
    part = next((p for kind, p in workbook_rels(zf).values() if kind == "sharedStrings"), None)
    if part is None:
        return frozenset()
    xml = zf.read(part)
    items = _SI.findall(xml)
    if len(items) != len(_SI_TAG.findall(xml)):
        return frozenset()
    return frozenset(i for i, body in enumerate(items) if len(body) < 256 and _blank_text(body))


def _blank_text(body: bytes) -> bool:
    """Whether a shared or inline string's XML (`<t>` runs, `<r>` runs with their `<rPr>`) is a text the reader
    reads as blank; False for anything else in it."""
    if _TEXT_PARTS.sub(b"", body).strip():
        return False
    text = html.unescape(b"".join(_T_TEXT.findall(body)).decode("utf-8", "replace"))
    return "_x" not in text and cell_text(text) is None


def _jumps(xml: bytes, end: int) -> list[int]:
    """Where a slice's rows [0, end) that span more than _MAX_SPAN sheet rows jump more than _GAP rows: the
    library holds a slice's whole area, so rows far apart are sliced apart (a space typed in row 1,048,001 under
    200,000 rows gave the last slice an area of 850,000 rows)."""
    first, last = _ROW_AT.search(xml, 0, end), xml.rfind(b'<row r="', 0, end)
    if first is None or int(_ROW_AT.match(xml, last)[1]) - int(first[1]) <= _MAX_SPAN:
        return []
    out, before = [], int(first[1])
    for m in _ROW_AT.finditer(xml, first.end(), end):
        if (row := int(m[1])) - before > _GAP:
            out.append(m.start())
        before = row
    return out


def _last_cell(xml: bytes, end: int) -> int | None:
    """The 0-based row of the last cell before `end` that holds something (a value, an inline text, a formula;
    None for none): its row's reference, plus one for each row without one after it (the library numbers such a
    row as the one before it, plus one; a slice starts at a row with its reference, so it numbers them as the whole
    read does). A cell of a style alone (`<c r="A5" s="1"/>`: a template's borders drawn down to row 1,000,000)
    is not one: the library's area ends above it."""
    content = _last_content(xml, end)
    if content < 0:
        return None
    at = xml.rfind(b"<c ", 0, content)
    at = max(at, xml.rfind(b"<c>", max(at, 0), content))    # (looked for after it only: the later of the two)
    if at < 0:
        return None
    row = xml.rfind(b'<row r="', 0, at)
    if row < 0 or (m := _ROW_AT.match(xml, row)) is None:
        raise _NotPlain
    return int(m[1]) - 1 + xml.count(b"<row", row + 4, at)


def _last_content(xml: bytes, end: int) -> int:
    """Where the last value, inline text or formula tag before `end` starts (-1 for none), looked for from `end`
    back in windows eight times larger each time: a sheet of shared strings has no inline text nor formula, and
    each looked for over the whole slice cost a 1M-row register 0.75 s before its first part."""
    window = 1 << 12
    while True:
        low = max(0, end - window)
        found = max(xml.rfind(b"<v", low, end), xml.rfind(b"<is>", low, end), xml.rfind(b"<f", low, end))
        if found >= 0 or not low:
            return found
        window <<= 3


def _write_book(zf: zipfile.ZipFile, out: zipfile.ZipFile, slices: int) -> None:
    """The workbook around the slices: each a sheet s0, s1, ..., the original's styles and shared strings, and its
    date system (1900 or 1904)."""
    parts = {kind: part for kind, part in workbook_rels(zf).values() if kind in ("styles", "sharedStrings")}
    pr = _WORKBOOK_PR.search(zf.read("xl/workbook.xml"))
    names = [*(f"s{k}" for k in range(slices)), "m"]
    sheets = "".join(f'<sheet name="{n}" sheetId="{k + 1}" r:id="r{n}"/>' for k, n in enumerate(names))
    out.writestr("xl/workbook.xml", (f'<?xml version="1.0" encoding="UTF-8"?>\n<workbook xmlns="{_MAIN_NS}" '
                                     f'xmlns:r="{_REL_NS}">').encode() + (pr[0] if pr else b"")
                 + f"<sheets>{sheets}</sheets></workbook>".encode())
    rels = [f'<Relationship Id="r{n}" Type="{_REL_NS}/worksheet" Target="worksheets/{n}.xml"/>' for n in names]
    types = [f'<Override PartName="/xl/worksheets/{n}.xml" ContentType="{_CT}.worksheet+xml"/>' for n in names]
    for kind, src in parts.items():
        with Ahead(zf.open(src), _PIECE) as f, out.open(f"xl/{kind}.xml", "w", force_zip64=True) as g:
            while piece := f.read(_PIECE):
                g.write(piece)
        rels.append(f'<Relationship Id="r{kind}" Type="{_REL_NS}/{kind}" Target="{kind}.xml"/>')
        types.append(f'<Override PartName="/xl/{kind}.xml" ContentType="{_CT}.{kind}+xml"/>')
    out.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships '
                 f'xmlns="{_PKG_NS}">{"".join(rels)}</Relationships>')
    out.writestr("_rels/.rels", f'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="{_PKG_NS}">'
                 f'<Relationship Id="r1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    out.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?>\n<Types xmlns="http://schemas.'
                 'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
                 'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/'
                 f'xml"/><Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
                 f'{"".join(types)}</Types>')
