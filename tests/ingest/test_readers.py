"""Reader details: number and date cells keep their type, row classification, header choice, crash isolation."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pyarrow as pa
import pytest
from cakupan.ingest import parsing
from cakupan.ingest.readers import TYPED_MARK, FileRejected, read_file, read_workbook, typed_key, typed_value
from cakupan.ingest.readers.cells import vector_cell_text
from cakupan.ingest.readers.layout import (
    cell_text,
    classify_row,
    header_key_set,
    is_note_text,
    total_label,
)
from cakupan.ingest.validate import parser_for
from cakupan_dev.messy import REGISTER_HEADER, Sheet, register_row, workers, xlsx_bytes
from hypothesis import example, given, settings
from hypothesis import strategies as st

D = dt.date


class _Stamp(dt.datetime):
    """A datetime of another class (a library's timestamp type): typed as a datetime all the same."""


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=False), st.integers(), st.booleans(), st.dates(), st.datetimes(),
                       st.datetimes().map(lambda d: _Stamp(*d.timetuple()[:6], d.microsecond))))
@example(16800.5)
@example(123.456)
@example(45729.5)
@example(7372014505800123.0)
@example(0.1)
@example(-0.0)
@example(float("inf"))
@example(16800)
@example(-3)
@example(True)
@example(D(2025, 3, 13))
@example(dt.datetime(2025, 3, 13, 10, 30))
def test_typed_key_round_trips(value):
    """Every number, truth value, date and datetime cell comes back as itself, of its own kind (a bool not an
    int, a datetime not a date: the key is chosen by the value's exact type first, `blocks._TYPED_KEYS`)."""
    key = typed_key(value)
    assert key.startswith(TYPED_MARK)
    back = typed_value(key)
    assert back == value and str(back) == str(value)
    kind = dt.datetime if isinstance(value, dt.datetime) else type(value)
    assert type(back) is kind


def test_a_nan_cell_has_no_key():
    assert typed_key(float("nan")) is None


def test_text_passes_through_and_text_with_the_marker_stays_text():
    assert typed_key("16.800") is None and typed_value("16.800") == "16.800" and typed_value(None) is None
    assert typed_value(TYPED_MARK + "s" + TYPED_MARK + "f1.5") == TYPED_MARK + "f1.5"


def test_a_non_integral_money_cell_is_not_a_thousands_group():
    """The known bug: a number cell 123.456 rendered as text reads as 123456; the typed cell reads right."""
    money = parser_for("money", {})
    assert parsing.parse_money(parsing.cell_text(123.456)) == 123456            # what text alone gives
    assert money(typed_key(123.456)) == (123.456, None)
    assert money(typed_key(16800.5)) == (16800.5, None)
    assert money("16.800") == (16800.0, None)
    date = parser_for("date", {})
    assert date(typed_key(45729.5)) == (D(2025, 3, 13), None)                   # a serial with a time of day
    assert date(typed_key(dt.datetime(2025, 3, 13, 10, 30))) == (D(2025, 3, 13), None)


def test_xlsx_money_cell_16800_5_loads_as_16800_5(loader, home):
    ws = workers(2)
    rows = [["DAFTAR PESERTA KOTA PAREPARE BULAN APRIL 2025"], [], REGISTER_HEADER,
            register_row(1, ws[0], Iuran=16800.5), register_row(2, ws[1], Iuran=123.456)]
    path = home.inbox / "73.72" / "register_parepare_2025-04.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(xlsx_bytes([Sheet("Peserta", rows)]))
    r = loader.load(path)
    assert r.status == "loaded" and r.rows_loaded == 2
    got = loader.con.execute("select monthly_contribution, raw_cells->>'Iuran' from raw.register "
                             "order by source_row").fetchall()
    assert got == [(Decimal("16800.50"), "16800.5"), (Decimal("123.46"), "123.456")]


HDR = ["nik", "nama", "pekerjaan", "program"]
IDX = [0, 1, 2, 3]


