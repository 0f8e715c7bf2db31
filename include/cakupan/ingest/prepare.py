"""The part of loading that needs no database: read a file, check it as a whole, validate its rows.

A `Preparer` is what a reader process holds (`run`), and what the writer (`loader.Loader`) holds to read the
files no reader read. The file-level checks come first and in this order: kind, data rows, regency, period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cakupan.core.config import Regency, alias_index, load_regencies
from cakupan.core.contracts import all_contracts, load_contract
from cakupan.core.regions import RegencyNames
from cakupan.core.settings import Settings
from cakupan.ingest import parsing
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
from cakupan.ingest.validate import Batch, FileFacts, Validator

STREAM_MIN_BYTES = 16 << 20     # a CSV this big is loaded part by part (reading the next while writing one)
STREAM_PART_LINES = 122_880      # one DuckDB row group (other sizes left part-filled row groups that the
                                 # checkpoint rewrote)
STREAM_FIRST_PART_LINES = 30_720    # a smaller first part: the writer starts sooner


@dataclass
class Prepared:
    """A file read, checked and validated, not yet written (what `Preparer.prepare` gives)."""

    result: ReadResult
    facts: FileFacts
    batch: Batch


@dataclass
class Streamed:
    """A big CSV to be read part by part (`Preparer.prepare_stream`): its header is found and the file-level checks
    are done; each part is read when its function is called."""

    path: Path
    facts: FileFacts
    encoding: str
    delimiter: str
    parts: list[Callable[[], Block]]     # each part is read when called

    def result(self, parts: list[Block]) -> ReadResult:
        """The file read, from its parts (their cells left out: they are written already)."""
        whole = merge_parts(parts, cells=False)
        if whole.n_rows == 0:
            raise FileRejected("NO_DATA_ROWS")
        return ReadResult(self.path, self.facts.contract.source, [whole], self.encoding, self.delimiter)


def streamable(path: Path) -> bool:
    """A CSV big enough to be loaded part by part."""
    try:
        return path.stat().st_size >= STREAM_MIN_BYTES and check_container(path) == "csv"
    except (OSError, FileRejected):
        return False


class Preparer:
    """Reads, checks and validates files (picklable work: no database)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.regencies = load_regencies(settings.config_dir)
        self.aliases = alias_index(self.regencies)
        self.validate = Validator(self.aliases, settings.require_key())

    def prepare(self, path: Path) -> Prepared:
        """Read, check and validate one file; raises FileRejected for a file-level problem."""
        folder_regency = self.regency_for_path(path)
        result = read_file(path, read_options(folder_regency))
        facts = self.file_checks(path, result.source, result.blocks, folder_regency, rows_in=result.rows_in)
        return Prepared(result, facts, self.validate(result.blocks, facts))

    def prepare_stream(self, path: Path) -> Streamed | None:
        """For a big CSV the column-wise reader can read: its header, the file-level checks of `prepare` and a
        reader for each part; None for any other file (`prepare` reads those whole)."""
        if not streamable(path):
            return None
        folder_regency = self.regency_for_path(path)
        got = fast_csv_parts(path.read_bytes(), all_contracts(), read_options(folder_regency), STREAM_PART_LINES,
                             STREAM_FIRST_PART_LINES)
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
            raise FileRejected("WRONG_KIND", f"its columns are those of a {source} file", column=named, value=source)
        contract = load_contract(source)
        if rows_in == 0:
            raise FileRejected("NO_DATA_ROWS")
        title = " ".join(b.title_text for b in blocks)
        regency = (folder_regency.code if folder_regency
                   else RegencyNames(self.aliases, official=False).named_in(title))
        if regency is None and not all("regency" in b.mapping for b in blocks):
            raise FileRejected("REGENCY_UNRESOLVED", f"folder {path.parent.name!r} is not a configured regency "
                               "and no regency is named in the title or a regency column")
        file_period = _file_period(contract.period_from, blocks, path)
        if contract.source == "register" and not any("period" in b.mapping for b in blocks) and file_period is None:
            raise FileRejected("PERIOD_UNKNOWN")
        return FileFacts(contract, regency, file_period, folder_regency)

    def regency_for_path(self, path: Path) -> Regency | None:
        """Return the configured regency whose inbox folder holds this file."""
        for parent in path.resolve().parents:
            for r in self.regencies.values():
                if parent.name == r.inbox or parent.name == r.code:
                    return r
        return None


def read_options(folder_regency: Regency | None) -> ReadOptions:
    """How a regency's configuration shapes the reading of its files (header overrides, default columns,
    sheets to skip)."""
    if folder_regency is None:
        return ReadOptions()
    return ReadOptions(overrides=folder_regency.header_overrides,
                       defaults={"register": {"funding_source"}} if folder_regency.default_funding_source else {},
                       skip_sheets=folder_regency.skip_sheets)


def _file_period(period_from: tuple[str, ...], blocks: list[Block], path: Path) -> dt.date | None:
    """The file's period, from its title block or its name (as the contract allows)."""
    if "title" in period_from:
        for b in blocks:
            p = parsing.find_period_in_text(b.title_text)
            if p:
                return p
    if "filename" in period_from:
        return parsing.find_period_in_text(path.name)
    return None
