"""Table-driven tests for cakupan.ingest.parsing: every expected value is written by hand from the spec."""

from __future__ import annotations

import datetime as dt
import pickle
from decimal import Decimal

import pytest
from cakupan.ingest.parsing import (
    CODES,
    ParseError,
    cell_text,
    is_blank,
    is_total_label,
    nik_cell_is_numeric,
    parse_birth_date_cell,
    parse_count,
    parse_date,
    parse_funding_source,
    parse_kpj,
    parse_money,
    parse_month,
    parse_number,
    parse_program,
    parse_programs,
    parse_sex,
)
from cakupan.ingest.periodtext import find_period_in_text, months_named
from hypothesis import given
from hypothesis import strategies as st

D = dt.date
NBSP = "\u00a0"
BLANKS = [None, "", " ", "   ", "\t", "\n", NBSP, f" {NBSP} ", "'", " ' ", float("nan")]


def _code(func, value, **kwargs) -> str:
    with pytest.raises(ParseError) as info:
        func(value, **kwargs)
    return info.value.code


# --------------------------------------------------------------------------------------------- ParseError


def test_parse_error_is_value_error_with_code_and_message():
    e = ParseError("NUMBER_INVALID", "'abc' is not a number.")
    assert isinstance(e, ValueError)
    assert e.code == "NUMBER_INVALID"
    assert e.message == "'abc' is not a number."
    assert "NUMBER_INVALID" in str(e)


def test_parse_error_pickles():
    e = pickle.loads(pickle.dumps(ParseError("SEX_INVALID", "x")))
    assert (e.code, e.message) == ("SEX_INVALID", "x")


def test_codes_are_exactly_the_listed_ones():
    assert CODES == {
        "NUMBER_INVALID", "NUMBER_NEGATIVE", "NUMBER_OUT_OF_RANGE", "COUNT_NOT_WHOLE", "DATE_INVALID",
        "DATE_OUT_OF_RANGE", "MONTH_INVALID", "PROGRAM_UNKNOWN", "SEX_INVALID", "FUNDING_SOURCE_UNKNOWN", "KPJ_INVALID",
    }


def test_error_message_names_the_value():
    with pytest.raises(ParseError) as info:
        parse_sex("X-ray")
    assert "X-ray" in info.value.message


# --------------------------------------------------------------------------------------------- blanks

ALL_PARSERS = [
    parse_number, parse_money, parse_count, parse_date, parse_month, parse_programs, parse_program, parse_sex,
    parse_funding_source, parse_kpj, parse_birth_date_cell, cell_text,
    find_period_in_text,
]


@pytest.mark.parametrize("func", ALL_PARSERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("value", BLANKS, ids=repr)
def test_blank_gives_none(func, value):
    assert func(value) is None


@pytest.mark.parametrize("value", BLANKS, ids=repr)
def test_is_blank_true(value):
    assert is_blank(value) is True


@pytest.mark.parametrize("value", ["0", 0, 0.0, "x", "'0", "-", D(2025, 1, 1), "  a  "], ids=repr)
def test_is_blank_false(value):
    assert is_blank(value) is False


# --------------------------------------------------------------------------------------------- cell_text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (16800.0, "16800"),
        (16800, "16800"),
        (0.0, "0"),
        (-5.0, "-5"),
        (12.5, "12.5"),
        (0.1, "0.1"),
        (16800.5, "16800.5"),
        (7.37201450580012e15, "7372014505800120"),
        (D(2025, 5, 1), "2025-05-01"),
        (dt.datetime(2025, 5, 1), "2025-05-01"),
        (dt.datetime(2025, 5, 1, 0, 0, 0), "2025-05-01"),
        (dt.datetime(2025, 5, 1, 10, 30), "2025-05-01T10:30:00"),
        ("  JKK  ", "JKK"),
        ("'7372014505800123", "7372014505800123"),
        (" '7372014505800123 ", "7372014505800123"),
        ("'  abc", "abc"),
        (f"Kota{NBSP}Parepare", "Kota Parepare"),
        ("Kota   Parepare", "Kota Parepare"),
        ("Kota \t\n Parepare", "Kota Parepare"),
        (f"{NBSP}16.800{NBSP}", "16.800"),
        ("\ufeffNIK", "NIK"),
        ("it's", "it's"),
        ("a'", "a'"),
        # a CSV cell written as the formula ="..." (exports keep a NIK's or a phone's digits so): the text inside
        ('="7372014505800123"', "7372014505800123"),
        (' =" 0812 4400 0001 " ', "0812 4400 0001"),
        ('="\'0812"', "0812"),
        ('="Ma""ruf"', 'Ma"ruf'),
        ('=""', None),
        ("=SUM(A1:A3)", "=SUM(A1:A3)"),
        ('="7372', '="7372'),
        ('=7372"', '=7372"'),
    ],
    ids=repr,
)
def test_cell_text(value, expected):
    assert cell_text(value) == expected


# --------------------------------------------------------------------------------------------- numbers