@pytest.mark.parametrize(("row", "kind"), [
    (["", None, " ", "'"], "blank"),
    (["7372014505800123", "Budi", "Nelayan", "JKK"], "data"),
    (["7372014505800123", None, None, None], "note"),                       # one filled cell
    ([None, "Budi", "", "JKK"], "data"),                                     # sparse rows stay data (quarantined)
    (["JUMLAH", None, None, "100.800"], "total"),
    (["", "", "TOTAL", ""], "total"),
    (["Sub Total", None, None, None], "total"),
    (["NIK", "Nama", "Pekerjaan", "Program"], "header"),                    # the header printed again
    (["(1)", "(2)", "(3)", "(4)"], "note"),                                  # column numbers
    ([1, 2, 3, 4], "note"),
    (["Mengetahui,", None, None, "Parepare, 2 Mei 2025"], "note"),          # a signature block
    (["Kepala Dinas", None, None, "Pembuat Daftar"], "note"),
    (["( Drs. H. Abdul Rahman )", None, None, "( Nurhayati )"], "note"),
    (["Catatan: lihat lampiran", None, "NIP. 1970", None], "note"),
    (["Mengetahui,", "Budi", "Nelayan", None], "data"),                     # not every cell is a note
])
def test_classify_row(row, kind):
    assert classify_row(row, IDX, HDR)[0] == kind
    assert classify_row(row, IDX, HDR, key_set=header_key_set(HDR))[0] == kind


_CELLS = st.one_of(
    st.none(), st.sampled_from(["", " ", "NIK", "nik", "Nama", "NAMA ", "Pekerjaan", "pekerjaan x", "Program",
                                "Kelompok", "Jumlah", "JUMLAH", "Sub Total", "Total:", "jml", "Rp 16.800", "100.800",
                                "(1)", "(2)", "3", "Mengetahui,", "NIP. 1970", "Parepare, 2 Mei 2025", "Budi",
                                "Nelayan", "JKK", "7372014505800123", "ΟΔΟΣ", "nik;nama;pekerjaan;program", "nik\0nama"]),
    st.integers(0, 5), st.text(max_size=6))


@settings(max_examples=400, deadline=None)
@given(st.lists(_CELLS, max_size=7), st.lists(st.sampled_from(["", "kelompok", "peserta", "nama", "οδος"]),
                                             min_size=4, max_size=4))
def test_classify_row_asks_the_joined_texts_first_and_gives_the_same(row, upper):
    """The joined-text prefilters (total words, header keys) never change a row's kind or texts."""
    assert header_key_set(["nik", "na\0ma"]) is None       # a NUL in a header cell: no prefilter
    for ups in ((), (upper,)):
        assert classify_row(row, IDX, HDR, 4, ups, key_set=header_key_set(HDR, ups)) == \
            classify_row(row, IDX, HDR, 4, ups)


def _block_row_by_row(rows, header, unlabelled):
    """A sheet's block by definition: every row below the header asked of `classify_row` (without the joined-text
    prefilters), then kept by its kind one row at a time."""
    from cakupan.ingest.readers.layout import header_keys, header_width, title_text, upper_header_keys

    idx, cols = list(header.mapping.values()), list(header.mapping)
    keys, width, upper = header_keys(header), header_width(header), upper_header_keys(rows, header)
    block = header.block("S", title_text(rows, header))
    known = set(idx) | {j for j, h in enumerate(header.headers) if h}
    loose = {}
    for r_i in range(header.row + 1, len(rows)):
        row = rows[r_i]
        all_texts = [cell_text(v) for v in row]
        kind, texts = classify_row(row, idx, keys, width, upper)
        if kind == "total":
            block.total_rows.append((r_i + 1, block.n_rows, {
                c: (row[i] if t is not None and not isinstance(row[i], str) else t) for c, i, t in zip(cols, idx, texts)}))
        if kind not in ("data", "unsplit"):
            block.notes_skipped += kind not in ("blank", "total")
            continue
        n = block.n_rows
        if kind == "unsplit":
            block.unsplit[n] = next(t for t in all_texts if t is not None)
        block.source_rows.append(r_i + 1)
        for c, i, t in zip(cols, idx, texts):
            block.cells.setdefault(c, []).append(t)
            if t is not None and not isinstance(row[i], str):
                block.typed.setdefault(c, {})[n] = row[i]
        nik_i = header.mapping["nik"]
        block.nik_numeric.append(nik_i < len(row) and parsing.nik_cell_is_numeric(row[nik_i]))
        for k, j in block.extras.items():
            block.extra_cells.setdefault(k, []).append(all_texts[j] if j < len(row) else None)
        for j in range(len(row)) if unlabelled else ():
            if j not in known and all_texts[j] is not None:
                loose.setdefault(j, {})[n] = all_texts[j]
    for c in cols:
        block.cells.setdefault(c, [])
    for k in list(block.extras):
        block.extra_cells.setdefault(k, [])
    for j in sorted(loose):
        block.extras[f"(column {chr(65 + j)})"] = j
        block.extra_cells[f"(column {chr(65 + j)})"] = [loose[j].get(i) for i in range(block.n_rows)]
    return block


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.one_of(_CELLS, st.floats(), st.dates(), st.booleans()), max_size=7), max_size=8),
       st.booleans(), st.booleans())
