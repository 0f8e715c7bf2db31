"""The merged ranges of an OpenDocument spreadsheet (.ods), read from its content.xml with the standard library.

python-calamine gives no merged ranges for ODS. In content.xml a merged range is a `table:table-cell` with
`table:number-columns-spanned` / `table:number-rows-spanned`; the cells it covers are `table:covered-table-cell`.
A run of equal cells is written once with `table:number-columns-repeated`, a run of equal rows once with
`table:number-rows-repeated` (LibreOffice writes every blank stretch that way), so positions are counted, not
enumerated. The ranges come out as python-calamine gives them for an .xlsx, ((first row, first column), (last row,
last column)) 0-based, so that the same merge fill (`workbook.fill_merged`) serves both.

The scan is a tag pattern over the bytes, not an XML parser (a sheet of 200 000 rows would take seconds to parse
element by element); a file with no spanned cell at all is recognised by one substring search and not scanned.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from html import unescape

Ranges = list[tuple[tuple[int, int], tuple[int, int]]]

_SPANNED = (b"number-columns-spanned", b"number-rows-spanned")
# an opening or closing tag of a table, row or cell, whatever its namespace prefix; attribute values may hold '>'
_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(table|table-row|table-cell|covered-table-cell)(?=[\s/>])"
                  rb"((?:\s+[^\s=>/]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>")
_ATTR = re.compile(rb"(?:[\w.-]+:)?([\w-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
MAX_REPEATED_SPANS = 1000      # a spanned cell repeated over more rows than this is formatting, not data
_ERROR_VALUE = b'value-type="error"'
_ERROR_TYPE = re.compile(rb'value-type\s*=\s*["\']error["\']')    # (`office:value-type` is never "error": any prefix)
_CELL_END = re.compile(rb"</(?:[\w.-]+:)?table-cell>")
_INNER_TAG = re.compile(rb"<[^>]*>")


def ods_merged_ranges(source) -> dict[str, Ranges]:
    """Per sheet name, the merged ranges of an .ods (a path or a file-like object); {} when there are none or the
    content cannot be read (the sheets are then read without merges, as before)."""
    return ranges_in(content_xml(source))


def content_xml(source) -> bytes | None:
    """An .ods's content.xml (a path or a file-like object), or None when it cannot be read."""
    try:
        with zipfile.ZipFile(source) as zf:
            return zf.read("content.xml")
    except (OSError, zipfile.BadZipFile, KeyError, ValueError, RuntimeError, NotImplementedError, EOFError):
        return None


def ranges_in(xml: bytes | None) -> dict[str, Ranges]:
    """`merged_ranges_of` a content.xml, {} at once for one without a spanned cell (or none)."""
    if xml is None or not any(s in xml for s in _SPANNED):
        return {}
    return merged_ranges_of(xml)


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return {m[1]: m[2] if m[2] is not None else m[3] for m in _ATTR.finditer(raw)}


def _count(attrs: dict[bytes, bytes], name: bytes) -> int:
    try:
        return max(1, int(attrs.get(name, b"1")))
    except ValueError:
        return 1


def merged_ranges_of(xml: bytes) -> dict[str, Ranges]:
    """The merged ranges of every sheet of a content.xml (see the module's docstring)."""
    out: dict[str, Ranges] = {}
    for sheet, row, col, row_repeat, repeat, tag, attrs, _ in _cells(xml):
        out.setdefault(sheet, [])
        if tag == b"table-cell" and (b"number-columns-spanned" in attrs or b"number-rows-spanned" in attrs):
            cols = _count(attrs, b"number-columns-spanned")
            rows = _count(attrs, b"number-rows-spanned")
            if (cols > 1 or rows > 1) and row_repeat * repeat <= MAX_REPEATED_SPANS:
                for k in range(row_repeat):
                    for j in range(repeat):
                        c = col + j
                        out[sheet].append(((row + k, c), (row + k + rows - 1, c + cols - 1)))
    return {name: ranges for name, ranges in out.items() if ranges}


def error_cells_in(xml: bytes | None) -> dict[str, list[tuple[int, int, str]]]:
    """Per sheet, (row, column, text) (0-based) of every cell whose value is an error ("#N/A", "Err:502": LibreOffice
    writes `calcext:value-type="error"`), which python-calamine reads as an empty text; {} at once for a content.xml
    without one (one substring search)."""
    out: dict[str, list[tuple[int, int, str]]] = {}
    if xml is None or _ERROR_VALUE not in xml:
        return out
    for sheet, row, col, row_repeat, repeat, tag, _, m in _cells(xml):
        if (tag != b"table-cell" or m[4] or not _ERROR_TYPE.search(m[3])
                or row_repeat * repeat > MAX_REPEATED_SPANS):
            continue
        close = _CELL_END.search(xml, m.end())
        body = xml[m.end(): close.start() if close else m.end()]
        text = unescape(_INNER_TAG.sub(b"", body).decode("utf-8", "replace"))
        if text.strip():
            out.setdefault(sheet, []).extend((row + k, col + j, text.strip())
                                             for k in range(row_repeat) for j in range(repeat))
    return out


def _cells(xml: bytes) -> Iterator[tuple[str, int, int, int, int, bytes, dict[bytes, bytes], re.Match]]:
    """Every opening cell tag of a sheet (a table not nested in a cell): (sheet, row, column, rows and columns it
    is repeated over, tag, attributes without their namespace prefix, the tag's match). A sheet with no cell is
    not given."""
    sheet: str | None = None
    depth = 0                      # tables nested in a cell (rare) are not sheets: their rows are not counted
    row = col = 0
    row_repeat = 1
    for m in _TAG.finditer(xml):
        closing, tag, raw, empty = m[1], m[2], m[3], m[4]
        if tag == b"table":
            if closing:
                depth -= 1
                if depth == 0:
                    sheet = None
            elif not empty:
                depth += 1
                if depth == 1:
                    sheet = unescape(_attrs(raw).get(b"name", b"").decode("utf-8", "replace"))
                    row = 0
            continue
        if sheet is None or depth != 1:
            continue
        if tag == b"table-row":
            if closing:
                row += row_repeat
            else:
                row_repeat = _count(_attrs(raw), b"number-rows-repeated") if raw else 1
                col = 0
                if empty:
                    row += row_repeat
            continue
        if closing:
            continue
        attrs = _attrs(raw) if raw else {}
        repeat = _count(attrs, b"number-columns-repeated")
        yield sheet, row, col, row_repeat, repeat, tag, attrs, m
        col += repeat
