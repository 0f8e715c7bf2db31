"""A formula that failed is no value and no blank: a VLOOKUP that found nothing shows "#N/A", a division by an
empty cell "#DIV/0!", LibreOffice "Err:502". Office registers fill the district or the contribution by such
formulas. Saved as .xlsx the cell's type is "error" (the spreadsheet library reads it as empty: it was loaded as a
blank district, or set apart as a missing contribution, which is not what the clerk sees); saved as CSV the text
is the error. Either way the row is set apart as FORMULA_ERROR, quoting the error and naming the column, and a
text that only starts with "#" ("#12 RT 03") is still a text.

The rows are synthetic; every expected value is written out by hand below, never taken from the loader.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile

import duckdb
import pytest
import xlsxwriter
import xlwt
from _support import load_csv_one_way
from cakupan.ingest import prepare
from cakupan.ingest.loader import Loader
from cakupan.ingest.readers import bookparts, sheetslices
from cakupan_dev.messy.formats import Sheet, ods_bytes
from cakupan_dev.messy.people import workers

HEADER = ["NIK", "Nama", "Tgl Lahir", "JK", "Pekerjaan", "Desa", "Kecamatan", "Program", "TMT", "Iuran",
          "Sumber Dana"]


def _row(w, district: str = "Bacukiki", amount: str = "16.800", village: str = "Lumpue") -> list[str]:
    return [w.nik, w.name, w.birth.strftime("%d-%m-%Y"), w.sex, "Nelayan", village, district, "JKK, JKM",
            "01/04/2025", amount, "APBD"]


def _workbook(path, n_rows: int, formulas: bool = True) -> None:
    """A register of n_rows whose district (row 2), contribution (3) and birth date (4) are formulas whose saved
    result is an error, whose district of row 6 is a formula that worked, and whose district of row 7 is an error
    pasted as a value (the formula gone, the error kept); the village of row 5 "#12 RT 03". `formulas` False:
    only the error pasted as a value (a sheet with no formula left in it)."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, HEADER)
    for i, w in enumerate(workers(n_rows, seed=4), start=1):
        ws.write_row(i, 0, _row(w, village="#12 RT 03" if i == 4 else "Lumpue"))
    if formulas:
        ws.write_formula(1, 6, "=VLOOKUP(F2,Ref!A:B,2,FALSE)", None, "#N/A")
        ws.write_formula(2, 9, "=B3/0", None, "#DIV/0!")
        ws.write_formula(3, 2, "=DATE(1990,1,#REF!)", None, "#REF!")
        ws.write_formula(5, 6, '=IFERROR(VLOOKUP(F6,Ref!A:B,2,FALSE),"Bacukiki")', None, "Bacukiki")
    ws.write_formula(6, 6, "=PASTED()", None, "#N/A")
    wb.close()
    with zipfile.ZipFile(path) as z:
        parts = {i: z.read(i) for i in z.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts.items():
            if info.filename == "xl/worksheets/sheet1.xml":
                assert b"<f>PASTED()</f>" in data
                data = data.replace(b"<f>PASTED()</f>", b"")
            z.writestr(info, data)


def _sliced(m) -> None:
    """Every worksheet read in slices (`sheetslices`) of a few rows, as a sheet of 80,000 rows or more is."""
    m.setattr(sheetslices, "SLICE_SHEET_MIN_BYTES", 0)
    m.setattr(sheetslices, "SLICE_BYTES", 2048)
    m.setattr(sheetslices, "_PIECE", 256)


def _load_book(home, monkeypatch, way: str, path=None) -> tuple:
    """Load the inbox's workbook whole, part by part or in slices: the result, the rows set apart and kept."""
    path = path or home.inbox / "73.72" / "register_parepare_2025-05.xlsx"
    with monkeypatch.context() as m:
        m.setattr(bookparts, "BOOK_STREAM_MIN_BYTES", 0 if way == "parts" else 1 << 40)
        m.setattr(prepare, "BOOK_PART_ROWS", 8)
        if way == "sliced":
            _sliced(m)
        loader = Loader(home)
        try:
            r = loader.load(path)
            set_apart = loader.con.execute("select source_row, reason_code, column_name, public_message "
                                           "from quarantine.rows order by source_row").fetchall()
            loaded = loader.con.execute("select source_row, district, village from raw.register "
                                        "order by source_row").fetchall()
        finally:
            loader.con.close()
    return r, set_apart, loaded


FIX = "misalnya VLOOKUP yang tidak menemukan datanya. Perbaiki rumusnya atau ketik nilainya langsung, lalu kirim ulang."


@pytest.mark.parametrize("way", ["whole", "parts", "sliced"])
def test_an_error_pasted_as_a_value_in_a_sheet_without_formulas(home, monkeypatch, way):
    """No formula left in the sheet (the formulas' scan has nothing to look for), one error pasted as a value."""
    path = home.inbox / "73.72" / "register_parepare_2025-05.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    _workbook(path, 40, formulas=False)
    r, set_apart, _ = _load_book(home, monkeypatch, way)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (40, 39, 1), r
    message = "73.72/register_parepare_2025-05.xlsx, lembar Data, baris 7: Sel pada kolom 'district' berisi galat "
    assert set_apart == [(7, "FORMULA_ERROR", "district", message + f"rumus (#N/A), {FIX}")]


@pytest.mark.parametrize("way", ["whole", "parts", "sliced"])
def test_a_workbook_s_error_cells_set_their_rows_apart(home, monkeypatch, way):
    """Formula cells whose saved result is an error, in an optional text column, the required contribution and
    the (personal) birth date: each row set apart, its error quoted (not the birth date's: personal), the other
    rows loaded; read whole, part by part (a workbook of 8 MB or more) and in slices."""
    n_rows = 40
    path = home.inbox / "73.72" / "register_parepare_2025-05.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    _workbook(path, n_rows)
    r, set_apart, loaded = _load_book(home, monkeypatch, way)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (n_rows, n_rows - 4, 4), r
    assert r.reasons == {"FORMULA_ERROR": 4}
    prefix = "73.72/register_parepare_2025-05.xlsx, lembar Data, baris"
    fix = FIX
    assert set_apart == [
        (2, "FORMULA_ERROR", "district", f"{prefix} 2: Sel pada kolom 'district' berisi galat rumus (#N/A), {fix}"),
        (3, "FORMULA_ERROR", "monthly_contribution",
         f"{prefix} 3: Sel pada kolom 'monthly_contribution' berisi galat rumus (#DIV/0!), {fix}"),
        (4, "FORMULA_ERROR", "birth_date",
         f"{prefix} 4: Sel pada kolom 'birth_date' berisi galat rumus ([data pribadi, tidak ditampilkan]), {fix}"),
        (7, "FORMULA_ERROR", "district", f"{prefix} 7: Sel pada kolom 'district' berisi galat rumus (#N/A), {fix}"),
    ]
    # a formula whose result is a value is that value; a text starting with "#" is a text
    assert loaded[:3] == [(5, "Bacukiki", "#12 RT 03"), (6, "Bacukiki", "Lumpue"), (8, "Bacukiki", "Lumpue")]


def _csv(n: int) -> bytes:
    """A register saved as CSV from a sheet with failed formulas: every 100th district an error (LibreOffice's
    "Err:502" at 500, 1,500, ..., else "#N/A"), every 250th contribution "#DIV/0!", every third village a text
    starting with "#"."""
    lines = [";".join(HEADER)]
    for i, w in enumerate(workers(n, seed=2)):
        district = "Err:502" if i % 1000 == 500 else "#N/A" if i % 100 == 0 else "Bacukiki"
        amount = "#DIV/0!" if i % 250 == 7 else "16.800"
        lines.append(";".join(_row(w, district, amount, village="#12 RT 03" if i % 3 == 0 else "Lumpue")))
    return ("\n".join(lines) + "\n").encode()


def test_a_csv_saved_from_a_sheet_with_failed_formulas_every_way(home_factory, monkeypatch):
    """Row by row, column-wise whole (over 4,096 rows) and in parts: the same rows set apart, the same rows kept."""
    n = 5_000
    data = _csv(n)
    got = {}
    for way in ("row_by_row", "column_wise", "parts"):
        s = home_factory(way)
        r = load_csv_one_way(s, "register_parepare_2025-05.csv", data, way, monkeypatch)
        # districts: 45 "#N/A" and 5 "Err:502" (i = 0, 100, ..., 4,900); contributions: 20 "#DIV/0!" (i = 7,
        # 257, ..., 4,757: never on a row with a district error)
        assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (n, n - 70, 70), (way, r)
        assert r.reasons == {"FORMULA_ERROR": 70}, (way, r.reasons)
        with duckdb.connect(str(s.work_db), read_only=True) as con:
            by_column = dict(con.execute("select column_name, count(*) from quarantine.rows group by 1").fetchall())
            assert by_column == {"district": 50, "monthly_contribution": 20}, way
            # 1,667 villages "#12 RT 03" (i = 0, 3, ..., 4,998), less those of rows set apart: 17 districts (i a
            # multiple of 300) and 6 contributions (i = 7 + 250 k, k = 2, 5, ..., 17)
            assert con.execute("select count(*) from raw.register where village = '#12 RT 03'").fetchone() == (
                1667 - 17 - 6,), way
            got[way] = (con.execute("select * exclude (received_at) from raw.register order by source_row").fetchall(),
                        con.execute("select * from quarantine.rows order by source_row").fetchall())
    assert got["row_by_row"] == got["column_wise"] == got["parts"]


def _ods_with_errors(n_rows: int) -> bytes:
    """The register as LibreOffice saves it, its district of row 2 a VLOOKUP that found nothing and its contribution
    of row 3 a division by an empty cell: each written as LibreOffice writes a formula's error (a string cell with
    `calcext:value-type="error"`, the error as its paragraph; the contribution's as a number cell, as some writers
    type it)."""
    rows = [HEADER] + [_row(w) for w in workers(n_rows, seed=5)]
    rows[1][6] = "@ERROR-DISTRICT@"
    rows[2][9] = "@ERROR-AMOUNT@"
    data = ods_bytes([Sheet("Data", rows)])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = [(i, z.read(i)) for i in z.infolist()]
    cell = rb"<table:table-cell(?:\s[^>]*)?><text:p>{}</text:p></table:table-cell>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, part in parts:
            if info.filename == "content.xml":
                part, n = re.subn(cell.replace(b"{}", b"@ERROR-DISTRICT@"), (
                    b'<table:table-cell table:formula="of:=VLOOKUP([.F2];$Ref.$A$1:$B$9;2;0)" '
                    b'office:value-type="string" office:string-value="" calcext:value-type="error">'
                    b"<text:p>#N/A</text:p></table:table-cell>"), part)
                part, m = re.subn(cell.replace(b"{}", b"@ERROR-AMOUNT@"), (
                    b'<table:table-cell table:formula="of:=[.B3]/0" office:value-type="float" office:value="0" '
                    b'calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell>'), part)
                assert (n, m) == (1, 1)
            z.writestr(info, part)
    return out.getvalue()


@pytest.mark.parametrize("way", ["whole", "parts"])
def test_an_ods_error_cell_sets_its_row_apart(home, monkeypatch, way):
    """LibreOffice's error cells, which the spreadsheet library reads as an empty text (or the number 0): each row
    set apart as FORMULA_ERROR with the error quoted, read whole and part by part."""
    path = home.inbox / "73.72" / "register_parepare_2025-05.ods"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_ods_with_errors(30))
    r, set_apart, loaded = _load_book(home, monkeypatch, way, path)
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (30, 28, 2), r
    prefix = "73.72/register_parepare_2025-05.ods, lembar Data, baris"
    assert set_apart == [
        (2, "FORMULA_ERROR", "district", f"{prefix} 2: Sel pada kolom 'district' berisi galat rumus (#N/A), {FIX}"),
        (3, "FORMULA_ERROR", "monthly_contribution",
         f"{prefix} 3: Sel pada kolom 'monthly_contribution' berisi galat rumus (#DIV/0!), {FIX}"),
    ]
    assert loaded[0] == (4, "Bacukiki", "Lumpue")


