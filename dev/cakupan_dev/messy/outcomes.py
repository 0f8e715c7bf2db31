"""What loading a messy file must give, written from the case's own definition."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cakupan_dev.messy.people import PAREPARE


@dataclass(frozen=True)
class Outcome:
    """What loading one file must give (audit.loads, raw, quarantine.rows, audit.load_findings)."""

    status: str                                   # loaded | rejected | duplicate
    rows_in: int = 0
    loaded: int = 0
    quarantined: int = 0
    reasons: tuple[str, ...] = ()                 # reason code of each quarantined row (a multiset)
    error_code: str | None = None                 # the file-level code of a rejected/duplicate file
    findings: tuple[str, ...] = ()                # audit.load_findings codes (a multiset)
    regency: str | None = None                    # audit.loads.regency_code of a loaded file
    period: str | None = None                     # "YYYY-MM" of a single-period file
    sheets: tuple[str, ...] | None = None         # sheets read, in workbook order
    quarantine_at: tuple[tuple[str, int, str], ...] = ()   # (sheet, source row, reason) of quarantined rows
    loaded_rows: tuple[tuple[str, int], ...] = ()          # (sheet, source row) of every loaded row
    values: dict[str, tuple] = field(default_factory=dict)  # raw column -> values of loaded rows, in file order

    def __post_init__(self) -> None:
        if self.status == "loaded":
            assert self.rows_in == self.loaded + self.quarantined, "an outcome must balance"
            assert len(self.reasons) == self.quarantined, "one reason per quarantined row"


@dataclass(frozen=True)
class MessyFile:
    folder: str          # inbox sub-folder: a regency code, or any other name (an unconfigured folder)
    name: str
    data: bytes
    expect: Outcome


@dataclass(frozen=True)
class MessyCase:
    name: str
    source: str          # the source the file claims to be (register, contributions, claims, city_report, other)
    covers: str          # the real-world mess it reproduces
    files: tuple[MessyFile, ...]   # loaded in this order


def loaded(rows_in: int, bad: Sequence[str] = (), **kw) -> Outcome:
    """Outcome of a file that loads, with `bad` the reasons of its quarantined rows."""
    return Outcome("loaded", rows_in, rows_in - len(bad), len(bad), tuple(bad), **kw)


def rejected(code: str) -> Outcome:
    """Outcome of a file rejected as a whole."""
    return Outcome("rejected", error_code=code)


def messy_file(name: str, data: bytes, expect: Outcome, folder: str = PAREPARE) -> MessyFile:
    return MessyFile(folder, name, data, expect)