NUMBERS = [
    ("16.800", Decimal(16800)),
    ("Rp 16.800,00", Decimal(16800)),
    ("Rp16.800,00", Decimal(16800)),
    ("Rp. 16.800", Decimal(16800)),
    ("RP 16.800", Decimal(16800)),
    ("IDR 16.800", Decimal(16800)),
    ("Rp 16.800,-", Decimal(16800)),
    ("16.800,-", Decimal(16800)),
    ("Rp 16.800/bulan", Decimal(16800)),
    ("Rp 16.800 per bulan", Decimal(16800)),
    ("16.800 rupiah", Decimal(16800)),
    ("1.234.567", Decimal(1234567)),
    ("1.234.567,89", Decimal("1234567.89")),
    ("Rp1,2 miliar", Decimal(1200000000)),
    ("Rp 1,2 Miliar", Decimal(1200000000)),
    ("1,2 milyar", Decimal(1200000000)),
    ("Rp1,2M", Decimal(1200000000)),
    ("Rp 1,2 M", Decimal(1200000000)),
    ("1,2 M", Decimal(1200000000)),
    ("Rp300 Juta", Decimal(300000000)),
    ("300 jt", Decimal(300000000)),
    ("300jt", Decimal(300000000)),
    ("2,5 juta", Decimal(2500000)),
    ("2,500 juta", Decimal(2500000)),
    ("1.500 juta", Decimal(1500000000)),
    ("Rp 1,5 triliun", Decimal(1500000000000)),
    ("50 ribu", Decimal(50000)),
    ("50rb", Decimal(50000)),
    ("50 rb.", Decimal(50000)),
    ("4.000 orang", Decimal(4000)),
    ("4.000 Orang", Decimal(4000)),
    ("2.000 peserta", Decimal(2000)),
    ("750 jiwa", Decimal(750)),
    ("Rp 235.200,00", Decimal(235200)),
    ("252000", Decimal(252000)),
    ("007", Decimal(7)),
    ("0", Decimal(0)),
    ("1,234,567", Decimal(1234567)),
    ("16,800.50", Decimal("16800.50")),
    ("1,234,567.5", Decimal("1234567.5")),
    ("12,5", Decimal("12.5")),
    ("0,5", Decimal("0.5")),
    ("0,500", Decimal("0.5")),
    ("0.500", Decimal("0.5")),
    ("1234,567", Decimal("1234.567")),
    ("1234.567", Decimal("1234.567")),
    ("16.8", Decimal("16.8")),
    ("16.80", Decimal("16.8")),
    ("16.8000", Decimal("16.8")),
    ("1,234", Decimal(1234)),
    ("1.234", Decimal(1234)),
    ("999,999", Decimal(999999)),
    ("-5.000", Decimal(-5000)),
    ("- 5.000", Decimal(-5000)),
    ("\u22125.000", Decimal(-5000)),
    ("Rp -5.000", Decimal(-5000)),
    ("-Rp 5.000", Decimal(-5000)),
    ("+5.000", Decimal(5000)),
    ("(5.000)", Decimal(-5000)),
    ("( 5.000 )", Decimal(-5000)),
    ("(Rp 5.000)", Decimal(-5000)),
    ("Rp (5.000)", Decimal(-5000)),
    ("'16800", Decimal(16800)),
    (f"Rp{NBSP}16.800", Decimal(16800)),
    (16800, Decimal(16800)),
    (16800.0, Decimal(16800)),
    (16800.5, Decimal("16800.5")),
    (0.1, Decimal("0.1")),
    (-5.0, Decimal(-5)),
    (Decimal("12.50"), Decimal("12.5")),
]


@pytest.mark.parametrize(("value", "expected"), NUMBERS, ids=repr)
def test_parse_number(value, expected):
    got = parse_number(value)
    assert isinstance(got, Decimal)
    assert got == expected


def test_parse_number_float_goes_through_str():
    # Decimal(0.1) would be 0.1000000000000000055511151231257827...; Decimal(str(0.1)) is exactly 0.1
    assert parse_number(0.1) == Decimal("0.1")
    assert parse_number(0.1) != Decimal.from_float(0.1)


def test_parse_number_drops_zero_fraction():
    assert str(parse_number("Rp 16.800,00")) == "16800"
    assert str(parse_number(16800.0)) == "16800"
    assert str(parse_number("Rp1,2 miliar")) == "1200000000"


NUMBER_INVALID = [
    "abc", "12a", "a12", "1.2.3,4,5", "1,2M", "12 apel", "Rp", "rp.", "-", "- Rp", "Rp --", "Rp -,-", "(", "()", "1..2", "1,,2", "16.",
    "16,", ".5", ",5", "1.23.456", "1,23,456", "12.34.567", "1.234,567,8", "1,234.567.8", "--5", "(-5.000)",
    "5 5", "1e5", "7.37201450580012E+15", "Rp 16.800 USD", "16.800 juta juta", "tidak ada", "n/a", "12%",
    float("inf"), float("-inf"), True, False, D(2025, 1, 1), dt.datetime(2025, 1, 1, 10, 0), Decimal("NaN"),
]


