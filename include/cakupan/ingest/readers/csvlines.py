"""A big CSV's bytes as UTF-8 lines in Arrow, for the column-wise reader (`fastcsv`).

The bytes are checked as UTF-8 in place, or made UTF-8 a chunk at a time (cp1252, latin-1: never held whole as
one str, nor whole as UTF-8 beside the bytes and the lines), and split into lines a chunk at a time, each line's
place in the bytes kept for the quote count. tests/ingest/test_fast_csv.py reads every case both ways.
"""

from __future__ import annotations

import codecs
import functools
import re
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.ingest.arrays import np_bools, pa_ints
from cakupan.ingest.readers.csvtext import DELIMITER_SAMPLE_CHARS, looks_binary
from cakupan.ingest.readers.sniff import detect_delimiter


def utf8_data(raw: bytes, head_text: str, whole: bool, encoding: str) -> bytes | None:
    """The file's bytes as UTF-8 (the bytes themselves when they are), or None when they do not decode."""
    if encoding in ("utf-8", "utf-8-sig"):
        return raw
    if whole:
        return head_text.encode("utf-8")
    try:
        return to_utf8(raw, encoding)
    except UnicodeDecodeError:
        return None


TRANSCODE_CHUNK = 1 << 24
ONE_BYTE = ("cp1252", "latin-1")     # encodings whose every byte is one character, ASCII bytes as in UTF-8


FEW_HIGH_BYTES = 4096     # a one-byte text with at most this many non-ASCII bytes is copied around them


def to_utf8(raw: bytes | memoryview, encoding: str, errors: str = "strict") -> bytes:
    """`raw.decode(encoding, errors).encode("utf-8")` a chunk at a time, so that a big file is never also held as
    one str (up to 4 bytes a character) beside its bytes. Returns a bytearray (bytes-like, no final copy).

    A one-byte encoding's ASCII bytes are UTF-8 already: when few bytes are not ASCII (a cp1252 register's
    apostrophes), the bytes between them are copied and only they are decoded, each a character of its own (a
    9 MB part: ~4 ms, against ~13 ms to decode and encode it whole; findings "Session 53")."""
    if encoding in ONE_BYTE:
        high = np.flatnonzero(np.frombuffer(raw, np.uint8) >= 0x80)
        if len(high) <= FEW_HIGH_BYTES:
            view, out, at = memoryview(raw), bytearray(), 0
            for i in high.tolist():
                out += view[at:i]
                out += bytes(view[i:i + 1]).decode(encoding, errors).encode("utf-8")
                at = i + 1
            out += view[at:]
            return out
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    out, view = bytearray(), memoryview(raw)
    for at in range(0, len(raw), TRANSCODE_CHUNK):
        out += decoder.decode(view[at: at + TRANSCODE_CHUNK], final=at + TRANSCODE_CHUNK >= len(raw)).encode("utf-8")
    return out


def head_lines(raw: bytes, size: int, encoding: str) -> bytes:
    """The whole lines in the first `size` bytes of `raw` (UTF-16 with its BOM: whole two-byte line feeds)."""
    if encoding != "utf-16":
        return raw[: raw.rfind(b"\n", 0, size) + 1]
    feed = "\n".encode("utf-16-le" if raw.startswith(codecs.BOM_UTF16_LE) else "utf-16-be")
    at = raw.rfind(feed, 0, size)
    while at > 0 and at % 2:        # (a feed's bytes across two characters)
        at = raw.rfind(feed, 0, at + 1)
    return raw[: at + 2] if at >= 0 else b""


def one_value(data: bytes, start: int = 0, stop: int | None = None) -> pa.Array:
    """The bytes from `start` on (to `stop`) as one large_binary value, without a copy."""
    return pa.Array.from_buffers(pa.large_binary(), 1, [
        None, pa.py_buffer(np.array([start, len(data) if stop is None else stop], np.int64)), pa.py_buffer(data)])


