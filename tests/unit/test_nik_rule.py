"""The vectorised NIK rule (`identity.nik_problems`) gives, NIK by NIK, the reason the definition gives.

The definition (domain.md) is written out below as plain Python, one NIK at a time; the vectorised rule must agree
with it on every birth-date part there is, on every 4-digit prefix, in every century pivot, and on random cells.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
from cakupan.core.regions import nik_prefixes
from cakupan.ingest.identity import NikMemo, nik_problems, normalise_nik, pseudonym_function, pseudonyms
from hypothesis import given, settings
from hypothesis import strategies as st

PREFIXES = nik_prefixes()
PREFIX = min(PREFIXES)
TODAY = dt.date(2025, 6, 30)


def defined_problem(nik: str | None, numeric: bool, today: dt.date) -> str | None:
    """The reason code of one normalised NIK, as domain.md states the rules (checked in this order)."""
    if nik is None:
        return "NIK_MISSING"
    if numeric or re.fullmatch(r"[0-9]+(,[0-9]+)?[eE]\+?[0-9]+", nik):
        return "NIK_PRECISION_LOST"       # an Excel number may have lost its 16th digit
    if not re.fullmatch(r"[0-9]+", nik):
        return "NIK_NOT_DIGITS"
    if len(nik) != 16:
        return {15: "NIK_15_DIGITS", 17: "NIK_17_DIGITS"}.get(len(nik), "NIK_WRONG_LENGTH")
    if nik[:4] not in PREFIXES:
        return "NIK_REGION_UNKNOWN"
    dd, mm, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    day = dd - 40 if dd > 40 else dd                          # women: day + 40
    year = (1900 if yy > today.year % 100 else 2000) + yy     # a year after this one's two digits: the 1900s
    try:
        dt.date(year, mm, day)
    except ValueError:
        return "NIK_BIRTH_DATE_INVALID"
    return None


def _vectorised(niks: list[str | None], numeric: list[bool] | None = None, today: dt.date = TODAY) -> list:
    flags = np.array(numeric if numeric is not None else [False] * len(niks), dtype=bool)
    return nik_problems(pa.array(niks, pa.string()), flags, today).to_pylist()


def test_every_birth_date_part():
    """All 1,000,000 day-month-year parts; and the February parts (where the century decides a 29th) with the
    century pivot of other years."""
    niks = [f"{PREFIX}01{dd:02d}{mm:02d}{yy:02d}0001" for dd in range(100) for mm in range(100) for yy in range(100)]
    got = _vectorised(niks)
    assert got == [defined_problem(n, False, TODAY) for n in niks]
    assert got.count(None) > 30_000 and "NIK_BIRTH_DATE_INVALID" in got
    february = [f"{PREFIX}01{dd:02d}02{yy:02d}0001" for dd in range(100) for yy in range(100)]
    for today in (dt.date(2000, 1, 1), dt.date(2099, 12, 31), dt.date(1999, 12, 31)):
        assert _vectorised(february, today=today) == [defined_problem(n, False, today) for n in february]


def test_every_prefix():
    niks = [f"{p:04d}014505800012" for p in range(10_000)]
    got = _vectorised(niks)
    assert got == [None if f"{p:04d}" in PREFIXES else "NIK_REGION_UNKNOWN" for p in range(10_000)]
    assert _vectorised(niks, [True] * len(niks)) == ["NIK_PRECISION_LOST"] * len(niks)


CELL = st.one_of(
    st.none(),
    st.text(alphabet="0123456789", min_size=14, max_size=18),
    st.builds(lambda a, b: a + b, st.sampled_from([PREFIX, "7372", "0000", "9999", "'" + PREFIX]),
              st.text(alphabet="0123456789 .-'\u00a0eE+,", min_size=10, max_size=14)),
    st.text(alphabet="٠١٢٣0123456789", min_size=16, max_size=16),
    st.text(max_size=18),
)


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.tuples(CELL, st.booleans()), max_size=40),
       today=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_random_cells_get_the_defined_reason(cells, today):
    niks = normalise_nik(pa.array([c for c, _ in cells], pa.string())).to_pylist()
    numeric = [n for _, n in cells]
    assert _vectorised(niks, numeric, today) == [defined_problem(k, n, today) for k, n in zip(niks, numeric)]


@settings(max_examples=300, deadline=None)
@given(first=st.lists(st.tuples(CELL, st.booleans()), max_size=40),
       second=st.lists(st.tuples(CELL, st.booleans()), max_size=40),
       today=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_a_small_column_kept_across_files_gets_the_vectorised_nik_and_reason(first, second, today):
    """A small file's NIK column goes cell by cell through a memo the Validator keeps across files (`NikMemo`): the
    same normalised NIKs, pseudonyms and reasons as the vectorised functions, and reasons as the definition, for a second file whose cells it
    partly holds, a third holding both, and after it starts afresh (here past 50 cells) or in another year."""
    memo = NikMemo(50, pseudonym_function(b"memo-test-key"))
    for cells, when in ((first, today), (second, today), (first + second, today),
                        (second, today.replace(year=today.year - 1, day=min(today.day, 28)))):
        texts, numeric = [c for c, _ in cells], [n for _, n in cells]
        niks, codes, keys = memo(texts, numeric, when)
        expected = normalise_nik(pa.array(texts, pa.string())).to_pylist()
        assert niks.to_pylist() == expected
        assert keys.to_pylist() == pseudonyms(pa.array(expected, pa.string()), b"memo-test-key").to_pylist()
        assert codes.to_pylist() == _vectorised(expected, numeric, when)
        assert codes.to_pylist() == [defined_problem(k, n, when) for k, n in zip(expected, numeric, strict=True)]


def test_a_kept_small_column_reads_every_february_part_in_every_century_pivot():
    """The memo's cell-by-cell rule on the February parts (where the century decides a 29th), this year and in
    the years whose two digits are 00 and 99."""
    february = [f"{PREFIX}01{dd:02d}02{yy:02d}0001" for dd in range(100) for yy in range(100)]
    memo = NikMemo(len(february), pseudonym_function(b"memo-test-key"))
    for today in (TODAY, dt.date(2000, 1, 1), dt.date(2099, 12, 31), dt.date(1999, 12, 31)):
        _, codes, _ = memo(february, [False] * len(february), today)
        assert codes.to_pylist() == [defined_problem(n, False, today) for n in february]