@pytest.mark.parametrize("value", NUMBER_INVALID, ids=repr)
def test_parse_number_invalid(value):
    assert _code(parse_number, value) == "NUMBER_INVALID"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Rp 16.800,00", Decimal(16800)), ("0", Decimal(0)), (16800.0, Decimal(16800)),
     ("Rp1,2 miliar", Decimal(1200000000)), ("12,5", Decimal("12.5")), ("-0", Decimal(0)),
     # Excel's accounting format writes a zero as a dash after the currency, padded to the column's width
     ("Rp -", Decimal(0)), (f" Rp{NBSP}   -   ", Decimal(0)), ("Rp.-", Decimal(0)), ("IDR \u2013", Decimal(0))],
    ids=repr,
)
def test_parse_money(value, expected):
    assert parse_money(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [("-5.000", "NUMBER_NEGATIVE"), ("(5.000)", "NUMBER_NEGATIVE"), (-1, "NUMBER_NEGATIVE"),
     (-0.5, "NUMBER_NEGATIVE"), ("Rp -16.800", "NUMBER_NEGATIVE"), ("abc", "NUMBER_INVALID"),
     ("12a", "NUMBER_INVALID")],
    ids=repr,
)
def test_parse_money_errors(value, code):
    assert _code(parse_money, value) == code


@pytest.mark.parametrize(
    ("value", "expected"),
    [("4.000 orang", 4000), ("1.000", 1000), ("252000", 252000), (250.0, 250), (250, 250), ("0", 0),
     ("12,0", 12), ("12.00", 12), ("2,5 ribu", 2500), ("1,234,567", 1234567), ("2.000 peserta", 2000)],
    ids=repr,
)
def test_parse_count(value, expected):
    got = parse_count(value)
    assert type(got) is int
    assert got == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [("12,5", "COUNT_NOT_WHOLE"), (12.5, "COUNT_NOT_WHOLE"), ("16.8", "COUNT_NOT_WHOLE"),
     ("0,5", "COUNT_NOT_WHOLE"), ("-3", "NUMBER_NEGATIVE"), (-3.0, "NUMBER_NEGATIVE"),
     ("(5.000)", "NUMBER_NEGATIVE"), ("abc", "NUMBER_INVALID"), ("4.000 orang-orang", "NUMBER_INVALID")],
    ids=repr,
)
def test_parse_count_errors(value, code):
    assert _code(parse_count, value) == code


# --------------------------------------------------------------------------------------------- dates

DATES = [
    ("13/03/2025", D(2025, 3, 13)),
    ("13-03-2025", D(2025, 3, 13)),
    ("13.03.2025", D(2025, 3, 13)),
    ("13 / 03 / 2025", D(2025, 3, 13)),
    ("3/3/2025", D(2025, 3, 3)),
    ("03/04/2025", D(2025, 4, 3)),  # day first, always
    ("12/05/1980", D(1980, 5, 12)),
    ("13 Maret 2025", D(2025, 3, 13)),
    ("13 maret 2025", D(2025, 3, 13)),
    ("13 MARET 2025", D(2025, 3, 13)),
    ("13 Mar 2025", D(2025, 3, 13)),
    ("13 Mar. 2025", D(2025, 3, 13)),
    ("13-Mar-2025", D(2025, 3, 13)),
    ("13-mar-25", D(2025, 3, 13)),
    ("13 Maret, 2025", D(2025, 3, 13)),
    ("2025-03-13", D(2025, 3, 13)),
    ("2025/03/13", D(2025, 3, 13)),
    ("2025.03.13", D(2025, 3, 13)),
    ("2025-3-5", D(2025, 3, 5)),
    ("2025-03-13 00:00:00", D(2025, 3, 13)),
    ("2025-03-13 10:20:30", D(2025, 3, 13)),
    ("2025-03-13T10:20:30", D(2025, 3, 13)),
    ("2025-03-13 00:00:00.000", D(2025, 3, 13)),
    ("13/03/2025 10:20", D(2025, 3, 13)),
    ("13 Maret 2025 10.30 WITA", D(2025, 3, 13)),
    ("Kamis, 13 Maret 2025", D(2025, 3, 13)),
    ("Kamis 13 Maret 2025", D(2025, 3, 13)),
    ("Senin (28/4/2025)", D(2025, 4, 28)),
    ("Senin, 28 April 2025", D(2025, 4, 28)),
    ("Jumat, 2 Mei 2025", D(2025, 5, 2)),
    ("Jum'at, 2 Mei 2025", D(2025, 5, 2)),
    ("Sabtu, 3 Mei 2025", D(2025, 5, 3)),
    ("Minggu, 4 Mei 2025", D(2025, 5, 4)),
    ("Selasa, 6 Mei 2025", D(2025, 5, 6)),
    ("Rabu, 7 Mei 2025", D(2025, 5, 7)),
    ("(28/4/2025)", D(2025, 4, 28)),
    ("Thursday, 13 March 2025", D(2025, 3, 13)),
    ("March 13, 2025", D(2025, 3, 13)),
    ("13/03/25", D(2025, 3, 13)),
    ("13/03/69", D(2069, 3, 13)),
    ("13/03/70", D(1970, 3, 13)),
    ("13/03/00", D(2000, 3, 13)),
    ("12-05-80", D(1980, 5, 12)),
    ("13 Mar 99", D(1999, 3, 13)),
    ("29/02/2024", D(2024, 2, 29)),
    ("'13/03/2025", D(2025, 3, 13)),
    ("13 Maret 2025.", D(2025, 3, 13)),
    # Excel serials, 1899-12-30 epoch (45658 is 1 January 2025)
    (45658, D(2025, 1, 1)),
    (45658.0, D(2025, 1, 1)),
    (45658.75, D(2025, 1, 1)),
    ("45658", D(2025, 1, 1)),
    ("45658.0", D(2025, 1, 1)),
    (45729, D(2025, 3, 13)),
    (2, D(1900, 1, 1)),
    (Decimal(45658), D(2025, 1, 1)),
    (D(2025, 3, 13), D(2025, 3, 13)),
    (dt.datetime(2025, 3, 13), D(2025, 3, 13)),
    (dt.datetime(2025, 3, 13, 23, 59), D(2025, 3, 13)),
]