def is_utf8(value: pa.Array) -> bool:
    """Whether a large_binary value is UTF-8 (validated in place, no copy)."""
    try:
        value.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def late_cp1252(raw: bytes, delimiter: str) -> bool:
    """A file whose start read as UTF-8 (it was ASCII) but a later byte is not: True when `decode_csv` reads it
    as Windows-1252 (undecodable bytes replaced) with this delimiter; False when it would read it otherwise (it is
    UTF-8 after all) or would find another delimiter or binary data."""
    if is_utf8(one_value(raw)):
        return False                # valid UTF-8 (the split failed for another reason): the exact path decides
    start = raw[:DELIMITER_SAMPLE_CHARS * 4].decode("cp1252", errors="replace")   # one byte a character
    return not looks_binary(start) and detect_delimiter(start[:DELIMITER_SAMPLE_CHARS].splitlines()) == delimiter


def split_lines(data: bytes, first_line: int, chunk_bytes: int | None = None,
                 transcode: Callable[[memoryview], bytes] | None = None, ends: tuple[bytes, bool] | None = None,
                 places: bool = True) -> tuple[pa.Array | pa.ChunkedArray, np.ndarray | None] | None:
    """The lines from `first_line` on, and where each starts in `data`; None for text that is not UTF-8. Pure CRLF
    files split on CRLF, others on LF (a CRLF among LFs is trimmed); a carriage return alone among line feeds ends
    a line too, as csv reads it (`ANY_BREAK`: a chunk holding one is split from a copy with a line feed there).

    With `chunk_bytes`, the bytes are split a chunk of about that size at a time (each ends at a line's end), into
    a chunked array: a part holding only its lines lets the others go (`fast_csv_parts`). With `transcode`, `data`
    is in a one-byte encoding (cp1252, latin-1: its ASCII bytes are UTF-8's) and each chunk is made UTF-8 just
    before it is split, so that the file is never held whole as UTF-8 beside its bytes and its lines; the starts
    are still offsets in `data`; None when a chunk does not decode.

    `ends`: how the lines end when already known (`data` is whole lines from below the header of a file
    `scan_lines` scanned, which found them): not found again (three passes over the bytes), nor the bytes checked
    as UTF-8 before the split (the split's cast still checks them); a BOM they start with is a line's text.
    `places=False`: where each line starts is not found (None; a part read again only needs its lines)."""
    bom = 3 if ends is None and data.startswith(codecs.BOM_UTF8) else 0
    if ends is None:
        if transcode is None and not is_utf8(one_value(data, bom)):
            return None     # (a cp1252 file whose start is ASCII): said before the split, which would copy every line
        ends = _line_ends(data)
    sep, trim_cr = ends
    mixed = sep == ANY_BREAK
    if mixed:
        sep = b"\n"
    cuts = [bom]
    while chunk_bytes and (at := data.find(sep, cuts[-1] + chunk_bytes - 1)) >= 0 and at + len(sep) < len(data):
        cuts.append(at + len(sep))
    chunks, starts = [], []
    for a, b in zip(cuts, [*cuts[1:], len(data)], strict=True):
        try:
            chunk = _lone_crs_as_feeds(data, a, b) if mixed else None
            if transcode is not None:
                value = one_value(transcode(memoryview(data)[a:b] if chunk is None else memoryview(chunk)))
            else:
                value = one_value(data, a, b) if chunk is None else one_value(chunk)
            del chunk
        except UnicodeDecodeError:
            return None
        lines = pc.split_pattern(value, sep).values
        del value
        if len(lines) and (b < len(data) or data.endswith((sep, b"\r") if mixed else sep)):
            lines = lines.slice(0, len(lines) - 1)     # (the empty text after the chunk's last separator)
        if places and transcode is None:    # where each line starts in `data` (the split dropped a separator a line)
            starts.append(a + np.frombuffer(lines.buffers()[1], np.int64)[lines.offset: lines.offset + len(lines)]
                          + np.arange(len(lines), dtype=np.int64) * len(sep))
        elif places:              # (the line ends' places in the one-byte text: each line starts after one)
            ends_at = _break_places(data, a, b) if mixed else _places(data, a, b, sep[-1:])
            starts.append(np.concatenate([[a], ends_at + 1])[: len(lines)].astype(np.int64))
        try:
            lines = lines.cast(pa.large_string()).cast(pa.string())     # validates UTF-8
        except (pa.ArrowInvalid, pa.ArrowCapacityError):
            return None
        chunks.append(pc.utf8_rtrim(lines, characters="\r") if trim_cr else lines)
    lines = pa.chunked_array(chunks, pa.string()) if chunk_bytes else chunks[0]
    return lines.slice(first_line - 1), np.concatenate(starts)[first_line - 1:] if places else None


