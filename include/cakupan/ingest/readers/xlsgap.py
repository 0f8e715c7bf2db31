"""An .xls sheet's long runs of empty rows made one, in its bytes, before the spreadsheet library reads it.

python-calamine builds an .xls sheet's whole area from its first to its last value when it opens the workbook, and
again when a sheet is asked for: an "x" typed in IV65536 under a 2,000-row register made 16.7 million cells (4.3 s,
a reader child of 1.25 GB). An .xls is a compound file (CFB) whose "Workbook" stream holds each sheet's records,
every cell record starting with its row. Here, when a sheet's area would hold more than GAP_MIN_CELLS cells, each
run of more than GAP_ROWS rows with no value (no value record, no merged range) is made one row: the rows after it
are renumbered in place (their records' row fields, the merged ranges', the sheet's dimensions), the file's size
and layout unchanged. The reader gives each row its own number back (`workbook._RowOf`, from the jumps returned).
Anything not of the plain kind (BIFF5, a stream the chains do not reach whole, a record cut short) is read as
before.

The same records give an .xls's error cells (`error_cells`): a formula whose saved result is an error ("#N/A" of a
VLOOKUP that found nothing) or an error pasted as a value, which the library reads as empty.
"""

from __future__ import annotations

import bisect
import itertools
import re
import struct
from dataclasses import dataclass

GAP_ROWS = 1 << 10          # a run of more rows than this with no value is made one
GAP_MIN_CELLS = 1 << 21     # ... in a sheet whose area (its rows to its last value, as wide as its widest) holds more
KEEP_FIRST = 64             # the first rows (a header's) are kept as they are
_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END_OF_CHAIN, _FREE = 0xFFFFFFFE, 0xFFFFFFFF
# the records with a cell's row first (u16): the values the library reads (number, label, rich label, bool/error,
# RK, shared label, several RKs, formula), blanks (one, several) and the row record
_VALUES = frozenset({0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x00BD, 0x0006})
_ROW_FIRST = _VALUES | {0x0201, 0x00BE, 0x0208}
_BOF, _EOF, _BOUNDSHEET, _DIMENSIONS, _MERGECELLS = 0x0809, 0x000A, 0x0085, 0x0200, 0x00E5
_BOOLERR, _FORMULA = 0x0205, 0x0006
# BIFF8's error codes, as the sheet shows them
ERROR_TEXTS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
               0x2A: "#N/A", 0x2B: "#GETTING_DATA"}
# the bytes of a record that may hold an error: a bool/error cell flagged an error, a formula whose saved result is
# one (type 2, then 0xFFFF); found in bulk first, so a file without one is not walked record by record
_MAY_HOLD_ERROR = re.compile(rb"\x05\x02\x08\x00.{6}[\x00-\x2b]\x01|\x06\x00.{8}\x02.{5}\xff\xff", re.DOTALL)


@dataclass
class Gapless:
    """The .xls's bytes with the runs made one, and per sheet so changed its jumps: (the first row, 0-based, after
    a run made one, the rows left out up to it), as `workbook._RowOf` takes them."""

    data: bytes
    jumps: dict[str, list[tuple[int, int]]]


def without_long_gaps(data: bytes) -> Gapless | None:
    """The .xls with each sheet's long runs of empty rows made one, or None when no sheet has any, or the file is
    not of the plain kind."""
    if not data.startswith(_SIGNATURE):
        return None
    try:
        stream = _Stream.workbook(data)
        if stream is None:
            return None
        out = bytearray(data)
        jumps = {}
        for name, start in _sheets(stream.bytes):
            if (plan := _plan(stream.bytes, start)) is not None:
                records, shift, made = plan
                for at, typ in records:
                    _renumber(stream, out, at, typ, shift)
                jumps[name] = made
    except (struct.error, IndexError, ValueError, _NotPlain):
        return None
    return Gapless(bytes(out), jumps) if jumps else None