@pytest.mark.parametrize(("value", "expected"), DATES, ids=repr)
def test_parse_date(value, expected):
    got = parse_date(value)
    assert type(got) is dt.date
    assert got == expected


MONTH_NAMES = [
    ("Januari", 1), ("Jan", 1), ("January", 1), ("Februari", 2), ("Feb", 2), ("Pebruari", 2), ("February", 2),
    ("Febr", 2), ("Pebr", 2), ("Maret", 3), ("Mar", 3), ("Mrt", 3), ("March", 3), ("April", 4), ("Apr", 4), ("Mei", 5), ("May", 5), ("Juni", 6),
    ("Jun", 6), ("June", 6), ("Juli", 7), ("Jul", 7), ("July", 7), ("Agustus", 8), ("Agu", 8), ("Agt", 8), ("Agst", 8), ("Agus", 8),
    ("Ags", 8), ("Aug", 8), ("August", 8), ("September", 9), ("Sep", 9), ("Sept", 9), ("Oktober", 10),
    ("Okt", 10), ("Oct", 10), ("October", 10), ("November", 11), ("Nov", 11), ("Nop", 11), ("Desember", 12),
    ("Des", 12), ("Dec", 12), ("December", 12),
]


@pytest.mark.parametrize(("name", "month"), MONTH_NAMES)
def test_parse_date_month_names(name, month):
    assert parse_date(f"5 {name} 2024") == D(2024, month, 5)
    assert parse_date(f"5 {name.upper()} 2024") == D(2024, month, 5)
    assert parse_date(f"05-{name.lower()}-2024") == D(2024, month, 5)


@pytest.mark.parametrize(
    "value",
    ["31/02/2025", "00/01/2025", "32/01/2025", "13/13/2025", "13/00/2025", "29/02/2025", "31/04/2025",
     "2025-02-30", "2025-13-01", "0/0/0000", "13 Foo 2025", "13 Marets 2025", "abc", "besok", "13/03",
     "2025-03", "13/03/2025/1", "13/03-2025", "13 03 2025", "13/03/025", "Parepare, 12-05-1980", "12a",
     "Senin", "0", 0, -5, 0.5, 2958466, "2958466", 1e20, True, dt.time(10, 0), float("inf")],
    ids=repr,
)
def test_parse_date_invalid(value):
    assert _code(parse_date, value) == "DATE_INVALID"


@pytest.mark.parametrize(
    ("value", "kwargs"),
    [("13/03/1850", {}), ("13/03/2101", {}), (D(1899, 12, 31), {}), (dt.datetime(2200, 1, 1), {}),
     (1, {}), (2958465, {}), ("13/03/2025", {"max_year": 2024}), ("13/03/2025", {"min_year": 2026}),
     (45658, {"min_year": 2026}), ("45658", {"max_year": 2024}), ("13/03/70", {"min_year": 2000}),
     (D(1980, 5, 12), {"min_year": 2000})],
    ids=repr,
)
def test_parse_date_out_of_range(value, kwargs):
    assert _code(parse_date, value, **kwargs) == "DATE_OUT_OF_RANGE"


def test_parse_date_bare_number_is_a_serial():
    # 1899-12-30 + 2025 days = 17 July 1905: a short digit string is still a serial, as specified
    assert parse_date("2025") == D(1905, 7, 17)
    assert parse_date(2025) == D(1905, 7, 17)
    assert _code(parse_date, "2025", min_year=2000) == "DATE_OUT_OF_RANGE"


def test_parse_date_custom_range_accepts():
    assert parse_date("01/01/1850", min_year=1800) == D(1850, 1, 1)
    assert parse_date(2958465, max_year=9999) == D(9999, 12, 31)
    assert parse_date("13/03/2025", min_year=2025, max_year=2025) == D(2025, 3, 13)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Parepare, 12-05-1980", D(1980, 5, 12)),
        ("Parepare 12 Mei 1980", D(1980, 5, 12)),
        ("PAREPARE,12/05/1980", D(1980, 5, 12)),
        ("Kota Parepare, 12 Mei 1980", D(1980, 5, 12)),
        ("Ujung Pandang / 01-01-1970", D(1970, 1, 1)),
        ("Sidenreng Rappang, 3 Agt 1975", D(1975, 8, 3)),
        ("12-05-1980", D(1980, 5, 12)),
        ("12 Mei 1980", D(1980, 5, 12)),
        ("1980-05-12", D(1980, 5, 12)),
        (29353, D(1980, 5, 12)),
        (D(1980, 5, 12), D(1980, 5, 12)),
        (dt.datetime(1980, 5, 12), D(1980, 5, 12)),
    ],
    ids=repr,
)
def test_parse_birth_date_cell(value, expected):
    assert parse_birth_date_cell(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [("Parepare", "DATE_INVALID"), ("Parepare, 31-02-1980", "DATE_INVALID"),
     ("Parepare, kemarin", "DATE_INVALID"),
     ("Parepare, 12-05-1850", "DATE_OUT_OF_RANGE"), ("12-05-1850", "DATE_OUT_OF_RANGE"),
     ("Parepare, 12-05", "DATE_INVALID"), ("abc", "DATE_INVALID")],
    ids=repr,
)
def test_parse_birth_date_cell_errors(value, code):
    assert _code(parse_birth_date_cell, value) == code


