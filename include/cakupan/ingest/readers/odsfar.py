"""An .ods sheet's values far right of its data moved, with their columns, to follow the data.

An "x" typed 16,000 columns right of a 2,000-row register made python-calamine build every row that wide (7.7 s, a
reader child of 2.3 GB; at 10,000 rows, more than the child may take). An .ods row is its cells in order, a run of
equal ones written once (`table:number-columns-repeated`), so a far value is a run of empty cells and the value.
Here every row's cells from column FAR_COLUMNS on are rewritten: the empty ones and those that read as blank left
out, each value put at its column's place after the last column (before FAR_COLUMNS) that any row of the sheet
fills, the far columns kept in order. The reader names a moved column by its own letter (`blocks.Rows`, from
`Moved.columns`). A sheet with anything else that far right (a value repeated, a merged or covered cell, a table
in a cell) is left as it is.
"""

from __future__ import annotations

import re
from html import unescape

from cakupan.ingest.readers.cells import cell_text

FAR_COLUMNS = 1 << 10       # a cell from this column (0-based) on is far right
TABLE = re.compile(rb'<table:table(?=[\s>])[^>]*?\btable:name="([^"]*)"[^>]*>')     # a sheet's start, its name
_ROW = re.compile(rb"<table:table-row\b[^>]*?(?:/>|>(.*?)</table:table-row>)", re.DOTALL)
_CELL = re.compile(rb"<table:((?:covered-)?table-cell)\b([^>]*?)(?:/>|>(.*?)</table:(?:covered-)?table-cell>)",
                   re.DOTALL)
REPEATED_COLUMNS = re.compile(rb'\btable:number-columns-repeated="([0-9]+)"')
_TYPED = re.compile(rb'office:value-type="([^"]*)"')
_TAGS = re.compile(rb"<[^>]*>")
_REPEAT_ATTR = re.compile(rb'\s+table:number-columns-repeated="[0-9]+"')


def far_values_moved(xml: bytes, far_runs: list[int]) -> tuple[bytes, dict[str, dict[int, int]]]:
    """content.xml with each sheet's far values moved (`far_runs`: where a run of more than FAR_COLUMNS cells is
    written, as found by the caller), and per sheet so rewritten its moved columns: {place: own column}."""
    pieces, at, moved = [], 0, {}
    for table in TABLE.finditer(xml):
        end = xml.find(b"</table:table>", table.end())
        if end < 0 or table.start() < at or not any(table.end() < r < end for r in far_runs):
            continue
        plan = _plan(xml, table.end(), end)
        if plan is None:
            continue
        rows, places = plan
        for row_start, body_start, body_end, cells in rows:
            pieces += [xml[at:body_start], _moved_row(cells, places)]
            at = body_end
        name = unescape(table[1].decode("utf-8", "replace"))
        moved[name] = {place: column for column, place in places.items()}
    return b"".join([*pieces, xml[at:]]), moved


def _plan(xml: bytes, start: int, end: int):
    """The sheet's rows that reach FAR_COLUMNS, each (its start, its cells' start and end, its cells as (first
    column, columns taken, cell XML, far value or not)), and the far values' columns' places; None when there is
    no far value, or something else lies that far right, or a table lies inside."""
    if b"<table:table " in xml[start:end]:
        return None
    rows, near, far = [], -1, set()
    for row in _ROW.finditer(xml, start, end):
        if row[1] is None:
            continue
        col, cells, reaches = 0, [], False
        for cell in _CELL.finditer(row[1]):
            kind, attrs, inner = cell[1], cell[2], cell[3] or b""
            repeat = int(m[1]) if (m := REPEATED_COLUMNS.search(attrs)) else 1
            filled = bool(inner) or _TYPED.search(attrs) is not None
            if col + repeat > FAR_COLUMNS:
                reaches = True
                if filled and not blank_cell(attrs, inner):
                    if col < FAR_COLUMNS or repeat > 1 or kind != b"table-cell" or b"spanned=" in attrs:
                        return None
                    far.add(col)
                    cells.append((col, 1, cell[0], True))
                elif col < FAR_COLUMNS:     # (its columns from FAR_COLUMNS on left out)
                    cells.append((col, FAR_COLUMNS - col, _with_repeat(cell[0], FAR_COLUMNS - col), False))
            else:
                cells.append((col, repeat, cell[0], False))
                if filled:
                    near = max(near, col + repeat - 1)
            col += repeat
        if reaches:
            rows.append((row.start(), row.start(1), row.end(1), cells))
    if not far:
        return None
    return rows, {column: near + 1 + k for k, column in enumerate(sorted(far))}


def blank_cell(attrs: bytes, inner: bytes) -> bool:
    """Whether a cell (its attributes, its XML inside) holds only a text the reader reads as blank (spaces,
    `<text:s/>`), or nothing, and no formula, note or drawing (also `odstail`'s test per cell)."""
    typed = _TYPED.search(attrs)
    if typed is not None and typed[1] != b"string":
        return False
    if b"table:formula=" in attrs or b"<office:annotation" in inner or b"<draw:" in inner:
        return False
    text = unescape(_TAGS.sub(b"", inner).decode("utf-8", "replace"))
    return not text or cell_text(text) is None


def _moved_row(cells: list[tuple[int, int, bytes, bool]], places: dict[int, int]) -> bytes:
    """A row's cells with its far values at their places, its cells up to the first of them as written (empty ones
    cut at the places' start)."""
    first = min(places.values())
    out, col = [], 0
    for start, repeat, xml, far in cells:
        if far:
            place = places[start]
            if place > col:
                out.append(b'<table:table-cell table:number-columns-repeated="%d"/>' % (place - col))
            out.append(xml)
            col = place + 1
        elif start < first:
            take = min(repeat, first - start)
            out.append(xml if take == repeat else _with_repeat(xml, take))
            col = start + take
    return b"".join(out)


def _with_repeat(cell: bytes, n: int) -> bytes:
    """A cell's XML repeated n times (its own `table:number-columns-repeated` replaced)."""
    tag_end = cell.find(b">")
    head = _REPEAT_ATTR.sub(b"", cell[:tag_end])
    rest = cell[tag_end:]
    if head.endswith(b"/"):
        head, rest = head[:-1].rstrip(), b"/" + rest
    return head + b' table:number-columns-repeated="%d"' % n + rest if n > 1 else head + rest
