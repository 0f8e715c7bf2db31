"""The NIK rule and the keyed pseudonym, each defined once and applied to whole Arrow columns.

- `normalise_nik`: what is removed from a NIK cell before it is checked (domain.md): a leading apostrophe, spaces,
  dots, hyphens and NBSPs (the readers have already dropped zero-width characters and a BOM); full-width and
  Arabic-Indic digits are read as 0-9.
- `nik_problems`: the reason code of every normalised NIK (null: valid); `nik_problem` is the same for one cell.
- `NikMemo`: all three for a small file's column, cell by cell with a memo kept across files (`_normalised` and
  `_problem`: the same rule for one cell, tested equal to the vectorised pair and to the definition).
- `pseudonyms`: the participant key, hex HMAC-SHA256 (RFC 2104, over stdlib `hashlib`) of the normalised NIK with the
  pseudonym secret. `pseudonym_sql` is the same in SQL, for anyone holding the key who wants to recompute one.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cakupan.core.regions import nik_prefixes
from cakupan.ingest.arrays import distinct, np_bools, pa_ints

NIK_REASONS = ("NIK_MISSING", "NIK_PRECISION_LOST", "NIK_NOT_DIGITS", "NIK_15_DIGITS", "NIK_17_DIGITS",
               "NIK_WRONG_LENGTH", "NIK_REGION_UNKNOWN", "NIK_BIRTH_DATE_INVALID")
(_VALID, _MISSING, _PRECISION_LOST, _NOT_DIGITS, _DIGITS_15, _DIGITS_17, _WRONG_LENGTH, _REGION_UNKNOWN,
 _BIRTH_DATE_INVALID) = range(len(NIK_REASONS) + 1)

# A leading apostrophe, spaces, dots, dashes and NBSPs. The class is spelled out (not \s) so that the pattern
# means the same in RE2 (Arrow, DuckDB) and in Python's re.
NIK_CLUTTER = "^'|[\t\n\f\r .\\-\u00a0]"
# What is left of a number in scientific notation once normalised ("7.37201E+15" → "737201E+15")
_EXCEL_NUMBER = r"^[0-9]+(,[0-9]+)?[eE]\+?[0-9]+$"
# full-width, Arabic-Indic and Extended Arabic-Indic (Persian) digits → 0-9
_DIGITS = {first + i: ord("0") + i for first in (0xFF10, 0x0660, 0x06F0) for i in range(10)}
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int16)


def normalise_nik(cells: pa.Array) -> pa.Array:
    """Read full-width and Arabic-Indic digits as 0-9 and strip the clutter (`NIK_CLUTTER`) from every NIK cell
    text; an empty result is null."""
    cells = pc.fill_null(cells, "")
    if pc.all(pc.string_is_ascii(cells)).as_py() is False:     # digits of other scripts: per distinct text
        uniq, idx = distinct(cells)
        cells = pa.array([v.translate(_DIGITS) for v in uniq.to_pylist()], pa.string()).take(idx)
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    # a cell of ASCII digits only has no clutter: the pattern runs on the others (none, or a few, usually)
    odd = pc.invert(pc.ascii_is_decimal(cells))
    n_odd = pc.sum(odd).as_py() or 0
    if not n_odd:
        return cells
    whole = n_odd == len(cells)
    out = pc.replace_substring_regex(cells if whole else cells.filter(odd), NIK_CLUTTER, "")
    out = pc.if_else(pc.equal(out, ""), pa.scalar(None, pa.string()), out)
    return out if whole else pc.replace_with_mask(cells, odd, out)


def nik_problems(niks: pa.Array, numeric: np.ndarray | None = None, today: dt.date | None = None) -> pa.Array:
    """The reason code of every normalised NIK, null where it is valid (domain.md), in this order: missing; came
    through an Excel number (`numeric`, or scientific notation); not digits; 15, 17 or another wrong number of
    digits; a first four digits that are no region's; digits 7-12 not a real birth date (day + 40 for women; a
    two-digit year after this year's is in the 1900s)."""
    if isinstance(niks, pa.ChunkedArray):
        niks = niks.combine_chunks()
    n = len(niks)
    numeric = np.zeros(n, dtype=bool) if numeric is None else np.asarray(numeric, dtype=bool)
    code = np.full(n, _MISSING, dtype=np.int8)
    if n and niks.null_count < n:
        _, offsets_buf, data_buf = niks.buffers()
        offsets = np.frombuffer(offsets_buf, np.int32)[niks.offset: niks.offset + n + 1]
        lengths = np.diff(offsets)
        present = np_bools(pc.is_valid(niks))
        data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
        digits = _sixteen_digits(data, offsets, np.flatnonzero(present & (lengths == 16)))
        plain = np.zeros(n, dtype=bool)
        plain[digits.rows] = True
        other = np.flatnonzero(present & ~plain)
        code[other] = _odd_nik_codes(niks.take(pa_ints(other.astype(np.int64))), lengths[other], numeric[other])
        code[digits.rows] = _sixteen_digit_codes(digits.values, numeric[digits.rows],
                                                 (today or dt.date.today()).year % 100)
    return pa.array(NIK_REASONS, pa.string()).take(pa_ints(np.maximum(code - 1, 0).astype(np.int32), code > 0))