# --------------------------------------------------------------------------------------------- months


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("April 2025", D(2025, 4, 1)),
        ("Mei 2025", D(2025, 5, 1)),
        ("APRIL 2025", D(2025, 4, 1)),
        ("april 2025", D(2025, 4, 1)),
        ("Apr 2025", D(2025, 4, 1)),
        ("Apr. 2025", D(2025, 4, 1)),
        ("Apr-2025", D(2025, 4, 1)),
        ("Apr-25", D(2025, 4, 1)),
        ("Juni 2025", D(2025, 6, 1)),
        ("Pebruari 2025", D(2025, 2, 1)),
        ("Desember 2024", D(2024, 12, 1)),
        ("Bulan April 2025", D(2025, 4, 1)),
        ("Periode: April 2025", D(2025, 4, 1)),
        ("04/2025", D(2025, 4, 1)),
        ("4/2025", D(2025, 4, 1)),
        ("04-2025", D(2025, 4, 1)),
        ("12/2024", D(2024, 12, 1)),
        ("2025-04", D(2025, 4, 1)),
        ("2025/04", D(2025, 4, 1)),
        ("2025-4", D(2025, 4, 1)),
        ("202504", D(2025, 4, 1)),
        ("2025-04-17", D(2025, 4, 1)),
        ("17/04/2025", D(2025, 4, 1)),
        ("17 April 2025", D(2025, 4, 1)),
        ("2025-04-01 00:00:00", D(2025, 4, 1)),
        (D(2025, 4, 17), D(2025, 4, 1)),
        (dt.datetime(2025, 4, 17, 8, 0), D(2025, 4, 1)),
        (45748, D(2025, 4, 1)),
        (45748.0, D(2025, 4, 1)),
        (45762.0, D(2025, 4, 1)),
        ("45748", D(2025, 4, 1)),
    ],
    ids=repr,
)
def test_parse_month(value, expected):
    assert parse_month(value) == expected


@pytest.mark.parametrize(
    "value",
    ["13/2025", "00/2025", "2025-13", "2025-00", "Foo 2025", "April", "2025", "abc", "April 1850",
     "13/13/2025",
     "31/02/2025", "April 2025 2026", "4", "04", 2025, 2025.0, 9999, 0, -1, True, dt.time(1, 0)],
    ids=repr,
)
def test_parse_month_invalid(value):
    assert _code(parse_month, value) == "MONTH_INVALID"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE \u2014 BULAN APRIL 2025", D(2025, 4, 1)),
        ("DAFTAR PESERTA ... \u2014 BULAN APRIL 2025", D(2025, 4, 1)),
        ("KAB. SIDRAP - APRIL 2025", D(2025, 4, 1)),
        ("BULAN MEI 2025 (REVISI)", D(2025, 5, 1)),
        ("Bulan : Juni 2025", D(2025, 6, 1)),
        ("TAGIHAN IURAN PERIODE PEBRUARI 2025", D(2025, 2, 1)),
        ("register_sidrap_2025-05_koreksi.xlsx", D(2025, 5, 1)),
        ("register_sidrap_2025_05.csv", D(2025, 5, 1)),
        ("iuran_parepare_202505.xlsx", D(2025, 5, 1)),
        ("laporan_april_2025.xlsx", D(2025, 4, 1)),
        ("register 05-2025.xlsx", D(2025, 5, 1)),
        ("PERIODE 04/2025", D(2025, 4, 1)),
        ("BULAN APRIL 2025 / 2025-04", D(2025, 4, 1)),  # the same month twice is not ambiguous
        ("BULAN APRIL 2025 (dicetak 02/05/2025)", D(2025, 4, 1)),  # a full date is not a period
        ("register_2025-05_dikirim_2025-06-02.xlsx", D(2025, 5, 1)),
        ("APR 2025", D(2025, 4, 1)),
    ],
    ids=repr,
)
def test_find_period_in_text(text, expected):
    assert find_period_in_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "TRIWULAN II 2025",
        "LAPORAN TRIWULAN I TAHUN 2025",
        "SEMESTER I 2025",
        "DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE",
        "register_sidrap.xlsx",
        "TAHUN 2025",
        "APRIL 2025 - MEI 2025",
        "JANUARI - MARET 2025",
        "register_2025-04_2025-05.xlsx",
        "register_2025-05-02.xlsx",
        "dicetak 13 Maret 2025",
        "NIK 7372014505800123",
        "Dana Desa 2025",
        "",
        None,
    ],
    ids=repr,
)
def test_find_period_in_text_none(text):
    assert find_period_in_text(text) is None


