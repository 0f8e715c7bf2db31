"""Cells as text: the one rendering of a delivered cell every reader and the header search use."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.ingest import parsing


def cell_text(v: object) -> str | None:
    """`parsing.cell_text`, with a shortcut for the common clean cell (printable ASCII, nothing to trim), and the
    texts of number and date cells kept (a workbook's dates and row numbers recur row after row)."""
    kind = type(v)
    if kind is str:
        if v.isascii() and v.isprintable() and (not v or (v[0] not in " '=" and v[-1] != " " and "  " not in v)):
            return v or None
    elif kind in _TYPED_KINDS:     # (a time with its zone is not kept: 12:00 UTC is 13:00+01:00, another text)
        return _typed_text(v) if kind not in _ZONED_KINDS or v.tzinfo is None else parsing.cell_text(v)
    return parsing.cell_text(v)


_TYPED_KINDS = frozenset({float, int, dt.date, dt.datetime, dt.time})
_ZONED_KINDS = frozenset({dt.datetime, dt.time})
# by type too (typed=True): 1.0 and True are equal keys, not equal texts
_typed_text = functools.lru_cache(maxsize=100_000, typed=True)(parsing.cell_text)


def row_cell_texts(row: list) -> list[str | None]:
    """`cell_text` of every cell of a row."""
    return row_texts_of_strings(row)[0]


def row_texts_of_strings(row: list) -> tuple[list[str | None], bool]:
    """`cell_text` of every cell of a row, and whether every cell is a str. A row of plain text cells (a CSV's,
    most of the time) is checked at once: printable ASCII with no cell starting with a space, an apostrophe or "=",
    ending with a space or holding two spaces (a "|" inside a cell can only make the check fail, and then each
    cell is read on its own)."""
    try:
        line = "|".join(row)
    except TypeError:           # a number, date or blank (None) cell
        return [cell_text(v) for v in row], False
    if _clean(line):
        return [v or None for v in row], True
    return [cell_text(v) for v in row], True


def _clean(line: str) -> bool:
    """Whether text cells joined with "|" are each clean (`cell_text` gives each back, or None for ''): printable
    ASCII, none starting with a space, an apostrophe or "=" (a formula's text, `parsing.FORMULA_TEXT_RE`), ending
    with a space or holding two spaces (a "|" inside a cell can only make the check fail)."""
    return line.isascii() and line.isprintable() and not (
        "  " in line or "| " in line or " |" in line or "|'" in line or "|=" in line or line[:1] in (" ", "'", "=")
        or line[-1:] == " ")


def grid_texts(rows: list[list]) -> tuple[list, frozenset[int]]:
    """`cell_text` of every cell of rows of one length (a worksheet's, a regular CSV's), read column by column: a
    column of clean text cells (`_clean`, checked at once) is its cells, any other column each cell's `cell_text`.
    Returns the rows' texts (a tuple a row) and the columns in which some cell is not a str (every column a row
    holds, when some cell is not a str in rows of several lengths); rows of several lengths (or none) are read row
    by row."""
    if not rows or not rows[0] or len(set(map(len, rows))) > 1:
        out = [row_texts_of_strings(r) for r in rows]
        typed = not all(s for _, s in out)
        return [t for t, _ in out], frozenset(range(max(map(len, rows)))) if typed else frozenset()
    columns, typed = [], []
    for j, column in enumerate(zip(*rows)):
        try:
            clean = _clean("|".join(column))
        except TypeError:       # a number, date or blank (None) cell
            clean = False
            typed.append(j)
        columns.append([v or None for v in column] if clean else column_texts(column))
    return list(zip(*columns)), frozenset(typed)


# the kinds of cell values two of which are equal only when their texts are (not bool: True == 1; not Decimal:
# Decimal("1.0") == 1.0; a float and an int equal are one whole number; a time with its zone is not: 12:00 UTC is
# 13:00+01:00)
_ONE_TEXT_KINDS = frozenset({str, float, int, dt.date, dt.datetime, dt.time, type(None)})


# a column of fewer cells is read cell by cell: the bulk ways cost more to set up than they save there (the Arrow
# casts of a small workbook's 11 row numbers took 0.11 ms, their cells one by one a tenth of that)
BULK_MIN_CELLS = 256


def column_texts(column: Sequence) -> list[str | None]:
    """`cell_text` of every cell of a column, asked once per distinct value when values recur (dates, amounts,
    blanks: half the cells or fewer distinct), and of a column of whole-number floats (row numbers) by Arrow's
    casts (`str(int(v))`, as `parsing.cell_text` writes one); a short column (`BULK_MIN_CELLS`) cell by cell."""
    if len(column) < BULK_MIN_CELLS:
        return list(map(cell_text, column))
    distinct = dict.fromkeys(column)
    kinds = set(map(type, column))
    if len(distinct) * 2 <= len(column) and kinds <= _ONE_TEXT_KINDS and not (
            kinds & {dt.datetime, dt.time} and any(getattr(v, "tzinfo", None) for v in distinct)):
        text_of = {v: cell_text(v) for v in distinct}
        return list(map(text_of.__getitem__, column))
    if kinds <= {float, type(None)} and (whole := _whole_numbers(column)) is not None:
        return whole
    return list(map(cell_text, column))


def _whole_numbers(column: Sequence) -> list[str | None] | None:
    """The texts of a column of floats (None for a blank) when every one is a whole number Arrow casts exactly
    (under 2**53), else None."""
    arr = pa.array(column, pa.float64())
    values = arr.fill_null(0.0).to_numpy()
    if not (np.isfinite(values).all() and (values == np.trunc(values)).all() and (np.abs(values) < 2**53).all()):
        return None
    return pc.cast(pc.cast(arr, pa.int64()), pa.string()).to_pylist()


def row_texts(row: list) -> list[str]:
    """Every cell of a row as text ('' for a blank cell)."""
    return [t or "" for t in row_cell_texts(row)]


def is_blank_row(row: list) -> bool:
    return all(cell_text(v) is None for v in row)


_FORMULA_TEXT = r'^="[^"]*"$'       # a formula's text without a quote inside (`parsing.FORMULA_TEXT_RE`)


def vector_cell_text(arr: pa.Array) -> pa.Array:
    """`parsing.cell_text` of every string in arr (null for a blank cell), computed once per distinct odd value (a
    formula's text, ="...", unwrapped in bulk first: a NIK column of them has a distinct value a row); `arr`
    itself when every text is clean. Spaces at the edges are trimmed in bulk first (`cell_text` strips them
    whatever else it does), and a leading apostrophe before a clean text dropped: an export that pads each cell,
    "; 7372…", or a NIK column typed '7372…, left a distinct odd value a row."""
    if not pc.any(_unclean(arr)).as_py():
        return arr
    texts = pc.utf8_trim(arr, " ") if pc.any(pc.or_(pc.starts_with(arr, " "), pc.ends_with(arr, " "))).as_py() else arr
    if pc.any(pc.starts_with(texts, '="')).as_py():
        formula = pc.fill_null(pc.match_substring_regex(texts, _FORMULA_TEXT), False)
        texts = pc.if_else(formula, pc.utf8_slice_codeunits(texts, 2, -1), texts)
    if pc.any(apostrophe := pc.starts_with(texts, "'")).as_py():
        # a clean text after a leading apostrophe is the cell's text ('7372… as a clerk keeps a NIK's digits)
        rest = pc.utf8_slice_codeunits(texts, 1)
        texts = pc.if_else(pc.and_(apostrophe, pc.invert(_unclean(rest))), rest, texts)
    clean = pc.fill_null(pc.invert(_unclean(texts)), False)
    odd = pc.filter(texts, pc.and_(pc.invert(clean), pc.fill_null(pc.not_equal(texts, ""), False)))
    if len(odd) == 0:
        return pc.if_else(clean, texts, pa.nulls(len(texts), pa.string()))
    uniq = pc.unique(odd)
    cleaned = pa.array([parsing.cell_text(v) for v in uniq.to_pylist()], pa.string())
    return pc.if_else(clean, texts, cleaned.take(pc.index_in(texts, value_set=uniq)))


def _unclean(texts: pa.Array) -> pa.Array:
    """Which texts are not clean: clean is printable ASCII, not empty, no space at an edge or two together, no
    leading apostrophe or "=" (string kernels: 2.8 ms a 60,000-row column, one regex 4.7)."""
    edges = pc.or_(pc.or_(pc.starts_with(texts, " "), pc.ends_with(texts, " ")),
                   pc.or_(pc.starts_with(texts, "'"), pc.starts_with(texts, "=")))
    return pc.or_(pc.or_(pc.invert(pc.ascii_is_printable(texts)), pc.match_substring(texts, "  ")),
                  pc.or_(edges, pc.equal(texts, "")))