def _xls_with_errors(n: int, far: bool) -> bytes:
    """A register saved as an old .xls: the district of row 2 an error pasted as a value ("#N/A"), the
    contribution of row 3 a formula whose saved result is "#DIV/0!", that of row 4 a formula whose saved result is
    16,800. `far`: three more workers 30,000 rows below, the district of the second "#REF!", and an "x" in IV65536
    (the long runs of empty rows made one before the library reads the sheet: the error keeps its row)."""
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Data", cell_overwrite_ok=True)
    for c, label in enumerate(HEADER):
        ws.write(0, c, label)
    people = workers(n + 3, seed=5)

    def put(r: int, w) -> None:
        for c, v in enumerate(_row(w)):
            ws.write(r, c, v)
    for i, w in enumerate(people[:n], start=1):
        put(i, w)
    ws.row(1).set_cell_error(6, 0x2A)           # (xlwt's own map of the errors' texts is wrong: codes, as BIFF8's)
    ws.write(2, 9, xlwt.Formula("B3/0"))
    ws.write(3, 9, xlwt.Formula("16800*1"))
    if far:
        for k, w in enumerate(people[n:]):
            put(30_000 + k, w)
        ws.row(30_001).set_cell_error(6, 0x17)
        ws.write(65_535, 255, "x")
    buf = io.BytesIO()
    wb.save(buf)
    data = bytearray(buf.getvalue())
    # xlwt saves no formula's result (an empty text): each formula's result as Excel saves it, in the order written
    for result in (bytes([2, 0, 0x07, 0, 0, 0, 0xFF, 0xFF]), struct.pack("<d", 16800.0)):
        at = data.find(struct.pack("<Q", 0xFFFF000000000003))
        assert at > 0
        data[at: at + 8] = result
    return bytes(data)


