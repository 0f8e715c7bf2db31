"""A big CSV read column by column in Arrow, with exactly the result of the row-by-row path (`csvtext`).

The bytes are split into lines and cells in bulk and cleaned per distinct odd value; only lines that could be
anything but a plain data row (quoted, a total or note word, fewer than two filled cells, a repeated header,
column numbers) go through `layout.classify_row` one by one. Files with bytes that are not valid in their
encoding, a quote left open, or a quoted cell spanning lines among lone carriage returns take the exact path
(tests/ingest/test_fast_csv.py reads every case both ways).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.core.contracts import Contract
from cakupan.ingest import parsing
from cakupan.ingest.arrays import as_arrow, ascii_bytes, lower, np_bools, pa_bools, pa_ints, replace_byte
from cakupan.ingest.readers import csvrecords
from cakupan.ingest.readers.blocks import Block, FileRejected, ReadOptions
from cakupan.ingest.readers.cells import vector_cell_text
from cakupan.ingest.readers.csvlines import (
    ONE_BYTE,
    bytes_in_memory,
    delimiters_alone,
    head_lines,
    late_cp1252,
    scan_lines,
    span_digests,
    split_lines,
    to_utf8,
    utf8_data,
)
from cakupan.ingest.readers.csvtext import (
    DELIMITER_SAMPLE_CHARS,
    decode_csv,
    is_blank_bytes,
    looks_binary,
    split_csv,
    split_line,
)
from cakupan.ingest.readers.layout import (
    HEADER_SCAN_ROWS,
    NOTE_WORDS,
    HeaderMatch,
    cell_text,
    classify_row,
    find_header,
    header_keys,
    header_width,
    is_blank_row,
    title_text,
    upper_header_keys,
)
from cakupan.ingest.readers.sniff import ENCODING_SAMPLE_BYTES, detect_delimiter, detect_encoding

ODD_LINES_ROW_BY_ROW = 1000   # up to this many lines with odd cells (or 2 %) are classified row by row
QUOTES_FOUND_ONE_BY_ONE = 100_000     # up to this many quote characters are found by a byte search
PART_CHUNK_BYTES = 1 << 24      # a big CSV read in parts is split into lines (and freed as they are read) in chunks
_CSV_PREFIX_BYTES = DELIMITER_SAMPLE_CHARS * 4     # enough bytes for the characters the delimiter is detected on
_NOTE_LINE = (r"(?i)(?:^|{d})[^\pL\pN]*(?:" + "|".join(w.replace(" ", r"[^\pL\pN]+") for w in NOTE_WORDS)
              + r")(?:[^\pL\pN]|$)|(?:^|{d})[^\pL\pN]*\(|[\s_.\-=*]{{3}}|[A-Za-z],\s*[0-9]{{1,2}}\s+[A-Za-z]+\s+[0-9]{{4}}")
_TOTAL_LINE = r"(?i)total|jumlah|jml"
_SCIENTIFIC = rf"(?i)^{parsing.SCIENTIFIC}$"
_PRINTABLE = bytes(range(0x20, 0x7F))
UNIT = "\x1f"      # the delimiter quoted lines are rewritten with (`_unquote`): a control character no cell holds


# --------------------------------------------------------------------------------------------- the file -----
@dataclass
class _FastCsv:
    """A large CSV split into lines below its header (what every part of `fast_csv_parts` reads from)."""

    header: HeaderMatch
    title: str
    lines: pa.Array | pa.ChunkedArray | None    # (chunked for `fast_csv_parts`, which hands them to the parts)
    quotes: np.ndarray | None       # quote characters per line (None: none; 2 where not counted: `scan_lines`)
    first_line: int                 # the file's line number of lines[0]
    encoding: str
    delimiter: str
    maybe_odd: bool                 # some cell may need cleaning (see _maybe_odd_cells)
    unit_free: bool = False         # no UNIT character in the file (quoted lines can be read with it, `_unquote`)
    upper: tuple[list[str], ...] = ()   # the texts of the header's rows above its last (`upper_header_keys`)
    starts: np.ndarray | None = None    # each line's offset in the file's bytes (None: in a text decoded whole)
    transcode: Callable[[memoryview], bytes] | None = None     # how the file's bytes were made UTF-8 (`split_lines`)
    line_ends: tuple[bytes, bool] | None = None     # how the lines end, when scanned (`scan_lines`: for the parts)
    # A quoted cell spanning lines (a line break typed into a cell): `lines`, `quotes` and `starts` are the records,
    # `numbers` the file's line number of each (where it starts), `joined` which of the file's lines below the
    # header continue the record above. None: every record is one line.
    numbers: np.ndarray | None = None
    joined: np.ndarray | None = None
    cells_quoted: tuple[np.ndarray, np.ndarray] | None = None   # `csvrecords.read_as_csv`'s flags (for `_unquote`)
    text: bytes | None = None       # the file made UTF-8 whole (UTF-16: `starts` are in it): parts split from it

    def header_block(self) -> Block:
        """The block of this CSV before any data row is added (header, mapping, title)."""
        return self.header.block("", self.title)

    @functools.cached_property
    def extras(self) -> dict[str, int]:
        """The columns the contract does not know: label -> column index (`HeaderMatch.extra_columns`)."""
        return self.header.extra_columns()


def fast_csv_block(raw: bytes, contracts: dict[str, Contract],
                   options: ReadOptions) -> tuple[HeaderMatch, Block, str, str] | None:
    """Read a large CSV's data rows column by column, or return None when the file needs the exact path.

    The result is the same as `decode_csv` + `block_from_rows` give. Returns (header, block, encoding, delimiter).
    """
    f = _fast_csv_lines(raw, contracts, options)
    if f is None:
        return None
    return f.header, _fast_csv_part(f, f.lines, 0), f.encoding, f.delimiter


def fast_csv_parts(raw: bytes, contracts: dict[str, Contract], options: ReadOptions, part_lines: int,
                   first_lines: int | None = None, reread: Callable[[int, int, bytes], bytes] | None = None,
                   ) -> tuple[Block, str, str, list[Callable[[], Block]]] | None:
    """`fast_csv_block` in parts of `part_lines` lines (the first of `first_lines`, so that a writer can start
    sooner): each part is read when its function is called, from any thread (so a writer can write one part while
    the next ones are read). Concatenated, the parts are `fast_csv_block`'s block. Returns (the block without its
    rows: header and title, encoding, delimiter, part readers), or None when the file needs the exact path.

    Each part holds only its own lines (split PART_CHUNK_BYTES at a time) and lets them go once read. With
    `reread` (`inbox.part_rereader`: the bytes [start, stop) again, which must have this `part_digest`), a part
    holds only where its lines are in the file and splits them again when read, so that neither the file's bytes
    nor its lines are held while it is written (the caller lets its bytes go); a UTF-16 file's parts split theirs
    from its UTF-8 copy (`_FastCsv.text`), which is all that is held of it then."""
    f = _fast_csv_lines(raw, contracts, options, PART_CHUNK_BYTES, lines=reread is None)
    if f is None:
        return None
    lines, starts, f = f.lines, f.starts, replace(f, lines=None, starts=None)
    n = len(starts) if lines is None else len(lines)
    if lines is None and n == 0:
        return fast_csv_parts(raw, contracts, options, part_lines, first_lines)     # (no line below the header)
    first = min(n, first_lines or part_lines)
    bounds = [0, *range(first, n, part_lines)]
    ranges = list(zip(bounds, [*bounds[1:], n], strict=True))
    if reread is None or starts is None:
        parts = [_part_reader(f, lines.slice(a, b - a), a) for a, b in ranges]
    else:
        memory = f.text is not None     # (bytes in memory, not the file's: nothing to check them against)
        if memory:
            reread, raw, f = functools.partial(bytes_in_memory, f.text), f.text, replace(f, text=None)
        spans = list(zip((int(starts[a]) for a, _ in ranges), [*(int(starts[b]) for _, b in ranges[:-1]), len(raw)]))
        heads = None if f.joined is None else [*np.flatnonzero(~f.joined).tolist(), len(f.joined)]
        sums = [lambda: b""] * len(spans) if memory else span_digests(raw, spans)
        parts = [_range_reader(f, reread, at, a, b - a, digest, None if heads is None else f.joined[heads[a]: heads[b]])
                 for (a, b), at, digest in zip(ranges, spans, sums, strict=True)]
    return f.header_block(), f.encoding, f.delimiter, parts


def _part_reader(f: _FastCsv, lines: pa.ChunkedArray, start: int) -> Callable[[], Block]:
    """One part of `fast_csv_parts`: reads its lines when called (once), and then no longer holds them."""
    held = [lines]

    def read() -> Block:
        part = held.pop()       # (lines that span two chunks are copied into one)
        return _fast_csv_part(f, part.chunk(0) if part.num_chunks == 1 else part.combine_chunks(), start)
    return read


def _range_reader(f: _FastCsv, reread: Callable[[int, int, bytes], bytes], at: tuple[int, int], start: int,
                  count: int, digest: Callable[[], bytes], joined: np.ndarray | None = None) -> Callable[[], Block]:
    """One part of `fast_csv_parts` that holds only where its `count` records are in the file (bytes `at`): read
    again when called (`reread` checks they are the bytes split before: `digest()`) and split as the whole file was
    (`joined`: which of its lines continue the record above, when a quoted cell spans lines)."""

    def read() -> Block:
        split = split_lines(reread(*at, digest()), 1, None, f.transcode, f.line_ends, places=False)
        if split is None or len(split[0]) != (count if joined is None else len(joined)):    # (the same lines)
            raise AssertionError(f"bytes {at} split into other lines than before")
        lines = (split[0] if joined is None
                 else csvrecords.join_lines(split[0], joined, csvrecords.line_break(f.line_ends)))
        return _fast_csv_part(f, lines, start)
    return read


def merge_parts(parts: list[Block], cells: bool = True) -> Block:
    """One block from consecutive parts of the same sheet (`fast_csv_parts`): rows, totals and notes in order,
    each total row's count of rows above it over the whole sheet. `cells=False` leaves the cells out."""
    first = parts[0]
    out = Block(first.source, first.sheet, first.header_row, dict(first.mapping), first.headers, first.title_text)
    offset = 0
    for b in parts:
        out.total_rows += [(row, above + offset, total) for row, above, total in b.total_rows]
        out.unsplit.update({i + offset: t for i, t in b.unsplit.items()})
        out.notes_skipped += b.notes_skipped
        offset += b.n_rows
    out.source_rows = pa.concat_arrays([as_arrow(b.source_rows, pa.int32()) for b in parts])
    out.nik_numeric = pa.concat_arrays([as_arrow(b.nik_numeric, pa.bool_()) for b in parts])
    out.extras = dict(first.extras)
    if cells:
        out.cells = {c: pa.concat_arrays([as_arrow(b.cells[c], pa.string()) for b in parts]) for c in first.cells}
        out.extra_cells = {k: pa.concat_arrays([as_arrow(b.extra_cells[k], pa.string()) for b in parts])
                           for k in first.extra_cells}
    return out


