"""Finding numbers, dates and month names in Indonesian prose: small pure functions.

These regexes find where a number or date is in running text; the value of a number is read by the shared
``cakupan.ingest.parsing.parse_number`` so there is one definition of Indonesian number style.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MONTHS: dict[str, int] = {
    "januari": 1,
    "jan": 1,
    "februari": 2,
    "pebruari": 2,
    "feb": 2,
    "peb": 2,
    "maret": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "mei": 5,
    "juni": 6,
    "jun": 6,
    "juli": 7,
    "jul": 7,
    "agustus": 8,
    "agu": 8,
    "agt": 8,
    "agust": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "okt": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "nop": 11,
    "desember": 12,
    "des": 12,
    "dec": 12,
}
WEEKDAYS: dict[str, int] = {
    "senin": 0,
    "selasa": 1,
    "rabu": 2,
    "kamis": 3,
    "jumat": 4,
    "sabtu": 5,
    "minggu": 6,
}

_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY_RE = r"senin|selasa|rabu|kamis|jum['’]?at|sabtu|minggu"
WEEKDAY_PREFIX = rf"(?P<weekday>{_WEEKDAY_RE})\s*,?\s*\(?\s*"

# "28/4/2025", "13-03-2025"
DATE_DMY = re.compile(
    rf"(?:{WEEKDAY_PREFIX})?\b(?P<d>\d{{1,2}})[/-](?P<m>\d{{1,2}})[/-](?P<y>\d{{4}})\b\)?", re.IGNORECASE
)
# "Senin (28/4)": a weekday and day/month, the year left to the dateline
DATE_DM_WEEKDAY = re.compile(
    rf"{WEEKDAY_PREFIX}\b(?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})\b(?![/-]\d)\)?", re.IGNORECASE
)
# "2025-03-13"
DATE_ISO = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")
# "Kamis, 3 Oktober 2024", "28 Apr 2025", "13 Mar. 2025"
DATE_TEXT = re.compile(
    rf"(?:{WEEKDAY_PREFIX})?\b(?P<d>\d{{1,2}})\s+(?P<mon>{_MONTH_RE})\.?\s+(?P<y>\d{{4}})\b\)?", re.IGNORECASE
)
# "April 2025", "bulan Juli 2025" (a month, no day)
MONTH_YEAR = re.compile(rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<y>(?:19|20)\d{{2}})\b", re.IGNORECASE)

# A stated start: "dimulai bulan April ini", "mulai Juli 2025", "terhitung mulai 1 Juni 2025", "mulai tahun 2026",
# "berlaku mulai Februari 2025", "mulai berlaku Januari 2026", "mulai berjalan pada bulan Oktober-Desember 2023",
# "periode November dan Desember 2025", "efektif per 1 Maret 2025"
EFFECTIVE_START = re.compile(
    r"\b(?:di)?mulai(?:\s+(?:berlaku|berjalan|efektif|dilaksanakan|diberlakukan))?|\bterhitung(?:\s+mulai)?"
    r"|\b(?:mulai\s+)?berlaku(?:\s+(?:efektif\s+)?mulai)?|\befektif(?:\s+mulai)?|\bper\b|\bperiode\b"
    r"|\b(?:berjalan|berlaku|aktif|dimulai)\s+sejak",
    re.IGNORECASE,
)
_START_TAIL = re.compile(
    rf"\s+(?:(?:pada|dari|sejak)\s+)?(?:(?:tanggal\s+)?\d{{1,2}}\s+)?(?:bulan\s+)?(?P<mon>{_MONTH_RE})\b\.?"
    rf"(?:\s*(?:-|–|s\.?d\.?|sampai(?:\s+dengan)?|hingga|dan)\s*(?:(?:tanggal\s+)?\d{{1,2}}\s+)?"
    rf"(?:bulan\s+)?(?:{_MONTH_RE})\b\.?)?"
    rf"(?:\s+(?:tahun\s+)?(?P<y>(?:19|20)\d{{2}})|\s+(?P<this>ini|depan))?"
    rf"|\s+(?:(?:pada|dari)\s+)?tahun\s+(?:anggaran\s+)?(?P<yonly>(?:19|20)\d{{2}}|depan)",
    re.IGNORECASE,
)

# Numbers: Indonesian style "1.234.567", "48", "61,5", "1,2" (decimal comma); never part of a date, time or code.
NUMBER = re.compile(r"(?<![\w.,/:\-])(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?(?![\w/:]|[.,]\d)")
# "Rp300 Juta", "Rp 1,2 miliar", "Rp. 16.800,00"
MONEY = re.compile(
    r"\bRp\.?\s?(?P<num>(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?)(?![\d])"
    r"(?:\s*(?P<scale>ribu|juta|miliar|milyar|triliun|rb|jt|M)\b)?",
    re.IGNORECASE,
)

_UNITS = {
    "nol": 0,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
}
_SE = {"sepuluh": 10, "sebelas": 11, "seratus": 100}
_MULT = {"belas": None, "puluh": 10, "ratus": 100}
_BIG = {"ribu": 10**3, "juta": 10**6, "miliar": 10**9, "milyar": 10**9}
_SE_BIG = {"seribu": 10**3, "sejuta": 10**6}
_WORD = "|".join(sorted([*_UNITS, *_SE, *_MULT, *_BIG, *_SE_BIG], key=len, reverse=True))
NUMBER_WORDS = re.compile(rf"\b(?:{_WORD})(?:\s+(?:{_WORD}))*\b", re.IGNORECASE)


def parse_number_words(text: str) -> int | None:
    """Parse Indonesian number words ("dua ribu", "seribu lima ratus") into an int; None for a bare unit word."""
    words = text.lower().split()
    if not any(w in _MULT or w in _BIG or w in _SE or w in _SE_BIG for w in words):
        return None  # "satu", "dua" alone are too often not counts ("salah satu")
    total = group = cur = 0
    for w in words:
        if w in _UNITS:
            cur = _UNITS[w]
        elif w in _SE:
            group += _SE[w]
        elif w == "belas":
            group += 10 + cur
            cur = 0
        elif w in ("puluh", "ratus"):
            group += cur * _MULT[w]
            cur = 0
        elif w in _SE_BIG:
            total += _SE_BIG[w]
        elif w in _BIG:
            total += (group + cur) * _BIG[w]
            group = cur = 0
    return total + group + cur


@dataclass(frozen=True)
class DateMention:
    """A calendar date found in text, with its span and whether a weekday named it."""

    start: int
    end: int
    value: date
    weekday: str | None
    weekday_matches: bool


def find_dates(text: str, offset: int = 0) -> list[DateMention]:
    """Find full dates ("Senin (28/4/2025)", "Kamis 13 Maret 2025", "2025-03-13") in text."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for rx in (DATE_TEXT, DATE_DMY, DATE_ISO):
        for m in rx.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            g = m.groupdict()
            month = MONTHS[g["mon"].lower()] if g.get("mon") else int(g["m"])
            try:
                value = date(int(g["y"]), month, int(g["d"]))
            except ValueError:
                continue
            wd = g.get("weekday")
            ok = wd is None or WEEKDAYS[_fold_weekday(wd)] == value.weekday()
            found.append(DateMention(m.start() + offset, m.end() + offset, value, wd, bool(ok)))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)