# --------------------------------------------------------------------------------------------- programs


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("JKK, JKM", ("JKK", "JKM")),
        ("JKK,JKM", ("JKK", "JKM")),
        ("JKK+JKM", ("JKK", "JKM")),
        ("JKK + JKM", ("JKK", "JKM")),
        ("JKK/JKM", ("JKK", "JKM")),
        ("jkk & jkm", ("JKK", "JKM")),
        ("JKK dan JKM", ("JKK", "JKM")),
        ("JKK DAN JKM", ("JKK", "JKM")),
        ("JKK-JKM", ("JKK", "JKM")),
        ("JKK JKM", ("JKK", "JKM")),
        ("JKM, JKK", ("JKK", "JKM")),
        ("JKK, JKM, JKK", ("JKK", "JKM")),
        ("JKM", ("JKM",)),
        ("jkk", ("JKK",)),
        ("Jaminan Kecelakaan Kerja, Jaminan Kematian", ("JKK", "JKM")),
        ("Jaminan Kecelakaan Kerja dan Jaminan Kematian", ("JKK", "JKM")),
        ("Kecelakaan Kerja + Kematian", ("JKK", "JKM")),
        ("JKM (Jaminan Kematian)", ("JKM",)),
        ("Jaminan Hari Tua", ("JHT",)),
        ("Jaminan Pensiun", ("JP",)),
        ("Jaminan Kehilangan Pekerjaan", ("JKP",)),
        ("JHT, JKK, JKM, JKP, JP", ("JHT", "JKK", "JKM", "JKP", "JP")),
        ("JP/JHT", ("JHT", "JP")),
        ("Program JKK, JKM", ("JKK", "JKM")),
        (f"JKK,{NBSP}JKM", ("JKK", "JKM")),
        # the scheme (BPU: Bukan Penerima Upah) and the programs' count written around them
        ("BPU JKK JKM", ("JKK", "JKM")), ("BPU: JKK, JKM", ("JKK", "JKM")), ("JKK JKM (BPU)", ("JKK", "JKM")),
        ("2 Program (JKK, JKM)", ("JKK", "JKM")), ("Dua program yaitu JKK dan JKM", ("JKK", "JKM")),
        ("JKK serta JKM", ("JKK", "JKM")), ("3 program: JHT, JKK, JKM", ("JHT", "JKK", "JKM")),
    ],
    ids=repr,
)
def test_parse_programs(value, expected):
    assert parse_programs(value) == expected


@pytest.mark.parametrize(
    "value",
    ["JKN", "JKK, JKN", "BPJS", "JKK JKM XYZ", ",", "+", "dan", "Jaminan", "Jaminan Kesehatan", "1", 1.0,
     "JKKJKM", "JKK;JKN", D(2025, 1, 1), "BPU", "2 program", "Dua", "3 Program (JKK, JKM)", "1 program JKK JKM",
     "2 3 JKK JKM"],
    ids=repr,
)
def test_parse_programs_unknown(value):
    assert _code(parse_programs, value) == "PROGRAM_UNKNOWN"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("JKK", "JKK"), ("jkm", "JKM"), (" JKM ", "JKM"), ("Jaminan Kematian", "JKM"),
     ("Jaminan Kecelakaan Kerja", "JKK"), ("JKM (Jaminan Kematian)", "JKM"), ("JHT", "JHT"), ("JP", "JP"),
     ("JKP", "JKP"), ("JKM, JKM", "JKM")],
    ids=repr,
)
def test_parse_program(value, expected):
    assert parse_program(value) == expected


@pytest.mark.parametrize("value", ["JKK, JKM", "JKK+JKM", "JKN", "Kecelakaan", "x", 5], ids=repr)
def test_parse_program_errors(value):
    assert _code(parse_program, value) == "PROGRAM_UNKNOWN"


# --------------------------------------------------------------------------------------------- sex


@pytest.mark.parametrize(
    ("value", "expected"),
    [("L", "L"), ("l", "L"), (" L ", "L"), ("L.", "L"), ("Laki-laki", "L"), ("LAKI-LAKI", "L"),
     ("laki-laki", "L"), ("Laki Laki", "L"), ("Laki laki", "L"), ("Lakilaki", "L"), ("Lk", "L"), ("LK", "L"),
     ("Lk.", "L"), ("Pria", "L"), ("PRIA", "L"), ("M", "L"), ("m", "L"), ("Male", "L"), ("MALE", "L"),
     ("P", "P"), ("p", "P"), ("Perempuan", "P"), ("PEREMPUAN", "P"), ("Pr", "P"), ("PR", "P"),
     ("Wanita", "P"), ("WANITA", "P"), ("F", "P"), ("f", "P"), ("Female", "P"), ("FEMALE", "P"),
     ("Laki", "L"), ("Laki2", "L"), ("laki-2", "L"), ("LAKI2", "L"), ("Lelaki", "L")],
    ids=repr,
)
def test_parse_sex(value, expected):
    assert parse_sex(value) == expected


@pytest.mark.parametrize(
    "value", ["X", "L/P", "LP", "1", "2", 1, 0.0, "Perempuan Laki", "W", "Man", "-", True], ids=repr
)
def test_parse_sex_invalid(value):
    assert _code(parse_sex, value) == "SEX_INVALID"