def error_cells(data: bytes) -> dict[str, list[tuple[int, int, str]]]:
    """Per worksheet, (row, column, the error's text) (0-based) of each cell of the .xls `data` whose value is an
    error: a bool/error cell flagged an error, or a formula whose saved result is one. Empty for a file without any
    or not of the plain kind."""
    if not data.startswith(_SIGNATURE):
        return {}
    out: dict[str, list[tuple[int, int, str]]] = {}
    try:
        stream = _Stream.workbook(data)
        if stream is None or not _MAY_HOLD_ERROR.search(stream.bytes):
            return {}
        for name, start in _sheets(stream.bytes):
            for _, typ, body in _records(stream.bytes, start):
                if typ == _BOOLERR and len(body) >= 8 and body[7] == 1:
                    code = body[6]
                elif typ == _FORMULA and len(body) >= 14 and body[6] == 2 and body[12:14] == b"\xff\xff":
                    code = body[8]
                else:
                    continue
                if code in ERROR_TEXTS:
                    row, col = struct.unpack_from("<HH", body, 0)
                    out.setdefault(name, []).append((row, col, ERROR_TEXTS[code]))
    except (struct.error, IndexError, ValueError, _NotPlain):
        return {}
    return out


class _NotPlain(Exception):
    """The compound file or a record is not as expected: the file is read as it is."""


