"""Bulk parsers: `validate.map_distinct` fast paths that read the common styles of a column in Arrow and numpy.

Each returns (values, mask) for an array of distinct texts: the value `parsing` gives for every masked text,
exactly; the texts left unmasked (other styles, and every text that is an error, which needs its reason code) go
through the parser one by one. tests/ingest/test_plain_dates.py compares both ways value by value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.ingest import parsing
from cakupan.ingest.arrays import np_bools, pa_bools

# day-month-year and day, month name (a dot after it), year (a two-digit year too: "13-Apr-25", Excel's d-mmm-yy),
# year-month-day with one separator (- / .) or none, and month name, day, year: what `parsing._date_parts` reads
# from them (other spacing is left to the parser)
_DMY = r"^(?P<d>[0-9]{1,2})(?P<s1>[-/.])(?P<m>[0-9]{1,2})(?P<s2>[-/.])(?P<y>[0-9]{4}|[0-9]{2})$"
_YMD = r"^(?P<y>[0-9]{4})(?P<s1>[-/.])(?P<m>[0-9]{1,2})(?P<s2>[-/.])(?P<d>[0-9]{1,2})$"
_D_NAME_Y = r"^(?P<d>[0-9]{1,2})(?:[-/.,]| )(?P<name>[A-Za-z]+)\.?(?:[-/.,]| )(?P<y>[0-9]{4}|[0-9]{2})$"
_NAME_D_Y = r"^(?P<name>[A-Za-z]+)\.? (?P<d>[0-9]{1,2}),? (?P<y>[0-9]{4})$"      # "April 13, 2025"
_BASIC_YMD = r"^(?P<y>(?:19|20)[0-9]{2})(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12][0-9]|3[01])$"   # "20250413"
# one of these forms around them, removed as `parsing._clean_date_text` removes it: a leading weekday and a comma
# or a space ("Selasa, 3 Agustus 2004"), a trailing time of day after a space or a T, its seconds and their
# fraction, and a zone ("2025-04-13 08:00:00", "13/04/2025 08.00 WIB", "2025-04-13T08:00:00.000Z"); their other
# spellings are left to the parser (a T is read only after a date's last digit there: so it is wherever a date
# matches below)
_WEEKDAY = (r"(?i)^(?:senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad|monday|tuesday|wednesday|thursday|friday"
            r"|saturday|sunday|mon|tue|wed|thu|fri|sat|sun),? ")
_TIME = r"(?i)[ T][0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2}(?:\.[0-9]+)?)?(?: ?(?:z|[+-][0-9]{2}:?[0-9]{2}|wib|wita|wit))?$"
# an Excel serial as text (`parsing._SERIAL_RE`: read as one before anything else)
_SERIAL = r"^(?P<n>[0-9]{1,7})(?:\.0+)?$"
_EXCEL_EPOCH = np.datetime64(parsing._EXCEL_EPOCH, "D")
_MONTH_NAMES = pa.array(list(parsing._MONTHS), pa.string())
_MONTH_NUMBERS = np.array(list(parsing._MONTHS.values()), dtype=np.int64)
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _ints(arr) -> np.ndarray:
    return pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False).copy()


def dates(min_year: int, max_year: int):
    """A `map_distinct` fast path for dates: the common styles (with a weekday before or a time of day after them)
    and Excel serials as text, real dates within [min_year, max_year]."""
    def fast(uniq: pa.Array):
        n = len(uniq)
        y, m, d = (np.zeros(n, dtype=np.int64) for _ in range(3))
        hit = _serials(uniq, y, m, d)
        core = pc.replace_substring_regex(pc.replace_substring_regex(uniq, _WEEKDAY, ""), _TIME, "")
        for pattern in (_DMY, _YMD, _D_NAME_Y, _NAME_D_Y, _BASIC_YMD):
            if hit.all():       # (a column of one style: the other styles' patterns are not matched)
                break
            rows = np.flatnonzero(np_bools(pc.match_substring_regex(core, pattern)) & ~hit)
            if not len(rows):
                continue
            parts = pc.extract_regex(core.take(pa.array(rows)), pattern)
            if pattern in (_D_NAME_Y, _NAME_D_Y):
                at = pc.index_in(pc.ascii_lower(parts.field("name")), value_set=_MONTH_NAMES)
                known = np_bools(pc.is_valid(at))
                month = np.zeros(len(rows), dtype=np.int64)
                month[known] = _MONTH_NUMBERS[pc.filter(at, pa_bools(known)).to_numpy()]
                same_sep = known                   # an unknown name is DATE_INVALID: the parser says so
            elif pattern == _BASIC_YMD:
                month, same_sep = _ints(parts.field("m")), np.ones(len(rows), dtype=bool)
            else:
                month = _ints(parts.field("m"))
                same_sep = np_bools(pc.equal(parts.field("s1"), parts.field("s2")))
            rows = rows[same_sep]
            year = _ints(parts.field("y"))
            if pattern in (_DMY, _D_NAME_Y):    # a two-digit year: 00-69 the 2000s, 70-99 the 1900s (`parsing._year`)
                short = np_bools(pc.less(pc.utf8_length(parts.field("y")), 4))
                year[short] += np.where(year[short] < 70, 2000, 1900)
            y[rows], m[rows], d[rows] = year[same_sep], month[same_sep], _ints(parts.field("d"))[same_sep]
            hit[rows] = True
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        month_ok = (m >= 1) & (m <= 12)
        last_day = _DAYS_IN_MONTH[np.clip(m, 1, 12) - 1] + ((m == 2) & leap)
        hit &= month_ok & (d >= 1) & (d <= last_day) & (y >= min_year) & (y <= max_year)
        if not hit.any():
            return None
        sel = np.flatnonzero(hit)
        months = (y[sel] - 1970) * 12 + (m[sel] - 1)
        days = months.astype("datetime64[M]").astype("datetime64[D]") + (d[sel] - 1)
        return pa.array(days.astype(np.int64).astype(np.int32), pa.date32()), hit
    return fast


def _serials(uniq: pa.Array, y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The texts that are Excel serials the parser reads (1 to its last serial): their year, month and day written
    into y, m, d; returns which they are."""
    hit = np_bools(pc.match_substring_regex(uniq, _SERIAL))
    rows = np.flatnonzero(hit)
    if not len(rows):
        return hit
    serial = _ints(pc.extract_regex(uniq.take(pa.array(rows)), _SERIAL).field("n"))
    ok = (serial >= 1) & (serial <= parsing._EXCEL_MAX_SERIAL)
    hit[rows[~ok]] = False
    rows, day = rows[ok], _EXCEL_EPOCH + serial[ok]
    month = day.astype("datetime64[M]")
    y[rows] = month.astype("datetime64[Y]").astype(np.int64) + 1970
    m[rows] = month.astype(np.int64) % 12 + 1
    d[rows] = (day - month.astype("datetime64[D]")).astype(np.int64) + 1
    return hit


def kpjs(uniq: pa.Array):
    """A `map_distinct` fast path for KPJ numbers: a text of digits only is its own KPJ (`parsing.parse_kpj`)."""
    hit = np_bools(pc.match_substring_regex(uniq, r"^[0-9]+$"))
    if not hit.any():
        return None
    return uniq.filter(pa_bools(hit)), hit
