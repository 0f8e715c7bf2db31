"""Records of several lines in a big CSV (a line break typed into a quoted cell), for the column-wise reader.

A quoted cell holding a line break leaves an odd count of quotes on its lines: the lines after one where the
quotes counted so far are odd continue the record above (`joined_lines`), and are joined into it (`join_lines`).
csv reads quotes otherwise than their count in two cases (a quote in a cell's middle is a character; a quote
opening a cell on a line of even count leaves the cell open): then the lines are joined by csv's own rule, read
line by line where quotes are (`csv_joined_lines`). `read_as_csv` checks every record holding quotes reads as one
record ending where its lines end, or the file goes the exact path (`csvtext.split_csv`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.ingest.arrays import may_hold, np_bools
from cakupan.ingest.readers.blocks import FileRejected
from cakupan.ingest.readers.csvlines import has_lone_cr
from cakupan.ingest.readers.csvtext import split_csv

# a record of more lines is taken for a quote read wrongly (a cell typed with this many line breaks: the exact path)
MAX_RECORD_LINES = 256


def as_records(lines: pa.Array | pa.ChunkedArray | None, starts: np.ndarray, quotes: np.ndarray, data: bytes,
               first_line: int, delimiter: str, line_ends: tuple[bytes, bool] | None,
               transcode: Callable[[memoryview], bytes] | None, every: np.ndarray | None = None) -> tuple | None:
    """A big CSV's lines below its header (`lines`, or None when only scanned; `starts` in `data`; `quotes` per
    line) as records: (lines, starts, quotes, numbers, joined, cells), `numbers` (each record's line number) and
    `joined` None when every record is one line, `cells` what `read_as_csv` found of their quoted cells. None when
    a quote is left open at the end, or csv reads some record holding quotes otherwise (`read_as_csv`).

    The lines are joined by their quotes' count first (a quoted cell spanning lines leaves it odd); when csv reads
    the records otherwise (a quote typed inside a cell is a character: `12" monitor`, `Ma"ruf`), by csv's own
    rule, a quote opening a cell only at the cell's start (`csv_joined_lines`). `every`: which lines have every cell
    quoted without a quote inside, when already matched (`every_cell_quoted_lines`)."""
    if lines is not None:
        text = None
    else:       # (the records' bytes as the file holds them)
        def text(b):
            return (bytes(transcode(memoryview(b))) if transcode else b).decode("utf-8", errors="replace")
    by_count = joined_lines(quotes) if (quotes & 1).any() else None
    texts = lines if lines is not None else records_in(data, starts)
    # (not tried when a line the count takes to open a cell has its cells all unquoted, `12" monitor`: csv opens
    # none there)
    opens = np.flatnonzero((quotes & 1).astype(bool) & ~by_count) if by_count is not None else np.zeros(0, np.int64)
    tried = not len(opens) or not np_bools(pc.match_substring_regex(texts.take(pa.array(opens)), UNQUOTED_CELLS.format(
        d=re.escape(delimiter)) + END)).any()
    found = _joined(lines, starts, quotes, data, first_line, delimiter, line_ends, text, by_count, every) if tried \
        else None
    if found is not None:
        return found
    by_csv = csv_joined_lines(quotes, texts, delimiter, text or (lambda t: t))
    if by_csv is None or tried and (np.array_equal(by_csv, by_count) if by_count is not None else not by_csv.any()):
        return None     # (csv joins them as tried: its reading differs otherwise)
    return _joined(lines, starts, quotes, data, first_line, delimiter, line_ends, text, by_csv)


def _joined(lines, starts, quotes, data, first_line, delimiter, line_ends, text, joined, every=None) -> tuple | None:
    """`as_records` with the lines that continue the record above (`joined`: None or none for every line one;
    `every`: the lines' flags when matched already, a record's those of its line)."""
    numbers = None
    if joined is not None and not joined.any():
        joined = None
    if joined is not None:
        if has_lone_cr(line_ends, data):
            return None         # (its lines end otherwise than the file's others: csv keeps each break as written)
        heads = np.flatnonzero(~joined)
        if np.diff(np.append(heads, len(joined))).max() > MAX_RECORD_LINES:
            return None         # (a quote left open over many lines: not copied and read by csv to be refused)
        quotes, starts, numbers = np.add.reduceat(quotes, heads), starts[heads], (first_line + heads).astype(np.int32)
        if lines is not None:
            whole = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
            records = join_lines(whole, joined, line_break(line_ends, data))
            lines = pa.chunked_array([records]) if isinstance(lines, pa.ChunkedArray) else records
    records = lines if lines is not None else records_in(data, starts)
    if every is not None and joined is not None:    # a record of one line has its line's flag; others are matched
        multi = np.flatnonzero(np.diff(np.append(heads, len(joined))) > 1)
        every = every[heads]
        every[multi] = np_bools(pc.match_substring_regex(records.take(pa.array(multi)), _quoted_record(delimiter)))
    cells = read_as_csv(records, quotes, delimiter, (lambda t: t) if lines is not None else text, every)
    return None if cells is False else (lines, starts, quotes, numbers, joined, cells)


def csv_joined_lines(quotes: np.ndarray, texts: pa.Array | pa.ChunkedArray, delimiter: str,
                     text: Callable[[object], str]) -> np.ndarray | None:
    """Which lines continue the record above as csv reads them (`texts`: the lines, `text` one's value as text):
    a quote opens a cell only at its start, anywhere else it is a character. Only lines holding quotes are read,
    and of those only a line whose cells are not each quoted without a quote inside or unquoted without one, or
    that starts inside a quoted cell. None when the last line leaves a cell open."""
    quoted = np.flatnonzero(quotes > 0)
    plain = np_bools(pc.match_substring_regex(texts.take(pa.array(quoted)),
                                              QUOTED_CELLS.format(d=re.escape(delimiter)) + END))
    if not plain.all():     # (a line whose cells are all unquoted opens no quoted cell either: `12" monitor`)
        plain[~plain] = np_bools(pc.match_substring_regex(texts.take(pa.array(quoted[~plain])),
                                                          UNQUOTED_CELLS.format(d=re.escape(delimiter)) + END))
    joined = np.zeros(len(quotes), bool)
    inside, last = False, -1
    for k, simple in zip(quoted.tolist(), plain.tolist(), strict=True):
        if simple and not inside:
            continue
        if inside:
            joined[last + 1: k + 1] = True
        inside, last = ends_inside(text(texts[k].as_py()).removesuffix("\n").removesuffix("\r"), inside,
                                   delimiter), k
    return None if inside else joined


def ends_inside(line: str, inside: bool, delimiter: str) -> bool:
    """Whether csv (quotes doubled inside a quoted cell, not strict) is inside a quoted cell at the end of `line`,
    starting inside one when `inside`: a quote opens a cell only at its start; a quoted cell ends at a quote not
    doubled, and what follows it up to the delimiter is the cell's text."""
    at, n = 0, len(line)
    while True:
        if inside:
            q = line.find('"', at)
            if q < 0:
                return True
            if line.startswith('"', q + 1):         # (a quote doubled: one quote in the cell)
                at = q + 2
                continue
            inside, at = False, q + 1
            if at < n and line[at] != delimiter:    # (text after the closing quote: the cell's, to the delimiter)
                at = line.find(delimiter, at)
                if at < 0:
                    return False
            at += 1
        elif line.startswith('"', at):              # (a cell's start)
            inside, at = True, at + 1
            continue
        else:
            at = line.find(delimiter, at)
            if at < 0:
                return False
            at += 1
        if at > n:
            return False


def joined_lines(quotes: np.ndarray) -> np.ndarray | None:
    """Which lines continue the record above (`quotes`: each line's count): those after a line where the quotes
    counted so far are odd (a quoted cell left open); None when the last line leaves one open."""
    open_after = np.cumsum(quotes & 1) & 1
    if open_after[-1]:
        return None
    return np.concatenate([[False], open_after[:-1].astype(bool)])


def join_lines(lines: pa.Array, joined: np.ndarray, line_break: str) -> pa.Array:
    """The records: each line with the lines that continue it (`joined`), joined by a line break."""
    heads = np.flatnonzero(~joined)
    offsets = pa.array(np.append(heads, len(lines)).astype(np.int32))
    return pc.binary_join(pa.ListArray.from_arrays(offsets, lines), line_break)


def line_break(line_ends: tuple[bytes, bool] | None, data: bytes = b"") -> str:
    """The line break a record's lines are joined with: CRLF in a CRLF file (the scan's `line_ends`, else told
    from `data`), else LF (`cell_text` reads any line break inside a cell as one space)."""
    if line_ends is None:
        return "\r\n" if b"\r\n" in data and data.count(b"\r\n") == data.count(b"\n") else "\n"
    return "\r\n" if line_ends[0] == b"\r\n" else "\n"


def records_in(data: bytes, starts: np.ndarray) -> pa.Array:
    """The records starting at `starts` as `data` holds them, each with its line end (large_binary, no copy)."""
    return pa.Array.from_buffers(pa.large_binary(), len(starts), [
        None, pa.py_buffer(np.append(starts, len(data)).astype(np.int64)), pa.py_buffer(data)])


def read_as_csv(records: pa.Array | pa.ChunkedArray, quotes: np.ndarray, delimiter: str,
                text: Callable[[object], str], every: np.ndarray | None = None,
                ) -> tuple[np.ndarray, np.ndarray] | None | bool:
    """Whether csv reads every record holding quotes (`quotes`: each record's count) as one record ending where
    its lines end, as `split_csv` reads the file: False when not. A record whose cells are each quoted without a
    quote inside or unquoted without one does (`QUOTED_CELLS`, matched over all of them at once, a line end after
    the last allowed); the others are read by csv with a line after them, which must stay a record of its own
    (`text`: a record's value as text). When most records hold quotes, returns which records have every cell
    quoted so (`EVERY_CELL_QUOTED`) and which have their cells so, for `fastcsv._unquote` (else None)."""
    quoted = np.flatnonzero(quotes > 0)
    if len(quoted) <= len(quotes) // 8:        # few: only theirs copied, the cells' flags left to the parts
        found = None
        suspects = quoted[~np_bools(pc.match_substring_regex(
            records.take(pa.array(quoted)), QUOTED_CELLS.format(d=re.escape(delimiter)) + END))]
    else:       # many: all matched where they are
        found = quoted_cell_flags(records, delimiter, END, threads=2, every=every)
        suspects = np.flatnonzero((quotes > 0) & ~found[1])
    for cells in (FORMULA_CELLS, UNQUOTED_CELLS):   # and so does one whose other cells are written as a
        if len(suspects):                           # formula's text, ="7372…", or whose cells are all unquoted
            suspects = suspects[~np_bools(pc.match_substring_regex(records.take(pa.array(suspects)),
                                                                   cells.format(d=re.escape(delimiter)) + END))]
    for k in suspects.tolist():
        one = text(records[k].as_py()).removesuffix("\n").removesuffix("\r")
        try:
            if split_csv(one + "\n#", delimiter)[0][1:] != [["#"]]:
                return False
        except FileRejected:
            return False
    return found


def quoted_cell_flags(texts: pa.Array | pa.ChunkedArray, delimiter: str, end: str = "$", threads: int = 1,
                      every: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per text: whether its cells are each quoted without a quote inside (`EVERY_CELL_QUOTED`), and whether each
    is so or unquoted without a quote (`QUOTED_CELLS`, matched only where the first is not: the texts left copied
    when few, else all matched where they are); `end`: what may follow the last cell. `threads`: the texts matched
    in that many slices at once (a big CSV's records before its first part: 0.33 s of a quoted 153 MB file)."""
    d = re.escape(delimiter)
    every = _matches(texts, EVERY_CELL_QUOTED.format(d=d) + end, threads) if every is None else every
    plain = every.copy()
    rest = np.flatnonzero(~every)
    if len(rest) > len(texts) // 8:
        plain |= _matches(texts, QUOTED_CELLS.format(d=d) + end, threads)
    elif len(rest):
        plain[rest] = np_bools(pc.match_substring_regex(texts.take(pa.array(rest)), QUOTED_CELLS.format(d=d) + end))
    return every, plain


SAMPLE_LINES = 1000      # a big CSV's first lines, which tell whether its lines are matched before their quotes


def every_cell_quoted_lines(data: bytes, starts: np.ndarray, delimiter: str, found: list[np.ndarray],
                            ) -> np.ndarray | None:
    """`csvlines.scan_lines`' `balanced` for a big CSV (its lines' `starts` in `data`, each a record): which lines
    have every cell quoted without a quote inside (`EVERY_CELL_QUOTED`, its line end after it), so an even count
    of quotes. Matched over all lines only when all but a sixteenth of the first SAMPLE_LINES are (a file of
    quoted cells, whose quotes are then counted only where a line is not), else None; the flags are kept in `found`, for
    `read_as_csv` (`as_records`' `every`: one match of every line, not two)."""
    records, pattern = records_in(data, starts), _quoted_record(delimiter)
    sample = np_bools(pc.match_substring_regex(records.slice(0, SAMPLE_LINES), pattern))
    if (~sample).sum() > len(sample) // 16:
        return None
    flags = _matches(records, pattern, threads=2)
    found.append(flags)
    return flags


def _quoted_record(delimiter: str) -> str:
    """A record (its line end kept) whose every cell is quoted without a quote inside."""
    return EVERY_CELL_QUOTED.format(d=re.escape(delimiter)) + END


def _matches(texts: pa.Array | pa.ChunkedArray, pattern: str, threads: int) -> np.ndarray:
    """Whether each text matches the RE2 pattern, the texts in `threads` slices matched at once (pyarrow lets the
    GIL go)."""
    step = -(-len(texts) // max(1, threads))
    if threads < 2 or step < 65_536:
        return np_bools(pc.match_substring_regex(texts, pattern))
    with ThreadPoolExecutor(threads) as pool:
        return np.concatenate(list(pool.map(lambda a: np_bools(pc.match_substring_regex(texts.slice(a, step), pattern)),
                                            range(0, len(texts), step))))


# a line whose cells are each quoted without a quote inside; ... each quoted (a quote inside doubled, as csv reads
# it) or unquoted without a quote (`d`: the delimiter, escaped); END: the line end a record keeps in the file's bytes
EVERY_CELL_QUOTED = r'^"[^"]*"(?:{d}"[^"]*")*'
QUOTED_CELLS = r'^(?:"(?:[^"]|"")*"|[^"{d}]*)(?:{d}(?:"(?:[^"]|"")*"|[^"{d}]*))*'
# a line whose cells are all unquoted, a quote inside one a character (no cell starts with one; no line break)
UNQUOTED_CELLS = r'^(?:[^"{d}\r\n][^{d}\r\n]*)?(?:{d}(?:[^"{d}\r\n][^{d}\r\n]*)?)*'
# ... or written as a formula's text, ="7372…" (no quote or delimiter inside: csv reads it as a cell of its own)
FORMULA_CELLS = r'^(?:="[^"{d}]*"|"[^"]*"|[^"{d}]*)(?:{d}(?:="[^"{d}]*"|"[^"]*"|[^"{d}]*))*'
END = r"\r?\n?$"


def formula_cells(lines: pa.Array, quoted: np.ndarray, delimiter: str) -> tuple[pa.Array, np.ndarray, bool]:
    """The lines whose every quote is that of a cell written as a formula's text, ="7372…" (exports keep a NIK's
    digits so; no quote or delimiter inside), or of a cell quoted without a quote inside: each such formula cell
    made the text inside, which is its `parsing.cell_text` (that of ="X" is X's). Returns the lines, which of them
    still hold quotes, and whether any was rewritten (the file's `read_as_csv` flags no longer hold for them)."""
    d = re.escape(delimiter)
    if not may_hold(lines, b'="'):      # (one search of the bytes: no match kernel over a part's lines)
        return lines, quoted, False
    rows = np.flatnonzero(np_bools(pc.match_substring(lines, '="')) & quoted)    # (no copy of a part's lines)
    if not len(rows):
        return lines, quoted, False
    sub = lines.take(pa.array(rows))
    ok = np_bools(pc.match_substring_regex(sub, FORMULA_CELLS.format(d=d) + "$"))
    if not ok.any():
        return lines, quoted, False
    fixed = pc.replace_substring_regex(sub.filter(pa.array(ok)), rf'(^|{d})="([^"{d}]*)"', r"\1\2")
    mask = np.zeros(len(lines), dtype=bool)
    mask[rows[ok]] = True
    still = quoted.copy()
    still[rows[ok]] = np_bools(pc.match_substring(fixed, '"'))
    return pc.replace_with_mask(lines, pa.array(mask), fixed), still, True


def unquote_cells(texts: pa.Array, delimiter: str, unit: str) -> pa.Array:
    """Lines whose quotes all bound cells (each cell quoted whole, a quote inside it doubled, or unquoted with no
    quote: `a,"b, c","","d""e"`) with each delimiter outside the quotes made `unit` and the quotes dropped, but
    one of each doubled quote (`a<unit>b, c<unit><unit>d"e`). Lines with few quotes (a cell quoted here and there,
    as csv's minimal quoting writes them) are split at them (`unquote_by_pieces`), others in numpy
    (`unquote_by_mask`): for a database export's lines, every value quoted but the bare NULLs, 24 quotes a line,
    the pieces took 0.25-0.28 s of a 61,440-line part, the mask 0.06-0.07 (the pieces 0.030 s of a `comma` part,
    2 quotes a line, the mask 0.033). `delimiter` and `unit` are one ASCII character each; the lines hold no null."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    _, data = _bytes_of(texts)
    quotes = 0 if data is None else np.count_nonzero(np.frombuffer(data, np.uint8) == ord('"'))
    if quotes <= PIECES_QUOTES_PER_LINE * len(texts):
        return unquote_by_pieces(texts, delimiter, unit)
    return unquote_by_mask(texts, delimiter, unit)


PIECES_QUOTES_PER_LINE = 4      # up to this many quotes a line (on average), the lines are split at their quotes


def _bytes_of(texts: pa.Array) -> tuple[np.ndarray, memoryview | None]:
    """The texts' offsets and their bytes from the first to the last."""
    _, offsets_buffer, data = texts.buffers()
    wide = pa.types.is_large_string(texts.type)
    offsets = np.frombuffer(offsets_buffer, np.int64 if wide else np.int32)[texts.offset: texts.offset + len(texts) + 1]
    return offsets, None if data is None else memoryview(data)[offsets[0]: offsets[-1]]


def unquote_by_pieces(texts: pa.Array, delimiter: str, unit: str) -> pa.Array:
    """`unquote_cells` by the lines' bytes split at the quotes: every other piece lies outside them (each line holds
    pairs), so its delimiters are replaced, and the pieces are joined without the quotes, but for an empty piece
    outside them within a line (a quote doubled inside a cell), which is made one quote; each line's end moves back
    by the quotes dropped before it. `pc.replace_substring_regex` over every character took 0.385 s of a 200,000-line
    comma CSV whose money cells Excel had quoted, this 0.11-0.125 (bench/findings.md "Session 56")."""
    offsets, data = _bytes_of(texts)
    pieces = (b"" if data is None else bytes(data)).split(b'"')
    old, new = delimiter.encode(), unit.encode()
    pieces[0::2] = [p.replace(old, new) for p in pieces[0::2]]
    quotes = np.cumsum(np.fromiter(map(len, pieces), np.int64, len(pieces))[:-1] + 1) - 1    # where each quote was
    local = offsets - offsets[0]
    doubled = np.flatnonzero(np.diff(quotes) == 1) + 1      # piece j lies between quotes j - 1 and j
    doubled = doubled[doubled % 2 == 0]
    doubled = doubled[~np.isin(quotes[doubled], local)]     # (not two lines' quotes: one's last, the next one's first)
    for j in doubled.tolist():
        pieces[j] = b'"'
    dropped = np.delete(quotes, doubled) if len(doubled) else quotes
    ends = (local - np.searchsorted(dropped, local)).astype(offsets.dtype)
    return pa.Array.from_buffers(texts.type, len(texts), [None, pa.py_buffer(ends), pa.py_buffer(b"".join(pieces))])


def unquote_by_mask(texts: pa.Array, delimiter: str, unit: str) -> pa.Array:
    """`unquote_cells` in numpy over the lines' bytes: a byte lies within quotes when an odd number of quotes come
    before it (each line holds pairs: the count is even again at its end), a delimiter outside them is made `unit`,
    the quotes are dropped but the second of two that close a cell and open it again (a quote doubled inside it),
    and each line's end moves back by the quotes dropped before it. The delimiters are set in a copy and the quotes
    deleted by `bytes.translate`: 37-39 ms of a 60,917-line database part, 43 with `np.where` and a mask."""
    offsets, data = _bytes_of(texts)
    buf = np.frombuffer(b"" if data is None else data, np.uint8)
    quote = buf == ord('"')
    inside = np.logical_xor.accumulate(quote)      # within quotes after each byte
    at, local = np.flatnonzero(quote), offsets - offsets[0]
    out = buf.copy()
    out[np.flatnonzero((buf == ord(delimiter)) > inside)] = ord(unit)
    doubled = at[:0]
    if (quote[1:] & quote[:-1]).any():  # (an empty cell, or a quote doubled: the second of two closing a cell)
        doubled = at[1:][(np.diff(at) == 1) & ~inside[at[:-1]]]
        doubled = doubled[~np.isin(doubled, local)]     # (not a line's first quote after the line before ends in one)
        out[doubled] = 0
    dropped = np.setdiff1d(at, doubled, assume_unique=True) if len(doubled) else at
    ends = (local - np.searchsorted(dropped, local)).astype(offsets.dtype)
    text = out.tobytes().translate(_NULL_AS_QUOTE if len(doubled) else None, b'"')
    return pa.Array.from_buffers(texts.type, len(texts), [None, pa.py_buffer(ends), pa.py_buffer(text)])


_NULL_AS_QUOTE = bytes([ord('"'), *range(1, 256)])     # (a doubled quote kept: marked as a null byte, then put back)