def _csv_head(raw: bytes) -> tuple[str, bool, str, str] | None:
    """Decode the start of a CSV exactly as `decode_csv` decodes the whole: (head text, whether it is the whole
    text, encoding, delimiter). When the start alone cannot decide, the whole file is decoded as `decode_csv`
    does; None when that rejects it (the exact path then says why).
    """
    if is_blank_bytes(raw[:4096]) and is_blank_bytes(raw):     # (the first test spares a copy of a big file)
        return None
    encoding = detect_encoding(raw[:ENCODING_SAMPLE_BYTES])
    if len(raw) > _CSV_PREFIX_BYTES and encoding in ("utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"):
        try:
            head = head_lines(raw, _CSV_PREFIX_BYTES, encoding).decode(encoding)
        except UnicodeDecodeError:
            head = ""
        if len(head) >= DELIMITER_SAMPLE_CHARS:
            if looks_binary(head):
                return None
            return head, False, encoding, detect_delimiter(head[:DELIMITER_SAMPLE_CHARS].splitlines())
    try:
        text, encoding, delimiter = decode_csv(Path(), raw)
    except FileRejected:
        return None
    return text, True, encoding, delimiter


def _header_in_head(head_text: str, whole: bool, delimiter: str, contracts: dict[str, Contract],
                    options: ReadOptions) -> tuple[HeaderMatch, str, int, tuple[list[str], ...]] | None:
    """The header found in the first records: (header, title, the line number of the first line below it, the
    texts of its upper rows (`upper_header_keys`))."""
    limit = HEADER_SCAN_ROWS + 2
    head, head_lines = split_csv(head_text, delimiter, limit=limit + 1)
    if len(head) <= limit and not whole:     # the last record read may continue past the decoded start
        return None
    head, head_lines = head[:limit], head_lines[:limit]
    if all(is_blank_row(r) for r in head):
        return None
    header = find_header(head, contracts, options.overrides, options.defaults)
    if header is None or header.row + 1 >= len(head):
        return None
    return header, title_text(head, header), head_lines[header.row + 1], upper_header_keys(head, header)