class _Stream:
    """A stream of a compound file: its bytes, and the file offset of each of them (by its block)."""

    def __init__(self, blocks: list[int], size: int, block: int, data: bytes):
        self.blocks, self.block = blocks, block
        self.bytes = b"".join(data[b: b + block] for b in blocks)[:size]
        if len(self.bytes) != size:
            raise _NotPlain

    def at(self, offset: int) -> int:
        """The file offset of the stream's byte at `offset`."""
        return self.blocks[offset // self.block] + offset % self.block

    @classmethod
    def workbook(cls, data: bytes) -> _Stream | None:
        """The "Workbook" stream (BIFF8) of the compound file `data`; None when it has none."""
        sector = 1 << struct.unpack_from("<H", data, 0x1E)[0]
        mini = 1 << struct.unpack_from("<H", data, 0x20)[0]
        if sector not in (512, 4096) or mini != 64:
            raise _NotPlain
        dir_start, cutoff, minifat_start = struct.unpack_from("<I4xII", data, 0x30)
        difat_start, difat_count = struct.unpack_from("<II", data, 0x44)
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < _END_OF_CHAIN]
        seen = set()
        while difat_count and difat_start < _END_OF_CHAIN and difat_start not in seen:
            seen.add(difat_start)
            entries = struct.unpack_from(f"<{sector // 4}I", data, (difat_start + 1) * sector)
            fat_sectors += [s for s in entries[:-1] if s < _END_OF_CHAIN]
            difat_start, difat_count = entries[-1], difat_count - 1
        def sectors(numbers) -> bytes:
            return b"".join(data[(s + 1) * sector: (s + 2) * sector] for s in numbers)

        fat = sectors(fat_sectors)
        fat_entries = struct.unpack(f"<{len(fat) // 4}I", fat)

        directory = sectors(_chain(dir_start, fat_entries))
        root = entry = None
        for k in range(len(directory) // 128):
            e = directory[k * 128: (k + 1) * 128]
            name = e[: max(0, struct.unpack_from("<H", e, 0x40)[0] - 2)].decode("utf-16-le", "replace")
            kind, start, size = e[0x42], *struct.unpack_from("<IQ", e, 0x74)
            if kind == 5:
                root = (start, size)
            elif kind == 2 and name == "Workbook":
                entry = (start, size & 0xFFFFFFFF if sector == 512 else size)
        if entry is None or root is None:
            return None
        start, size = entry
        if size >= cutoff:
            return cls([(s + 1) * sector for s in _chain(start, fat_entries)], size, sector, data)
        container = cls([(s + 1) * sector for s in _chain(root[0], fat_entries)], root[1], sector, data)
        minifat = sectors(_chain(minifat_start, fat_entries))
        mini_entries = struct.unpack(f"<{len(minifat) // 4}I", minifat)
        # (a mini block never crosses a sector: 64 divides it)
        return cls([container.at(s * mini) for s in _chain(start, mini_entries)], size, mini, data)


def _chain(first: int, entries: tuple[int, ...]) -> list[int]:
    """The sectors (or mini sectors) of a chain from `first` in its allocation table (`entries`)."""
    out, s = [], first
    while s < _END_OF_CHAIN:
        if s >= len(entries) or len(out) > len(entries):
            raise _NotPlain
        out.append(s)
        s = entries[s]
    return out


def _records(stream: bytes, start: int):
    """(offset, type, data) of each record of the substream from `start` to its EOF (nested substreams' skipped)."""
    at, depth = start, 0
    while at + 4 <= len(stream):
        typ, size = struct.unpack_from("<HH", stream, at)
        if at + 4 + size > len(stream):
            raise _NotPlain
        if typ == _BOF and at != start:
            depth += 1
        elif typ == _EOF:
            if depth == 0:
                return
            depth -= 1
        elif depth == 0:
            yield at, typ, stream[at + 4: at + 4 + size]
        at += 4 + size


def _sheets(stream: bytes) -> list[tuple[str, int]]:
    """Each worksheet's name and where its substream starts, from the workbook globals' BOUNDSHEET records."""
    typ, _ = struct.unpack_from("<HH", stream, 0)
    if typ != _BOF or struct.unpack_from("<H", stream, 4)[0] != 0x0600:
        raise _NotPlain             # (not BIFF8)
    out = []
    for _, typ, body in _records(stream, 0):
        if typ == _BOUNDSHEET and body[5] == 0:         # (a worksheet, not a chart or macro sheet)
            count, wide = body[6], body[7] & 1
            name = body[8: 8 + count * (2 if wide else 1)].decode("utf-16-le" if wide else "cp1252", "replace")
            out.append((name, struct.unpack_from("<I", body, 0)[0]))
    return out


def _plan(stream: bytes, start: int):
    """For a sheet whose area would hold more than GAP_MIN_CELLS cells (its dimensions say so, when written, then
    its values) and that has a run of more than GAP_ROWS rows without a value: its records to renumber (offset,
    type), the rows each old row moves up by (a function), and the jumps; else None."""
    records, filled, width, last = [], set(), 0, -1
    for at, typ, body in _records(stream, start):
        if typ == _DIMENSIONS:      # (written before the cells: a sheet it says is small is not read on)
            end, _, cols = struct.unpack_from("<IHH", body, 4)
            if end * cols <= GAP_MIN_CELLS:
                return None
        if typ in _ROW_FIRST or typ == _DIMENSIONS:
            records.append((at, typ))
        if typ in _VALUES:
            row, col = struct.unpack_from("<HH", body, 0)
            if typ == 0x00BD:
                col = struct.unpack_from("<H", body, len(body) - 2)[0]     # (the last column of several RKs)
            filled.add(row)
            width, last = max(width, col + 1), max(last, row)
        elif typ == _MERGECELLS:
            records.append((at, typ))
            count = struct.unpack_from("<H", body, 0)[0]
            for k in range(count):
                r1, r2, _, c2 = struct.unpack_from("<HHHH", body, 2 + 8 * k)
                filled.update(range(r1, r2 + 1))       # (a merged range's rows are never a run made one)
                width, last = max(width, c2 + 1), max(last, r2)
    if (last + 1) * width <= GAP_MIN_CELLS:
        return None
    rows = sorted(filled)
    cuts = []       # (the old row after a run, the rows it moves up by)
    left_out = 0
    for a, b in itertools.pairwise(rows):
        if b - a - 1 > GAP_ROWS:
            made = max(1, KEEP_FIRST - (a + 1 - left_out))
            left_out += b - a - 1 - made
            cuts.append((b, left_out))
    if not cuts:
        return None
    firsts = [b for b, _ in cuts]

    def shift(row: int) -> int:
        k = bisect.bisect_right(firsts, row)
        return cuts[k - 1][1] if k else 0
    return records, shift, [(b - n, n) for b, n in cuts]


def _renumber(stream: _Stream, out: bytearray, at: int, typ: int, shift) -> None:
    """Rewrite a record's rows (at `at` in the stream) moved up by `shift(row)`, in the file's bytes `out`."""
    body = at + 4
    if typ == _DIMENSIONS:
        end = struct.unpack_from("<I", stream.bytes, body + 4)[0]
        _put(stream, out, body + 4, struct.pack("<I", end - shift(end - 1)))
        return
    if typ == _MERGECELLS:
        count = struct.unpack_from("<H", stream.bytes, body)[0]
        for k in range(count):
            r1, r2 = struct.unpack_from("<HH", stream.bytes, body + 2 + 8 * k)
            _put(stream, out, body + 2 + 8 * k, struct.pack("<HH", r1 - shift(r1), r2 - shift(r2)))
        return
    row = struct.unpack_from("<H", stream.bytes, body)[0]
    if (n := shift(row)):
        _put(stream, out, body, struct.pack("<H", row - n))


def _put(stream: _Stream, out: bytearray, offset: int, value: bytes) -> None:
    """Write `value` at the stream's `offset` into the file's bytes (byte by byte: it may cross a block)."""
    for i, b in enumerate(value):
        out[stream.at(offset + i)] = b
