"""An .ods sheet's blank cells far below or far right of its data, left out before the spreadsheet library reads it.

LibreOffice writes a run of equal rows once (`table:number-rows-repeated`), so a space typed a million rows below
a 2,000-row register is a 100 KB file; python-calamine reads it into the whole area down to that space (a reader
child of 1.1 GB), and the whole read then drops the blank rows at the bottom. Here the rows of a sheet from a run
of more than FAR_ROWS repeated rows to the sheet's end are left out of content.xml when none of them holds
anything but spaces (a value of another type, a formula, a note, a merged range: kept, read as before) and no
merged range from above reaches them; the rows the library then gives are the whole read's less those blank rows,
padded to the width the stray cell gave the area (`Trimmed.widths`; a cell past FAR_COLUMNS not counted).

A run of equal cells (`table:number-columns-repeated`) works the same way across: a space typed in column XFD of
a row made every row of the area 16,000 cells wide (a 2,000-row register: 6.9 s, a reader child of 2.3 GB). A
row's cells from a run of more than FAR_COLUMNS empty cells to its end are left out when all of them are blank
the same way: the rows are then as wide as the data, and the reader finds the same data rows and columns.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from html import unescape

from cakupan.ingest.readers.odsfar import REPEATED_COLUMNS, TABLE, blank_cell, far_values_moved
from cakupan.ingest.readers.odsmerge import merged_ranges_of

FAR_ROWS = 1 << 16      # a run of more repeated rows than this, with only blank rows after it, is left out
FAR_COLUMNS = 1 << 10   # a run of more repeated empty cells than this, with only blank cells after it, is left out
_FAR_CELLS = re.compile(rb'number-columns-repeated="([0-9]{4,})"')
_RUN = re.compile(rb'<table:table-row\b[^>]*?\btable:number-rows-repeated="([0-9]+)"')
_FAR_RUN = re.compile(rb'number-rows-repeated="([0-9]+)"')     # (the runs `_RUN` finds, found faster)
_ROW = re.compile(rb"\s*<table:table-row\b[^>]*?(?:/>|>(.*?)</table:table-row>)", re.DOTALL)
_ROW_TAG = re.compile(rb"<table:table-row\b([^>]*?)(/?)>")
_REPEATED_ROWS = re.compile(rb'\btable:number-rows-repeated="([0-9]+)"')
_CELL = re.compile(rb"<table:(?:covered-)?table-cell\b([^>]*?)(?:/>|>(.*?)</table:(?:covered-)?table-cell>)",
                   re.DOTALL)
_NOT_BLANK = (b"table:formula=", b"spanned=", b"<office:annotation", b"<table:table ", b"<draw:")


@dataclass
class Trimmed:
    """The .ods's bytes with the far blank rows left out, and per sheet left so the width of its whole area; and per
    sheet whose far values were moved to follow its data, their columns."""

    data: bytes
    widths: dict[str, int]
    moved: dict[str, dict[int, int]] = field(default_factory=dict)    # sheet -> {place: own column} (`odsfar`)


def without_far_blanks(data: bytes, xml: bytes | None) -> Trimmed | None:
    """The .ods (its bytes; `xml`: its content.xml, `odsmerge.content_xml`) without the far blank rows and far
    blank cells of any sheet, or None when no sheet has any (or the package is not the plain kind: then it is read
    as it is)."""
    if xml is None:
        return None
    rows = any(int(m[1]) > FAR_ROWS for m in _FAR_RUN.finditer(xml))
    cells = any(int(m[1]) > FAR_COLUMNS for m in _FAR_CELLS.finditer(xml))
    if not rows and not cells:
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            new, widths = _trimmed(xml) if rows else (xml, {})
            cut, moved = 0, {}
            if cells:
                new, cut = _without_far_blank_cells(new)
                if runs := [m.start() for m in _FAR_CELLS.finditer(new) if int(m[1]) > FAR_COLUMNS]:
                    new, moved = far_values_moved(new, runs)
            if not widths and not cut and not moved:
                return None
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as w:
                for info in zf.infolist():
                    w.writestr(info, new if info.filename == "content.xml" else zf.read(info))
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, RuntimeError, NotImplementedError, EOFError):
        return None
    return Trimmed(out.getvalue(), widths, moved)


def _trimmed(xml: bytes) -> tuple[bytes, dict[str, int]]:
    """content.xml without each sheet's far blank rows; the sheets so trimmed, each with its area's width."""
    pieces, widths, at = [], {}, 0
    merges = merged_ranges_of(xml)
    for table in TABLE.finditer(xml):
        end = xml.find(b"</table:table>", table.end())
        if end < 0 or table.start() < at:
            continue
        name = unescape(table[1].decode("utf-8", "replace"))
        for run in _RUN.finditer(xml, table.end(), end):
            if int(run[1]) <= FAR_ROWS:
                continue
            width = _blank_rows_width(xml, run.start(), end)
            if not width:       # (None: something is kept below; 0: nothing below to leave out)
                continue
            row = _rows_before(xml, table.end(), run.start())
            if row is None or any(r2 >= row for (_, _), (r2, _) in merges.get(name, ())):
                break
            pieces += [xml[at: run.start()]]
            widths[name] = width
            at = end
            break
    return b"".join([*pieces, xml[at:]]), widths


def _blank_rows_width(xml: bytes, start: int, end: int) -> int | None:
    """When xml[start:end] is table rows alone, none holding anything but spaces, the width (columns) up to the
    last cell holding some; else None."""
    width, at = 0, start
    while at < end:
        row = _ROW.match(xml, at, end)
        if row is None:
            return None if xml[at:end].strip() else width
        if (cells := _blank_cells_width(row[1] or b"")) is None:
            return None
        width = max(width, cells)
        at = row.end()
    return width


def _blank_cells_width(body: bytes) -> int | None:
    """When a row's cells (its XML) hold nothing but spaces, the width (columns) up to the last cell holding some
    (a cell past FAR_COLUMNS not counted); else None."""
    if any(s in body for s in _NOT_BLANK):
        return None
    width = col = 0
    for cell in _CELL.finditer(body):
        attrs, inner = cell[1], cell[2] or b""
        repeat = int(m[1]) if (m := REPEATED_COLUMNS.search(attrs)) else 1
        if not blank_cell(attrs, inner):
            return None
        col += repeat
        if (inner or b"office:value-type=" in attrs) and col - repeat < FAR_COLUMNS:
            width = max(width, col)
    return width


def _without_far_blank_cells(xml: bytes) -> tuple[bytes, int]:
    """content.xml without, in each row, the cells from a run of more than FAR_COLUMNS empty cells to the row's end
    when all of those are blank (`_blank_rows_width` of them); and how many rows were so cut."""
    pieces, at, cut = [], 0, 0
    for run in _FAR_CELLS.finditer(xml):
        if int(run[1]) <= FAR_COLUMNS or run.start() < at:
            continue
        start = xml.rfind(b"<", 0, run.start())
        end = xml.find(b"</table:table-row>", run.end())
        if end < 0 or not xml.startswith(b"<table:table-cell ", start):
            continue
        tag_end = xml.find(b">", run.end())
        if tag_end < 0 or xml[tag_end - 1: tag_end] != b"/":
            continue        # (a run of cells holding something: kept)
        if _blank_cells_width(xml[start:end]) is None:
            continue
        pieces.append(xml[at:start])
        at, cut = end, cut + 1
    return b"".join([*pieces, xml[at:]]), cut


def _rows_before(xml: bytes, start: int, stop: int) -> int | None:
    """The sheet rows written in xml[start:stop] (a repeated row counted as often as it is repeated); None when a
    table lies inside (its rows are not the sheet's)."""
    if b"<table:table " in xml[start:stop]:
        return None
    rows = 0
    for tag in _ROW_TAG.finditer(xml, start, stop):
        rows += int(m[1]) if (m := _REPEATED_ROWS.search(tag[1])) else 1
    return rows
