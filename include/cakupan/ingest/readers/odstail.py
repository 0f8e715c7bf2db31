"""An .ods sheet's blank rows far below its data, left out before the spreadsheet library reads it.

LibreOffice writes a run of equal rows once (`table:number-rows-repeated`), so a space typed a million rows below
a 2,000-row register is a 100 KB file; python-calamine reads it into the whole area down to that space (a reader
child of 1.1 GB), and the whole read then drops the blank rows at the bottom. Here the rows of a sheet from a run
of more than FAR_ROWS repeated rows to the sheet's end are left out of content.xml when none of them holds
anything but spaces (a value of another type, a formula, a note, a merged range: kept, read as before) and no
merged range from above reaches them; the rows the library then gives are the whole read's less those blank rows,
padded to the width the stray cell gave the area (`Trimmed.widths`).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from html import unescape

from cakupan.ingest.readers.cells import cell_text
from cakupan.ingest.readers.odsmerge import merged_ranges_of

FAR_ROWS = 1 << 16      # a run of more repeated rows than this, with only blank rows after it, is left out
_RUN = re.compile(rb'<table:table-row\b[^>]*?\btable:number-rows-repeated="([0-9]+)"')
_FAR_RUN = re.compile(rb'number-rows-repeated="([0-9]+)"')     # (the runs `_RUN` finds, found faster)
_ROW = re.compile(rb"\s*<table:table-row\b[^>]*?(?:/>|>(.*?)</table:table-row>)", re.DOTALL)
_ROW_TAG = re.compile(rb"<table:table-row\b([^>]*?)(/?)>")
_REPEATED_ROWS = re.compile(rb'\btable:number-rows-repeated="([0-9]+)"')
_CELL = re.compile(rb"<table:(?:covered-)?table-cell\b([^>]*?)(?:/>|>(.*?)</table:(?:covered-)?table-cell>)",
                   re.DOTALL)
_REPEATED_COLUMNS = re.compile(rb'\btable:number-columns-repeated="([0-9]+)"')
_TABLE = re.compile(rb'<table:table(?=[\s>])[^>]*?\btable:name="([^"]*)"[^>]*>')
_NOT_BLANK = (b"table:formula=", b"spanned=", b"<office:annotation", b"<table:table ", b"<draw:")
_TAGS = re.compile(rb"<[^>]*>")


@dataclass
class Trimmed:
    """The .ods's bytes with the far blank rows left out, and per sheet left so the width of its whole area."""

    data: bytes
    widths: dict[str, int]


def without_far_blank_rows(data: bytes, xml: bytes | None) -> Trimmed | None:
    """The .ods (its bytes; `xml`: its content.xml, `odsmerge.content_xml`) without the far blank rows of any
    sheet, or None when no sheet has any (or the package is not the plain kind: then it is read as it is)."""
    if xml is None or not any(int(m[1]) > FAR_ROWS for m in _FAR_RUN.finditer(xml)):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            new, widths = _trimmed(xml)
            if not widths:
                return None
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as w:
                for info in zf.infolist():
                    w.writestr(info, new if info.filename == "content.xml" else zf.read(info))
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, RuntimeError, NotImplementedError, EOFError):
        return None
    return Trimmed(out.getvalue(), widths)


def _trimmed(xml: bytes) -> tuple[bytes, dict[str, int]]:
    """content.xml without each sheet's far blank rows; the sheets so trimmed, each with its area's width."""
    pieces, widths, at = [], {}, 0
    merges = merged_ranges_of(xml)
    for table in _TABLE.finditer(xml):
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
        body = row[1] or b""
        if any(s in body for s in _NOT_BLANK):
            return None
        col = 0
        for cell in _CELL.finditer(body):
            attrs, inner = cell[1], cell[2] or b""
            repeat = int(m[1]) if (m := _REPEATED_COLUMNS.search(attrs)) else 1
            typed = re.search(rb'office:value-type="([^"]*)"', attrs)
            if typed is not None and typed[1] != b"string":
                return None
            text = unescape(_TAGS.sub(b"", inner).decode("utf-8", "replace"))
            if text and cell_text(text) is not None:
                return None
            col += repeat
            if inner or typed is not None:
                width = max(width, col)
        at = row.end()
    return width


def _rows_before(xml: bytes, start: int, stop: int) -> int | None:
    """The sheet rows written in xml[start:stop] (a repeated row counted as often as it is repeated); None when a
    table lies inside (its rows are not the sheet's)."""
    if b"<table:table " in xml[start:stop]:
        return None
    rows = 0
    for tag in _ROW_TAG.finditer(xml, start, stop):
        rows += int(m[1]) if (m := _REPEATED_ROWS.search(tag[1])) else 1
    return rows