@example(body=[["7372014505800123", "Budi", "Nelayan", "JKK", "pindah", "x"], [1.0, "Siti", D(2025, 3, 1), 16800.5],
               ["Mengetahui,", "NIP. 1970", None, "Parepare, 2 Mei 2025"], ["(1)", "(2)", "(3)", "(4)"], [1, 2.0, "3", "4."],
               ["NIK", "Nama", "Pekerjaan", "Program"], ["JUMLAH", None, None, 33600.0], [None, "", " "],
               ["7372014505800123;Budi;Nelayan;JKK"], ["7.372E+15", "Ani", "Petani"], ["Kepala Dinas", "Budi"]],
         unlabelled=True, grid=True)
# read column by column: a cell holding a NUL (its parts are asked), a name holding "jum", a plain row, and rows
# every filled cell of which is a column number or a note, below data rows
@example(body=[["7372014505800123", "Jumadi", "Nelayan", "JKK"], ["7372014505800124", "nik\0nama", "Petani", "JKK"],
               ["7372014505800125", "Siti", "Petani", "JKM"], ["1", "2", "3", "4"], ["Mengetahui,", None, "Catatan:", None],
               ["7372014505800126", "Ani", "Nelayan", "JKK"]], unlabelled=False, grid=True)
# a column's totals and repeated header words found with Arrow's kernels (ASCII, any case) or, where a cell is not
# ASCII, cell by cell in Python
@example(body=[["7372014505800123", "TOTOK", "Nelayan", "JKK"], ["7372014505800124", "Siti", "PEKERJAAN", "JKK"],
               ["7372014505800125", "J\u016bmriah", "Petani", "JKM"], ["7372014505800126", "Ani", "Nelayan", "Jml"],
               ["7372014505800127", "Nama", "Petani", "JKK"], ["7372014505800128", "Pe\u212aerjaan", "Petani", "JKK"],
               ["NI\u212a", "Nama Peserta", "PE\u212aERJAAN", "Program Jaminan"]],
         unlabelled=False, grid=True)      # (a Kelvin sign's lower case is "k": Python's rule, not Arrow's ASCII one)
@example(body=[[1], [True, "NIK"]], unlabelled=False, grid=True)     # 1 == True, but their texts differ
def test_a_block_is_its_rows_classified_one_by_one(body, unlabelled, grid):
    """`block_from_rows` (plain data rows taken without `classify_row`, typed cells, NIK cells and extra columns
    gathered column by column) keeps the rows, texts, typed values, totals and notes the row-by-row definition
    keeps; with a repeated header, totals, notes, blanks, numbers, dates and cells beyond the header's width. A
    grid (rows of one length, a worksheet's) has its texts read column by column."""
    from cakupan.ingest.readers.header import HeaderMatch
    from cakupan.ingest.readers.layout import block_from_rows

    headers = ["NIK", "Nama", "Pekerjaan", "Program", "Catatan", ""]
    header = HeaderMatch("register", 0, 1, dict(zip(HDR, IDX)), headers, 2.0)
    if grid:
        body = [[*r, *[""] * (7 - len(r))] for r in body]
    rows = [headers, *body]
    want = vars(_block_row_by_row(rows, header, unlabelled))
    assert vars(block_from_rows(rows, "S", header, unlabelled=unlabelled)) == want
    with _bulk_from(0):     # the column-wise ways a big part takes, on these few rows too
        assert vars(block_from_rows(rows, "S", header, unlabelled=unlabelled)) == want


@contextlib.contextmanager
def _bulk_from(cells: int):
    """`BULK_MIN_CELLS` set to `cells` where the readers read it (a short column is otherwise read cell by cell)."""
    from cakupan.ingest.readers import cells as cells_module
    from cakupan.ingest.readers import layout

    with mock.patch.object(cells_module, "BULK_MIN_CELLS", cells), mock.patch.object(layout, "BULK_MIN_CELLS", cells):
        yield