# `split_lines`' separator for a file with a carriage return alone among its line feeds (an old Mac text pasted into
# a cell): csv ends a line at either, so lines are split at line feeds and at carriage returns not followed by one
ANY_BREAK = b"\r|\n"


def has_lone_cr(line_ends: tuple[bytes, bool] | None, data: bytes) -> bool:
    """Whether the lines of `data` (how they end, when scanned: `line_ends`) end at a lone carriage return too."""
    return (line_ends or _line_ends(data))[0] == ANY_BREAK


def _line_ends(data: bytes) -> tuple[bytes, bool]:
    """How the lines end: (separator, whether a trailing carriage return is trimmed from each line). Pure CRLF files
    split on CRLF, files of carriage returns alone (Excel's "CSV (Macintosh)") on CR, a lone carriage return among
    line feeds at both (`ANY_BREAK`), others on LF (a CRLF among LFs is trimmed)."""
    crs = data.count(b"\r") if b"\r" in data else 0
    if not crs:
        return b"\n", False
    if b"\n" not in data:
        return b"\r", False
    if data.count(b"\r\n") != crs:
        return ANY_BREAK, True
    return (b"\r\n", False) if data.count(b"\n") == crs else (b"\n", True)


def _scanned_line_ends(data: bytes, feeds: np.ndarray, crs: int) -> tuple[bytes, bool]:
    """`_line_ends(data)` told from the line feeds' places (`feeds`, every one in the file) and the count of
    carriage returns (`crs`, counted as the feeds were found: `_scan_chunks`): a CRLF is a line feed after a
    carriage return. No pass of its own over the bytes (`_line_ends` made three: 0.13 s of a 121 MB CRLF file)."""
    if not crs:
        return b"\n", False
    if not len(feeds):      # (carriage returns alone)
        return b"\r", False
    at = feeds[feeds > 0]
    crlf = int(np.count_nonzero(np.frombuffer(data, np.uint8)[at - 1] == ord("\r")))
    if crs != crlf:
        return ANY_BREAK, True      # (a lone carriage return)
    return (b"\r\n", False) if crlf == len(feeds) else (b"\n", True)


def _scan_chunks(data: bytes, bom: int, chunk_bytes: int, pool: ThreadPoolExecutor) -> tuple[np.ndarray, int]:
    """Every line feed's offset in `data` (from `bom` on) and the count of carriage returns, `chunk_bytes` at a time
    on the pool's two threads (numpy lets the GIL go: the file's other CPU is idle before its first part is read; a
    127 MB CRLF file's 0.17 s on one, with the count `bytes.count` made, findings "Session 47")."""
    crs = b"\r" in data

    def scan(a: int) -> tuple[np.ndarray, int]:
        stop = min(a + chunk_bytes, len(data))
        return _places(data, a, stop, b"\n"), int(np.count_nonzero(np.frombuffer(data, np.uint8, stop - a, a)
                                                                     == ord("\r"))) if crs else 0

    found = list(pool.map(scan, range(bom, len(data), chunk_bytes)))
    return np.concatenate([np.zeros(0, np.int64), *(f for f, _ in found)]), sum(c for _, c in found)


def _places(data: bytes, start: int, stop: int, byte: bytes) -> np.ndarray:
    """The offsets in `data` of every `byte` in [start, stop)."""
    return np.flatnonzero(np.frombuffer(data, np.uint8, stop - start, start) == ord(byte)) + start


def _lone_crs(data: bytes, start: int, stop: int) -> np.ndarray:
    """The offsets in `data` of every carriage return in [start, stop) not followed by a line feed in `data`."""
    crs = _places(data, start, stop, b"\r")
    if not len(crs):
        return crs
    after = np.frombuffer(data, np.uint8)[np.minimum(crs + 1, len(data) - 1)]    # (the last byte: itself, a CR)
    return crs[after != ord("\n")]