def find_weekday_day_months(text: str, offset: int = 0) -> list[tuple[int, int, int, int, str]]:
    """Find "Senin (28/4)" (weekday, day/month, no year): (start, end, day, month, weekday)."""
    return [
        (m.start() + offset, m.end() + offset, int(m["d"]), int(m["m"]), m["weekday"])
        for m in DATE_DM_WEEKDAY.finditer(text)
        if 1 <= int(m["m"]) <= 12 and 1 <= int(m["d"]) <= 31
    ]


def weekday_matches(weekday: str, value: date) -> bool:
    """Return True if an Indonesian weekday name ("Kamis") is the weekday of value."""
    return WEEKDAYS.get(_fold_weekday(weekday)) == value.weekday()


def _fold_weekday(word: str) -> str:
    return re.sub(r"['’]", "", word.lower())


def find_month_years(text: str) -> list[tuple[int, int]]:
    """Return the spans of "April 2025"-style month mentions (so their year is not read as a count)."""
    return [(m.start(), m.end()) for m in MONTH_YEAR.finditer(text)]


_TARGET_YEAR = re.compile(
    r"\b(?:pada\s+)?tahun\s+(?:anggaran\s+)?(?P<y>(?:19|20)\d{2})\b|\b(?:pada|APBD(?:\s+murni)?|TA\.?)\s+"
    r"(?P<y2>(?:19|20)\d{2})\b",
    re.IGNORECASE,
)


def target_year(clause: str, event_date: date | None) -> date | None:
    """Return January of a later year a figure is set for ("tahun 2026", "pada 2026", "Tahun Anggaran 2026")."""
    if event_date is None:
        return None  # without the article's own date a year may be this one: nothing says it is later
    for m in _TARGET_YEAR.finditer(clause):
        year = int(m.group("y") or m.group("y2"))
        if year > event_date.year:
            return date(year, 1, 1)
    return None


def effective_start(clause: str, event_date: date | None) -> tuple[date | None, tuple[int, int] | None]:
    """Return the first-of-month a clause says something starts ("dimulai bulan April ini"), and its span."""
    for m in EFFECTIVE_START.finditer(clause):
        t = _START_TAIL.match(clause, m.end())
        if not t:
            continue
        span = (m.start(), t.end())
        if t.group("yonly"):
            y = t.group("yonly").lower()
            if y == "depan":
                if event_date is None:
                    return None, span
                return date(event_date.year + 1, 1, 1), span
            return date(int(y), 1, 1), span
        month = MONTHS[t.group("mon").lower()]
        if t.group("y"):
            return date(int(t.group("y")), month, 1), span
        if event_date is None:
            return None, span
        year = event_date.year
        if (t.group("this") or "").lower() == "depan" or month < event_date.month:
            year += 1  # "mulai Januari" said in November means next January
        return date(year, month, 1), span
    return None, None