@pytest.mark.parametrize(("text", "note"), [
    ("Parepare, 2 Mei 2025", True), ("Pangkajene, 31 Mei 2025", True), ("Catatan:", True), ("NIP. 19700101", True),
    ("a.n. Kepala Dinas", True), ("______", True), ("Ketut", False), ("Nelayan", False), ("JKK, JKM", False),
    ("Andi Muh. Yusuf", False), ("Parepare, 12-05-1980", False),
])
def test_is_note_text(text, note):
    assert is_note_text(text) is note


@given(st.from_regex(r"[0-9][\s\S]{0,12}", fullmatch=True))
def test_a_text_starting_with_a_digit_is_never_note_text(text):
    """is_note_text answers False at once for a text that starts with a digit: none of its rules could match."""
    from cakupan.ingest.readers import layout

    f = layout._folded(text)
    assert not (layout._NOTE_RE.match(f) or layout._PLACE_DATE_RE.fullmatch(f) or layout._RULE_RE.fullmatch(text)
                or text.startswith("("))
    assert is_note_text(text) is False


def test_title_touching_the_header_is_title_not_header(tmp_path):
    """A title line right above the header must stay in the title block (it holds the period)."""
    ws = workers(2)
    path = tmp_path / "register.xlsx"
    path.write_bytes(xlsx_bytes([Sheet("S", [["DAFTAR PESERTA KOTA PAREPARE BULAN MEI 2025"], REGISTER_HEADER,
                                             register_row(1, ws[0]), register_row(2, ws[1])])]))
    [block] = read_file(path).blocks
    assert block.header_row == 2 and "MEI 2025" in block.title_text and block.source_rows == [3, 4]


def test_a_workbook_that_aborts_the_reader_is_rejected_not_fatal(tmp_path):
    """9,000 workers under a sub-district's name merged across the whole row above them (A4:XFD4, as a click on
    the row's number and "Merge" leaves it) and an "x" typed in XFD9010: a merged range over a row of the table
    keeps that column where it is (`sheetslices._far_columns`), so the sheet's rows are 16,384 cells wide, 148
    million cells, too many to read. Read whole, the native reader allocated them and aborted (only the child
    died); read in slices, the file is rejected with the cell to clear named. (A title merged so above the table
    ends at the column moved, and such a file loads: `test_stretched_sheets`; so does the messy corpus's "x" in
    XFD1048576.)"""
    import xlsxwriter

    path = tmp_path / "stray.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    ws = wb.add_worksheet("Peserta")
    ws.merge_range(0, 0, 0, 16_383, "DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE APRIL 2025")
    for c, h in enumerate(REGISTER_HEADER):
        ws.write_string(2, c, h)
    ws.merge_range(3, 0, 3, 16_383, "KECAMATAN SOREANG")
    for i in range(9_000):
        ws.write_string(4 + i, 0, str(i + 1))
        ws.write_string(4 + i, 1, f"7372{i:012d}")
        ws.write_string(4 + i, 2, f"Peserta Sintetis {i}")
    ws.write_string(9_009, 16_383, "x")
    wb.close()
    with pytest.raises(FileRejected) as info:
        read_workbook(path)
    assert info.value.code == "FILE_CORRUPT" and "used range" in info.value.detail.render("en")
    assert "di sel XFD9010? Hapus isi sel itu" in info.value.detail.render("id")
    ok = tmp_path / "ok.xlsx"
    ok.write_bytes(xlsx_bytes([Sheet("A", [["x", 1.5, D(2025, 1, 2)]]), Sheet("B", [["y"]], hidden=True)]))
    assert read_workbook(ok) == [("A", [["x", 1.5, D(2025, 1, 2)]])]          # values and types come back



