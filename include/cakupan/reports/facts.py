"""The facts a narrative report states, and the numbers it skipped with their reasons.

A fact is a number (or a branch name) a report states about one regency, with what it counts (segment), what
role it plays in the promise (previous / total / part / target / stated), and from when it applies. Numbers the
rules cannot place with confidence become ``Skipped`` records with a reason: a wrong fact is worse than a
missing one. Page furniture (menus, related-article lists, footers) is never read for facts; see ``document``.

Offsets (``start``/``end``) are character offsets into the original file text for TXT, and into the extracted
body text (``document.html_to_text``) for HTML.

A fact's id is the report's source name (its path relative to the inbox, so two `laporan.txt` in two folders
differ) and its rank by offset ("reports/000_ad4fca7776d9b668.txt#3"): review decisions (config/report_facts.yml)
refer to facts by it. A decision written with an older id (the file stem and the rank, "000_ad4fca7776d9b668#3")
still applies while exactly one fact has that old id (`legacy_fact_id`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import PurePosixPath

from cakupan.core.contracts import reason, reasons

# event kinds
MOU_SIGNED = "mou_signed"
TARGET_ANNOUNCED = "target_announced"
AUDIENCE_REPORT = "audience_report"
OTHER_EVENT = "other"

# segments that are not sectors
PEKERJA_RENTAN = "pekerja_rentan"
ALL_SEGMENTS = "all_segments"

# skip reason codes (stable): their words are in the reason registry (contracts/reasons.yml, level "report"), so
# one catalogue holds every message a clerk reads
def skip_message(code: str, value: object, detail: str = "", column: str | None = None) -> str:
    """Return the plain-words message of a report skip reason for this number (or name) as written."""
    words = reason(code).render(column, str(value).replace("\n", " "))
    return words[:-1] + f" ({detail})." if detail and words.endswith(".") else words


# English, read at import (the language is chosen later, by --lang / CAKUPAN_LANG); skip_message renders per language
SKIP_REASONS: dict[str, str] = {code: r.template("en") for code, r in reasons().items() if r.level == "report"}


@dataclass(frozen=True)
class Fact:
    """One fact stated by a narrative report, with the sentence and offsets it came from."""

    fact_id: str
    source_file: str
    regency_code: str
    event_date: date | None
    event_kind: str
    fact_kind: str  # count | participation_rate | budget | branch
    segment: (
        str | None
    )  # pekerja_rentan | all_segments | a sector code (nelayan, petani, ...); None for branch
    role: str  # previous | total | part | target | stated
    value: int | Decimal | str
    unit: str  # workers | percent | IDR | text
    effective_month: date | None
    sentence: str
    start: int
    end: int
    confidence: float
    regency_configured: bool = True  # False: a Kemendagri regency with no config/regencies/<code>.yml


@dataclass(frozen=True)
class Skipped:
    """A number the rules saw but did not turn into a fact, and why."""

    source_file: str
    sentence: str
    start: int
    end: int
    reason: str
    code: str = ""


@dataclass
class Extraction:
    """Facts and skipped numbers from one or more reports."""

    facts: list[Fact] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Skipped] = field(default_factory=list)  # REGENCY_NOT_CONFIGURED, once per report and regency

    def extend(self, other: Extraction) -> None:
        """Append another extraction's facts, skipped records and notes."""
        self.facts.extend(other.facts)
        self.skipped.extend(other.skipped)
        self.notes.extend(other.notes)


def fact_id(source: str, rank: int) -> str:
    """Return the id of the rank-th fact (1-based, by offset) of the report with this source name."""
    return f"{source}#{rank}"


def legacy_fact_id(fact: Fact) -> str:
    """The id the fact had before ids named the report's path: its file stem and rank ("000_ad4f#3")."""
    source, _, rank = fact.fact_id.rpartition("#")
    return f"{PurePosixPath(source).stem}#{rank}"