def _break_places(data: bytes, start: int, stop: int) -> np.ndarray:
    """The offsets in `data` of every line end in [start, stop) of an `ANY_BREAK` file: line feeds, lone CRs."""
    return np.sort(np.concatenate([_places(data, start, stop, b"\n"), _lone_crs(data, start, stop)]))


def _lone_crs_as_feeds(data: bytes, start: int, stop: int) -> bytearray | None:
    """A copy of `data[start:stop]` with a line feed for each lone carriage return (None when it holds none): the
    same length, so a line's place in it is its place in the file."""
    lone = _lone_crs(data, start, stop)
    if not len(lone):
        return None
    chunk = bytearray(memoryview(data)[start:stop])
    np.frombuffer(chunk, np.uint8)[lone - start] = ord("\n")
    return chunk


CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")     # the bytes Python's cp1252 codec refuses


def has_undefined_cp1252(data: bytes, chunk_bytes: int = 1 << 20) -> bool:
    """Whether `data` holds a byte cp1252 leaves undefined: searched for only in the chunks whose largest byte can be
    one (most of a register is ASCII: ~20 ms for 153 MB, against ~75 ms for five searches of the whole)."""
    raw, view = np.frombuffer(data, np.uint8), memoryview(data)
    for a in range(0, len(raw), chunk_bytes):
        if raw[a: a + chunk_bytes].max() >= 0x81 and any(b in view[a: a + chunk_bytes].tobytes()
                                                          for b in CP1252_UNDEFINED):
            return True
    return False


def scan_lines(data: bytes, first_line: int, utf8: bool, strict_cp1252: bool = False, chunk_bytes: int = 1 << 24,
               balanced: Callable[[np.ndarray], np.ndarray | None] | None = None,
               ) -> tuple[np.ndarray, np.ndarray | None, tuple[bytes, bool]] | None:
    """What `split_lines` finds, without making the lines: where each line from `first_line` on starts in `data`,
    how many quote characters it holds (None when the file holds none) and how the lines end (`split_lines`' `ends`,
    for splitting a part of the file later); None where `split_lines` gives None (bytes that do not decode). `utf8`:
    the bytes are UTF-8 (checked in place); else a one-byte encoding, strict cp1252 refusing its five undefined
    bytes. Chunk by chunk, nothing file-sized made. `balanced(starts)`: which lines are known to hold an even
    count of quotes, more than none (or None): when it is all but a few, only those few are counted."""
    bom = 3 if data.startswith(codecs.BOM_UTF8) else 0
    if utf8 and not is_utf8(one_value(data, bom)):
        return None
    if not utf8 and strict_cp1252 and has_undefined_cp1252(data):
        return None
    with ThreadPoolExecutor(2) as pool:     # (one pool for the file's scans, each on both CPUs)
        return _scanned(data, bom, first_line, chunk_bytes, pool, balanced)