def test_only_small_workbooks_with_near_cells_are_read_in_process(tmp_path):
    """The fork is skipped only for a small .xlsx whose every cell lies in a small area."""
    import zipfile

    from cakupan.ingest.readers.workbook import _small_plain_xlsx
    from cakupan_dev.messy import case_by_name

    ok = tmp_path / "ok.xlsx"
    ok.write_bytes(xlsx_bytes([Sheet("A", [["x", 1.5], ["y", 2]])]))
    assert _small_plain_xlsx(ok)
    stray = tmp_path / "stray.xlsx"
    stray.write_bytes(case_by_name("stray_cell_far_away").files[0].data)
    assert not _small_plain_xlsx(stray)
    unplaced = tmp_path / "unplaced.xlsx"        # a cell without its reference: its place would be inferred
    with zipfile.ZipFile(ok) as src, zipfile.ZipFile(unplaced, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name.startswith("xl/worksheets/"):
                data = data.replace(b'<c r="A1"', b"<c", 1)
                assert b'<c r="A1"' not in data
            dst.writestr(name, data)
    assert not _small_plain_xlsx(unplaced)
    renamed = tmp_path / "notes.xls"
    renamed.write_bytes(ok.read_bytes())
    assert not _small_plain_xlsx(renamed)
    (tmp_path / "junk.xlsx").write_bytes(b"not a zip")
    assert not _small_plain_xlsx(tmp_path / "junk.xlsx")


def _rezipped(src: Path, dst: Path, change=None, stored: bool = False) -> None:
    """Copy a workbook part by part, `change(name, data)` applied to each part's bytes (stored, not deflated, when
    asked: a changed byte then fails the part's CRC, not the inflate)."""
    import zipfile

    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as b:
        for name in a.namelist():
            b.writestr(name, change(name, a.read(name)) if change else a.read(name))


def test_the_check_unzips_a_small_workbook_s_sheets_once_and_reads_as_before(tmp_path):
    """The container's check keeps a small .xlsx's worksheets' XML as it tests every part; the reader reads the same
    sheets from it as from the zip, and a damaged part is still named."""
    import zipfile

    from cakupan.ingest.readers.sniff import check_container

    ws = workers(3)
    ok = tmp_path / "register_ok.xlsx"
    ok.write_bytes(xlsx_bytes([Sheet("Mei", [REGISTER_HEADER, *(register_row(i + 1, w) for i, w in enumerate(ws))]),
                               Sheet("Juni", [REGISTER_HEADER, register_row(1, ws[0])])]))
    kept: dict[str, bytes] = {}
    assert check_container(ok, ok.read_bytes(), kept) == "spreadsheet"
    with zipfile.ZipFile(ok) as z:
        sheets = {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")}
    assert len(sheets) == 2 and kept == sheets
    assert read_workbook(ok, (), ok.read_bytes(), kept) == read_workbook(ok, (), ok.read_bytes())
    assert [b.cells for b in read_file(ok).blocks] == [b.cells for b in read_file(ok, data=ok.read_bytes()).blocks]
    for name, not_kept in (("register.csv", b"a;b\n1;2\n"), ("register.ods", None)):
        other = tmp_path / name
        other.write_bytes(not_kept or ok.read_bytes())
        left: dict[str, bytes] = {}
        try:
            check_container(other, other.read_bytes(), left)
        except FileRejected:
            pass
        assert left == {}, name

    # a byte of a stored sheet changed after the zip was written: its CRC fails, and the rejection names the part
    bad = tmp_path / "register_bad.xlsx"
    _rezipped(ok, tmp_path / "stored.xlsx", stored=True)
    raw = (tmp_path / "stored.xlsx").read_bytes()
    at = raw.index(b"<sheetData>")
    bad.write_bytes(raw[:at] + b"<sheetDatA>" + raw[at + len(b"<sheetData>"):])
    for data in (None, bad.read_bytes()):
        with pytest.raises(FileRejected) as info:
            read_file(bad, data=data)
        assert info.value.code == "FILE_CORRUPT" and "xl/worksheets/sheet1.xml" in info.value.detail.render("en")


@pytest.mark.parametrize(("xml", "area"), [
    # the rectangle from A1 to the farthest row, column and dimension corner
    (b'<dimension ref="A1:C2"/><row r="1"><c r="A1"/><c r="C1"/></row><row r="2"><c r="B2"/></row>', 2 * 3),
    (b'<dimension ref="A1:Z90"/><row r="1"><c r="A1"/></row>', 90 * 26),
    (b'<row r="7" spans="1:2"><c r="AB7" s="1"/></row>', 7 * 28),
    (b'<dimension/><row r="2"><c r="B2"><v>1</v></c></row>', 2 * 2),
    (b'<sheetData/>', 0),
    # a position to infer, out of any sheet, or not written the plain way: inf (read in the forked child)
    (b'<row r="1"><c t="s"><v>0</v></c></row>', float("inf")),
    (b'<row><c r="A1"/></row>', float("inf")),
    (b'<row r="A1"><c r="A1"/></row>', float("inf")),
    (b'<row r="1"><c r="XFDA1"/></row>', float("inf")),
    (b'<row r="1"><c r="A12345678"/></row>', float("inf")),
    (b'<row r="1"><c s="1" r="A1"/></row>', float("inf")),
    (b'<x:row r="1"><x:c r="A1"/></x:row>', float("inf")),
])
def test_sheet_area_is_the_rectangle_of_every_reference(xml, area):
    from cakupan.ingest.readers.workbook import _sheet_area

    assert _sheet_area(xml) == area


_LETTERS = st.text("ABZ", min_size=0, max_size=4)
_DIGITS = st.text("0129", min_size=0, max_size=8)
_PLAIN_REF = st.builds(lambda a, n: a + str(n), st.text("ABZ", min_size=1, max_size=2), st.integers(1, 999))
_REF = st.one_of(_PLAIN_REF, _PLAIN_REF, _PLAIN_REF, st.builds(lambda a, b: a + b, _LETTERS, _DIGITS))
_PLAIN_CELL = st.builds(lambda r, rest: b'<c r="' + r.encode() + b'"' + rest, _REF,
                        st.sampled_from([b"/>", b' t="s"><v>0</v></c>', b"><v>1</v></c>"]))
_CELL = st.one_of(_PLAIN_CELL, _PLAIN_CELL, _PLAIN_CELL, _PLAIN_CELL, _PLAIN_CELL,
                  st.sampled_from([b"<c/>", b'<c s="1" r="A1"/>', b'<x:c r="A1"/>', b"<c>1</c>"]))
_ROW_REF = st.one_of(st.integers(1, 999).map(str), st.integers(1, 999).map(str), st.none(), _DIGITS)
_ROW = st.builds(lambda r, cells: (b'<row r="' + r.encode() + b'">' if r is not None else b"<row>") + b"".join(cells)
                 + b"</row>", _ROW_REF, st.lists(_CELL, max_size=4))
_DIMENSION = st.one_of(st.just(b""), st.just(b"<dimension/>"), st.builds(
    lambda a, b: b'<dimension ref="' + a.encode() + (b":" + b.encode() if b else b"") + b'"/>', _REF,
    st.one_of(st.none(), _REF)))


@settings(max_examples=800, deadline=None)
@given(dimension=_DIMENSION, rows=st.lists(_ROW, max_size=5),
       limit=st.sampled_from([0, 1, 26, 999, 25_974, 25_975, 701_298, 2_000_000, 10**12]))
def test_a_sheet_is_within_a_limit_exactly_when_its_area_is(dimension, rows, limit):
    """The byte searches that say a sheet is small give what the area computed from every reference gives."""
    from cakupan.ingest.readers.workbook import _sheet_area, _sheet_within

    xml = dimension + b"<sheetData>" + b"".join(rows) + b"</sheetData>"
    assert _sheet_within(xml, limit) == (_sheet_area(xml) <= limit)


def test_a_small_workbook_s_sheet_is_said_small_by_the_searches_alone(monkeypatch):
    """A plain small sheet (Z columns, three-digit rows) is within the limit without listing its references."""
    from cakupan.ingest.readers import workbook

    xml = b'<dimension ref="A1:P200"/>' + b"".join(
        b'<row r="%d">' % r + b"".join(b'<c r="%s%d"><v>1</v></c>' % (c.encode(), r) for c in "ABCDEFGHIJKLMNOP")
        + b"</row>" for r in range(1, 201))
    assert workbook._sheet_area(xml) == 200 * 16
    monkeypatch.setattr(workbook, "_sheet_area", lambda xml: float("inf"))
    assert workbook._sheet_within(xml, workbook.IN_PROCESS_MAX_CELLS)
    assert not workbook._sheet_within(xml.replace(b'<c r="P200"', b'<c r="P2000"'), workbook.IN_PROCESS_MAX_CELLS)
    # one cell or row the searches cannot vouch for, and the sheet goes to the full count (here: inf)
    for odd in (b'<x:c r="A1"', b'<c s="1" r="A1"', b'<c r="AAA1"', b'<c\tr="A1"'):
        assert not workbook._sheet_within(xml.replace(b'<c r="A1"', odd), workbook.IN_PROCESS_MAX_CELLS)
    assert not workbook._sheet_within(xml.replace(b'<row r="9"', b'<row r="9999"'), workbook.IN_PROCESS_MAX_CELLS)
    assert not workbook._sheet_within(xml.replace(b'A1:P200', b'A1:P999999'), workbook.IN_PROCESS_MAX_CELLS)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=" '=\"abcTOTALjumlahJML()-:\t\u00a0\u200b\ufeff", max_size=12)))
