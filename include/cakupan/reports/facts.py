"""The facts a narrative report states, and the numbers it skipped with their reasons.

A fact is a number (or a branch name) a report states about one regency, with what it counts (segment), what
role it plays in the promise (previous / total / part / target / stated), and from when it applies. Numbers the
rules cannot place with confidence become ``Skipped`` records with a reason: a wrong fact is worse than a
missing one. Page furniture (menus, related-article lists, footers) is never read for facts; see ``document``.

Offsets (``start``/``end``) are character offsets into the original file text for TXT, and into the extracted
body text (``document.html_to_text``) for HTML.

A fact's id is the report's file stem and its rank by offset ("000_ad4fca7776d9b668#3"): review decisions
(config/report_facts.yml) refer to facts by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

# event kinds
MOU_SIGNED = "mou_signed"
TARGET_ANNOUNCED = "target_announced"
AUDIENCE_REPORT = "audience_report"
OTHER_EVENT = "other"

# segments that are not sectors
PEKERJA_RENTAN = "pekerja_rentan"
ALL_SEGMENTS = "all_segments"

# skip reason codes (stable) → words for a data clerk
SKIP_REASONS: dict[str, str] = {
    "RANGE": "a range or alternatives, not one figure",
    "AMBIGUOUS_NUMBER": "the comma could be a decimal mark or a thousands mark",
    "BOUND": "a lower or upper bound ('lebih dari', 'hampir'), not an exact figure",
    "NOT_WORKERS": "does not count workers or participants",
    "ROLE_UNCLEAR": "cannot tell whether this is a previous figure, a total, a part or a target",
    "SEGMENT_UNCLEAR": "cannot tell which workers this counts",
    "REGENCY_UNCLEAR": "cannot tell which regency this figure is about",
    "SEVERAL_REGENCIES": "the figure covers several regencies or the province",
    "CONFLICTING_TOTALS": "several different totals for the same regency and month that do not add up",
    "DUPLICATE": "repeats a figure already extracted",
    "PERCENT_UNCLEAR": "a percentage of something other than BPJS participation",
    "NOT_COVERAGE": "counts claims, accidents or benefit recipients, not covered workers",
    "PERCENT_CHANGE": "a change, not a level",
    "PER_PERSON_AMOUNT": "an amount per person or per month (a premium), not a budget",
    "AMOUNT_UNCLEAR": "an amount of money whose purpose is not stated",
    "FORMAT_UNSUPPORTED": "this kind of file is not read (send TXT or HTML)",
}


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

    def extend(self, other: Extraction) -> None:
        """Append another extraction's facts and skipped records."""
        self.facts.extend(other.facts)
        self.skipped.extend(other.skipped)


def fact_id(stem: str, rank: int) -> str:
    """Return the id of the rank-th fact (1-based, by offset) of the report with this file stem."""
    return f"{stem}#{rank}"
