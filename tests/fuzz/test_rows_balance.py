"""Property: whatever a register holds, rows in = rows loaded + rows quarantined, nothing is lost, nothing raises.

Random registers mix valid and invalid cells (NIKs of every length and shape, numbers typed as numbers, dates in
every format and none, amounts, blanks, total-like labels), are written as CSV (random delimiter and encoding)
or XLSX, and loaded into a real DuckDB warehouse. For every example: the file ends loaded or rejected with a
registered code (never an internal error); when loaded, audit.loads says rows_in = rows_loaded +
rows_quarantined, raw and quarantine hold exactly those rows for the load id, and every non-blank row written
below the header is accounted for as a data row, a total row or a skipped note.
"""

from __future__ import annotations

import datetime as dt
import os

from cakupan.core.contracts import reasons
from cakupan.ingest import parsing
from cakupan.ingest.readers import ReadOptions, read_file
from cakupan_dev.messy import REGISTER_HEADER, Sheet, csv_bytes, nik, xlsx_bytes
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

D = dt.date
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
VALID_NIK = st.builds(nik, birth=st.dates(D(1950, 1, 1), D(2005, 12, 31)), female=st.booleans(),
                      serial=st.integers(1, 9999))
TOTALS = st.sampled_from(["JUMLAH", "TOTAL", "Sub Total", "Jumlah :", "GRAND TOTAL", "jml"])
BLANK = st.sampled_from(["", " ", None, "'"])

NIK_CELL = st.one_of(
    VALID_NIK, VALID_NIK.map(lambda n: "'" + n), VALID_NIK.map(lambda n: f"{n[:4]} {n[4:8]} {n[8:12]} {n[12:]}"),
    VALID_NIK.map(lambda n: n[:15]), VALID_NIK.map(lambda n: n + "1"), st.text("0123456789 .", max_size=20),
    st.just("7.37201450580012E+15"), st.integers(10**14, 10**16 - 1), BLANK, TEXT, TOTALS)
NAME_CELL = st.one_of(st.sampled_from(["Hasmawati", "Andi Muh. Yusuf", "La Tunru"]), TEXT, BLANK, TOTALS)
DATE_CELL = st.one_of(
    st.dates(D(1940, 1, 1), D(2030, 12, 31)).flatmap(lambda d: st.sampled_from(
        [d.strftime("%d/%m/%Y"), d.strftime("%d-%m-%Y"), d.isoformat(), f"{d.day} Mei {d.year}", d])),
    st.integers(-5, 80000), st.floats(0, 80000, allow_nan=False), TEXT, BLANK)
MONEY_CELL = st.one_of(st.sampled_from(["16.800", "Rp 16.800,00", "Rp1,2 juta", "16,800.00", "-16.800", "Rp"]),
                       st.integers(-10**6, 10**10), st.floats(-1e6, 1e9, allow_nan=False), TEXT, BLANK)
CODE_CELL = st.one_of(st.sampled_from(["L", "P", "Laki-laki", "JKK, JKM", "JKK+JKM", "APBD", "CSR", "x"]), TEXT, BLANK)

ROW = st.tuples(st.integers(1, 999), NIK_CELL, NAME_CELL, DATE_CELL, CODE_CELL, NAME_CELL, NAME_CELL, NAME_CELL,
                CODE_CELL, DATE_CELL, MONEY_CELL, CODE_CELL).map(list)
ROWS = st.lists(st.one_of(ROW, ROW, ROW, st.just([])), min_size=1, max_size=25)


def _csv_cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _accounted_rows(rows: list[list], fmt: str) -> int:
    """Rows written below the header that are not blank when read back."""
    n = 0
    for row in rows:
        cells = [_csv_cell(v) for v in row] if fmt == "csv" else row
        if any(parsing.cell_text(v) is not None for v in cells):
            n += 1
    return n


def _check(settings_, loader, path, rows: list[list], fmt: str) -> None:
    r = loader.load(path)
    event(f"{fmt}: {r.status} {r.error_code or ''}")
    assert r.status in ("loaded", "rejected"), (r.status, r.error_message)
    assert r.error_code != "INTERNAL_ERROR", r.error_message
    if r.status == "rejected":
        assert r.error_code in reasons() and reasons()[r.error_code].level == "file"
        return
    con = loader.con
    rows_in, n_loaded, n_quar = con.execute("select rows_in, rows_loaded, rows_quarantined from audit.loads "
                                            "where load_id = ?", [r.load_id]).fetchone()
    raw = con.execute("select count(*) from raw.register where load_id = ?", [r.load_id]).fetchone()[0]
    quar = con.execute("select count(*) from quarantine.rows where load_id = ?", [r.load_id]).fetchone()[0]
    assert rows_in == n_loaded + n_quar == raw + quar
    assert (n_loaded, n_quar) == (raw, quar)
    # nothing lost: every non-blank row under the header is a data row, a total row or a skipped note
    read = read_file(path, ReadOptions(defaults={"register": {"funding_source"}}))
    totals = sum(len(b.total_rows) for b in read.blocks)
    notes = sum(b.notes_skipped for b in read.blocks)
    assert read.rows_in == rows_in
    assert rows_in + totals + notes == _accounted_rows(rows, fmt)


@settings(max_examples=int(os.environ.get('FUZZ_EXAMPLES', '40')), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(rows=ROWS, fmt=st.sampled_from(["csv", "csv", "xlsx"]), delimiter=st.sampled_from([";", ","]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_rows_in_equals_loaded_plus_quarantined(fuzz_loader, counter, rows, fmt, delimiter, encoding):
    settings_, loader = fuzz_loader
    n = next(counter)
    folder = settings_.inbox / "73.72"
    folder.mkdir(parents=True, exist_ok=True)
    title = [[f"DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE BULAN APRIL 2025 KIRIMAN {n}"]]
    if fmt == "xlsx":
        path = folder / f"register_acak_k{n}.xlsx"
        path.write_bytes(xlsx_bytes([Sheet("Peserta", title + [REGISTER_HEADER] + rows)]))
    else:
        text_rows = [[_csv_cell(v) for v in row] for row in title + [REGISTER_HEADER] + rows]
        try:
            data = csv_bytes(text_rows, delimiter, encoding.replace("-sig", ""), bom=encoding.endswith("-sig"))
        except UnicodeEncodeError:
            data = csv_bytes(text_rows, delimiter, "utf-8")
        path = folder / f"register_acak_k{n}.csv"
        path.write_bytes(data)
    _check(settings_, loader, path, rows, fmt)