def _fast_csv_lines(raw: bytes, contracts: dict[str, Contract], options: ReadOptions,
                    chunk_bytes: int | None = None, lines: bool = True) -> _FastCsv | None:
    """Decode and split a large CSV below its header (in chunks: `split_lines`), or None when it needs the exact
    path. `lines=False`: only where the lines are in the file's bytes, when they are the file's own UTF-8 or
    one-byte text (`scan_lines`: no line made; `fast_csv_parts` with `reread`)."""
    sniffed = _csv_head(raw)
    if sniffed is None:
        return None
    head_text, whole, encoding, delimiter = sniffed
    # A big file in a one-byte encoding is made UTF-8 a chunk at a time as it is split (`split_lines`): the checks
    # below read its own bytes, which hold the same ASCII (quotes, delimiters, line ends) at the same places.
    transcode = (functools.partial(to_utf8, encoding=encoding) if not whole and encoding in ONE_BYTE else None)
    data = raw if transcode else utf8_data(raw, head_text, whole, encoding)
    if data is None:
        return None
    found = _header_in_head(head_text, whole, delimiter, contracts, options)
    if found is None:
        return None
    header, title, first_line, upper = found
    # a file made UTF-8 whole (UTF-16; a small one decoded whole): its parts split their lines from that copy
    text = data if not lines and data is not raw and transcode is None else None
    scan = not lines and (data is raw or text is not None)
    every: list[np.ndarray] = []    # (a file of quoted cells: which lines have every cell quoted, matched once)
    balanced = functools.partial(csvrecords.every_cell_quoted_lines, data, delimiter=delimiter, found=every)
    split = (scan_lines(data, first_line, transcode is None, encoding == "cp1252", chunk_bytes or PART_CHUNK_BYTES,
                        balanced) if scan else split_lines(data, first_line, chunk_bytes, transcode))
    if split is None and encoding in ("utf-8", "utf-8-sig") and not whole:
        # the start read as UTF-8 (it was ASCII) but a later byte is not: the whole file decides, as in decode_csv
        if not late_cp1252(raw, delimiter):
            return None
        encoding, data = "cp1252", raw
        transcode = functools.partial(to_utf8, encoding="cp1252", errors="replace")
        split = (scan_lines(raw, first_line, False, chunk_bytes=chunk_bytes or PART_CHUNK_BYTES, balanced=balanced)
                 if scan else split_lines(raw, first_line, chunk_bytes, transcode))
    if split is None:
        return None
    line_ends = None
    if scan:
        (starts, quotes, line_ends), lines = split, None
    else:
        lines, starts = split
        quotes = _quotes_per_line(data, lines, starts) if b'"' in data else None
    joined = numbers = cells_quoted = None
    if quotes is not None:
        found = csvrecords.as_records(lines, starts, quotes, data, first_line, delimiter, line_ends, transcode,
                                      every[0] if every else None)
        if found is None:
            return None     # a quote left open at the end, or csv reads some line otherwise: the exact path decides
        lines, starts, quotes, numbers, joined, cells_quoted = found
    # (a quoted cell may hide an odd one: `;" x"` has no space beside the delimiter until its quotes are dropped)
    # (not ASCII: maybe odd, without the copy the quotes' removal makes; a line break in a cell: `_fast_csv_part`)
    odd = not data.isascii() or _maybe_odd_cells(data if quotes is None else data.replace(b'"', b""), delimiter)
    return _FastCsv(header, title, lines, quotes, first_line, encoding, delimiter, odd,
                    quotes is not None and UNIT.encode() not in data, upper, starts if scan or data is raw else None,
                    transcode, line_ends, numbers, joined, cells_quoted, text)


