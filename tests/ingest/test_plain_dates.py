"""The bulk parsers (`bulk.dates`, `bulk.kpjs`) give exactly what `parsing` gives, value by value."""

from __future__ import annotations

import pyarrow as pa
from cakupan.ingest.bulk import dates, kpjs
from cakupan.ingest.parsing import MIN_YEAR, last_year
from cakupan.ingest.validate import DATE_TYPES, map_distinct, map_memo, parser_for
from hypothesis import given, settings
from hypothesis import strategies as st

DIGITS = st.text("0123456789", min_size=1, max_size=5)
DATE_LIKE = st.builds(lambda d, s1, m, s2, y: f"{d}{s1}{m}{s2}{y}", DIGITS, st.sampled_from("/-. "), DIGITS,
                      st.sampled_from("/-. "), DIGITS)
PLAIN = st.builds(lambda d, m, y, sep: f"{d:02d}{sep}{m:02d}{sep}{y:04d}", st.integers(0, 39), st.integers(0, 14),
                  st.integers(0, 9999), st.sampled_from("/-."))
YMD = st.builds(lambda y, s1, m, s2, d: f"{y}{s1}{m}{s2}{d}", st.integers(0, 9999).map(lambda y: f"{y:04d}"),
                st.sampled_from("/-."), st.integers(0, 14).map(str) | st.integers(0, 14).map(lambda m: f"{m:02d}"),
                st.sampled_from("/-."), st.integers(0, 39).map(str) | st.integers(0, 39).map(lambda d: f"{d:02d}"))
MONTH_WORDS = st.sampled_from(["Januari", "jan", "FEB", "Maret", "April", "mei", "May", "Juni", "juli", "Agustus",
                               "Agt", "Agst", "Agus", "Sept", "Oktober", "Nop", "Desember", "Dec", "Bulan", "x", "Mar",
                               "Mrt", "Pebr", "febr", "Febuari"])
# a year of four digits, or of two ("13-Apr-25": Excel's d-mmm-yy), or of a length no date has
NAME_YEARS = (st.integers(1850, 2200).map(str) | st.integers(0, 99).map(lambda y: f"{y:02d}")
              | st.sampled_from(["5", "025", "20255"]))
D_NAME_Y = st.builds(lambda d, s1, name, s2, y: f"{d}{s1}{name}{s2}{y}", st.integers(0, 39).map(str),
                     st.sampled_from([" ", "-", "/", ".", ",", "  ", ", "]), MONTH_WORDS,
                     st.sampled_from([" ", "-", "/", ".", ",", ". ", ".-", ".."]), NAME_YEARS)
NAME_D_Y = st.builds(lambda name, dot, d, comma, y: f"{name}{dot} {d}{comma} {y}", MONTH_WORDS, st.sampled_from(["", "."]),
                     st.integers(0, 39).map(str), st.sampled_from(["", ","]), st.integers(1850, 2200).map(str))
# ISO 8601's basic form ("20250413"), of years, months and days in and out of range, and of seven or nine digits
BASIC = st.builds(lambda y, m, d: f"{y:04d}{m:02d}{d:02d}", st.integers(1800, 2200), st.integers(0, 14),
                  st.integers(0, 39)) | st.sampled_from(["2025041", "202504013", "01042025", "19991231"])
CORE = st.one_of(PLAIN, DATE_LIKE, YMD, D_NAME_Y, NAME_D_Y, BASIC)
# a weekday before a date and a time of day after it, spelled as the bulk path reads them and as only the parser does
WEEKDAY = st.builds(lambda day, sep: f"{day}{sep}", st.sampled_from(
    ["Senin", "selasa", "RABU", "Kamis", "Jumat", "Jum'at", "Sabtu", "Minggu", "Ahad", "Monday", "tue", "Sun",
     "Sunday", "Mond", "Seninan", "Rab"]), st.sampled_from([", ", " ", ",", "  ", " , ", ",  ", "", "-"]))
TIME = st.builds(lambda sep, h, colon, mm, ss, zone: f"{sep}{h}{colon}{mm}{ss}{zone}",
                 st.sampled_from([" ", "  ", "T", ""]), st.sampled_from(["0", "08", "8", "23", "123"]),
                 st.sampled_from([":", ".", ","]), st.sampled_from(["00", "30", "5", "599"]),
                 st.sampled_from(["", ":00", ".45", ":00.123", ":7"]),
                 st.sampled_from(["", " WIB", " wita", " WIT", "WIB", " Z", " +07:00", " pm", " wibx"]))
DRESSED = st.builds(lambda wd, core, time, end: f"{wd}{core}{time}{end}", st.sampled_from([""]) | WEEKDAY, CORE,
                    st.sampled_from([""]) | TIME, st.sampled_from(["", "", ".", " "]))
SERIAL = st.builds(lambda n, frac: f"{n}{frac}", st.integers(0, 9_999_999) | st.integers(1, 80_000),
                   st.sampled_from(["", ".0", ".00", ".5", ".", ",0"]))
