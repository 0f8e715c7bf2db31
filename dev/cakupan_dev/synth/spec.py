"""What to generate: the spec (regencies, months, workers, seed, scenarios, sources), its month arithmetic
and the CLI-style parsing of regency and month lists.
"""

from __future__ import annotations

import calendar
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from cakupan.core import regions

SCENARIOS = ("late_payment", "partial_payment", "unpaid_month", "correction", "duplicate_worker", "bad_rows")
FINDING_SCENARIOS = ("billing_mismatch", "double_funding", "claims_unprotected", "identity_anomaly", "promise_gap",
                     "report_mismatch")
ALL_SCENARIOS = SCENARIOS + FINDING_SCENARIOS
EXTRA_SOURCES = ("claims", "city_report", "narrative")
SCENARIO_SOURCES = {"claims_unprotected": ("claims",), "promise_gap": ("city_report", "narrative"),
                    "report_mismatch": ("city_report", "narrative")}
FORMATS = ("xlsx", "csv")
FUNDING_SOURCES = ("APBD", "APBDes", "CSR", "BAZNAS", "Mandiri")
DUE_DAY = 15  # contributions for month M are due on the 15th of M+1; days_late counts from there


@dataclass
class SynthSpec:
    """What to generate. `months` are consecutive "YYYY-MM" strings."""

    regencies: list[str]
    months: list[str]
    workers: int = 40
    seed: int = 42
    formats: tuple[str, ...] = ("xlsx", "csv")
    scenarios: tuple[str, ...] = ()
    funding_sources: tuple[str, ...] = ("APBD",)
    unit_premium: int = 16800
    sources: tuple[str, ...] = ()  # extra sources to write: claims, city_report, narrative (see EXTRA_SOURCES)
    # demo-only scale (cakupan_dev.demo): a regency's own first-month workers, a month its roster grows to a size,
    # and the share of fishers among its new people. Empty: every regency has `workers` and the default mix
    workers_by_regency: dict[str, int] = field(default_factory=dict)
    grow_to: dict[str, tuple[str, int]] = field(default_factory=dict)
    fisher_share: dict[str, float] = field(default_factory=dict)

    def extra_sources(self) -> tuple[str, ...]:
        """Return the extra sources written: those asked for plus those the scenarios need, in EXTRA_SOURCES order."""
        want = set(self.sources) | {x for s in self.scenarios for x in SCENARIO_SOURCES.get(s, ())}
        return tuple(x for x in EXTRA_SOURCES if x in want)

    def validate(self) -> None:
        """Raise ValueError when the spec cannot be generated."""
        if not self.regencies:
            raise ValueError("regencies is empty")
        known = regions.regencies()
        for code in self.regencies:
            if code not in known:
                raise ValueError(f"unknown Kemendagri regency code {code!r}")
        if len(set(self.regencies)) != len(self.regencies):
            raise ValueError("regencies contains a duplicate code")
        if not self.months:
            raise ValueError("months is empty")
        parsed = [parse_month(m) for m in self.months]
        for a, b in itertools.pairwise(parsed):
            if add_months(a, 1) != b:
                raise ValueError(f"months must be consecutive: {self.months}")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.workers > 4000 or any(not 1 <= n <= 4000 for n in self.workers_by_regency.values()) or any(
                n > 6000 for _, n in self.grow_to.values()):
            raise ValueError("workers must be at most 4000 per regency (4-digit NIK serials)")
        if not self.formats or any(f not in FORMATS for f in self.formats):
            raise ValueError(f"formats must be drawn from {FORMATS}, not {self.formats}")
        bad = [s for s in self.scenarios if s not in ALL_SCENARIOS]
        if bad:
            raise ValueError(f"unknown scenario(s) {bad}; choose from {ALL_SCENARIOS}")
        bad = [s for s in self.sources if s not in EXTRA_SOURCES]
        if bad:
            raise ValueError(f"unknown source(s) {bad}; choose from {EXTRA_SOURCES}")
        if not self.funding_sources:
            raise ValueError("funding_sources is empty")
        if self.unit_premium <= 0:
            raise ValueError("unit_premium must be positive")


def parse_month(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"not a YYYY-MM month: {text!r}")
    return int(m.group(1)), int(m.group(2))


def add_months(ym: tuple[int, int], n: int) -> tuple[int, int]:
    i = ym[0] * 12 + ym[1] - 1 + n
    return i // 12, i % 12 + 1


def first_day(ym: tuple[int, int]) -> date:
    return date(ym[0], ym[1], 1)


def last_day(ym: tuple[int, int]) -> date:
    return date(ym[0], ym[1], calendar.monthrange(ym[0], ym[1])[1])


def ym_str(ym: tuple[int, int]) -> str:
    return f"{ym[0]:04d}-{ym[1]:02d}"


def month_range(start: str, count: int) -> list[str]:
    """Return `count` consecutive months from `start` ("2025-03", 3 → ["2025-03", "2025-04", "2025-05"])."""
    ym = parse_month(start)
    return [ym_str(add_months(ym, i)) for i in range(count)]


def as_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in re.split(r"[,;]", value) if p.strip()]
    out: list[str] = []
    for v in value:
        out.extend(as_list(v))
    return out


def parse_regencies(value: str | Iterable[str]) -> list[str]:
    """"all" → every regency; "73" → every regency of province 73; "73.72,7373" → those codes."""
    out: list[str] = []
    known = regions.regencies()
    for item in as_list(value):
        if item.lower() == "all":
            out.extend(known)
        elif re.fullmatch(r"\d{2}", item):
            out.extend(c for c, (p, _) in known.items() if p == item)
        elif re.fullmatch(r"\d{4}", item):
            out.append(f"{item[:2]}.{item[2:]}")
        else:
            code = item if item in known else regions.resolve_regency(item)
            if code is None:
                raise ValueError(f"unknown regency {item!r}")
            out.append(code)
    seen: dict[str, None] = {}
    for c in out:
        seen.setdefault(c, None)
    return list(seen)


def parse_months(value: str | Iterable[str]) -> list[str]:
    """"2025-03..2025-08" (inclusive), "2025-03:6" (start and count) or a list/comma list of months."""
    if isinstance(value, str):
        v = value.strip()
        m = re.fullmatch(r"(\d{4}-\d{2})\s*\.\.\s*(\d{4}-\d{2})", v)
        if m:
            a, b = parse_month(m.group(1)), parse_month(m.group(2))
            n = (b[0] * 12 + b[1]) - (a[0] * 12 + a[1]) + 1
            if n < 1:
                raise ValueError(f"empty month range {value!r}")
            return month_range(m.group(1), n)
        m = re.fullmatch(r"(\d{4}-\d{2})\s*:\s*(\d+)", v)
        if m:
            return month_range(m.group(1), int(m.group(2)))
    months = as_list(value)
    for mo in months:
        parse_month(mo)
    return months
