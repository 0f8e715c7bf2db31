"""What a reader gives: blocks of data rows as cell text (with each number/date cell's own value), or a rejection.

A reader never decides whether a row is valid; it decides only which rows are data, and keeps each data row's sheet
and source row number and every mapped cell's text — and, for number and date cells, the value the workbook stored
(`Block.typed`), so a number cell 123.456 is never read back as the text "123.456" (= 123456).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from cakupan.core.contracts import normalise_header
from cakupan.core.messages import text


class FileRejected(Exception):
    """The whole file cannot be read; `code` is a registered reason code."""

    def __init__(self, code: str, detail: object = "", *, column: str | None = None, value: object = None):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.column = column
        self.value = value

    def __str__(self) -> str:   # a detail is a catalogue message (core.messages.Msg): rendered when shown
        return f"{self.code}: {self.detail}" if self.detail else self.code

    def __reduce__(self):       # pickled with its fields (a reader process hands it to the writer)
        return (_file_rejected, (self.code, self.detail, self.column, self.value))


def _file_rejected(code: str, detail: str, column: str | None, value: object) -> FileRejected:
    return FileRejected(code, detail, column=column, value=value)


@dataclass
class ReadOptions:
    """How a regency's configuration shapes the reading of its files."""

    overrides: dict[str, dict[str, str]] = field(default_factory=dict)   # source -> {header: canonical}
    defaults: dict[str, set[str]] = field(default_factory=dict)          # source -> columns a config default fills
    skip_sheets: tuple[str, ...] = ()


# the row-number column's labels, folded (`normalise_header`): not an extra column (`HeaderMatch.extra_columns`)
ROW_NUMBER_LABELS = frozenset({"no", "nomor", "nourut", "nomorurut", "urut", "nmr"})


@functools.cache
def _not_listed() -> frozenset[str]:
    """Folded labels of the columns a rejection workbook adds (`Block.listed_extras`)."""
    return frozenset(normalise_header(text(f"outbox.{k}", lang)) for lang in ("id", "en")
                     for k in ("reason_header", "origin_sheet_header", "origin_row_header"))


class Rows(list):
    """A sheet's rows whose columns past its data (column AAA and beyond) were moved to follow it
    (`sheetslices._far_columns`, `odsfar`): `columns` gives such a column's own 0-based index by its place, for its
    name; or in which a long run of blank rows was made one (`workbook._rows_of_slices`): `row_of` gives a row's own
    1-based number by its place (None: its place plus one)."""

    def __init__(self, rows: list[list], columns: dict[int, int] | None = None,
                 row_of: Callable[[int], int] | None = None):
        super().__init__(rows)
        self.columns = columns or {}
        self.row_of = row_of


def letters_of(rows: list) -> Callable[[int], str]:
    """The spreadsheet letter of a column of these rows, by its place in them (`Rows`: a moved column's own)."""
    moved = getattr(rows, "columns", None)
    return column_letter if not moved else (lambda j: column_letter(moved.get(j, j)))


def column_number(letters: bytes) -> int:
    """The 1-based column of a reference's letters (b"A" -> 1, b"XFD" -> 16384)."""
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def column_letter(j: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 -> A, 27 -> AB)."""
    out = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


@dataclass
class Block:
    """The data rows of one sheet (or one CSV), mapped to a source contract, column by column."""

    source: str
    sheet: str
    header_row: int                               # 1-based index of the (last) header row
    mapping: dict[str, int]                       # canonical column -> 0-based column index
    headers: list[str]                            # header texts as written
    title_text: str                               # text above the header (title block)
    source_rows: list[int] = field(default_factory=list)             # 1-based source row (or CSV line) per data row
    cells: dict[str, list[str | None] | pa.Array] = field(default_factory=dict)  # column -> cell text per data row
    typed: dict[str, dict[int, object]] = field(default_factory=dict)  # column -> {data row: number/date cell}
    nik_numeric: list[bool] = field(default_factory=list)   # per row: the NIK cell was a number in Excel
    total_rows: list[tuple[int, int, dict[str, object]]] = field(default_factory=list)  # (row, rows above, cells)
    notes_skipped: int = 0
    unsplit: dict[int, str] = field(default_factory=dict)   # data row -> its text, when it did not split into cells
    # columns the contract does not know: label (as written, made unique) -> 0-based column index, and their cell
    # text per data row (kept in raw_cells, listed once per file as an EXTRA_COLUMNS finding, never parsed)
    extras: dict[str, int] = field(default_factory=dict)
    extra_cells: dict[str, list[str | None] | pa.Array] = field(default_factory=dict)
    # a register's programs as one flag column per program (JKK = Y): program -> its column's label in `extras`
    # (read into the programs column before validation, `programflags`; kept in raw_cells as the others)
    program_flags: dict[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return list(self.mapping)

    def validated(self) -> Block:
        """The block once its rows are validated: what the writer still needs (row numbers, totals, notes, the
        header), without the cells (the batch holds their texts; a reader process sends less to the writer)."""
        return replace(self, cells={}, typed={}, nik_numeric=[], extra_cells={})

    @property
    def listed_extras(self) -> list[str]:
        """The extra columns a finding lists: all but the reason / origin columns of a rejection workbook sent
        back (`cakupan.outbox`), which are kept in raw_cells like the others, and the programs' flag columns
        (read as the programs)."""
        flags = set(self.program_flags.values())
        return [k for k in self.extras if normalise_header(k) not in _not_listed() and k not in flags]

    @property
    def n_rows(self) -> int:
        return len(self.source_rows)

    def keys(self, column: str) -> list[str | None] | pa.Array:
        """The column's cells for the parsers: text, or the typed marker of a number/date cell (`typed_key`)."""
        texts = self.cells[column]
        typed = self.typed.get(column)
        if isinstance(texts, pa.Array):
            marked = pc.fill_null(pc.starts_with(texts, TYPED_MARK), False)
            if not typed and not pc.any(marked).as_py():
                return texts
            texts = texts.to_pylist()
        elif not typed and TYPED_MARK not in "".join(filter(None, texts)):     # no text holds the mark at all
            return texts
        out = [TYPED_MARK + "s" + t if t is not None and t.startswith(TYPED_MARK) else t for t in texts]
        if typed:
            for i, k in zip(typed, map(typed_key, typed.values())):
                if k is not None:
                    out[i] = k
        return out