class _Digits:
    """The rows whose NIK is 16 ASCII digits, and those digits (one row of 16 numbers 0-9 per NIK)."""

    def __init__(self, rows: np.ndarray, values: np.ndarray):
        self.rows, self.values = rows, values


def _sixteen_digits(data: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> _Digits:
    # each row's 16 bytes from a view of every 16-byte window of the data (no index per byte)
    d = np.lib.stride_tricks.sliding_window_view(data, 16)[offsets[rows]].astype(np.int16) - 48 if len(rows) else (
        np.zeros((0, 16), dtype=np.int16))
    ok = ((d >= 0) & (d <= 9)).all(axis=1)
    return _Digits(rows[ok], d[ok])


def _odd_nik_codes(niks: pa.Array, lengths: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """The codes of NIKs that are not 16 ASCII digits (few, usually)."""
    excel = numeric | np_bools(pc.match_substring_regex(niks, _EXCEL_NUMBER))
    not_digits = ~np_bools(pc.match_substring_regex(niks, "^[0-9]+$"))
    return np.select([excel, not_digits, lengths == 15, lengths == 17],
                     [_PRECISION_LOST, _NOT_DIGITS, _DIGITS_15, _DIGITS_17], _WRONG_LENGTH).astype(np.int8)


def _sixteen_digit_codes(d: np.ndarray, numeric: np.ndarray, pivot: int) -> np.ndarray:
    """The codes of NIKs of 16 digits: numeric, region prefix, birth date."""
    known = _known_prefixes()[d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]]
    dd, month, yy = d[:, 6] * 10 + d[:, 7], d[:, 8] * 10 + d[:, 9], d[:, 10] * 10 + d[:, 11]
    day = np.where(dd > 40, dd - 40, dd)
    year = np.where(yy > pivot, 1900, 2000) + yy
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    in_year = (month >= 1) & (month <= 12)
    last_day = _MONTH_DAYS[np.where(in_year, month, 0)] + ((month == 2) & leap)
    real_date = in_year & (day >= 1) & (day <= last_day)
    return np.select([numeric, ~known, ~real_date], [_PRECISION_LOST, _REGION_UNKNOWN, _BIRTH_DATE_INVALID],
                     _VALID).astype(np.int8)


@functools.cache
def _known_prefixes() -> np.ndarray:
    """A lookup table: index = a 4-digit prefix as a number, True where it is a region's."""
    known = np.zeros(10_000, dtype=bool)
    known[[int(p) for p in nik_prefixes()]] = True
    return known


class NikMemo:
    """`normalise_nik`, `nik_problems` and `pseudonyms` of a small column (cell texts, and whether each was an Excel
    number), each distinct cell worked out once, one at a time, and kept across files: a regency's next file names
    mostly the same people. The vectorised functions' fixed cost (some thirty Arrow and NumPy calls, ~1 ms a
    register file) was most of a small column's time, also for the few cells not seen before. `_normalised` and
    `_problem` are the same rule for one cell (tests/unit/test_nik_rule.py compares them with the vectorised pair
    and with the definition); `of` is `pseudonym_function(key)`. Kept per year (a NIK's birth-year century pivots
    on this year), at most `size` cells (then it starts afresh)."""

    def __init__(self, size: int, of: Callable[[str], str]):
        self.size, self.of = size, of
        self._kept: dict[tuple[str | None, bool], tuple[str | None, str | None, str | None]] = {}
        self._year: int | None = None

    def __call__(self, cells: list[str | None], numeric: list[bool],
                 today: dt.date | None = None) -> tuple[pa.Array, pa.Array, pa.Array]:
        """(normalised NIKs, reason codes, pseudonyms) of the cells, as the vectorised functions give them."""
        today = today or dt.date.today()
        kept = self._kept
        keys = list(zip(cells, numeric, strict=True))
        if today.year != self._year or len(kept) + len(keys) > self.size:
            kept.clear()
            self._year = today.year
        got = []
        for k in keys:
            found = kept.get(k)
            if found is None:
                nik = _normalised(k[0])
                found = kept[k] = (nik, _problem(nik, k[1], today.year % 100), None if nik is None else self.of(nik))
            got.append(found)
        return tuple(pa.array([g[j] for g in got], pa.string()) for j in range(3))


_CLUTTER_RE = re.compile(NIK_CLUTTER)       # the same removal in Python's re (tests/unit/test_identity.py)
_EXCEL_NUMBER_RE = re.compile(_EXCEL_NUMBER[1:-1])      # (fullmatch: RE2's $ is the end of the text only)
_MONTH_DAYS_OF = tuple(int(d) for d in _MONTH_DAYS)


def _normalised(cell: str | None) -> str | None:
    """`normalise_nik` of one cell text."""
    if cell is None:
        return None
    return _CLUTTER_RE.sub("", cell if cell.isascii() else cell.translate(_DIGITS)) or None


def _problem(nik: str | None, numeric: bool, pivot: int) -> str | None:
    """`nik_problems` of one normalised NIK (`pivot`: the last two digits of this year)."""
    digits = nik is not None and nik.isascii() and nik.isdigit()
    if nik is None:
        code = _MISSING
    elif numeric:
        code = _PRECISION_LOST
    elif len(nik) != 16 or not digits:
        code = (_PRECISION_LOST if _EXCEL_NUMBER_RE.fullmatch(nik) else _NOT_DIGITS if not digits
                else _DIGITS_15 if len(nik) == 15 else _DIGITS_17 if len(nik) == 17 else _WRONG_LENGTH)
    elif not _known_prefixes()[int(nik[:4])]:
        code = _REGION_UNKNOWN
    else:
        dd, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
        day = dd - 40 if dd > 40 else dd
        year = (1900 if yy > pivot else 2000) + yy
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        real = 1 <= month <= 12 and 1 <= day <= _MONTH_DAYS_OF[month] + (month == 2 and leap)
        code = _VALID if real else _BIRTH_DATE_INVALID
    return NIK_REASONS[code - 1] if code else None


def nik_problem(text: str | None, numeric: bool = False, today: dt.date | None = None) -> str | None:
    """Return the reason code for one NIK cell text (normalised here), or None when it is valid."""
    return _problem(_normalised(text), numeric, (today or dt.date.today()).year % 100)


# --------------------------------------------------------------------------------------------- pseudonyms ---
def pseudonyms(niks: pa.Array, key: bytes) -> pa.Array:
    """Hex HMAC-SHA256 of every normalised NIK with the key, computed once per distinct NIK; null stays null."""
    of = pseudonym_function(key)
    uniq, idx = distinct(niks)
    out = [None if v is None else of(v) for v in uniq.to_pylist()]
    return pa.array(out, pa.string()).take(idx)


def pseudonym_function(key: bytes) -> Callable[[str], str]:
    """The pseudonym of one normalised NIK with this key: RFC 2104 over SHA-256 states that have taken the padded
    keys once (`hmac_pads`), copied per NIK (0.66 µs a NIK against 1.16 µs through copies of an `hmac` object)."""
    ipad, opad = hmac_pads(key)
    inner, outer = hashlib.sha256(ipad), hashlib.sha256(opad)

    def of(nik: str) -> str:
        h = inner.copy()
        h.update(nik.encode("utf-8"))
        o = outer.copy()
        o.update(h.digest())
        return o.hexdigest()
    return of


KEY_FINGERPRINT_LABEL = b"cakupan pseudonym key fingerprint v1"


def key_fingerprint(key: bytes) -> str:
    """What the warehouse stores to know its pseudonym key again: hex HMAC-SHA256 of a fixed label with the key
    (never the key; no NIK is involved)."""
    return hmac.new(key, KEY_FINGERPRINT_LABEL, "sha256").hexdigest()


def pseudonym(nik: str, key: bytes) -> str:
    """Return the pseudonym of one normalised NIK."""
    return pseudonyms(pa.array([nik], pa.string()), key)[0].as_py()


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The HMAC-SHA256 inner and outer padded keys (RFC 2104), which `pseudonym_sql` takes as parameters."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    k = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


def pseudonym_sql(value: str, ipad_param: str = "$ipad", opad_param: str = "$opad") -> str:
    """SQL (DuckDB): `pseudonyms` of a text value, with the pads (`hmac_pads`) bound as BLOB parameters."""
    return (f"case when {value} is null then null else "
            f"sha256({opad_param}::BLOB || unhex(sha256({ipad_param}::BLOB || encode({value})))) end")