VALUES = st.lists(st.one_of(CORE, DRESSED, SERIAL, st.none(),
                            st.sampled_from(["13 Maret 2025", "", "29/02/2024", "29/02/2023", "31/12/1899", "01/01/1900",
                                             "Selasa, 3 Agustus 2004", "2004-08-03 00:00:00", "03/08/2004 08.00 WIB",
                                             "38202", "2958465", "2958466", "0", "00038202", "13-Apr-25",
                                             "01 Agst 2013", "13 Okt. 2025", "2025-04-13T08:00:00.000Z",
                                             "13/04/2025 08:00 +0700", "13 Apr 2025t08:00"])),
                  max_size=60)


def _both(values: list[str | None], col_type: str):
    arr = pa.array(values, pa.string())
    fn = parser_for(col_type, {})
    slow = map_distinct(arr, fn, pa.date32())
    fast = map_distinct(arr, fn, pa.date32(), dates(MIN_YEAR, last_year()))
    return [x.to_pylist() for x in slow], [x.to_pylist() for x in fast]


@settings(max_examples=300, deadline=None)
@given(values=VALUES, col_type=st.sampled_from(DATE_TYPES))
def test_bulk_dates_equal_the_parser(values, col_type):
    slow, fast = _both(values, col_type)
    assert fast == slow


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.text("0123456789", min_size=1, max_size=14),
                                 st.text("0123456789 .-xX", max_size=14)), max_size=40))
def test_bulk_kpjs_equal_the_parser(values):
    arr = pa.array(values, pa.string())
    fn = parser_for("kpj", {})
    slow = map_distinct(arr, fn, pa.string())
    fast = map_distinct(arr, fn, pa.string(), kpjs)
    assert [x.to_pylist() for x in fast] == [x.to_pylist() for x in slow]


def test_bulk_dates_known_values():
    """Dates from 1900 to next year, as reasons.yml promises (DATE_OUT_OF_RANGE), for every date column."""
    import datetime as dt

    # the bulk styles are read in bulk (not left to the parser): with a weekday, a time of day, and serials too
    assert dates(MIN_YEAR, last_year())(pa.array(["13-03-2025", "2024-2-29", "13 April 2025", "13-Agt-2025",
                                                  "2/7/71", "April 13, 2025", "Selasa, 3 Agustus 2004",
                                                  "2004-08-03 00:00:00", "03/08/2004 08.00 WIB", "38202",
                                                  "Jum'at 6 Agustus 2004 07:30 WITA", "45000.0"]))[1].all()
    values, _ = dates(MIN_YEAR, last_year())(pa.array(["Selasa, 3 Agustus 2004", "2004-08-03 00:00:00",
                                                       "03/08/2004 08.00 WIB", "38202", "45000.0"]))
    assert values.to_pylist() == [dt.date(2004, 8, 3)] * 4 + [dt.date(2023, 3, 15)]

    next_year = dt.date.today().year + 1
    for col_type in DATE_TYPES:
        _, (values, errors) = _both(["13/03/2025", "29/02/2023", "31/12/1899", "01/01/1900", f"31.12.{next_year}",
                                     f"01.01.{next_year + 1}", "13-03-2025", "2024-2-29", "13 April 2025",
                                     "13-Agt-2025", "31 Juni 2025", "1 Bulan 2025"], col_type)
        assert values == [dt.date(2025, 3, 13), None, None, dt.date(1900, 1, 1), dt.date(next_year, 12, 31), None,
                          dt.date(2025, 3, 13), dt.date(2024, 2, 29), dt.date(2025, 4, 13), dt.date(2025, 8, 13),
                          None, None]
        assert errors == [None, "DATE_INVALID", "DATE_OUT_OF_RANGE", None, None, "DATE_OUT_OF_RANGE", None, None,
                          None, None, "DATE_INVALID", "DATE_INVALID"]


@settings(max_examples=200, deadline=None)
@given(first=VALUES, second=VALUES, col_type=st.sampled_from(DATE_TYPES))
def test_kept_parser_equals_the_bulk_path_across_files(first, second, col_type):
    """A small file's column is parsed through the parser a Validator keeps across files (with its cache, value by
    value: `map_memo`): the same values and reasons as the bulk path, also for a second file whose texts the cache
    partly holds already."""
    from cakupan.ingest.validate import Validator

    validator = Validator({}, b"test-key")
    kept = validator._kept_parser(col_type)
    for values in (first, second, first + second):
        arr = pa.array(values, pa.string())
        bulk = map_distinct(arr, parser_for(col_type, {}), pa.date32(), dates(MIN_YEAR, last_year()))
        through_kept = map_memo(values, validator._kept_parser(col_type), pa.date32())
        assert [x.to_pylist() for x in through_kept] == [x.to_pylist() for x in bulk]
    assert validator._kept_parser(col_type) is kept
    if set(first) & set(second):
        assert kept.cache_info().hits > 0


