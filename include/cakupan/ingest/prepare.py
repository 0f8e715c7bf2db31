"""The part of loading that needs no database: read a file, check it as a whole, validate its rows.

A `Preparer` is what a reader process holds (`run`), and what the writer (`loader.Loader`) holds to read the
files no reader read. The file-level checks come first and in this order: kind, data rows, regency, period; after
validation, the NIKs' regions (a register most of whose NIKs were issued in another regency than its folder's is
that regency's file: FILE_REGENCY_MISMATCH, as when its title names another regency).

The regency of a file is its folder's: the first level under the inbox only (`inbox/73.72/2025/73.73/x.xlsx` is
73.72's; a deeper folder is the clerk's own filing). A file named from outside the inbox takes its own folder's.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow.compute as pc

from cakupan.core.config import Regency, alias_index, load_regencies
from cakupan.core.contracts import all_contracts, load_contract
from cakupan.core.heap import return_big_buffers
from cakupan.core.messages import Msg
from cakupan.core.regions import RegencyNames, regency_name
from cakupan.core.settings import Settings
from cakupan.ingest import periodtext
from cakupan.ingest.inbox import in_inbox, manifest_path, read_delivery
from cakupan.ingest.readers import (
    Block,
    FileRejected,
    ReadOptions,
    ReadResult,
    check_container,
    fast_csv_parts,
    kind_from_filename,
    merge_parts,
    read_file,
)
from cakupan.ingest.readers.bookparts import BookParts, book_streamable
from cakupan.ingest.readers.sheetslices import big_sheet_parts
from cakupan.ingest.readers.sniff import CONTAINER_MAGICS
from cakupan.ingest.validate import Batch, FileFacts, Validator

STREAM_MIN_BYTES = 16 << 20     # a CSV this big is loaded part by part (reading the next while writing one)
# Lines of a part: half a DuckDB row group (a load's parts are inserted in one transaction, whose rows fill its row
# groups in order: two parts make one, written full). Whole row groups held ~100 MB more at the peak on every
# shape, and 1.7 x as wide rows went over 600 MB per 1 M rows (bench/findings.md "Session 37").
STREAM_PART_LINES = 61_440
STREAM_PART_BYTES = 16 << 20    # a CSV's parts halved (down to STREAM_MIN_PART_LINES) while its lines would be wider
STREAM_MIN_PART_LINES = 7_680
STREAM_FIRST_PART_LINES = 30_720    # a smaller first part: the writer starts sooner
# a big workbook's parts: a quarter of a row group. Its reader child is the slower side, and the writer validates and
# writes a part only once the child has sent all of it: in whole row groups the writer sat idle while each was made
# (bench/findings.md "Session 49": 200,000 rows 4.9 -> 3.8 s, 1 M rows 25.3 -> 19.0 s in-process)
BOOK_PART_ROWS = 30_720
NIK_REGION_MIN = 5      # NIKs a file needs before their regions can say it is another regency's file


def stream_part_lines(data: bytes, sample: int = 1 << 20) -> int:
    """Lines a big CSV's part holds: STREAM_PART_LINES, halved while that many lines of the file's first `sample`
    bytes' mean width would pass STREAM_PART_BYTES (a part's text, cells and Arrow columns are what a load holds
    beside what it has written, so its peak memory follows the bytes of a part, not its lines)."""
    head = data[:sample]
    width = (head.rfind(b"\n") + 1 or len(head)) / max(1, head.count(b"\n"))
    lines = STREAM_PART_LINES
    while lines * width > STREAM_PART_BYTES and lines // 2 >= STREAM_MIN_PART_LINES:
        lines //= 2
    return lines


@dataclass
class Prepared:
    """A file read, checked and validated, not yet written (what `Preparer.prepare` gives)."""

    result: ReadResult
    facts: FileFacts
    batch: Batch


@dataclass
class Streamed:
    """A big CSV or workbook to be read part by part (`Preparer.prepare_stream`): its header is found and the
    file-level checks are done; each part is read when its function is called."""

    path: Path
    facts: FileFacts
    encoding: str | None        # (a workbook's: None)
    delimiter: str | None
    parts: list[Callable[[], Block]]     # each part is read when called (a workbook's: sheet after sheet)
    sheets_without_header: list[str] = field(default_factory=list)

    def result(self, parts: list[Block]) -> ReadResult:
        """The file read, from its parts (their cells left out: they are written already): a block a sheet."""
        sheets: dict[str, list[Block]] = {}
        for p in parts:
            sheets.setdefault(p.sheet, []).append(p)
        blocks = [merge_parts(same, cells=False) for same in sheets.values()]
        if sum(b.n_rows for b in blocks) == 0:
            raise FileRejected("NO_DATA_ROWS")
        return ReadResult(self.path, self.facts.contract.source, blocks, self.encoding, self.delimiter,
                          list(self.sheets_without_header))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a file is read and validated whole, then on again as it was. A file read
    row by row (a workbook's sheet, a CSV the column-wise reader leaves) makes a list or tuple a row: each few
    hundred of them start a collection, and the full ones walk every row made so far (200,000 rows of a workbook:
    ~2 of its ~10 s). What it reads holds no reference cycle to wait for: reference counts free it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def streamable(path: Path, data: bytes) -> bool:
    """A CSV or a workbook big enough to be loaded part by part (`data`: its bytes)."""
    if book_streamable(path, data):
        return True
    if len(data) < STREAM_MIN_BYTES or data.startswith(CONTAINER_MAGICS):
        return False    # (a workbook: its container is checked once, when it is read, not here too)
    try:
        return check_container(path, data) == "csv"
    except (OSError, FileRejected):
        return False


class Preparer:
    """Reads, checks and validates files (picklable work: no database)."""

    def __init__(self, settings: Settings):
        return_big_buffers()    # (a reader process's and the writer's: each holds a preparer)
        self.settings = settings
        self.regencies = load_regencies(settings.config_dir)
        # a regency by its inbox folder or its code (the first configured one, when two name the same folder)
        self._by_folder: dict[str, Regency] = {}
        for r in self.regencies.values():
            self._by_folder.setdefault(r.inbox, r)
            self._by_folder.setdefault(r.code, r)
        self.aliases = alias_index(self.regencies)
        self.names = RegencyNames(self.aliases, official=False)     # the configured regencies' names only
        self.validate = Validator(self.aliases, settings.require_key())

    def prepare(self, path: Path, data: bytes | None = None) -> Prepared:
        """Read, check and validate one file (`data`: its bytes, read once by the caller; else they are read
        here); raises FileRejected for a file-level problem."""
        if data is None:
            data = read_delivery(path, self.settings.inbox).data
        folder_regency = self.regency_for_path(path)
        with collector_paused():
            result = read_file(path, read_options(folder_regency), data)
            facts = self.file_checks(path, result.source, result.blocks, folder_regency, rows_in=result.rows_in)
            batch = self.validate(result.blocks, facts)
            self.check_nik_regions(batch, facts)
        return Prepared(replace(result, blocks=[b.validated() for b in result.blocks]), facts, batch)

    def open_book(self, path: Path, data: bytes) -> BookParts | None:
        """For a big workbook (`streamable`), its reader child, started now (`prepare_stream` takes what it sends);
        None for any other file."""
        if not book_streamable(path, data):
            return None
        return BookParts(path, data, read_options(self.regency_for_path(path)), BOOK_PART_ROWS,
                         STREAM_FIRST_PART_LINES)

    def prepare_stream(self, path: Path, data: bytes, reread: Callable[[int, int, bytes], bytes] | None = None,
                       book: BookParts | None = None) -> Streamed | None:
        """For a big CSV the column-wise reader can read, or a big workbook whose reader child (`book`,
        `open_book`) can send it in parts: its header, the file-level checks of `prepare` and a reader for each
        part; None for any other file (`prepare` reads those whole). With `reread` (`inbox.part_rereader`) a CSV's
        parts read their bytes again from the file (`fast_csv_parts`)."""
        if not streamable(path, data):
            return None
        folder_regency = self.regency_for_path(path)
        if book is not None:
            # first, as for a workbook read whole (a part's CRC, encryption); a big worksheet's CRC is tested by the
            # reader child as it cuts it, once (`bookparts._untested_damaged`: ("whole",) where one fails)
            check_container(path, data, skip=frozenset(big_sheet_parts(path, data)))
            got = book.head()
            if got is None:
                return None
            headers, parts, without = got
            return Streamed(path, self.file_checks(path, headers[0].source, headers, folder_regency), None, None,
                            parts, without)
        got = fast_csv_parts(data, all_contracts(), read_options(folder_regency), stream_part_lines(data),
                             STREAM_FIRST_PART_LINES, reread)
        if got is None:
            return None
        header, encoding, delimiter, parts = got
        facts = self.file_checks(path, header.source, [header], folder_regency)
        return Streamed(path, facts, encoding, delimiter, parts)

    def file_checks(self, path: Path, source: str, blocks: list[Block], folder_regency: Regency | None,
                    rows_in: int | None = None) -> FileFacts:
        """The file-level checks, in order (kind, data rows when known, regency, period)."""
        named = kind_from_filename(path)
        if named and named != source:
            raise FileRejected("WRONG_KIND", Msg("error.ingest.columns_of", source=source), column=named, value=source)
        contract = load_contract(source)
        if rows_in == 0:
            raise FileRejected("NO_DATA_ROWS")
        title = " ".join(b.title_text for b in blocks)
        named = self.names.named_in(title) if title.strip() else None
        if folder_regency is not None and named is not None and named != folder_regency.code:
            raise FileRejected("FILE_REGENCY_MISMATCH", Msg("error.ingest.title_names", name=regency_name(named)),
                               column=_folder_words(folder_regency), value=regency_name(named))
        regency = folder_regency.code if folder_regency else named
        if regency is None and not all("regency" in b.mapping for b in blocks):
            raise FileRejected("REGENCY_UNRESOLVED", Msg("error.ingest.folder_unknown", folder=repr(path.parent.name)))
        file_period = _file_period(contract.period_from, blocks, path)
        sheets = _sheet_periods(contract.period_from, blocks, path) if len(blocks) > 1 else {}
        if (contract.source == "register" and not any("period" in b.mapping for b in blocks) and file_period is None
                and not sheets):
            raise FileRejected("PERIOD_UNKNOWN", _months_disagree(contract.period_from, blocks, path))
        return FileFacts(contract, regency, file_period, folder_regency, sheets)

    def check_nik_regions(self, batch: Batch, facts: FileFacts) -> None:
        """Reject the file when most of its valid NIKs (at least NIK_REGION_MIN) were issued in one other regency
        than its folder's: a copy of another regency's register (one worker from elsewhere is only a finding)."""
        self.judge_nik_regions(nik_regions(batch, facts), facts)

    def judge_nik_regions(self, regions: dict[str, int], facts: FileFacts) -> None:
        """`check_nik_regions` on the valid NIKs' regions counted (`nik_regions`; a big file's parts' summed: the
        file is judged whole, whatever rows a part holds)."""
        folder, valid = facts.folder_regency, sum(regions.values())
        if folder is None or valid < NIK_REGION_MIN:
            return
        prefix, n = max(regions.items(), key=lambda kv: (kv[1], kv[0]))
        if prefix == folder.code.replace(".", "") or n * 2 <= valid:
            return
        named = regency_name(f"{prefix[:2]}.{prefix[2:]}")
        raise FileRejected("FILE_REGENCY_MISMATCH", Msg("error.ingest.nik_elsewhere", n=n, valid=valid, name=named,
                                                        prefix=prefix), column=_folder_words(folder), value=named)

    def regency_for_path(self, path: Path) -> Regency | None:
        """Return the configured regency whose folder holds this file: the first folder under the inbox (a file
        named from outside the inbox: its own folder)."""
        rel = manifest_path(path, self.settings.inbox)
        if in_inbox(rel):
            first, sep, _ = rel.partition("/")
            folder = first if sep else None
        else:
            folder = Path(rel).parent.name
        return self._by_folder.get(folder) if folder is not None else None


def nik_regions(batch: Batch, facts: FileFacts) -> dict[str, int]:
    """The valid NIKs of a batch counted by the regency that issued them (their first four digits); none without a
    folder regency or a NIK column (KPJ-only rows: no NIK)."""
    if facts.folder_regency is None or "nik" not in batch.columns:
        return {}
    nik = batch.columns["nik"]
    valid = batch.table[nik.value].filter(pc.is_null(batch.table[nik.error])).drop_null()
    counts = pc.value_counts(pc.utf8_slice_codeunits(valid, 0, 4)).to_pylist()
    return {c["values"]: c["counts"] for c in counts}


def _folder_words(r: Regency) -> str:
    """A regency folder as a clerk reads it: "Kota Parepare (folder 73.72)"."""
    return f"{r.name} (folder {r.inbox})"


def read_options(folder_regency: Regency | None) -> ReadOptions:
    """How a regency's configuration shapes the reading of its files (header overrides, default columns,
    sheets to skip)."""
    if folder_regency is None:
        return ReadOptions()
    return ReadOptions(overrides=folder_regency.header_overrides,
                       defaults={"register": {"funding_source"}} if folder_regency.default_funding_source else {},
                       skip_sheets=folder_regency.skip_sheets)


def _sheet_periods(period_from: tuple[str, ...], blocks: list[Block], path: Path) -> dict[str, dt.date]:
    """Per sheet of a workbook with a sheet per month, the month its own title names, else its name ("Jan",
    "Februari") in the year its title or the file's name gives; sheets with neither are left out."""
    if "title" not in period_from:
        return {}
    out = {}
    for b in blocks:
        p = periodtext.find_period_in_text(b.title_text)
        if p is None and b.sheet:
            years = set(_YEAR.findall(b.title_text)) or set(_YEAR.findall(path.name))
            p = periodtext.find_period_in_text(f"{b.sheet} {years.pop()}") if len(years) == 1 else None
        if p is not None:
            out[b.sheet] = p
    return out if len(set(out.values())) > 1 else {}


_YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")


def _months_disagree(period_from: tuple[str, ...], blocks: list[Block], path: Path) -> Msg | str:
    """Why no period was found when the title or the file name names more than one month (the words that
    disagree), else no detail."""
    places = [("where_title", " ".join(b.title_text for b in blocks))] if "title" in period_from else []
    places += [("where_name", path.name)] if "filename" in period_from else []
    for where, text in places:
        if words := periodtext.months_named(text):
            return Msg("error.ingest.months_named", where=Msg(f"error.ingest.{where}"),
                       words=", ".join(repr(w) for w in words))
    return ""


def _file_period(period_from: tuple[str, ...], blocks: list[Block], path: Path) -> dt.date | None:
    """The file's period, from its title block or its name (as the contract allows)."""
    if "title" in period_from:
        for b in blocks:
            p = periodtext.find_period_in_text(b.title_text)
            if p:
                return p
    if "filename" in period_from:
        return periodtext.find_period_in_text(path.name)
    return None