@dataclass
class ReadResult:
    path: Path
    source: str
    blocks: list[Block]
    encoding: str | None = None
    delimiter: str | None = None
    sheets_without_header: list[str] = field(default_factory=list)   # sheets with content but no known header

    @property
    def rows_in(self) -> int:
        return sum(b.n_rows for b in self.blocks)

    def extra_columns_note(self, file_name: str) -> str | None:
        """The one finding that lists the columns the contract does not know (kept in raw_cells, not read), per
        group of sheets with the same ones; None when there are none (`Block.listed_extras`)."""
        groups: dict[tuple[str, ...], list[str]] = {}
        for b in self.blocks:
            if labels := tuple(b.listed_extras):
                groups.setdefault(labels, []).append(b.sheet)
        if not groups:
            return None
        parts = []
        for labels, sheets in groups.items():
            where = file_name + (f", {text('word.sheet')} " + ", ".join(sheets) if any(sheets) else "")
            parts.append(text("load.extra_columns", where=where,
                              labels=", ".join(f"'{k if len(k) <= 60 else k[:57] + '...'}'" for k in labels)))
        return " ".join(parts)


# --------------------------------------------------------------------------------------------- typed cells --
TYPED_MARK = "\ue000"   # a private-use character: never part of a cell text the parsers are given
# the text a workbook cell is read as when it holds a formula whose result was never saved (its row is quarantined
# FORMULA_NO_VALUE: "empty" would mislead the clerk)
FORMULA_NO_VALUE = TYPED_MARK + "(a formula without a saved result)"


def typed_key(value: object) -> str | None:
    """Encode a number or date cell as text that `typed_value` turns back into the same value, or None."""
    encode = _TYPED_KEYS.get(type(value))       # a workbook's cells: exactly these types (a register: ~280 a file)
    if encode is None:      # another class (a library's own datetime type): the first kind it is an instance of
        encode = next((f for kind, f in _TYPED_KEYS.items() if isinstance(value, kind)), None)
    return None if encode is None else encode(value)


# in the order a value of another class is tried (a bool is an int, a datetime is a date)
_TYPED_KEYS = {
    bool: lambda v: f"{TYPED_MARK}b{int(v)}",
    float: lambda v: None if math.isnan(v) else f"{TYPED_MARK}f{v!r}",
    int: lambda v: f"{TYPED_MARK}i{v}",
    dt.datetime: lambda v: f"{TYPED_MARK}t{v.isoformat()}",
    dt.date: lambda v: f"{TYPED_MARK}d{v.isoformat()}",
}


def typed_value(key: str | None) -> object:
    """Decode a cell key made by `Block.keys`: the original number/date, or the text itself."""
    if key is None or not key.startswith(TYPED_MARK) or len(key) < 2:
        return key
    tag, body = key[1], key[2:]
    if tag == "f":
        return float(body)
    if tag == "i":
        return int(body)
    if tag == "b":
        return body == "1"
    if tag == "t":
        return dt.datetime.fromisoformat(body)
    if tag == "d":
        return dt.date.fromisoformat(body)
    return body
