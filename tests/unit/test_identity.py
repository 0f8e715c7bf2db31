"""NIK normalisation, the NIK rules and pseudonyms: against the definitions (domain.md) and RFC 2104 HMAC."""

from __future__ import annotations

import hashlib
import hmac
import re

import pyarrow as pa
import pytest
from cakupan.ingest.identity import NIK_CLUTTER, nik_problem, normalise_nik, pseudonym
from cakupan.ingest.parsing import cell_text
from hypothesis import example, given, settings
from hypothesis import strategies as st

NBSP = "\u00a0"


@pytest.mark.parametrize(("text", "numeric", "expected"), [
    ("7372014505800123", False, None),                 # Parepare, woman born 05-05-1980
    ("7372010505800120", False, None),                 # typed as text, ends in 0: fine
    ("'7372014505800123", False, None),                # leading apostrophe
    ("7372 0145 0580 0123", False, None),              # spaces
    ("7372.0145.0580.0123", False, None),              # dots
    ("7372010505800120", True, "NIK_PRECISION_LOST"),  # came from a numeric cell
    ("7.37201450580012E+15", False, "NIK_PRECISION_LOST"),
    ("737201450580012", False, "NIK_15_DIGITS"),
    ("73720145058001234", False, "NIK_17_DIGITS"),
    ("73720145058", False, "NIK_WRONG_LENGTH"),
    ("73720145058A0123", False, "NIK_NOT_DIGITS"),
    ("9972014505800123", False, "NIK_REGION_UNKNOWN"),  # 99.72 is no regency
    ("7372013202800123", False, "NIK_BIRTH_DATE_INVALID"),  # 32 February
    ("7372017202800123", False, "NIK_BIRTH_DATE_INVALID"),  # woman, day 72-40 = 32
    ("7372013002800123", False, "NIK_BIRTH_DATE_INVALID"),  # 30 February
    ("7372012902000123", False, None),                 # 29 Feb 2000 (leap)
    ("7372012902010123", False, "NIK_BIRTH_DATE_INVALID"),  # 29 Feb 2001
    ("", False, "NIK_MISSING"),
    (None, False, "NIK_MISSING"),
])
def test_nik_rules(text, numeric, expected):
    assert nik_problem(text, numeric) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7372014505800123", "7372014505800123"),
        ("'7372014505800123", "7372014505800123"),
        (" 7372 0145 0580 0123 ", "7372014505800123"),
        ("7372.0145.0580.0123", "7372014505800123"),
        ("7372-0145-0580-0123", "7372014505800123"),
        (f"7372{NBSP}014505800123", "7372014505800123"),
        ("737201450580012", "737201450580012"),  # not validated: 15 digits stay 15
        ("73720145058001234", "73720145058001234"),
        ("73720A4505800123", "73720A4505800123"),
        ("7372014505800120", "7372014505800120"),
        (7372014505800120, "7372014505800120"),
        (7.37201450580012e15, "7372014505800120"),
        ("'", None),
        ("-", None),
        (" . ", None),
        *[(blank, None) for blank in (None, "", " ", "   ", "\t", "\n", NBSP, f" {NBSP} ", " ' ", float("nan"))],
    ],
    ids=repr,
)
def test_normalise_nik(value, expected):
    """A NIK cell as the readers give it (its cell text) loses only its clutter."""
    assert normalise_nik(pa.array([cell_text(value)], pa.string())).to_pylist() == [expected]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(), st.text(alphabet=f"0123456789 .-'{NBSP}\t\n\r\f\v\u2000ab",
                                                        max_size=20)), max_size=30))
@example(["7372014505800120", "12", "0"])                  # digits only: nothing to remove
@example(["7372014505800120", " 12", None, "", "7"])       # some cells with clutter, blank or missing
@example([" 1", "", "'7372014505800120", None])            # every cell with clutter
def test_normalise_nik_is_the_pattern_in_any_regex_engine(cells):
    """The Arrow (RE2) normaliser removes exactly what Python's re removes with the same pattern (the cells of
    digits only are left as they are, the others go through the pattern: the examples hold none, some and all)."""
    expected = [None if c is None else (re.sub(NIK_CLUTTER, "", c) or None) for c in cells]
    assert normalise_nik(pa.array(cells, pa.string())).to_pylist() == expected


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="0123456789", min_size=16, max_size=16), st.binary(min_size=1, max_size=80))
def test_pseudonym_is_rfc2104_hmac_sha256(nik, key):
    assert pseudonym(nik, key) == hmac.new(key, nik.encode(), hashlib.sha256).hexdigest()


def test_pseudonym_differs_by_key_and_person():
    assert pseudonym("7372014505800123", b"a") != pseudonym("7372014505800123", b"b")
    assert pseudonym("7372014505800123", b"a") != pseudonym("7372014505800124", b"a")


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), st.text(alphabet="0123456789 .-'\u00a0\t\nab", max_size=20)), max_size=30),
       key=st.binary(min_size=1, max_size=130))
def test_loader_pseudonyms_equal_the_sql_definition(cells, key):
    """The loader keys normalised NIK cells in Python (beside the reader); the result is what the SQL definition
    (`pseudonym_sql`, for anyone recomputing a key in DuckDB) and RFC 2104 HMAC give."""
    import duckdb
    from cakupan.ingest.identity import hmac_pads, pseudonym_sql, pseudonyms

    ipad, opad = hmac_pads(key)
    normal = normalise_nik(pa.array(cells, pa.string()))
    keys = pseudonyms(normal, key).to_pylist()
    con = duckdb.connect()
    con.register("t", pa.table({"i": pa.array(range(len(cells)), pa.int64()), "n": normal}))
    rows = con.execute(f"select {pseudonym_sql('n')} from t order by i", {"ipad": ipad, "opad": opad}).fetchall()
    assert keys == [r[0] for r in rows]
    assert keys == [None if n is None else hmac.new(key, n.encode(), hashlib.sha256).hexdigest()
                    for n in normal.to_pylist()]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.text("0123456789", min_size=1, max_size=16)), max_size=12),
                min_size=1, max_size=4))
def test_pseudonyms_through_a_memo_kept_across_files_are_rfc2104_hmac_sha256(files):
    """The memo a Validator keeps across files (`NikMemo`) gives every NIK its own HMAC, also when it was seen in an
    earlier file, and keeps each cell once."""
    from cakupan.ingest.identity import NikMemo, pseudonym_function

    key = b"memo-test-key"
    memo = NikMemo(10_000, pseudonym_function(key))
    for niks in files:
        got = memo(niks, [False] * len(niks))[2].to_pylist()
        assert got == [None if n is None else hmac.new(key, n.encode(), hashlib.sha256).hexdigest() for n in niks]
    assert len(memo._kept) == len({n for niks in files for n in niks})