def test_regional_news_date_stamps_read_the_same_in_bulk():
    """Date stamps in the ways Indonesian regional news sites print them (sindonews, detik-style, a weekday with the
    date in brackets): the bulk path and the parser agree, the bulk path reads the weekday and time-of-day ones, and
    a stamp with a dash or a bar before its time is no date to either."""
    import datetime as dt

    stamps = ["Selasa, 03 Des 2024 14:30 WIB", "Kamis, 6 Maret 2025 09:15 WITA", "Rabu, 12/02/2025 10.00 WIT",
              "Sabtu, 1 Februari 2025", "Minggu 2 Feb 2025 07:05", "28-03-2025 08:00:00", "Jumat (28/3/2025)",
              "Senin (6/11/2017)", "Jum'at, 13 Oktober 2023 - 12:45 WIB", "Jumat, 28 Maret 2025 | 16:20 WIB"]
    for col_type in DATE_TYPES:
        slow, fast = _both(stamps, col_type)
        assert fast == slow
    assert slow[0] == [dt.date(2024, 12, 3), dt.date(2025, 3, 6), dt.date(2025, 2, 12), dt.date(2025, 2, 1),
                       dt.date(2025, 2, 2), dt.date(2025, 3, 28), dt.date(2025, 3, 28), dt.date(2017, 11, 6), None, None]
    assert slow[1][-2:] == ["DATE_INVALID", "DATE_INVALID"]
    assert dates(MIN_YEAR, last_year())(pa.array(stamps))[1].tolist() == [True] * 6 + [False] * 4


def test_an_office_export_s_date_styles_are_read_in_bulk():
    """Styles an office's export writes that the parser read one distinct text at a time: Excel's d-mmm-yy
    ("13-Apr-25"), a month's short name with a dot ("3 Okt. 2024"), "Agst" for Agustus (as Indonesian calendars
    shorten it), and an ISO stamp with a T, a fraction of a second and a zone. Read in bulk, to the dates written
    out here; the parser agrees value by value."""
    import datetime as dt

    texts = ["13-Apr-25", "1-Jan-90", "31-Des-69", "3 Okt. 2024", "17 Agst 1985", "01 AGST 2013", "9-Sep.-2001",
             "2025-04-13T08:00:00.000Z", "2025-04-13T08:00:00+07:00", "13/04/2025 08:00 +0700"]
    want = [dt.date(2025, 4, 13), dt.date(1990, 1, 1), dt.date(2069, 12, 31), dt.date(2024, 10, 3),
            dt.date(1985, 8, 17), dt.date(2013, 8, 1), dt.date(2001, 9, 9)] + [dt.date(2025, 4, 13)] * 3
    _read_in_bulk_to(texts, want)
    # a year of one or three digits, or a month no one writes: no date, and left to the parser to say why
    assert dates(MIN_YEAR, 2100)(pa.array(["13-Apr-5", "13-Apr-025", "13 Agstus 2025", "1 Fbr 2025"])) is None


def test_the_older_indonesian_month_abbreviations_are_read_in_bulk():
    """Abbreviations of the older spelling and of Dutch habit that office documents still carry: "Pebr." /
    "Febr." for Februari, "Mrt" for Maret, "Agus" for Agustus. Each was DATE_INVALID; read in bulk now, to the
    dates written out here, and the parser agrees."""
    import datetime as dt

    texts = ["1 Pebr. 2025", "28-Febr-2024", "3 Mrt 2024", "31 MRT 1999", "17 Agus 1985", "Mrt 5, 2024",
             "2 pebr 25"]
    want = [dt.date(2025, 2, 1), dt.date(2024, 2, 28), dt.date(2024, 3, 3), dt.date(1999, 3, 31),
            dt.date(1985, 8, 17), dt.date(2024, 3, 5), dt.date(2025, 2, 2)]
    _read_in_bulk_to(texts, want)


def _read_in_bulk_to(texts: list[str], want: list) -> None:
    """Every text read in bulk (none left to the parser) to the dates written out by hand, and the parser agrees."""
    values, read = dates(MIN_YEAR, 2100)(pa.array(texts))
    assert read.tolist() == [True] * len(texts)
    assert values.to_pylist() == want
    for col_type in DATE_TYPES:
        slow, fast = _both(texts, col_type)
        assert fast == slow


def test_a_database_s_compact_dates_and_a_misspelt_month_are_read_in_bulk():
    """A database or payroll system exports a date in ISO 8601's basic form ("20250413"), and a clerk types it so
    as a number; "Febuari" is how Februari is often misspelt. Each was DATE_INVALID; read in bulk now, to the dates
    written out here, and the parser agrees. Eight digits that are no date stay the parser's to refuse."""
    import datetime as dt

    texts = ["20250413", "19850312", "20240229", "20250413 08:00", "1 Febuari 2025", "28 pebuari 2024"]
    want = [dt.date(2025, 4, 13), dt.date(1985, 3, 12), dt.date(2024, 2, 29), dt.date(2025, 4, 13),
            dt.date(2025, 2, 1), dt.date(2024, 2, 28)]
    _read_in_bulk_to(texts, want)
    assert dates(MIN_YEAR, 2100)(pa.array(["20250229", "20251301", "01042025", "18991231"])) is None