def _scanned(data: bytes, bom: int, first_line: int, chunk_bytes: int, pool: ThreadPoolExecutor,
             balanced: Callable[[np.ndarray], np.ndarray | None] | None = None,
             ) -> tuple[np.ndarray, np.ndarray | None, tuple[bytes, bool]]:
    """`scan_lines` of bytes that decode: the line feeds and carriage returns, then (where carriage returns end
    lines) those places again, then each line's quotes, chunk by chunk on the pool's threads."""
    feeds, crs = _scan_chunks(data, bom, chunk_bytes, pool)
    line_ends = _scanned_line_ends(data, feeds, crs)
    if line_ends[0] in (b"\r", ANY_BREAK):      # (carriage returns alone end lines: each starts after one)
        places = functools.partial(_places, byte=b"\r") if line_ends[0] == b"\r" else _break_places

        def chunk(a: int) -> np.ndarray:
            return places(data, a, min(a + chunk_bytes, len(data)))
        feeds = np.concatenate([np.zeros(0, np.int64), *pool.map(chunk, range(bom, len(data), chunk_bytes))])
    starts = np.concatenate([np.array([bom], np.int64), feeds + 1])
    if len(data) > bom and starts[-1] == len(data):
        starts = starts[:-1]                    # (nothing after the last line feed: no line)
    starts = starts[first_line - 1:]
    if not len(starts) or data.find(b'"', int(starts[0])) < 0:
        return starts, None, line_ends
    if balanced is not None and (known := balanced(starts)) is not None and (~known).sum() <= len(starts) // 16:
        return starts, _quotes_where_unknown(data, starts, known), line_ends
    # quotes on each line: those before each line's start, counted a chunk of whole lines at a time
    ends = np.append(starts[1:], len(data))
    quotes = np.zeros(len(starts), np.int64)
    step = max(1, int(len(starts) * chunk_bytes // max(1, len(data))))

    def count(i: int) -> None:
        a, b = int(starts[i]), int(ends[min(i + step, len(starts)) - 1])
        at = _places(data, a, b, b'"')
        quotes[i: i + step] = np.diff(np.searchsorted(at, np.append(starts[i: i + step], b)))

    list(pool.map(count, range(0, len(starts), step)))     # (0.23 s of a quoted 153 MB file on one thread)
    return starts, quotes, line_ends


def part_digest(data: bytes | bytearray | memoryview) -> bytes:
    """What a big CSV's part is checked with when its bytes are read again (`inbox.part_rereader`): their CRC-32.
    It tells bytes changed by accident, as a file overwritten while it loads (its size and modification time are
    checked too); the file's identity is its SHA-256 (`inbox.Delivery`). Half SHA-256's CPU, twice per part:
    0.07 s against 0.13 s for 153 MB (findings "Session 53")."""
    return zlib.crc32(data).to_bytes(4, "big")


def bytes_in_memory(text: bytes, start: int, stop: int, _digest: bytes) -> bytes:
    """A part's bytes from a file made UTF-8 in memory (`fastcsv.fast_csv_parts`' `reread` for it)."""
    return text[start:stop]


def _quotes_where_unknown(data: bytes, starts: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Each line's quotes for `scan_lines`: 2 for a line `known` to hold an even count, more than none (only whether
    a line holds quotes, and whether its count is odd, is read of the counts), counted for the others. A file of
    quoted cells: its quotes' places not found (0.17 s of a 146 MB file on two threads; findings "Session 53")."""
    quotes = np.full(len(starts), 2, np.int64)
    ends = np.append(starts[1:], len(data))
    for i in np.flatnonzero(~known).tolist():
        quotes[i] = data.count(b'"', int(starts[i]), int(ends[i]))
    return quotes


def span_digests(raw: bytes, spans: list[tuple[int, int]]) -> list[Callable[[], bytes]]:
    """Each span's `part_digest` (a big CSV's parts, `fastcsv.fast_csv_parts`), summed in order by a thread of its
    own (zlib lets the GIL go), so that the first part is read while the rest are summed: 0.09 s of a 127 MB file
    that was spent before it (bench/findings.md "Session 47")."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="cakupan-sum")
    sums = [pool.submit(lambda a=a, b=b: part_digest(memoryview(raw)[a:b])).result for a, b in spans]
    pool.shutdown(wait=False)       # (the sums go on: each part waits for its own)
    return sums


def delimiters_alone(lines: pa.Array, delimiter: str, width: int, few: int) -> np.ndarray | None:
    """The lines of delimiters alone, when there are more than `few`: blank rows (the row-by-row path skips them),
    by the hundred thousand where a sheet was saved as CSV with its formatted empty rows, which `fastcsv` leaves
    out in bulk. Only the short lines are asked (`width`: the header's cells; a longer line holds some text)."""
    short = np.flatnonzero(pc.binary_length(lines).to_numpy() <= 4 * width + 16)
    if len(short) <= few:
        return None
    alone = short[np_bools(pc.match_substring_regex(lines.take(pa_ints(short)), f"^{re.escape(delimiter)}*$"))]
    if len(alone) <= few:
        return None
    out = np.zeros(len(lines), dtype=bool)
    out[alone] = True
    return out