@example('="7372014505800123"')
@example('="a""b" ')
@example('="\u00a0\'7"')
@example(' ="7372014505800123" ')     # (a cell padded with spaces, as some exports write each: trimmed in bulk)
@example("  \u200b 'a  b ")
@example("'7372014505800123")     # (a NIK typed with an apostrophe: dropped in bulk)
@example('="\'a"')
def test_reader_shortcuts_equal_the_parsers(value):
    """The readers' fast paths for clean cells and total labels give what `parsing` gives."""
    assert cell_text(value) == parsing.cell_text(value)
    assert total_label(cell_text(value)) == parsing.is_total_label(value)
    clean = pa.array([value])
    assert vector_cell_text(clean).to_pylist() == [parsing.cell_text(value)]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=" '=\"a7\t\u00a0\u200b", max_size=5)), max_size=6))
@example(['="7"', "=a", None])
@example(['="a""7"'])
@example(["=a", '="7'])
def test_a_column_is_cleaned_as_each_cell_and_left_itself_when_clean(values):
    """`vector_cell_text` of a column is each cell's `parsing.cell_text`; it gives the column itself (which lets
    its cleaning be skipped) only when that changes none of its texts, and always for a column of clean texts."""
    arr = pa.array(values, pa.string())
    got = vector_cell_text(arr)
    assert got.to_pylist() == [parsing.cell_text(v) if v is not None else None for v in values]
    unchanged = all(parsing.cell_text(v) == v for v in values if v is not None)
    assert got is not arr or unchanged
    clean = [v for v in values if v and v.isascii() and v.isprintable() and v == v.strip() and "  " not in v
             and v[0] not in "'="]
    column = pa.array(clean + [None], pa.string())
    assert vector_cell_text(column) is column


