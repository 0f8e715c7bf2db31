"""Dates and months as a database or a payroll system writes them, without separators: a date in ISO 8601's basic
form ("20250401"), a month as year and month ("202504", a payroll's "periode" or a BPJS bill's month), and either
typed into a sheet, where it is a number. A month typed as 202504 in a CSV was read; the same in an .xlsx cell (the
number 202504.0) was set apart as MONTH_INVALID, and a date of eight digits was DATE_INVALID everywhere: every row
of such a file was set apart.

The rows are synthetic; every expected value is written out by hand below, never taken from the loader.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import xlsxwriter
from _support import load_csv_one_way
from cakupan.ingest.loader import Loader
from cakupan_dev.messy.people import workers

HEADER = ["NIK", "Nama", "Tgl Lahir", "JK", "Pekerjaan", "Desa", "Kecamatan", "Program", "TMT", "Iuran",
          "Sumber Dana", "Periode"]
APRIL, MAY = dt.date(2025, 4, 1), dt.date(2025, 5, 1)


def _row(i: int, w) -> list:
    """A worker: the start date 20250401 (every other worker 01/05/2025, day first), the birth date in the basic
    form, the month 202504."""
    start = "01/05/2025" if i % 2 else "20250401"
    return [w.nik, w.name, w.birth.strftime("%Y%m%d"), w.sex, "Nelayan", "Lumpue", "Bacukiki", "JKK, JKM", start,
            "16800", "APBD", "202504"]


def _expected(people) -> list[tuple]:
    return [(w.birth, MAY if i % 2 else APRIL, APRIL) for i, w in enumerate(people)]


@pytest.mark.parametrize("way", ["row_by_row", "column_wise", "parts"])
def test_a_csv_s_compact_dates_and_months_load_every_way(home_factory, monkeypatch, way):
    """Row by row, column-wise whole (over 4,096 rows: the bulk parsers) and in parts: every worker loads, with
    the dates and the month the texts say."""
    n = 4_200
    people = workers(n, seed=17)
    lines = [";".join(HEADER), *(";".join(_row(i, w)) for i, w in enumerate(people))]
    s = home_factory(way)
    r = load_csv_one_way(s, "register_parepare_2025-04.csv", ("\n".join(lines) + "\n").encode(), way, monkeypatch)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (n, n, 0), (way, r.reasons)
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        got = con.execute("select birth_date, coverage_start, period from raw.register order by source_row").fetchall()
    assert got == _expected(people), way


def test_compact_dates_and_months_typed_as_numbers_in_a_workbook(home):
    """The same typed into an .xlsx: the library gives the numbers 20250401.0 and 202504.0; each is read as the
    date and the month it shows."""
    n = 12
    people = workers(n, seed=18)
    path = home.inbox / "73.72" / "register_parepare_2025-04.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, HEADER)
    for i, w in enumerate(people):
        row = _row(i, w)
        ws.write_row(i + 1, 0, row)
        for c in (2, 11) if i % 2 else (2, 8, 11):      # (the basic forms as numbers; "01/05/2025" stays a text)
            ws.write_number(i + 1, c, int(row[c]))
    wb.close()
    loader = Loader(home)
    try:
        r = loader.load(path)
        assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (n, n, 0), r.reasons
        got = loader.con.execute("select birth_date, coverage_start, period from raw.register "
                                 "order by source_row").fetchall()
    finally:
        loader.con.close()
    assert got == _expected(people)
