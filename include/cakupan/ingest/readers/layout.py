"""The layout of a sheet: where its header is, which contract it matches, and which rows below it are data.

A row below the header is data unless it is blank, a total or sub-total, a repeated header, the column-number row,
or a note or signature ("Mengetahui,", "Parepare, 2 Mei 2025", "NIP. ..."). Totals are kept aside (the loader
compares them with the rows above); notes are only counted.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable, Sequence

import numpy as np

from cakupan.ingest import parsing
from cakupan.ingest.readers.blocks import Block, letters_of
from cakupan.ingest.readers.cells import (
    BULK_MIN_CELLS,
    cell_text,
    grid_texts,
    is_blank_row,
    row_cell_texts,
    row_texts,
)
from cakupan.ingest.readers.header import (
    HEADER_SCAN_ROWS,
    MAX_HEADER_ROWS,
    HeaderMatch,
    best_partial_header,
    column_number_cell,
    find_header,
    is_column_numbers,
    raise_no_header,
    title_text,
)

__all__ = ["HEADER_SCAN_ROWS", "HeaderMatch", "best_partial_header", "cell_text", "find_header", "is_blank_row",
           "raise_no_header", "row_texts", "title_text"]


# --------------------------------------------------------------------------------------------- rows ---------
NOTE_WORDS = (
    "catatan", "keterangan", "ket", "nb", "sumber", "sumber data", "mengetahui", "menyetujui", "disetujui",
    "diketahui", "dibuat", "dibuat oleh", "yang membuat", "pembuat daftar", "kepala", "kadis", "plt", "plh",
    "sekretaris", "kabid", "kasi", "kasubag", "nip", "ttd", "tertanda", "an", "a n", "petugas", "operator",
    "pengelola", "bendahara", "camat", "lurah", "pejabat", "dicetak", "tanggal cetak", "tgl cetak",
)
_NOTE_RE = re.compile(r"(?:" + "|".join(sorted(map(re.escape, NOTE_WORDS), key=len, reverse=True)) + r")(?: |$)",
                      re.ASCII)
_MONTH_WORDS = ("januari|februari|pebruari|maret|april|mei|juni|juli|agustus|september|oktober|november|nopember"
                "|desember|jan|feb|mar|apr|jun|jul|agu|agt|ags|aug|sep|sept|okt|oct|nov|nop|des|dec|may")
_PLACE_DATE_RE = re.compile(rf"[a-z][a-z ]* [0-9]{{1,2}} (?:{_MONTH_WORDS}) [0-9]{{4}}", re.ASCII)
_RULE_RE = re.compile(r"[\s_.\-=*]{3,}")
_ANY_DELIMITER = re.compile(r"[;,\t|]")
_NOT_WORD = re.compile(r"[\W_]+")
_NUMERIC_TEXT = re.compile(r"[Rp\s\d.,]+")


def _folded(text: str) -> str:
    return _NOT_WORD.sub(" ", text.lower()).strip()


def is_note_text(text: str) -> bool:
    """Return True for a note or signature-block cell ("Catatan: ...", "Parepare, 2 Mei 2025", "NIP. ...")."""
    if text[:1].isdigit():      # a note word, a place and date, a rule or "(...)" never starts with a digit
        return False
    f = _folded(text)
    return bool(_NOTE_RE.match(f) or _PLACE_DATE_RE.fullmatch(f) or _RULE_RE.fullmatch(text)
                or (text.startswith("(") and text.endswith(")")))


def total_label(t: str | None) -> bool:
    """`parsing.is_total_label`, asked only of texts that could be one."""
    if not t:
        return False
    low = t.lower()
    return ("tot" in low or "jum" in low or "jml" in low) and parsing.is_total_label(t)


def _numeric_text(t: str) -> bool:
    return bool(_NUMERIC_TEXT.fullmatch(t))


def classify_row(row: list, idx: list[int], header_keys: list[str], width: int = 0,
                 upper_keys: tuple[list[str], ...] = (), all_texts: list[str | None] | None = None,
                 key_set: frozenset[str] | None = None) -> tuple[str, list[str | None]]:
    """Classify one row below the header: 'blank', 'total', 'header' (repeated), 'note', 'unsplit' or 'data'.

    Returns the kind and the texts of the mapped cells (in `idx` order). A row is data when at least two mapped
    cells are filled and it is not a total, a repeated header, the column-number row, or a row whose every filled
    cell is a note or signature ("Mengetahui,", "Parepare, 2 Mei 2025", "(Nama Pejabat)", "NIP. ...").
    A row whose only cell holds about as many delimited parts as the header has columns ("4,7372...,Budi,...":
    another delimiter, or a line pasted into one cell) is 'unsplit': a data row that did not split, never a note.
    `width` is the number of header cells; `upper_keys`, the texts of the rows above the last row of a header
    of several rows (a repeated one, over a second table on the sheet, is a 'header' row too). `all_texts`: the
    row's `cell_text`s, when the caller has them already; `key_set`, `header_key_set` of the header keys (the rows
    below one header share it).

    With `key_set`, two questions are first asked of the row's texts joined and lower-cased, once: a total label
    holds "tot", "jum" or "jml" (`total_label`), and a repeated header has cells that are header keys; a row with
    neither (most data rows) skips those checks cell by cell (without `key_set`, the row is asked cell by cell: the
    reference the tests compare with).
    """
    if all_texts is None:
        all_texts = row_cell_texts(row)
    filled_all = [t for t in all_texts if t is not None]
    texts = [all_texts[i] if i < len(all_texts) else None for i in idx]
    if not filled_all:
        return "blank", texts
    low = "\0".join(filled_all).lower() if key_set is not None else None
    if (low is None or "tot" in low or "jum" in low or "jml" in low) and (
        any(total_label(t) for t in all_texts[:3]) or (
            all(t is None or _numeric_text(t) or total_label(t) for t in texts)
            and any(total_label(t) for t in filled_all))):
        return "total", texts
    filled = [t for t in texts if t is not None]
    if len(filled) < 2:
        if width >= 4 and len(filled_all) == 1 and len(_ANY_DELIMITER.split(filled_all[0])) >= width - 1:
            return "unsplit", [None] * len(texts)
        return "note", texts
    if low is None or not key_set.isdisjoint(low.split("\0")):
        for keys in (header_keys, *upper_keys):
            same = sum(1 for t, h in zip(texts, keys, strict=True) if t is not None and h and t.lower() == h)
            if same >= 2 and same * 2 >= len(filled):
                return "header", texts
    if is_column_numbers(filled_all) or all(is_note_text(t) for t in filled_all):
        return "note", texts
    return "data", texts


def header_keys(header: HeaderMatch) -> list[str]:
    """The lower-cased header text of each mapped column (a repeated header row matches them)."""
    return [(header.headers[i] or "").lower() for i in header.mapping.values()]


def upper_header_keys(rows: list[list], header: HeaderMatch) -> tuple[list[str], ...]:
    """The lower-cased texts of the mapped cells of the rows right above the header's last row that belong to
    it: up to two rows, up to a blank one, each with at least two mapped cells filled (group labels, vertical
    labels as the merge fill copied them, also when they were not needed to map a column). A second table's
    header repeats them; none for a one-row header with a title above."""
    idx = list(header.mapping.values())
    out = []
    for k in range(header.row - 1, max(-1, header.row - MAX_HEADER_ROWS), -1):
        keys = [(cell_text(rows[k][i]) or "").lower() if i < len(rows[k]) else "" for i in idx]
        if sum(1 for t in keys if t) < 2:
            break
        out.append(keys)
    return tuple(out)


def header_key_set(header_keys: list[str], upper_keys: tuple[list[str], ...] = ()) -> frozenset[str] | None:
    """The header keys a repeated header's cells are (`classify_row`: a cell that is one is one of its row's texts
    split at NUL; None, no prefilter, for a header with a NUL in a cell)."""
    keys = frozenset(k for ks in (header_keys, *upper_keys) for k in ks if k)
    return None if any("\0" in k for k in keys) else keys


def header_width(header: HeaderMatch) -> int:
    """The number of header cells that are filled."""
    return sum(1 for h in header.headers if h)


def block_from_rows(rows: list[list], sheet: str, header: HeaderMatch, source_row_of=None,
                    unlabelled: bool = False) -> Block:
    """Turn a sheet's rows (below its header) into data rows, excluding blanks, totals, notes and signatures.

    Number and date cells keep their own value next to their text (`Block.typed`), so the parsers read the cell
    Excel stored, not a rendering of it (a money cell 123.456 is one hundred and twenty-three, not 123456).
    The cells of the columns the contract does not know are kept as text (`Block.extra_cells`); with `unlabelled`
    (a worksheet), so are the cells of a column without any header label that holds something in a data row, as
    "(column H)".

    A plain data row (`_plain_rows`: no total word, two mapped cells filled, no header key, neither the
    column-number row nor all notes) is taken without `classify_row`; any other row is classified by it. The cells'
    texts are read column by column (`grid_texts`), and the typed cells, NIK cells and extra columns gathered
    column by column once the data rows are known.
    """
    idx = list(header.mapping.values())
    cols = list(header.mapping)
    nik_i = header.mapping.get("nik")
    keys, width, upper = header_keys(header), header_width(header), upper_header_keys(rows, header)
    key_set = header_key_set(keys, upper)
    letter = letters_of(rows)     # (a column moved from far right keeps its own letter)
    block = header.block(sheet, title_text(rows, header), letter)
    data: list = []                           # each data row's mapped texts (made into columns at the end)
    data_rows: list[list] = []                # ... its cells
    data_texts: list[list[str | None]] = []   # ... and every cell's text
    known = set(idx) | {j for j, h in enumerate(header.headers) if h}     # labelled: mapped, extra or row number
    loose: dict[int, dict[int, str]] = {}     # a column without a label -> {data row: its text}
    loose_at: dict[int, list[int]] = {}       # per row length: the columns without a label
    row_no = source_row_of or (lambda i: i + 1)     # a row's number in the file
    body = rows[header.row + 1:]
    body_texts, typed_columns = grid_texts(body)
    plain = _plain_rows(body_texts, idx, key_set)

    def take(lo: int, hi: int, texts: list) -> None:
        """The rows lo..hi-1 below the header as data rows (`texts`: their mapped cells' texts), in bulk."""
        n, rows_taken, texts_taken = len(data), body[lo:hi], body_texts[lo:hi]
        data.extend(texts)
        data_rows.extend(rows_taken)
        data_texts.extend(texts_taken)
        block.source_rows.extend(map(row_no, range(header.row + 1 + lo, header.row + 1 + hi)))
        if not unlabelled:
            return
        lengths = set(map(len, rows_taken))
        for length in lengths - loose_at.keys():
            loose_at[length] = [j for j in range(length) if j not in known]
        if not any(loose_at[length] for length in lengths):
            return      # (every column of these rows labelled: nothing loose to gather)
        for m, (row, all_texts) in enumerate(zip(rows_taken, texts_taken, strict=True), n):
            for j in loose_at[len(row)]:
                if (t := all_texts[j]) is not None:
                    loose.setdefault(j, {})[m] = t

    start = 0
    for k in (*[k for k, t in enumerate(plain) if t is None], len(body)):   # the rows classify_row is asked of
        if start < k:
            take(start, k, plain[start:k])      # the plain data rows since the last one asked
        if k == len(body):
            break
        start, row, all_texts = k + 1, body[k], body_texts[k]
        kind, texts = classify_row(row, idx, keys, width, upper, all_texts, key_set)
        if kind == "blank":
            continue
        if kind == "total":   # number cells stay numbers (a total of 123.456 is not 123456)
            cells = {c: (row[i] if t is not None and not isinstance(row[i], str) else t)
                     for c, i, t in zip(cols, idx, texts, strict=True)}
            block.total_rows.append((row_no(header.row + 1 + k), block.n_rows, cells))
            continue
        if kind not in ("data", "unsplit"):
            block.notes_skipped += 1
            continue
        if kind == "unsplit":
            block.unsplit[len(data)] = next(t for t in all_texts if t is not None)
        take(k, k + 1, [texts])
    columns = list(zip(*data)) if data else [() for _ in cols]
    for c, texts in zip(cols, columns, strict=True):
        block.cells[c] = list(texts)
    for c, i, texts in zip(cols, idx, columns, strict=True):    # a number or date cell keeps its value
        if i in typed_columns:
            try:
                values = list(map(operator.itemgetter(i), data_rows))
            except IndexError:      # (a row shorter than the column: its cell is blank)
                values = [row[i] if i < len(row) else None for row in data_rows]
            typed = _typed_cells(values, texts)
            if typed:
                block.typed[c] = typed
    block.nik_numeric = _nik_numeric(data_rows, data_texts, nik_i)
    for k, j in block.extras.items():
        block.extra_cells.setdefault(k, []).extend([a[j] if j < len(a) else None for a in data_texts])
    for j in sorted(loose):
        k = f"(column {letter(j)})"     # a fixed key, like "(row as delivered)"
        block.extras[k] = j
        block.extra_cells[k] = [loose[j].get(i) for i in range(block.n_rows)]
    return block


def _typed_cells(values: list, texts: Sequence[str | None]) -> dict[int, object]:
    """{data row: its cell} of a column's cells that hold something and are not text (a number or a date), found
    with C-level maps over the column, not a Python loop over its rows (a short column by that loop)."""
    if len(values) < BULK_MIN_CELLS:
        return {n: v for n, (v, t) in enumerate(zip(values, texts, strict=True))
                if t is not None and not isinstance(v, str)}
    filled = np.fromiter(map(operator.is_not, texts, itertools.repeat(None)), bool, len(texts))
    text = np.fromiter(map(isinstance, values, itertools.repeat(str)), bool, len(values))
    at = np.flatnonzero(filled & ~text).tolist()
    return dict(zip(at, map(values.__getitem__, at), strict=True))


def _nik_numeric(data_rows: list[list], data_texts: list, nik_i: int | None) -> list[bool]:
    """`parsing.nik_cell_is_numeric` of each data row's NIK cell (False without one). A text cell without an "e"
    (scientific notation has one) is not asked: a column of such cells is all False at once."""
    if nik_i is None:
        return [False] * len(data_rows)
    try:
        joined = "".join([row[nik_i] for row in data_rows])
    except (TypeError, IndexError):     # a number, date or blank cell, or a row too short
        joined = "e"
    if "e" not in joined and "E" not in joined:
        return [False] * len(data_rows)
    return [nik_i < len(row) and (type(v := row[nik_i]) is not str or "e" in v or "E" in v)
            and parsing.nik_cell_is_numeric(v, a[nik_i]) for row, a in zip(data_rows, data_texts, strict=True)]


def _maybe_not_plain(col: Sequence[str | None], key_set: frozenset[str]) -> Iterable[int]:
    """The cells of a column that may hold "tot", "jum" or "jml" or be a header key, from its texts lower-cased
    once, joined with NULs and split again: the cells whose part does, when the join is ASCII and its NULs only
    those between the cells (an ASCII text lower-cases alike alone or joined); else every cell."""
    low = "\0".join([t or "" for t in col]).lower()
    parts = low.split("\0")
    if len(parts) != len(col) or not low.isascii():
        return range(len(col))
    return [k for k, p in enumerate(parts) if "tot" in p or "jum" in p or "jml" in p or p in key_set]


def _plain_rows(body_texts: list, idx: list[int], key_set: frozenset[str] | None) -> list:
    """Per row below the header, the texts of its mapped cells when `classify_row` would call it 'data' by its
    first rule of each kind, else None (then `classify_row` is asked): some cell filled, no "tot", "jum" or "jml"
    in its texts (no total), at least two mapped cells filled, none of its texts a header key (no repeated header),
    not the column-number row and not all notes. Asked column by column (a row shorter than the last mapped column
    is asked of `classify_row`): a column's texts are joined and lower-cased once, and only a column holding "tot",
    "jum", "jml" or a header key is looked at cell by cell (the cells that may: `_maybe_not_plain`); a row leaves
    the column-number and all-notes candidates at its first filled cell that is neither, mapped columns first, and
    a row still a candidate at the end is asked of `classify_row`. Without `key_set` (a header with a NUL in a cell), or with fewer than two mapped columns,
    every row is asked."""
    n = len(body_texts)
    if key_set is None or len(idx) < 2 or not n:
        return [None] * n
    width, need = max(map(len, body_texts)), max(idx) + 1
    if width < need:
        return [None] * n
    columns = list(zip(*(t if len(t) == width else (*t, *[None] * (width - len(t))) for t in body_texts)))
    mapped = list(zip(*[columns[i] for i in idx]))
    least = len(idx) - 2            # at most this many mapped cells blank (two filled)
    ok = [t.count(None) <= least and len(a) >= need for t, a in zip(mapped, body_texts, strict=True)]
    for col in columns:
        low = "\0".join(filter(None, col)).lower()     # (its filled cells: blank ones hold nothing to find)
        if "tot" in low or "jum" in low or "jml" in low or not key_set.isdisjoint(low.split("\0")):
            for k in _maybe_not_plain(col, key_set):
                t = col[k]      # (a cell may hold a NUL: its parts are asked, as a row's would be)
                if t is not None and ok[k] and ("tot" in (lt := t.lower()) or "jum" in lt or "jml" in lt
                                                or not key_set.isdisjoint(lt.split("\0"))):
                    ok[k] = False
    numbers = notes = [k for k, good in enumerate(ok) if good]
    order = [*idx, *sorted(set(range(width)) - set(idx))]       # mapped columns first
    for j in order:
        if not numbers and not notes:
            break
        col = columns[j]
        # (a text is trimmed, `cell_text`: one of six characters or more is no column number, "(12)." at most)
        numbers = [k for k in numbers if (t := col[k]) is None or (len(t) < 6 and column_number_cell(t))]
        notes = [k for k in notes if (t := col[k]) is None or is_note_text(t)]
    for k in (*numbers, *notes):
        ok[k] = False
    return [t if good else None for t, good in zip(mapped, ok, strict=True)]