@pytest.mark.parametrize("far", [False, True])
def test_an_xls_error_cell_sets_its_row_apart(home, monkeypatch, far):
    """An old .xls's error cells, which the spreadsheet library reads as empty: an error pasted as a value and a
    formula whose saved result is an error each set their row apart as FORMULA_ERROR, quoting the error; a formula
    whose saved result is a number is that number."""
    n = 30
    path = home.inbox / "73.72" / "register_parepare_2025-05.xls"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_xls_with_errors(n, far))
    r, set_apart, loaded = _load_book(home, monkeypatch, "whole", path)
    prefix = "73.72/register_parepare_2025-05.xls, lembar Data, baris"
    expected = [
        (2, "FORMULA_ERROR", "district", f"{prefix} 2: Sel pada kolom 'district' berisi galat rumus (#N/A), {FIX}"),
        (3, "FORMULA_ERROR", "monthly_contribution",
         f"{prefix} 3: Sel pada kolom 'monthly_contribution' berisi galat rumus (#DIV/0!), {FIX}"),
    ]
    if far:
        expected.append((30_002, "FORMULA_ERROR", "district",
                         f"{prefix} 30002: Sel pada kolom 'district' berisi galat rumus (#REF!), {FIX}"))
    assert set_apart == expected
    assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (n + 3 * far, n + 3 * far - len(expected), len(expected))
    assert loaded[0] == (4, "Bacukiki", "Lumpue")
    if far:
        assert [row for row, _, _ in loaded[-2:]] == [30_001, 30_003]
    with duckdb.connect(str(home.work_db), read_only=True) as con:
        assert con.execute("select monthly_contribution from raw.register where source_row = 4").fetchone() == (16800,)