# --------------------------------------------------------------------------------------------- funding


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("APBD", "APBD"), ("apbd", "APBD"), ("APBD Kab", "APBD"), ("APBD Kota", "APBD"),
        ("APBD Provinsi", "APBD"), ("APBD Kab. Sidrap", "APBD"), ("APBD Kota Parepare", "APBD"),
        ("APBD-P", "APBD"), (" APBD ", "APBD"),
        ("APBDES", "APBDES"), ("APBDes", "APBDES"), ("apbdes", "APBDES"), ("APBDesa", "APBDES"),
        ("APB Des", "APBDES"), ("Dana Desa", "APBDES"), ("DANA DESA", "APBDES"), ("DD", "APBDES"),
        ("dd", "APBDES"), ("ADD", "APBDES"), ("Alokasi Dana Desa", "APBDES"),
        ("CSR", "CSR"), ("csr", "CSR"), ("CSR PT Semen Tonasa", "CSR"),
        ("BAZNAS", "BAZNAS"), ("Baznas", "BAZNAS"), ("Baznas Kota Parepare", "BAZNAS"), ("Zakat", "BAZNAS"),
        ("ZAKAT", "BAZNAS"),
        ("MANDIRI", "MANDIRI"), ("Mandiri", "MANDIRI"), ("mandiri", "MANDIRI"), ("Bayar sendiri", "MANDIRI"),
        ("BAYAR SENDIRI", "MANDIRI"),
        # the government that pays, named instead of its budget
        ("Pemda", "APBD"), ("Pemkot", "APBD"), ("PEMKAB", "APBD"), ("Pemkab Luwu", "APBD"), ("Pemprov Sulsel", "APBD"),
        ("Pemerintah Kota Parepare", "APBD"), ("Pemerintah Kabupaten Pinrang", "APBD"), ("Pemerintah Daerah", "APBD"),
        ("Pemdes", "APBDES"), ("Pemerintah Desa Lumpue", "APBDES"),
    ],
    ids=repr,
)
def test_parse_funding_source(value, expected):
    assert parse_funding_source(value) == expected


@pytest.mark.parametrize(
    "value",
    ["APBN", "APB", "Desa", "D", "Swasta", "Bank", "x", "123", 5, "APBDX", "CSRX", "Lainnya", "Pemerintah",
     "Pemerintahan", "Pemkotx", "Pemerintah Pusat"],
    ids=repr,
)
def test_parse_funding_source_unknown(value):
    assert _code(parse_funding_source, value) == "FUNDING_SOURCE_UNKNOWN"


# --------------------------------------------------------------------------------------------- KPJ


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12345678901", "12345678901"), ("'12345678901", "12345678901"), ("123 456 789 01", "12345678901"),
     ("123.456.789.01", "12345678901"), ("123-456-789-01", "12345678901"), (f"123{NBSP}456", "123456"),
     ("0012345", "0012345"), (12345678901, "12345678901"), (12345678901.0, "12345678901"),
     (Decimal(12345678901), "12345678901"), (" 25010203 ", "25010203")],
    ids=repr,
)
def test_parse_kpj(value, expected):
    assert parse_kpj(value) == expected


@pytest.mark.parametrize(
    "value",
    ["KPJ123", "12a45", "1.2E+10", "12/34", "-", "'-", "(123)", "123,45", "\u0661\u0662\u0663", 1234.5, -123,
     float("inf"), Decimal("1E+40"), True, D(2025, 1, 1)],
    ids=repr,
)
def test_parse_kpj_invalid(value):
    assert _code(parse_kpj, value) == "KPJ_INVALID"


# --------------------------------------------------------------------------------------------- total rows


@pytest.mark.parametrize(
    "value",
    ["JUMLAH", "Jumlah", "jumlah", "TOTAL", "Total", "Jumlah Total", "JUMLAH TOTAL", "GRAND TOTAL",
     "Grand Total", "Sub Total", "SUB TOTAL", "Subtotal", "JUMLAH :", "Jumlah:", "TOTAL :", " TOTAL ",
     "JUMLAH KESELURUHAN", "Total Keseluruhan", "JML", "Sub Jumlah",
     # a district's or village's sub-total, naming it
     "SUB TOTAL KEC. BACUKIKI", "Jumlah Kecamatan Wara Timur", "Total Desa Pontap", "JUMLAH KEL. LUMPUE",
     "Sub Jumlah Kapanewon Panjatan", "Jumlah per Kecamatan Soreang", "JML KEC. UJUNG", "Subtotal Gampong Blang"],
    ids=repr,
)
def test_is_total_label_true(value):
    assert is_total_label(value) is True


@pytest.mark.parametrize(
    "value",
    ["Jumlah Peserta", "Total Iuran", "Nama", "NELAYAN", "", None, "   ", 5, 0.0, "TOTALITAS", "Jumlahnya",
     "Jumlah Desa", "Jumlah Kecamatan", "Total Kec.", "Jumlah Peserta Desa Pontap", "Kecamatan Bacukiki",
     "Desa Jumlah Baru",
     D(2025, 1, 1)],
    ids=repr,
)
def test_is_total_label_false(value):
    assert is_total_label(value) is False


