"""Parse messy Indonesian spreadsheet values (CSV text or Excel cells) into clean Python values.

Every parser accepts ``object`` (str, int, float, Decimal, datetime.date, datetime.datetime or None), returns
None for an empty cell (the caller decides whether the column is required) and raises ``ParseError`` with a
reason code from ``contracts/reasons.yml`` when the value cannot be read.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

__all__ = [
    "CODES",
    "FORMULA_ERRORS",
    "FUNDING_SOURCES",
    "MIN_YEAR",
    "MONTH_NUMBERS",
    "NULL_MARKERS",
    "NUMBER_MAX",
    "PROGRAMS",
    "SCIENTIFIC",
    "ParseError",
    "cell_text",
    "is_blank",
    "is_total_label",
    "last_year",
    "nik_cell_is_numeric",
    "parse_birth_date_cell",
    "parse_count",
    "parse_date",
    "parse_funding_source",
    "parse_kpj",
    "parse_money",
    "parse_month",
    "parse_number",
    "parse_program",
    "parse_programs",
    "parse_sex",
]

CODES = frozenset({
    "NUMBER_INVALID", "NUMBER_NEGATIVE", "NUMBER_OUT_OF_RANGE", "COUNT_NOT_WHOLE", "DATE_INVALID", "DATE_OUT_OF_RANGE",
    "MONTH_INVALID", "PROGRAM_UNKNOWN", "SEX_INVALID", "FUNDING_SOURCE_UNKNOWN", "KPJ_INVALID",
})
PROGRAMS = ("JHT", "JKK", "JKM", "JKP", "JP")
# the largest amount or count accepted (15 digits): raw.* stores money as DECIMAL(18,2) and counts as BIGINT, and a
# 16- or 17-digit value is a NIK or an account number typed into the wrong column (reasons.yml NUMBER_OUT_OF_RANGE)
NUMBER_MAX = 999_999_999_999_999
FUNDING_SOURCES = ("APBD", "APBDES", "CSR", "BAZNAS", "MANDIRI")
# what a database export writes for a missing value (phpMyAdmin's CSV default "NULL", MySQL's and PostgreSQL's
# text dumps "\N"): a cell holding only one of these is read as blank (kept as delivered in raw_cells). Not Excel's
# "#N/A": that is a formula that failed, for the clerk to fix.
NULL_MARKERS = frozenset({"NULL", "null", "\\N"})
# what a formula that failed shows, and a CSV saved from the sheet holds (Excel's "#N/A" of a VLOOKUP that found
# nothing; LibreOffice's "Err:502"); a workbook's error cell is read as its text (`readers.workbook`). Such a cell
# sets its row apart (FORMULA_ERROR), whatever the column: an error is no value, and no blank either.
FORMULA_ERRORS = frozenset({
    "#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA",
    "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", *(f"Err:{n}" for n in range(501, 540))})


class ParseError(ValueError):
    """A cell value could not be read; ``code`` is a reason code, ``message`` plain words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


# --------------------------------------------------------------------------------------------- cell text

_WS_RE = re.compile(r"\s+")
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
# a CSV cell written as the spreadsheet formula ="...", as exporting systems write a NIK or a phone number so that
# Excel keeps its digits: what a spreadsheet shows (and a workbook's cell holds) is the text inside
FORMULA_TEXT_RE = re.compile(r'="((?:[^"]|"")*)"')


def _is_real(value: object) -> bool:
    """Return True for an int, float or Decimal cell (not a bool)."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def is_blank(value: object) -> bool:
    """Return True if the cell is empty (None, NaN, whitespace or a lone apostrophe)."""
    return cell_text(value) is None


def cell_text(value: object) -> str | None:
    """Return the canonical text of a cell, or None if it is blank."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = _WS_RE.sub(" ", _INVISIBLE_RE.sub("", str(value))).strip()
    if text.startswith('="') and (formula := FORMULA_TEXT_RE.fullmatch(text)):
        text = formula.group(1).replace('""', '"').strip()
    if text.startswith("'"):
        text = text[1:].lstrip()
    return text or None