def test_the_encrypted_case_is_a_real_compound_file(tmp_path):
    """The spreadsheet library itself sees the crafted OLE file as a password-protected workbook."""
    from cakupan.ingest.readers.workbook import _sheets_in_process
    from cakupan_dev.messy import case_by_name

    path = tmp_path / "geheim.xlsx"
    path.write_bytes(case_by_name("password_protected_xlsx").files[0].data)
    with pytest.raises(FileRejected) as info:
        _sheets_in_process(path, ())
    assert info.value.code == "FILE_ENCRYPTED"


def test_kept_texts_of_number_and_date_cells_are_the_canonical_texts():
    """Number and date cells' texts are kept between calls, by type and value: True is not 1.0, a datetime at
    midnight is not a date, and NaN is blank every time."""
    from cakupan.ingest import parsing
    from cakupan.ingest.readers.cells import cell_text

    values = [1.0, True, 1, 1.5, -0.0, 0, False, float("nan"), dt.date(2025, 1, 2), dt.datetime(2025, 1, 2),
              dt.datetime(2025, 1, 2, 3, 4), dt.time(7, 30), 45658.0, 3315135905760001.0]
    for _ in range(2):
        for v in values + values[::-1]:
            assert cell_text(v) == parsing.cell_text(v), v
    assert cell_text(True) == "True" and cell_text(1.0) == "1" and cell_text(float("nan")) is None


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-5, 5), st.booleans(), st.dates(),
                          st.datetimes(), st.text(alphabet="ab1 '=\"|\t\u00a0\u200b\ufeffé.", max_size=6)), max_size=8))
def test_a_rows_texts_at_once_are_each_cells_text(row):
    """`row_cell_texts` checks a row's plain text cells at once (a workbook row's among its number, date and blank
    cells too): the texts `cell_text` gives cell by cell, and `parsing.cell_text`."""
    from cakupan.ingest import parsing
    from cakupan.ingest.readers.cells import cell_text, row_cell_texts

    assert row_cell_texts(row) == [cell_text(v) for v in row] == [parsing.cell_text(v) for v in row]
    texts = [v for v in row if isinstance(v, str)]
    assert row_cell_texts(texts) == [cell_text(v) for v in texts]


def test_binary_text_is_more_than_eight_control_characters_in_the_first_4096():
    from cakupan.ingest.readers.csvtext import looks_binary

    assert not looks_binary("a;b\r\n\t" * 500 + "\x00" * 8)
    assert looks_binary("a;b\r\n" + "\x00\x01\x1f\x0b\x0c\x0e\x08\x1b\x7f\x00")
    assert not looks_binary("x" * 4096 + "\x00" * 100)          # past the first 4,096 characters
    assert looks_binary("x" * 4087 + "\x00" * 9)


