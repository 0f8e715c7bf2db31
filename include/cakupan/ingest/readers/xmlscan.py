"""A worksheet's XML read in pieces: unzipped a few pieces ahead of its reader (`Ahead`), and looked at for formula
tags (`has_formula`) without a byte search for "<", the commonest byte of XML.

A big worksheet is unzipped by the reader child's cut (`sheetslices`), which writes it again as slices; the cut
also says whether its rows hold a formula tag, so the child's scan for formulas without a saved result
(`workbook.formulas_without_value`) does not unzip that sheet a second time (`bookparts`). The temporary workbook
the cut writes has no name on disk (`unnamed`), and its second slice is parsed by a workbook object of its own
while the first is (`parsed_apart`).
"""

from __future__ import annotations

import collections
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Self

import numpy as np
from python_calamine import CalamineWorkbook

FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")      # a formula cell's `<f>` (`<x:f>`)
ERROR_TYPE = re.compile(rb'\st="e"')     # a cell whose value is an error ("#N/A"), pasted as a value or a formula's
# ... as Excel writes it, looked for in a whole sheet: a literal, which `re` finds by a fast search (0.056 s of a
# 124 MB sheet; `bytes.find` 0.10 s, a numpy scan of the "e" bytes between quotes 0.11-0.14 s, `ERROR_TYPE` 0.47 s)
_ERROR_TYPE_AS_WRITTEN = re.compile(rb' t="e"')
_F, _LT, _COLON = ord("f"), ord("<"), ord(":")


def has_formula(xml: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether a worksheet's XML (from `start` to `end`) holds a formula tag (`<f>`, `<x:f>`) or a cell whose value
    is an error (` t="e"`): the cells the spreadsheet library reads as empty though they are not. The "f" bytes
    are found with numpy (it lets go of the interpreter) and the regex asked only from the first "f" after "<" or
    ":": `bytes.find(b"<f")` took 0.12 s of a 124 MB sheet (every tag starts with "<"), this 0.04 s."""
    end = len(xml) if end is None else end
    if end - start < 2:
        return False
    a = np.frombuffer(xml, np.uint8, count=end - start, offset=start)
    at = np.flatnonzero(a[1:] == _F)        # (the byte before each "f" is a[at])
    before = a[at]
    hits = at[(before == _LT) | (before == _COLON)]
    if len(hits) > 0 and FORMULA_TAG.search(xml, start + max(0, int(hits[0]) - 64), end) is not None:
        return True
    return _ERROR_TYPE_AS_WRITTEN.search(xml, start, end) is not None


class Ahead:
    """A zip member read `piece` bytes at a time, the next AHEAD pieces inflated (their CRC summed) by a thread of its
    own while the caller cuts the ones before: zlib lets go of the interpreter as it inflates, so on a 1 M-row sheet
    ~1.2 s of the cut moves to the other CPU (the caller takes pieces in bursts, a slice's worth at a time: one
    piece ahead left it waiting). `read(piece)` gives the pieces in order, `read()` the rest; what the member's
    read raises (a bad CRC) is raised where its piece is asked for."""

    AHEAD = 3

    def __init__(self, f, piece: int):
        self._f, self._piece = f, piece
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="cakupan-inflate")   # (one thread: reads in order)
        self._next = collections.deque(self._pool.submit(f.read, piece) for _ in range(self.AHEAD))

    def read(self, n: int = -1) -> bytes:
        if not self._next:      # (all read)
            return b""
        piece = self._next.popleft().result()
        if n < 0:
            later, self._next = self._next, collections.deque()
            return b"".join([piece, *(f.result() for f in later), self._f.read()]) if piece else piece
        assert n == self._piece, "read in pieces of the size given, or the rest"
        if piece:
            self._next.append(self._pool.submit(self._f.read, self._piece))
        return piece

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True)      # (the pieces being inflated, before the member is closed)
        self._f.close()


def proc_fd(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


def unnamed(fd: int, book: str) -> str:
    """The path to open a temporary workbook by (`sheetslices._cut`): where the system has /proc/self/fd, its name
    is removed at once and it is opened through its descriptor, so that nothing is left on disk whatever ends the
    process (a reader child killed mid-cut, when the parent has rejected the file already, left up to ~150 MB in
    the temporary folder); elsewhere its name, removed once the workbook is open."""
    if not os.path.exists(proc_fd(fd)):
        return book
    os.unlink(book)
    return proc_fd(fd)


def parsed_apart(pool: ThreadPoolExecutor, fd: int, name: str) -> Future | None:
    """The sheet `name` of the workbook open as `fd`, parsed in `pool` by a workbook object of its own (the
    library lets go of the interpreter as it parses, but one object serves one call at a time), opened through a
    descriptor of its own: a sliced sheet's second slice, parsed while the first is, on the other CPU, as the
    header is looked for (0.26 s of a 200,000-row sheet's before its first part). None where the system has no
    /proc/self/fd."""
    if not os.path.exists(proc_fd(fd)):
        return None
    own = os.dup(fd)

    def parse():
        try:
            return CalamineWorkbook.from_path(proc_fd(own)).get_sheet_by_name(name)
        finally:
            os.close(own)

    future = pool.submit(parse)
    future.add_done_callback(lambda f: f.cancelled() and os.close(own))
    return future