def _fail(code: str, what: str, value: object) -> ParseError:
    """Build a ParseError whose message quotes the (shortened) cell value."""
    shown = cell_text(value) if not isinstance(value, str) else value.strip()
    if shown is not None and len(shown) > 60:
        shown = shown[:57] + "..."
    return ParseError(code, f"{shown!r} is not {what}.")


# --------------------------------------------------------------------------------------------- numbers

_SCALES = {
    "ribu": 10**3, "rb": 10**3, "juta": 10**6, "jt": 10**6,
    "miliar": 10**9, "milyar": 10**9, "m": 10**9, "triliun": 10**12,
}
_NUMBER_RE = re.compile(
    r"""
    (?P<sign>[-+\u2212])?\s*
    (?P<cur>(?:rp|idr)\.?)?\s*
    (?P<sign2>[-+\u2212])?\s*
    (?P<num>[0-9][0-9.,]*?)
    (?:[.,]-)?                                   # "Rp 16.800,-"
    (?:(?P<gap>\s*)(?P<scale>ribu|rb|juta|jt|miliar|milyar|m|triliun)\.?)?
    (?:\s*(?:rupiah|orang|org|jiwa|peserta|pekerja|tk))?
    (?:\s*(?:/|per)\s*(?:bulan|bln|orang|org|peserta|tk|jiwa))*
    """,
    re.VERBOSE | re.ASCII,
)
_PAREN_RE = re.compile(r"(?P<cur>(?:rp|idr)\.?\s*)?\((?P<inner>.*)\)", re.ASCII | re.DOTALL)
# Excel's accounting format shows a zero amount as a dash after the currency ("Rp -", padded to the column's width):
# a file saved as CSV from such a sheet writes that text. Only with the currency: a bare "-" may mean "not known".
_ACCOUNTING_ZERO_RE = re.compile("(?:rp|idr)\\.?\\s*[-\u2013\u2212]", re.ASCII)
_ONE = Decimal(1)


def _grouped(text: str, sep: str) -> str:
    """Join thousands groups ("1.234.567" → "1234567"), or raise ValueError if the grouping is wrong."""
    parts = text.split(sep)
    head, rest = parts[0], parts[1:]
    if not 1 <= len(head) <= 3 or any(len(p) != 3 for p in rest) or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    return "".join(parts)


def _plain_digits(num: str, comma_decimal: bool) -> str:
    """Rewrite a digit run with "." and "," into a plain decimal literal, or raise ValueError."""
    dots, commas = num.count("."), num.count(",")
    if dots and commas:
        dec = "." if num.rfind(".") > num.rfind(",") else ","
        head, _, frac = num.partition(dec)
        if dec in frac or not frac:
            raise ValueError(num)
        return _grouped(head, "," if dec == "." else ".") + "." + frac
    if dots > 1 or commas > 1:
        return _grouped(num, "." if dots else ",")
    if not dots and not commas:
        return num
    head, sep, tail = num.partition("." if dots else ",")
    if not head or not tail:
        raise ValueError(num)
    thousands = len(tail) == 3 and len(head) <= 3 and head[0] != "0" and not (sep == "," and comma_decimal)
    return head + tail if thousands else f"{head}.{tail}"