# --------------------------------------------------------------------------------------------- NIK


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7372014505800120, True),
        (7.37201450580012e15, True),
        (Decimal(7372014505800120), True),
        ("7.37201450580012E+15", True),
        ("7,37201E+15", True),
        ("7.37201450580012e+15", True),
        ("7.37201450580012E15", True),
        ("'7.37201450580012E+15", True),
        ("7372014505800123", False),
        ("'7372014505800123", False),
        ("7372014505800120", False),  # typed as text and ends in 0: fine
        ("7372 0145 0580 0123", False),
        ("E+15", False),
        ("abc", False),
        ("", False),
        (None, False),
        (True, False),
        (D(2025, 1, 1), False),
    ],
    ids=repr,
)
def test_nik_cell_is_numeric(value, expected):
    assert nik_cell_is_numeric(value) is expected


# --------------------------------------------------------------------------------------------- properties

INDONESIAN_MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
                     "Oktober", "November", "Desember"]


@given(st.integers(min_value=0, max_value=10**12))
def test_indonesian_formatted_integers_round_trip(n):
    dotted = f"{n:,}".replace(",", ".")
    assert parse_number(dotted) == n
    assert parse_number(f"Rp {dotted},00") == n
    assert parse_number(f"Rp{dotted}") == n
    assert parse_money(f"Rp {dotted},00") == n
    assert parse_count(dotted) == n


@given(st.integers(min_value=0, max_value=10**12))
def test_english_formatted_integers_round_trip(n):
    assert parse_number(f"{n:,}") == n
    assert parse_number(f"{n:,}.50") == Decimal(n) + Decimal("0.5")


@given(st.integers(min_value=-(10**12), max_value=-1))
def test_negative_integers_round_trip(n):
    dotted = f"{-n:,}".replace(",", ".")
    assert parse_number(f"-{dotted}") == n
    assert parse_number(f"({dotted})") == n
    assert parse_number(n) == n


@given(st.dates(min_value=D(1950, 1, 1), max_value=D(2049, 12, 31)))
def test_formatted_dates_round_trip(d):
    assert parse_date(f"{d.day:02d}/{d.month:02d}/{d.year}") == d
    assert parse_date(f"{d.day}/{d.month}/{d.year}") == d
    assert parse_date(f"{d.day:02d}-{d.month:02d}-{d.year}") == d
    assert parse_date(f"{d.day} {INDONESIAN_MONTHS[d.month - 1]} {d.year}") == d
    assert parse_date(d.isoformat()) == d
    assert parse_date(d) == d
    assert parse_date(dt.datetime(d.year, d.month, d.day, 13, 45)) == d
    assert parse_birth_date_cell(f"Parepare, {d.day:02d}-{d.month:02d}-{d.year}") == d
    assert parse_month(f"{INDONESIAN_MONTHS[d.month - 1]} {d.year}") == d.replace(day=1)
    assert parse_month(d.isoformat()) == d.replace(day=1)


@given(st.dates(min_value=D(1950, 1, 1), max_value=D(2049, 12, 31)))
def test_excel_serial_round_trip(d):
    serial = (d - D(1899, 12, 30)).days
    assert parse_date(serial) == d
    assert parse_date(float(serial)) == d
    assert parse_date(str(serial)) == d


@given(st.integers(min_value=1990, max_value=2060), st.integers(min_value=1, max_value=12))
def test_period_round_trip(year, month):
    expected = D(year, month, 1)
    title = f"DAFTAR PESERTA BULAN {INDONESIAN_MONTHS[month - 1].upper()} {year}"
    assert find_period_in_text(title) == expected
    assert find_period_in_text(f"register_sidrap_{year}-{month:02d}_koreksi.xlsx") == expected
    assert find_period_in_text(f"register_{year}{month:02d}.xlsx") == expected
    assert parse_month(f"{month:02d}/{year}") == expected
    assert parse_month(f"{year}-{month:02d}") == expected


RAISING_PARSERS = [
    parse_number, parse_money, parse_count, parse_date, parse_month, parse_programs, parse_program, parse_sex,
    parse_funding_source, parse_kpj, parse_birth_date_cell,
]
TOTAL_FUNCTIONS = [
    cell_text, is_blank, find_period_in_text, months_named, is_total_label, nik_cell_is_numeric,
]


@given(st.text())
def test_parsers_raise_only_parse_error_on_arbitrary_text(text):
    for func in RAISING_PARSERS:
        try:
            func(text)
        except ParseError as e:
            assert e.code in CODES
    for func in TOTAL_FUNCTIONS:
        func(text)


@given(st.text(alphabet="0123456789.,-+() RpMjutaribolngE/'", max_size=20))
def test_parsers_raise_only_parse_error_on_number_like_text(text):
    for func in RAISING_PARSERS:
        try:
            func(text)
        except ParseError as e:
            assert e.code in CODES


CELLS = st.one_of(
    st.none(), st.integers(), st.floats(), st.decimals(), st.dates(), st.datetimes(), st.booleans(),
)


@given(CELLS)
def test_parsers_raise_only_parse_error_on_arbitrary_cells(value):
    for func in RAISING_PARSERS:
        try:
            func(value)
        except ParseError as e:
            assert e.code in CODES
    for func in TOTAL_FUNCTIONS:
        func(value)