def _quotes_per_line(data: bytes, lines: pa.Array, starts: np.ndarray) -> np.ndarray:
    """The number of quote characters on each line (`starts`: each line's offset in `data`)."""
    found, find = [], data.find
    pos = find(b'"')
    while pos >= 0:
        if len(found) == QUOTES_FOUND_ONE_BY_ONE:
            return np.asarray(pc.count_substring(lines, '"').to_numpy(zero_copy_only=False), dtype=np.int64)
        found.append(pos)
        pos = find(b'"', pos + 1)
    at = np.array(found, dtype=np.int64)
    line = np.searchsorted(starts, at, side="right") - 1
    line = line[line >= 0]              # quotes above the first data line (the header, the title)
    return np.bincount(line, minlength=len(lines)).astype(np.int64)


def _maybe_odd_cells(data: bytes, delimiter: str) -> bool:
    """False when no cell of the file can need cleaning: all printable ASCII, no edge or double spaces, no
    apostrophes, no cell starting with "=" (cheap whole-buffer checks; a True sends every line through one regex)."""
    d = delimiter.encode()
    if not data.isascii() or data.translate(None, _PRINTABLE + d + b"\r\n"):
        return True
    return (any(p in data for p in (b"  ", b" " + d, d + b" ", b"\n ", b" \n", b" \r", b"\r ", b"'", d + b"=",
                                    b"\n=", b"\r=")) or data.startswith((b" ", b"=")) or data.endswith(b" "))


