"""Readers: open a delivered file (CSV, XLSX, XLS), find its header, and return its data rows as text cells.

    sniff      what the file is: kind from its name, container, text encoding, CSV delimiter
    workbook   a workbook's sheets as rows of cells (python-calamine, in a forked child when it could crash)
    bookparts  a big workbook's one sheet sent by its child part by part, each part made a block there
    odsmerge   an ODS file's merged ranges, read from its content.xml (python-calamine gives none for ODS)
    odstail    an ODS sheet's blank cells far below or far right of its data, left out before it is read
    odsfar     an ODS sheet's values far right of its data moved, with their columns, to follow it
    sheetslices a big (or stray-celled) .xlsx sheet cut into slices of rows the library reads one at a time
    xlsgap     an .xls sheet's long runs of empty rows made one in its bytes (a stray cell in IV65536)
    csvtext    a CSV decoded and split row by row (the exact path)
    csvlines   a big CSV's bytes as UTF-8 lines in Arrow (made UTF-8 and split a chunk at a time)
    fastcsv    a big CSV read column-wise in Arrow (the same result as the exact path)
    layout     rows → one block per sheet: data / total / note / repeated-header rows below the header
    header     where the header is (1-3 rows, merges, anywhere in the first 40 rows) and which contract it fits
    labels     header labels as clerks write them (abbreviations, typos) matched to contract columns
    recap      contributions in the wide recap layout (a column per month) as a row per month
    blocks     what a reader gives (Block, ReadResult: with the columns the contract does not know) or raises

A reader never decides whether a row is valid (that is `cakupan.ingest.validate`). Problems with the whole file
raise `FileRejected` with a registered reason code.
"""

from __future__ import annotations

from pathlib import Path

from cakupan.core.contracts import Contract, all_contracts
from cakupan.core.messages import Msg
from cakupan.ingest.readers.blocks import (
    FORMULA_NO_VALUE,
    TYPED_MARK,
    Block,
    FileRejected,
    ReadOptions,
    ReadResult,
    typed_key,
    typed_value,
)
from cakupan.ingest.readers.csvtext import read_csv
from cakupan.ingest.readers.fastcsv import fast_csv_block, fast_csv_parts, merge_parts
from cakupan.ingest.readers.layout import (
    HEADER_SCAN_ROWS,
    block_from_rows,
    find_header,
    is_blank_row,
    raise_no_header,
)
from cakupan.ingest.readers.recap import recap_rows
from cakupan.ingest.readers.sniff import check_container, kind_from_filename
from cakupan.ingest.readers.workbook import read_workbook

__all__ = [
    "FORMULA_NO_VALUE",
    "TYPED_MARK",
    "Block",
    "FileRejected",
    "ReadOptions",
    "ReadResult",
    "check_container",
    "fast_csv_parts",
    "kind_from_filename",
    "merge_parts",
    "read_file",
    "read_workbook",
    "typed_key",
    "typed_value",
]

FAST_CSV_MIN_LINES = 2000     # smaller files take the row-by-row path (same result, simpler to follow)


def read_file(path: Path, options: ReadOptions | None = None, data: bytes | None = None) -> ReadResult:
    """Read any delivered file into blocks of data rows, or raise FileRejected. `data`: the file's bytes, read once
    by the caller (`cakupan.ingest.inbox.read_delivery`); then nothing else is read from the path."""
    options = options or ReadOptions()
    contracts = all_contracts()
    worksheets: dict[str, bytes] = {}
    if check_container(path, data, worksheets) == "csv":
        return _read_csv(path, contracts, options, path.read_bytes() if data is None else data)
    return _read_workbook(path, contracts, options, data, worksheets or None)


def _read_csv(path: Path, contracts: dict[str, Contract], options: ReadOptions, raw: bytes) -> ReadResult:
    """A big CSV column-wise when it can be, any other row by row."""
    if raw.count(b"\n") >= FAST_CSV_MIN_LINES:
        fast = fast_csv_block(raw, contracts, options)
        if fast is not None:
            header, block, encoding, delimiter = fast
            return ReadResult(path, header.source, [block], encoding, delimiter)
    return read_csv(path, raw, contracts, options)


def _recap_block(rows: list[list], sheet: str, contracts: dict[str, Contract], options: ReadOptions) -> Block | None:
    """A contributions recap (one column per month) as one block of a row per month, or None."""
    recap = recap_rows(rows) if "contributions" in contracts else None
    if recap is None:
        return None
    grid, where = recap
    header = find_header(grid, {"contributions": contracts["contributions"]}, options.overrides, options.defaults)
    if header is None:
        return None
    return block_from_rows(grid, sheet, header, source_row_of=lambda i: where[i] + 1)


def _read_workbook(path: Path, contracts: dict[str, Contract], options: ReadOptions,
                   data: bytes | None, worksheets: dict[str, bytes] | None = None) -> ReadResult:
    """One block per sheet with a recognisable header; every such sheet must be of the same kind (`worksheets`:
    the worksheets' XML, when the container's check unzipped it)."""
    blocks: list[Block] = []
    unreadable: list[tuple[str, list[list]]] = []
    any_content = False
    for name, rows in read_workbook(path, options.skip_sheets, data, worksheets):
        if all(is_blank_row(r) for r in rows):
            continue
        any_content = True
        header = find_header(rows, contracts, options.overrides, options.defaults)
        if header is None:
            recap = _recap_block(rows, name, contracts, options)
            if recap is None:
                unreadable.append((name, rows[:HEADER_SCAN_ROWS + 2]))
            else:
                blocks.append(recap)
            continue
        blocks.append(block_from_rows(rows, name, header, unlabelled=True,
                                      source_row_of=getattr(rows, "row_of", None)))   # (`blocks.Rows`)
    if not any_content:
        raise FileRejected("FILE_EMPTY")
    if not blocks:
        names = ", ".join(repr(n) for n, _ in unreadable)
        for _, head in unreadable:
            raise_no_header(head, contracts, Msg("error.ingest.in_sheets", names=names), options.overrides)
        raise FileRejected("HEADER_NOT_FOUND", Msg("error.ingest.no_sheet_header", names=names))
    sources = {b.source for b in blocks}
    if len(sources) > 1 and any(len(b.mapping) >= 2 for b in blocks):
        # a sheet whose "header" is one known word (an instruction sheet listing "Periode" under "Kolom", a note
        # sheet) beside real data sheets is not a second kind of data: it is a sheet without a header
        weak = [b for b in blocks if len(b.mapping) < 2]
        blocks = [b for b in blocks if len(b.mapping) >= 2]
        unreadable += [(b.sheet, []) for b in weak]
        sources = {b.source for b in blocks}
    if len(sources) > 1:
        raise FileRejected("WRONG_KIND", Msg("error.ingest.mixed_kinds", kinds=", ".join(sorted(sources))),
                           column=min(sources), value=max(sources))
    return ReadResult(path, blocks[0].source, blocks, sheets_without_header=[n for n, _ in unreadable])