@pytest.mark.parametrize("below", ["space", "note", "zero"])
def test_blank_rows_down_to_a_stray_cell_are_not_carried(tmp_path, monkeypatch, below):
    """Excel's "ghost rows": a space typed far below the data makes the spreadsheet library give every row down to
    it (a 64 KB workbook of 1,000 rows and a space in row 1,048,001 came back as 1,048,001 rows and took 6.5 s and
    ~780 MB to load). The blank rows at the bottom are let go where the sheet is read: the rows, their numbers and
    the blocks are those of the workbook without the stray cell. A stray cell with text or a number in it (a 0 is
    not blank) is a row like any other and stays, with the blank rows above it."""
    import xlsxwriter

    rows = [REGISTER_HEADER] + [register_row(i + 1, w) for i, w in enumerate(workers(30))]
    stray_cell = {"space": " ", "note": "dicetak oleh operator", "zero": 0}[below]

    def book(path: Path, stray: bool) -> Path:
        wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
        ws = wb.add_worksheet("Data")
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                ws.write(r, c, v)
        if stray:
            ws.write(1_048_000, 0, stray_cell)
        wb.close()
        return path

    plain = book(tmp_path / "plain.xlsx", False)
    ghost = book(tmp_path / "ghost.xlsx", True)
    got = dict(read_workbook(ghost))["Data"]
    if below != "space":
        # the million blank rows above it are made 33 (`workbook._rows_of_slices`: the first 64 rows as read), and
        # the stray row keeps its own number
        assert len(got) == 65 and got[-1][0] == stray_cell and not any(any(r) for r in got[31:-1])
        assert got.row_of(64) == 1_048_001 and got.row_of(30) == 31
        a = read_file(ghost).blocks
        from cakupan.ingest.readers import workbook

        monkeypatch.setattr(workbook, "COLLAPSE_BLANK_ROWS", 1 << 40)
        assert len(dict(read_workbook(ghost))["Data"]) == 1_048_001
        b = read_file(ghost).blocks
        assert [(x.n_rows, x.source_rows, x.cells, x.notes_skipped) for x in a] == [
            (x.n_rows, x.source_rows, x.cells, x.notes_skipped) for x in b]
        return
    assert got == dict(read_workbook(plain))["Data"] and len(got) == len(rows)
    a, b = read_file(ghost).blocks, read_file(plain).blocks
    assert [(x.n_rows, x.source_rows, x.cells) for x in a] == [(x.n_rows, x.source_rows, x.cells) for x in b]


_COLUMN_VALUES = st.one_of(
    st.none(), st.floats(), st.floats(-2.0**54, 2.0**54).map(float.__floor__).map(float), st.integers(-2**60, 2**60),
    st.booleans(), st.dates(), st.datetimes(), st.times(), st.decimals(allow_nan=False, places=1),
    st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=8))])),
    st.sampled_from(["", " ", "NIK", " Budi", "Rp 16.800", "'0812", '="7372014505800123"', "1", "1.0", "True"]),
    st.text(max_size=4))


@settings(max_examples=400, deadline=None)
@given(st.lists(_COLUMN_VALUES, max_size=10), st.integers(1, 3))
@example([1.0, 2.0, None, -0.0, 3.5e15, 2.0**53 - 1, -(2.0**53 - 1)], 1)     # whole numbers: Arrow's casts
@example([2.0**53, 1.0, None], 1)       # ... not beyond 2**53 (cast exactly, but not asked)
@example([1.0, 1, True, Decimal("1.0"), None], 2)     # equal values of kinds whose texts differ: each cell asked
@example([dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC),
          dt.datetime(2025, 1, 1, 20, tzinfo=dt.timezone(dt.timedelta(hours=8)))], 2)   # one instant, two texts
@example([float("nan"), 2.0, float("inf"), None], 2)
def test_a_column_s_texts_are_each_cell_s_text(column, times):
    """`cells.column_texts` (each distinct value asked once when values recur, a column of whole-number floats by
    Arrow's casts; a column this short is read cell by cell unless `BULK_MIN_CELLS` says otherwise) gives every cell
    `parsing.cell_text`, whatever kinds of values the column mixes."""
    from cakupan.ingest.readers.cells import column_texts

    column = column * times
    want = [parsing.cell_text(v) for v in column]
    assert column_texts(tuple(column)) == want
    with _bulk_from(0):
        assert column_texts(tuple(column)) == want