def _real_decimal(value: object) -> Decimal:
    """Convert an int, float or Decimal cell exactly as shown (floats through their shortest repr)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _tidy(d: Decimal) -> Decimal:
    """Drop a zero fraction ("16800.00" → 16800) where that is exact."""
    if d.as_tuple().exponent < 0 and d.adjusted() < 27 and d == d.to_integral_value():
        return d.quantize(_ONE)
    return d


def parse_number(value: object) -> Decimal | None:
    """Read a number written in Indonesian (or English) style.

    Separators: with both "." and "," the later one is the decimal mark and the other groups thousands
    ("1.234.567,89", "16,800.50"). Two or more of the same mark are thousands groups of exactly three
    digits ("1.234.567", "1,234,567"). A single mark followed by exactly three digits after a 1-3 digit head
    that does not start with 0 groups thousands ("16.800" → 16800, "1,234" → 1234); otherwise it is the
    decimal mark ("16.8", "12,5", "0,500", "1234,567"). After a scale word (ribu/rb, juta/jt, miliar/milyar/M,
    triliun) the text is Indonesian, so a lone comma is always decimal ("2,500 juta" → 2500000). "M" means
    miliar only after "Rp" or as a separate word ("Rp1,2M", "1,2 M"; not "1,2M"). "Rp"/"IDR", ",-", count
    nouns ("orang", "peserta") and "/bulan" are ignored; "-5.000" and "(5.000)" are negative; "Rp -" (Excel's
    accounting format of zero) is 0, a bare "-" is no number. Floats become
    Decimal(str(float)); a zero fraction is dropped ("16.800,00" → Decimal("16800")).
    """
    text = cell_text(value)
    if text is None:
        return None
    if _is_real(value):
        d = _real_decimal(value)
        if not d.is_finite():
            raise _fail("NUMBER_INVALID", "a number we can read", value)
        return _tidy(d)
    if isinstance(value, bool | dt.date | dt.time):
        raise _fail("NUMBER_INVALID", "a number we can read", value)
    s = text.lower()
    if _ACCOUNTING_ZERO_RE.fullmatch(s):
        return Decimal(0)
    paren = _PAREN_RE.fullmatch(s)
    if paren:
        s = (paren["cur"] or "") + paren["inner"].strip()
    m = _NUMBER_RE.fullmatch(s)
    if not m or (m["sign"] and m["sign2"]) or (paren and (m["sign"] or m["sign2"])):
        raise _fail("NUMBER_INVALID", "a number we can read", value)
    scale = m["scale"]
    if scale == "m" and not (m["cur"] or m["gap"]):
        raise _fail("NUMBER_INVALID", "a number we can read", value)
    try:
        d = Decimal(_plain_digits(m["num"], comma_decimal=scale is not None))
    except (ValueError, InvalidOperation):
        raise _fail("NUMBER_INVALID", "a number we can read", value) from None
    if scale:
        d *= _SCALES[scale]
    if paren or (m["sign"] or m["sign2"] or "+") in "-\u2212":
        d = -d
    return _tidy(d)


def _at_most_max(d: Decimal, value: object) -> None:
    if d > NUMBER_MAX:
        raise _fail("NUMBER_OUT_OF_RANGE", f"at most {NUMBER_MAX:,}".replace(",", "."), value)


def parse_money(value: object) -> Decimal | None:
    """Read a Rupiah amount; a negative amount, or one above NUMBER_MAX, is an error."""
    d = parse_number(value)
    if d is not None and d < 0:
        raise _fail("NUMBER_NEGATIVE", "zero or more (it is negative)", value)
    if d is not None:
        _at_most_max(d, value)
    return d


def parse_count(value: object) -> int | None:
    """Read a head count: a whole number, zero or more."""
    d = parse_number(value)
    if d is None:
        return None
    if d != d.to_integral_value():
        raise _fail("COUNT_NOT_WHOLE", "a whole number", value)
    if d < 0:
        raise _fail("NUMBER_NEGATIVE", "zero or more (it is negative)", value)
    _at_most_max(d, value)
    return int(d)


# --------------------------------------------------------------------------------------------- dates

_MONTHS: dict[str, int] = {}
for _n, _names in enumerate((
    "januari jan january",
    "februari feb febr pebruari peb pebr february febuari pebuari",     # (the last two: common misspellings)
    "maret mar mrt march",
    "april apr",
    "mei may",
    "juni jun june",
    "juli jul july",
    "agustus agu agt ags agst agus aug agust august",
    "september sep sept",
    "oktober okt oct october",
    "november nov nop nopember",
    "desember des dec december",
), start=1):
    for _name in _names.split():
        _MONTHS[_name] = _n
MONTH_NUMBERS = _MONTHS       # a month's name or abbreviation, lower case → its number (periodtext reads titles)

MIN_YEAR = 1900       # a delivered date is accepted from 1900 to next year (reasons.yml DATE_OUT_OF_RANGE)


def last_year() -> int:
    """The last year a delivered date may fall in: next year."""
    return dt.date.today().year + 1


_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_MAX_SERIAL = 2958465
_WEEKDAY_RE = re.compile(
    r"(?:senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad|monday|tuesday|wednesday|thursday|friday|saturday"
    r"|sunday|mon|tue|wed|thu|fri|sat|sun)(?![a-z])[\s,]*",
    re.ASCII,
)
_TIME_RE = re.compile(
    r"(?:(?<=[0-9])t|\s+)[0-9]{1,2}[:.][0-9]{2}(?:[:.][0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:\s*[ap]\.?m\.?)?(?:\s*(?:z|[+-][0-9]{2}:?[0-9]{2}|wib|wita|wit))?$",
    re.ASCII,
)
_SERIAL_RE = re.compile(r"[0-9]{1,7}(?:\.0+)?", re.ASCII)
# ISO 8601's basic form, "20250413", as a database exports a date (or a clerk types it as a number): eight digits
# that are no year 19xx/20xx, month and day are no date (an Excel serial has at most seven)
_BASIC_YMD_RE = re.compile(r"((?:19|20)[0-9]{2})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])", re.ASCII)
_YMD_RE = re.compile(r"([0-9]{4})\s*([-/.])\s*([0-9]{1,2})\s*\2\s*([0-9]{1,2})", re.ASCII)
_DMY_RE = re.compile(r"([0-9]{1,2})\s*([-/.])\s*([0-9]{1,2})\s*\2\s*([0-9]{4}|[0-9]{2})", re.ASCII)
_D_NAME_Y_RE = re.compile(
    r"([0-9]{1,2})(?:\s*[-/.,]\s*|\s+)([a-z]+)\.?(?:\s*[-/.,]\s*|\s+)([0-9]{4}|[0-9]{2})", re.ASCII
)
_NAME_D_Y_RE = re.compile(r"([a-z]+)\.?\s+([0-9]{1,2}),?\s+([0-9]{4})", re.ASCII)


def _year(text: str) -> int:
    """Expand a two-digit year (00-69 → 2000s, 70-99 → 1900s)."""
    y = int(text)
    if len(text) == 2:
        y += 2000 if y < 70 else 1900
    return y


def _in_range(d: dt.date, value: object, min_year: int, max_year: int) -> dt.date:
    """Return d if its year is within [min_year, max_year], else raise DATE_OUT_OF_RANGE."""
    if not min_year <= d.year <= max_year:
        raise _fail("DATE_OUT_OF_RANGE", f"a date between {min_year} and {max_year}", value)
    return d


def _from_serial(value: object) -> dt.date:
    """Convert an Excel serial (1899-12-30 epoch; a fraction is the time of day) to a date."""
    try:
        serial = float(value)  # type: ignore[arg-type]
    except (OverflowError, ValueError):
        serial = math.nan
    if not math.isfinite(serial) or not 1 <= serial < _EXCEL_MAX_SERIAL + 1:
        raise _fail("DATE_INVALID", "a date we can read", value)
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def _date_parts(s: str) -> tuple[int, int, int] | None:
    """Split normalised date text into (year, month, day); month 0 marks an unknown month name."""
    if m := _YMD_RE.fullmatch(s):
        return int(m[1]), int(m[3]), int(m[4])
    if m := _BASIC_YMD_RE.fullmatch(s):
        return int(m[1]), int(m[2]), int(m[3])
    if m := _DMY_RE.fullmatch(s):
        return _year(m[4]), int(m[3]), int(m[1])
    if m := _D_NAME_Y_RE.fullmatch(s):
        return _year(m[3]), _MONTHS.get(m[2], 0), int(m[1])
    if m := _NAME_D_Y_RE.fullmatch(s):
        return int(m[3]), _MONTHS.get(m[1], 0), int(m[2])
    return None


def _clean_date_text(text: str) -> str:
    """Lower-case, drop a leading weekday, parentheses and a trailing time of day."""
    s = _WS_RE.sub(" ", text.lower().replace("(", " ").replace(")", " ")).strip()
    if m := _WEEKDAY_RE.match(s):
        s = s[m.end():]
    return _TIME_RE.sub("", s.rstrip(".,; ")).strip()


def parse_date(value: object, *, min_year: int = MIN_YEAR, max_year: int = 2100) -> dt.date | None:
    """Read a date (day first), an Excel serial or a date/datetime cell; check its year is in range (a column's
    rule narrows it: `cakupan.ingest.validate`, 1900 to next year)."""
    if isinstance(value, dt.datetime):
        return _in_range(value.date(), value, min_year, max_year)
    if isinstance(value, dt.date):
        return _in_range(value, value, min_year, max_year)
    text = cell_text(value)
    if text is None:
        return None
    if (_is_real(value) or _SERIAL_RE.fullmatch(text)) and not _BASIC_YMD_RE.fullmatch(text):
        return _in_range(_from_serial(value if _is_real(value) else text), value, min_year, max_year)
    if isinstance(value, bool | dt.time):
        raise _fail("DATE_INVALID", "a date we can read", value)
    parts = _date_parts(_clean_date_text(text))
    if parts is None:
        raise _fail("DATE_INVALID", "a date we can read", value)
    try:
        d = dt.date(*parts)
    except ValueError:
        raise _fail("DATE_INVALID", "a date we can read", value) from None
    return _in_range(d, value, min_year, max_year)


_PLACE_DATE_RE = re.compile(r"(?P<place>[^0-9]*[^\W\d_][^0-9]*?)[\s,/;:]+(?P<date>[0-9].*)", re.DOTALL)


def parse_birth_date_cell(value: object, *, max_year: int = 2100) -> dt.date | None:
    """Read a birth date, also from a place-and-date cell ("Parepare, 12-05-1980")."""
    try:
        return parse_date(value, max_year=max_year)
    except ParseError as e:
        text = cell_text(value) if isinstance(value, str) else None
        m = _PLACE_DATE_RE.fullmatch(text) if text is not None and e.code == "DATE_INVALID" else None
        if m is None:
            raise
        return parse_date(m["date"], max_year=max_year)


# --------------------------------------------------------------------------------------------- months

_MIN_MONTH_SERIAL = 10000
_MONTH_PREFIX_RE = re.compile(r"(?:bulan|periode|masa iuran|masa)\s*:?\s*", re.ASCII)
_NAME_Y_RE = re.compile(r"([a-z]+)\.?[\s\-/.,']*([0-9]{4}|[0-9]{2})", re.ASCII)
_M_Y_RE = re.compile(r"([0-9]{1,2})\s*[-/.]\s*([0-9]{4})", re.ASCII)
_Y_M_RE = re.compile(r"([0-9]{4})(?:\s*[-/.]\s*([0-9]{1,2})|([0-9]{2}))", re.ASCII)


def _month_parts(s: str) -> tuple[int, int] | None:
    """Split normalised month text into (year, month); month 0 marks an unknown month name."""
    if m := _NAME_Y_RE.fullmatch(s):
        return _year(m[2]), _MONTHS.get(m[1], 0)
    if m := _M_Y_RE.fullmatch(s):
        return int(m[2]), int(m[1])
    if m := _Y_M_RE.fullmatch(s):
        return int(m[1]), int(m[2] or m[3])
    return None


def _serial_below(value: object, limit: int) -> bool:
    """Return True if a numeric cell or digit string is smaller than limit."""
    try:
        return float(value) < limit  # type: ignore[arg-type]
    except (OverflowError, ValueError):
        return False


def parse_month(value: object) -> dt.date | None:
    """Read a month ("April 2025", "04/2025", "2025-04", any date or Excel serial) as its first day.

    A bare number below 10000 (before May 1927 as an Excel serial) is a year or a month number, not a month.
    """
    text = cell_text(value)
    if text is None:
        return None
    parts = None
    if isinstance(value, str) or (_is_real(value) and text.isdigit()):    # (202504 typed as a number: its text)
        s = _clean_date_text(text)
        s = s[m.end():] if (m := _MONTH_PREFIX_RE.match(s)) else s
        parts = _month_parts(s)
    if parts is None:
        if (_is_real(value) or _SERIAL_RE.fullmatch(text)) and _serial_below(value, _MIN_MONTH_SERIAL):
            raise _fail("MONTH_INVALID", "a month we can read", value)
        try:
            d = parse_date(value)
        except ParseError:
            raise _fail("MONTH_INVALID", "a month we can read", value) from None
        parts = (d.year, d.month) if d else None
    if parts is None or not 1 <= parts[1] <= 12 or not 1900 <= parts[0] <= 2100:
        raise _fail("MONTH_INVALID", "a month we can read", value)
    return dt.date(parts[0], parts[1], 1)


# --------------------------------------------------------------------------------------------- codes

_PROGRAM_NAME_RE = re.compile(
    r"(?:jaminan\s+)?(kecelakaan\s+kerja|kematian|hari\s+tua|pensiun|kehilangan\s+pekerjaan)", re.ASCII
)
_PROGRAM_NAMES = {"kecelakaan kerja": "JKK", "kematian": "JKM", "hari tua": "JHT", "pensiun": "JP",
                  "kehilangan pekerjaan": "JKP"}
_PROGRAM_SPLIT_RE = re.compile(r"[\s,.+/&;:()\-]+")
# words around the codes ("Program JKK dan JKM", "BPU: JKK, JKM": Bukan Penerima Upah, the informal workers' scheme)
_PROGRAM_FILLERS = frozenset({"dan", "and", "program", "serta", "yaitu", "yakni", "bpu"})
_COUNT_WORDS = {"satu": "1", "dua": "2", "tiga": "3", "empat": "4", "lima": "5"}


def parse_programs(value: object) -> tuple[str, ...] | None:
    """Read a list of programs ("JKK, JKM", "JKK+JKM", "Jaminan Kematian") as sorted unique codes."""
    text = cell_text(value)
    if text is None:
        return None
    s = _PROGRAM_NAME_RE.sub(lambda m: f" {_PROGRAM_NAMES[_WS_RE.sub(' ', m[1])]} ", text.lower())
    words = [t for t in _PROGRAM_SPLIT_RE.split(s) if t and t not in _PROGRAM_FILLERS]
    counts = {_COUNT_WORDS.get(t, t) for t in words if t.isdigit() or t in _COUNT_WORDS}
    codes = {t.upper() for t in words if not (t.isdigit() or t in _COUNT_WORDS)}
    # ("2 program (JKK, JKM)": a count of the programs named is no program, one that disagrees is no answer)
    if not codes or not codes.issubset(PROGRAMS) or not counts <= {str(len(codes))}:
        raise _fail("PROGRAM_UNKNOWN", "a known program (JKK, JKM, JHT, JP, JKP)", value)
    return tuple(sorted(codes))


def parse_program(value: object) -> str | None:
    """Read exactly one program code (a claim's program)."""
    programs = parse_programs(value)
    if programs is None:
        return None
    if len(programs) != 1:
        raise _fail("PROGRAM_UNKNOWN", "exactly one known program (JKK, JKM, JHT, JP, JKP)", value)
    return programs[0]


_SEXES = {
    "l": "L", "lk": "L", "laki laki": "L", "lakilaki": "L", "laki": "L", "pria": "L", "m": "L", "male": "L",
    "laki2": "L", "laki 2": "L", "lelaki": "L",      # ("laki2": the reduplication written with a 2, as typed)
    "p": "P", "pr": "P", "perempuan": "P", "wanita": "P", "f": "P", "female": "P",
}
_PUNCT_RE = re.compile(r"[\W_]+")


def _folded(text: str) -> str:
    """Lower-case and turn punctuation runs into single spaces."""
    return _PUNCT_RE.sub(" ", text.lower()).strip()


def parse_sex(value: object) -> str | None:
    """Read a sex code as "L" (laki-laki) or "P" (perempuan)."""
    text = cell_text(value)
    if text is None:
        return None
    sex = _SEXES.get(_folded(text))
    if sex is None:
        raise _fail("SEX_INVALID", "a sex code (L / P)", value)
    return sex


_FUNDING_RULES = (
    (re.compile(r"apb ?des(?:a)?(?: |$)|(?:alokasi )?dana desa(?: |$)|dd$|add$|pem(?:des|erintah desa)(?: |$)",
                re.ASCII), "APBDES"),
    # (the government that pays named instead of its budget: "Pemkot", "Pemerintah Kabupaten Luwu" pay from APBD)
    (re.compile(r"apbd(?: |$)|pem(?:da|kot|kab|prov)(?: |$)|pemerintah (?:daerah|kota|kabupaten|kab|provinsi|prov)"
                r"(?: |$)", re.ASCII), "APBD"),
    (re.compile(r"csr(?: |$)|corporate social responsibility(?: |$)", re.ASCII), "CSR"),
    (re.compile(r"baznas(?: |$)|zakat(?: |$)", re.ASCII), "BAZNAS"),
    (re.compile(r"mandiri(?: |$)|bayar sendiri$", re.ASCII), "MANDIRI"),
)


def parse_funding_source(value: object) -> str | None:
    """Read a funding source as APBD, APBDES, CSR, BAZNAS or MANDIRI."""
    text = cell_text(value)
    if text is None:
        return None
    s = _folded(text)
    for pattern, code in _FUNDING_RULES:
        if pattern.match(s):
            return code
    raise _fail("FUNDING_SOURCE_UNKNOWN", "a known funding source (APBD, APBDes, CSR, BAZNAS, Mandiri)",
                value)


# --------------------------------------------------------------------------------------------- identifiers

_ID_NOISE_RE = re.compile(r"[\s.\-]+")
_DIGITS_RE = re.compile(r"[0-9]+", re.ASCII)
SCIENTIFIC = r"[+-]?[0-9]+(?:[.,][0-9]+)?\s*e\s*[+-]?[0-9]+"   # a number in scientific notation (any case)
_SCIENTIFIC_RE = re.compile(SCIENTIFIC, re.ASCII | re.IGNORECASE)


def parse_kpj(value: object) -> str | None:
    """Read a KPJ (BPJS card) number as a string of digits."""
    text = cell_text(value)
    if text is None:
        return None
    if _is_real(value):
        d = _real_decimal(value)
        if not d.is_finite() or d < 0 or d.adjusted() > 30 or d != d.to_integral_value():
            raise _fail("KPJ_INVALID", "a KPJ number (digits only)", value)
        return str(int(d))
    if isinstance(value, bool | dt.date | dt.time):
        raise _fail("KPJ_INVALID", "a KPJ number (digits only)", value)
    digits = _ID_NOISE_RE.sub("", text)
    if not _DIGITS_RE.fullmatch(digits):
        raise _fail("KPJ_INVALID", "a KPJ number (digits only)", value)
    return digits


def nik_cell_is_numeric(value: object, text: str | None | bool = False) -> bool:
    """Return True if a NIK cell went through an Excel number (a number, or text in scientific notation).
    `text`: the cell's `cell_text`, when the caller has it already."""
    if _is_real(value):
        return True
    if not isinstance(value, str):
        return False
    text = cell_text(value) if text is False else text
    return text is not None and _SCIENTIFIC_RE.fullmatch(text) is not None


# a total's label, alone or naming the area it closes ("SUB TOTAL KEC. BACUKIKI", "Jumlah Kelurahan Lumpue": a
# district's or village's sub-total); an area word without a name ("Jumlah Desa") is a column's label, not a total
_AREA_WORDS = ("kecamatan|kec|kelurahan|kel|kalurahan|desa|ds|dusun|kampung|gampong|nagari|kapanewon|kemantren|"
               "distrik|kabupaten|kab|kota|wilayah")
_TOTAL_RE = re.compile(
    r"(?:(?:grand |sub ?)?total(?: jumlah| keseluruhan)?|(?:sub )?jumlah(?: total| keseluruhan)?|jml(?: total)?)"
    rf"(?:(?: per)? (?:{_AREA_WORDS}) [a-z0-9][a-z0-9 ]*)?",
    re.ASCII,
)


def is_total_label(value: object) -> bool:
    """Return True if the cell labels a total row ("JUMLAH", "TOTAL", "Sub Total", "JUMLAH :", "SUB TOTAL KEC.
    BACUKIKI")."""
    text = cell_text(value) if isinstance(value, str) else None
    return text is not None and _TOTAL_RE.fullmatch(_folded(text)) is not None