# --------------------------------------------------------------------------------------------- one part -----
@dataclass
class _Cells:
    """The mapped cells of a part's lines, split in bulk."""

    texts: dict[str, pa.Array]
    present: dict[str, np.ndarray]          # the cell is there and not empty
    maybe_header: dict[str, np.ndarray]     # the cell could repeat its header (same length and first letter)
    extra: dict[str, pa.Array] = field(default_factory=dict)   # the cells of the columns the contract does not know


@dataclass
class _Classified:
    """The candidate lines classified one by one (`classify_row`), in line order."""

    lines: np.ndarray                       # the candidate lines (indices within the part)
    kinds: list[str]
    data: list[int] = field(default_factory=list)           # the candidate lines that are data rows
    nik_numeric: list[bool] = field(default_factory=list)   # ... and whether their NIK cell was a number
    cells: dict[str, list[str | None]] = field(default_factory=dict)   # ... and their cells
    extra: dict[str, list[str | None]] = field(default_factory=dict)   # ... and their extra columns' cells
    totals: dict[int, dict[str, object]] = field(default_factory=dict)
    unsplit: dict[int, str] = field(default_factory=dict)


def _fast_csv_part(f: _FastCsv, lines: pa.Array, start: int) -> Block:
    """The data rows of `lines`, the file's lines [start, start + len(lines)) below the header, as
    `block_from_rows` would give them (row numbers are the file's; a total row's count of rows above is within
    this part)."""
    stop = start + len(lines)
    few = max(ODD_LINES_ROW_BY_ROW, len(lines) // 50)
    original, d = lines, f.delimiter
    quoted = None if f.quotes is None else f.quotes[start:stop] > 0
    if quoted is not None and quoted.any() and f.unit_free:
        lines, left, rewritten = csvrecords.formula_cells(lines, quoted, f.delimiter)    # ="7372…" cells
        lines, quoted = _unquote(lines, left, f.delimiter, None if f.cells_quoted is None or rewritten else
                                 tuple(flags[start:stop][quoted] for flags in f.cells_quoted))
        d = UNIT
    numbers = np.arange(start, stop, dtype=np.int32) + f.first_line if f.numbers is None else f.numbers[start:stop]
    if (blank := delimiters_alone(lines, d, len(f.header.headers), few)) is not None:
        lines, original, numbers = lines.filter(pa_bools(~blank)), original.filter(pa_bools(~blank)), numbers[~blank]
        quoted = None if quoted is None else quoted[~blank]
    with ThreadPoolExecutor(1) as pool:      # the whole-line scans run while the cells are split (no GIL held)
        checks = pool.submit(_line_checks, lines, d, f.maybe_odd, few)
        cells = _split_cells(lines, f.header, d, f.extras)
        odd_line, marked = checks.result()
    if f.joined is not None:    # a record of several lines: a cell holds a line break (odd, cleaned as the others)
        multi = np_bools(pc.match_substring(original, "\n"))
        odd_line = multi if odd_line is None else odd_line | multi
    if marked.any():    # (a village "Kepala Akal" reads as a signature: 450 lines a part went row by row)
        marked[_surely_data(lines, np.flatnonzero(marked), cells, d)] = False
    candidate = marked if quoted is None else marked | quoted
    if odd_line is not None:
        if odd_line.sum() <= few:
            candidate |= odd_line
        else:
            _clean_odd_cells(cells, pa_bools(odd_line))
    candidate |= _repeated_headers(cells, f.header, len(lines), f.upper)
    candidate |= sum(cells.present.values(), np.zeros(len(lines), dtype=np.int32)) < 2
    nik_numeric = (np_bools(pc.match_substring_regex(cells.texts["nik"], _SCIENTIFIC)) if "nik" in f.header.mapping
                   else np.zeros(len(lines), dtype=bool))
    classified = _classify(original, np.flatnonzero(candidate), f.header, f.delimiter, f.extras, f.upper)
    return _assemble(f, numbers, candidate, cells, nik_numeric, classified)


def _note_or_total_pattern(d: str, ascii_text: bool = False) -> str:
    """A line that may be a total, a note or signature, or numbers only (column numbers). `ascii_text`: for lines
    all ASCII, where a letter or digit is [A-Za-z0-9]: the same matches, a quarter faster (findings "Session 53")."""
    pattern = (r"(?i)(?:" + _TOTAL_LINE.removeprefix("(?i)") + ")|(?:" + _NOTE_LINE.format(d=d).removeprefix("(?i)")
               + rf")|(?:^[\s0-9(){d}\"]*$)")
    return pattern.replace(r"[^\pL\pN]", "[^A-Za-z0-9]") if ascii_text else pattern


def _line_checks(lines: pa.Array, delimiter: str, maybe_odd: bool, few: int) -> tuple[np.ndarray | None, np.ndarray]:
    """Whole-line scans: lines that might hold an odd cell (not printable ASCII, edge or double spaces, a leading
    apostrophe or "="), and total, note and number-only lines. Both kinds are first found in one scan: when they
    are few, all are marked, not told apart (each goes row by row unless it can only be data: `_surely_data`)."""
    d = re.escape(delimiter)
    note_or_total = _note_or_total_pattern(d, ascii_bytes(lines))
    if not maybe_odd:
        return None, np_bools(pc.match_substring_regex(lines, note_or_total))
    odd_cell = rf"[^ -~{d}]|  | {d}|{d} |^ | $|^'|{d}'|^=|{d}="
    either = np_bools(pc.match_substring_regex(lines, f"(?:{odd_cell})|{note_or_total}"))
    if either.sum() <= few:
        return None, either
    rows = np.flatnonzero(either)     # (told apart only where either matched: alt_enter's reader, findings "Session 47")
    sub, odd, marked = lines.take(pa_ints(rows)), np.zeros(len(lines), dtype=bool), np.zeros(len(lines), dtype=bool)
    odd[rows], marked[rows] = (np_bools(pc.match_substring_regex(sub, p)) for p in (odd_cell, note_or_total))
    return odd, marked


def _unquote(lines: pa.Array, quoted: np.ndarray, delimiter: str,
             known: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[pa.Array, np.ndarray]:
    """The lines with UNIT as their delimiter, unquoted, where that gives exactly the cells `split_line` gives: a
    line without quotes, a line whose cells are each quoted (a quote inside doubled) or unquoted without a quote
    ("a","b, c",d), a line whose cells are all unquoted, a quote in one a character (a "b" c;d: kept). Returns
    the lines and which still hold quotes (row by row, from the original lines). The file holds no UNIT. `known`:
    which quoted lines have every cell quoted, and which their cells so, when `csvrecords.read_as_csv` found them."""
    rows = np.flatnonzero(quoted)
    whole = len(rows) == len(lines)         # (a file whose every field is quoted: no copy of its lines)
    sub = lines if whole else lines.take(pa.array(rows))
    every, plain = known if known is not None else csvrecords.quoted_cell_flags(sub, delimiter)
    if plain.all() and not every.all():     # a,"b, c","" -> a|b, c|: every line at once (the quotes bound cells)
        at_once = csvrecords.unquote_cells(lines, delimiter, UNIT)
        if not (quoted & (pc.binary_length(at_once).to_numpy() == 0)).any():     # ("" alone is one empty cell)
            return at_once, np.zeros(len(lines), dtype=bool)
    if every.all():     # "a","b, c","" -> a|b, c|  (the quotes around each delimiter are its boundaries)
        units = pc.replace_substring(pc.utf8_slice_codeunits(sub, 1, -1), f'"{delimiter}"', UNIT)
    else:
        units = pa.nulls(len(rows), pa.string())
        if every.any():
            units = pc.replace_with_mask(units, pa_bools(every), pc.replace_substring(
                pc.utf8_slice_codeunits(sub.filter(pa_bools(every)), 1, -1), f'"{delimiter}"', UNIT))
    some = plain & ~every
    if some.any():
        units = pc.replace_with_mask(units, pa_bools(some),
                                     csvrecords.unquote_cells(sub.filter(pa_bools(some)), delimiter, UNIT))
    plain &= np_bools(pc.fill_null(pc.not_equal(units, ""), False))   # ("" alone is one empty cell)
    if whole and plain.all():
        return units, np.zeros(len(lines), dtype=bool)
    ok = plain.copy()   # and a line whose cells are all unquoted (`Andi "Baso"`): made UNIT with the others
    ok[~plain] = np_bools(pc.match_substring_regex(sub.filter(pa_bools(~plain)), csvrecords.UNQUOTED_CELLS.format(
        d=re.escape(delimiter)) + "$"))
    done, put = np.zeros(len(lines), dtype=bool), quoted.copy()
    done[rows[ok]], put[rows[ok & ~plain]] = True, False
    # every line's delimiters made UNIT in one pass, then each quoted line put back unquoted, or as it was when it
    # could not be (two copies of the lines, not four: alt_enter's reader, findings "Session 47")
    back = pc.if_else(pa_bools(plain), units.cast(sub.type), sub).filter(pa_bools(plain | ~ok))
    return pc.replace_with_mask(replace_byte(lines, delimiter, UNIT), pa_bools(put), back), quoted & ~done


def _surely_data(lines: pa.Array, rows: np.ndarray, cells: _Cells, delimiter: str) -> np.ndarray:
    """Of the lines `rows` that the whole-line scans marked, those that can only be data rows: the note pattern
    matched them (a date "Selasa, 3 Agustus 2004" looks like a signature's place and date), but a mapped cell of
    digits only is never note text (`layout.is_note_text`), so `classify_row` says data unless the line is a
    total, numbers only (column numbers), or has an odd cell, which these lines are checked for again. (Fewer than
    two cells and a repeated header are checked after this.)"""
    d = re.escape(delimiter)
    other = (rf"(?i)(?:{_TOTAL_LINE.removeprefix('(?i)')})|(?:^[\s0-9().{d}\"]*$)"
             rf"|[^ -~{d}]|  | {d}|{d} |^ | $|^'|{d}'")
    at = pa.array(rows)
    digits = np.zeros(len(rows), dtype=bool)
    for col in cells.texts.values():
        digits |= np_bools(pc.fill_null(pc.match_substring_regex(col.take(at), r"^[0-9]+$"), False))
    if not digits.any():
        return rows[:0]
    sub = np.flatnonzero(digits)
    still = np_bools(pc.match_substring_regex(lines.take(pa.array(rows[sub])), other))
    return rows[sub[~still]]


def _split_cells(lines: pa.Array, header: HeaderMatch, delimiter: str, extras: dict[str, int]) -> _Cells:
    """Split every line at the delimiter and take each mapped column's cell (null where a line is short), and each
    extra column's."""
    last = max([*header.mapping.values(), *extras.values()])
    parts = pc.split_pattern(lines, delimiter, max_splits=last + 1)
    offsets = np.frombuffer(parts.buffers()[1], np.int32)[parts.offset: parts.offset + len(parts) + 1]
    n_parts, starts = np.diff(offsets), offsets[:-1]
    full = bool((n_parts > last).all())     # (every line holds every cell taken: no line's index to mask)
    flat = parts.values
    flat_offsets = np.frombuffer(flat.buffers()[1], np.int32)[flat.offset: flat.offset + len(flat) + 1]
    flat_bytes, cell_len = np.frombuffer(flat.buffers()[2], np.uint8), np.diff(flat_offsets)
    cells = _Cells({}, {}, {})
    for c, i, key in zip(header.mapping, header.mapping.values(), header_keys(header), strict=True):
        at = starts + i if full else np.where(n_parts > i, starts + i, 0)
        length = cell_len[at]
        present = cells.present[c] = length > 0 if full else (n_parts > i) & (length > 0)
        cells.texts[c] = flat.take(pa_ints(at, present))
        # a repeated header cell has the header's length and first letter (any case): compare only those
        maybe = cells.maybe_header[c] = present & (length == len(key.encode("utf-8")))
        if key and key[0].isascii() and key[0].isalpha():
            sel = np.flatnonzero(maybe)
            maybe[sel[(flat_bytes[flat_offsets[at[sel]]] | 0x20) != ord(key[0].lower())]] = False
    for k, i in extras.items():
        at = np.where(n_parts > i, starts + i, 0)
        cells.extra[k] = flat.take(pa_ints(at, (n_parts > i) & (cell_len[at] > 0)))
    return cells


def _clean_odd_cells(cells: _Cells, odd: pa.Array) -> None:
    """Clean the cells of the lines marked odd column-wise (`vector_cell_text`): when there are many of them (a
    column whose cells there are all clean is left as it is: the odd cells are usually in one or two)."""
    every = pc.all(odd).as_py()     # (an export that pads every cell: no copy of each column's cells)

    def cleaned(col: pa.Array) -> pa.Array:
        on_odd = col if every else col.filter(odd)
        got = vector_cell_text(on_odd)
        return col if got is on_odd else got if every else pc.replace_with_mask(col, odd, got)
    for c, col in cells.texts.items():
        if (got := cleaned(col)) is not col:
            cells.texts[c] = got
            cells.present[c] = cells.maybe_header[c] = np_bools(pc.is_valid(got))
    cells.extra.update((k, cleaned(col)) for k, col in list(cells.extra.items()))


def _repeated_headers(cells: _Cells, header: HeaderMatch, n: int, upper: tuple[list[str], ...] = ()) -> np.ndarray:
    """Lines where some mapped cell repeats its header text (any case), or the text of a header row above the
    last (`upper`, compared in full): candidates for a repeated header row."""
    hit = np.zeros(n, dtype=bool)
    for c, key in zip(header.mapping, header_keys(header), strict=True):
        maybe = cells.maybe_header[c]
        if key and maybe.any():
            hit[np.flatnonzero(maybe)] |= np_bools(
                pc.equal(lower(cells.texts[c].filter(pa_bools(maybe))), pa.scalar(key, pa.string())))
    for keys in upper:
        for c, key in zip(header.mapping, keys, strict=True):
            if key:
                hit |= np_bools(pc.fill_null(pc.equal(lower(cells.texts[c]), pa.scalar(key, pa.string())), False))
    return hit


def _classify(lines: pa.Array, candidates: np.ndarray, header: HeaderMatch, delimiter: str,
              extras: dict[str, int], upper: tuple[list[str], ...]) -> _Classified:
    """Split and classify the candidate lines one by one, as the row-by-row path does."""
    cols, idx = list(header.mapping), list(header.mapping.values())
    keys, width, nik_i = header_keys(header), header_width(header), header.mapping.get("nik")
    out = _Classified(candidates, [], cells={c: [] for c in cols}, extra={k: [] for k in extras})
    for k in candidates.tolist():
        row = split_line(lines[k].as_py(), delimiter)
        kind, texts = classify_row(row, idx, keys, width, upper)
        out.kinds.append(kind)
        if kind == "total":
            out.totals[k] = dict(zip(cols, texts, strict=True))
        elif kind in ("data", "unsplit"):
            if kind == "unsplit":
                out.unsplit[k] = next(t for t in map(cell_text, row) if t is not None)
            out.data.append(k)
            out.nik_numeric.append(nik_i is not None and nik_i < len(row) and parsing.nik_cell_is_numeric(row[nik_i]))
            for c, t in zip(cols, texts, strict=True):
                out.cells[c].append(t)
            for k, j in extras.items():
                out.extra[k].append(cell_text(row[j]) if j < len(row) else None)
    return out


def _assemble(f: _FastCsv, numbers: np.ndarray, candidate: np.ndarray, cells: _Cells,
              nik_numeric: np.ndarray, classified: _Classified) -> Block:
    """The part's block: the bulk cells of the plain data lines and the classified cells of the candidate lines that
    are data, in line order; the totals and notes among the candidates (`numbers`: each record's line, int32)."""
    n = len(candidate)
    data_rows = ~candidate
    data_rows[classified.data] = True
    nik_numeric[classified.data] = classified.nik_numeric
    block = f.header_block()
    above = np.cumsum(data_rows) - data_rows
    block.unsplit = {int(above[k]): text for k, text in classified.unsplit.items()}
    for k, kind in zip(classified.lines.tolist(), classified.kinds, strict=True):
        if kind == "total":
            block.total_rows.append((int(numbers[k]), int(above[k]), classified.totals[k]))
        elif kind in ("note", "header"):
            block.notes_skipped += 1
    # one take per column: a data line's bulk cells, or (after them) the cells classify_row gave a candidate line
    keep = np.flatnonzero(data_rows).astype(np.int32)
    source = keep.copy()
    from_candidates = np.zeros(n, dtype=bool)
    from_candidates[classified.data] = True
    source[from_candidates[keep]] = n + np.arange(len(classified.data), dtype=np.int32)
    for into, bulk, one_by_one in ((block.cells, cells.texts, classified.cells),
                                   (block.extra_cells, cells.extra, classified.extra)):
        for c, col in bulk.items():
            if classified.data:
                col = pa.chunked_array([col, pa.array(one_by_one[c], pa.string())])
            elif len(keep) == n:    # (every line a plain data line: its cells as split)
                into[c] = col
                continue
            taken = col.take(pa_ints(source))
            into[c] = taken.combine_chunks() if isinstance(taken, pa.ChunkedArray) else taken
    block.source_rows = pa_ints(numbers[keep])
    block.nik_numeric = pa_bools(nik_numeric[keep])
    return block
