"""A big workbook read part by part by its reader child (issue 22: `readers/bookparts.py`): the same rows, reasons,
totals, notes and findings as the whole read, whatever falls on a part's edge; the files it cannot read so are
read whole; a child that stops mid-file rejects that file only, with nothing of it left. Real loader, real
python-calamine in a real forked child, real DuckDB."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import tempfile
import zipfile

import pytest
import xlsxwriter
from cakupan.ingest import prepare
from cakupan.ingest.loader import Loader
from cakupan.ingest.readers import bookparts, odsmerge, sheetslices
from cakupan.ingest.readers.blocks import FileRejected, column_letter
from cakupan_dev.messy.formats import Sheet, ods_bytes, with_parts
from python_calamine import CalamineWorkbook

HEADER = ["No", "NIK", "Nama", "Tgl Lahir", "L/P", "Profesi", "Kelurahan", "Kecamatan", "Program",
          "Mulai Kepesertaan", "Tgl Berakhir", "Iuran/Bulan", "Sumber Dana", "Kelompok"]
N = 61
PART, FIRST = 8, 3
SLICE = 700     # bytes of a sheet's XML in a slice (`_sliced`): two or three rows


def _nik(i: int) -> str:
    return f"737201{1 + i % 28:02d}{1 + (i // 28) % 12:02d}{70 + i % 20:02d}{i + 1:04d}"


def _register(path, *, second_sheet: str | None = None, loose_cell: bool = False, formula: bool | str = False,
              left: int = 1, far_right: bool = False, borders: int = 0) -> bytes:
    """Parepare's June register as an office lays it out, its table from column `left` on: a merged title, a
    header over two rows (a group label merged over two columns, the rest merged down), districts merged down
    blocks of 7 rows (across parts of 8), birth dates as date cells or text, contributions as numbers or text,
    bad NIKs, a NIK typed as a number, a blank row, the header repeated, a total row and a signature block; and
    `borders` rows of cells with a border and nothing in them under it (a template drawn down for more rows)."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    ws = wb.add_worksheet("Peserta Juni")
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    c0 = left
    ws.merge_range(0, c0, 0, c0 + 5, "PEMERINTAH KOTA PAREPARE")
    ws.write_string(1, c0, "DAFTAR PESERTA PEKERJA RENTAN BULAN JUNI 2025")
    for c, h in enumerate(HEADER):
        if h in ("Kelurahan", "Kecamatan"):
            continue
        ws.merge_range(3, c0 + c, 4, c0 + c, h)
    ws.merge_range(3, c0 + 6, 3, c0 + 7, "Alamat")
    ws.write_string(4, c0 + 6, "Kelurahan")
    ws.write_string(4, c0 + 7, "Kecamatan")
    r = 5
    total = 0
    for i in range(N):
        if i == 20:
            r += 1                                   # a blank row
        if i == 40:
            for c, h in enumerate(HEADER):           # the header again, over the next page's rows
                ws.write_string(r, c0 + c, h)
            r += 1
        ws.write_number(r, c0, i + 1)
        if i == 11:
            ws.write_number(r, c0 + 1, int(_nik(i)))   # a NIK Excel made a number
        else:
            ws.write_string(r, c0 + 1, _nik(i)[:15] if i % 13 == 5 else _nik(i))
        ws.write_string(r, c0 + 2, f"Peserta Sintetis {i}")
        if i % 2:
            ws.write_datetime(r, c0 + 3, dt.datetime(1980 + i % 20, 1 + i % 12, 1 + i % 27), date_fmt)
        else:
            ws.write_string(r, c0 + 3, f"{1 + i % 27:02d}-{1 + i % 12:02d}-{1980 + i % 20}")
        ws.write_string(r, c0 + 4, "L" if i % 3 else "P")
        ws.write_string(r, c0 + 5, "Nelayan")
        ws.write_string(r, c0 + 6, "Lapadde")
        if i % 7 == 0:
            span = min(6, N - 1 - i) + (1 if 20 in range(i + 1, i + 7) or 40 in range(i + 1, i + 7) else 0)
            if span:
                ws.merge_range(r, c0 + 7, r + span, c0 + 7, f"Kecamatan {i // 7}")
            else:
                ws.write_string(r, c0 + 7, f"Kecamatan {i // 7}")
        ws.write_string(r, c0 + 8, "JKK, JKM")
        ws.write_string(r, c0 + 9, "01-04-2025")
        if i % 4:
            ws.write_number(r, c0 + 11, 16800)
        else:
            ws.write_string(r, c0 + 11, "Rp 16.800")
        total += 16800
        ws.write_string(r, c0 + 12, "APBD")
        ws.write_string(r, c0 + 13, f"Kelompok {i % 3}")
        if formula and i == 30:     # (a text: the result Excel saved with it)
            ws.write_formula(r, c0 + 12, '="AP"&"BD"', None, "" if formula is True else formula)
        r += 1
    ws.write_string(r, c0, "JUMLAH")
    ws.write_number(r, c0 + 11, total)
    ws.write_string(r + 2, c0 + 9, "Parepare, 30 Juni 2025")
    ws.write_string(r + 3, c0 + 9, "Kepala Dinas Tenaga Kerja")
    ws.write_string(r + 5, c0 + 9, "NIP. 19700101 199003 1 001")
    if borders:
        edge = wb.add_format({"border": 1})
        for b in range(r + 6, r + 6 + borders):
            for c in range(len(HEADER)):
                ws.write_blank(b, c0 + c, None, edge)
    if loose_cell:
        ws.write_string(30, c0 + len(HEADER) + 1, "dicek")    # below the header, in a column without a label
    if far_right:       # "Kelompok" again in XFD over a note on one worker, and a space typed in column WQK
        ws.write_string(4, 16_383, "Kelompok")
        ws.write_string(12, 16_383, "sudah dicek")
        ws.write_string(14, 16_000, " ")
    hidden = wb.add_worksheet("Petunjuk")
    hidden.write_string(0, 0, "Isi mulai baris 6")
    hidden.hide()
    if second_sheet:
        other = wb.add_worksheet(second_sheet)
        other.write_string(0, 0, "Catatan: data bulan Juni")
    wb.close()
    return path.read_bytes()


def _load(home_factory, monkeypatch, name: str, data: bytes, parts: bool, frames: list | None = None,
          file: str = "register_parepare_2025-06.xlsx", sliced: bool = False):
    """Load the workbook into a fresh home, part by part (parts of PART rows, the first of FIRST) or whole; return
    the load result and every table a load writes, without ids and times. `sliced`: each sheet read in slices of
    a few rows (`_sliced`)."""
    s = home_factory(name)
    dest = s.inbox / "73.72" / file
    dest.parent.mkdir(parents=True)
    dest.write_bytes(data)
    with monkeypatch.context() as m:
        m.setattr(bookparts, "BOOK_STREAM_MIN_BYTES", 0 if parts else 1 << 40)
        m.setattr(prepare, "BOOK_PART_ROWS", PART)
        m.setattr(prepare, "STREAM_FIRST_PART_LINES", FIRST)
        if sliced:
            _sliced(m)
        if frames is not None:
            real = bookparts.BookParts._frame

            def frame(self):
                got = real(self)
                frames.append(got[0])
                return got

            m.setattr(bookparts.BookParts, "_frame", frame)
        ld = Loader(s)
        try:
            r = ld.load(dest)
            tables = {
                "raw": ld.con.execute(
                    "select source_row, * exclude (load_id, received_at, raw_cells, source_row), raw_cells::varchar "
                    "from raw.register "
                    "order by source_row").fetchall(),
                "quarantine": ld.con.execute(
                    "select source_row, sheet, reason_code, column_name, reasons::varchar, participant_key, "
                    "raw_cells::varchar, message, public_message from quarantine.rows order by source_row, "
                    "reason_code").fetchall(),
                "load": ld.con.execute(
                    "select status, rows_in, rows_loaded, rows_quarantined, notes_skipped, sheets, period, "
                    "error_code, error_message from audit.loads").fetchall(),
                "findings": ld.con.execute(
                    "select * exclude (load_id) from audit.load_findings order by all").fetchall(),
            }
        finally:
            ld.con.close()
    return r, tables


def _sliced(m) -> None:
    """Every worksheet read in slices (`sheetslices`) of about SLICE bytes of XML (a few rows), unzipped 256 bytes
    at a time."""
    m.setattr(sheetslices, "SLICE_SHEET_MIN_BYTES", 0)
    m.setattr(sheetslices, "SLICE_BYTES", SLICE)
    m.setattr(sheetslices, "_PIECE", 256)
    m.setattr(sheetslices, "_MAX_SPAN", 40)
    m.setattr(sheetslices, "_GAP", 30)


def _both(home_factory, monkeypatch, tag: str, data: bytes, file: str = "register_parepare_2025-06.xlsx",
          sliced: bool = False):
    """The file loaded part by part, then whole, each into a fresh home: (the child's messages, (result, tables)
    part by part, (result, tables) whole)."""
    frames: list = []
    parts = _load(home_factory, monkeypatch, f"{tag}parts", data, parts=True, frames=frames, file=file,
                  sliced=sliced)
    return frames, parts, _load(home_factory, monkeypatch, f"{tag}whole", data, parts=False, file=file)


@pytest.mark.parametrize("sliced", [False, True])
def test_a_big_workbook_in_parts_gives_what_the_whole_read_gives(home_factory, monkeypatch, tmp_path, sliced):
    """Also with its sheet read in slices of two or three rows (`sheetslices`): merged ranges, the blank row and
    the header again across the slices' edges."""
    data = _register(tmp_path / "book.xlsx")
    frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, "", data, sliced=sliced)
    # the child sent the header, then the 69 rows below it (61 data rows, a blank one, the header again, the total
    # and the signature block's six) in parts: FIRST, then eight of PART and the last two
    assert frames == ["head"] + ["part"] * 10, frames
    assert r_whole.status == "loaded" and r_whole.rows_in == N
    assert (r_parts.status, r_parts.rows_in, r_parts.rows_loaded, r_parts.rows_quarantined) == (
        r_whole.status, r_whole.rows_in, r_whole.rows_loaded, r_whole.rows_quarantined)
    # the NIKs cut to 15 digits, and the one Excel made a number (its 16th digit cannot be trusted)
    assert r_whole.reasons == r_parts.reasons == {"NIK_15_DIGITS": len(range(5, N, 13)), "NIK_PRECISION_LOST": 1}
    for table in whole:
        assert parts[table] == whole[table], table
    # what the whole read made of the merged districts, across the parts' edges: each row its block's district
    districts = [int(d.split()[-1]) for _, d in _column_by_row(whole["raw"], "Kecamatan")]
    assert set(districts) == set(range(9)) and districts == sorted(districts)


@pytest.mark.parametrize("sliced", [False, True])
def test_a_template_s_empty_bordered_rows_make_no_parts(home_factory, monkeypatch, tmp_path, sliced):
    """300 rows of bordered cells with nothing in them under the register (a template drawn down for more rows):
    the library's area ends above them, and so do the parts, also when the sheet is read in slices (its last
    row is its last cell holding something, `sheetslices._last_cell`): the same head and ten parts as without
    them, and the whole read's tables."""
    data = _register(tmp_path / "book.xlsx", borders=300)
    frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, "", data, sliced=sliced)
    assert frames == ["head"] + ["part"] * 10, frames
    assert (r_parts.status, r_parts.rows_in) == (r_whole.status, r_whole.rows_in) == ("loaded", N)
    for table in whole:
        assert parts[table] == whole[table], table


@pytest.mark.parametrize("sliced", [False, True])
def test_a_big_workbook_with_a_value_far_right_in_parts_gives_what_the_whole_read_gives(home_factory, monkeypatch,
                                                                                        tmp_path, sliced):
    """A label typed in XFD over a note on one worker (and a space in WQK): in slices (a big sheet's, cut again once
    a slice shows the value: `sheetslices._cut`) the column follows the data, and the parts name it as the whole
    read does, by its own letter (the label repeats the table's "Kelompok": "Kelompok (XFD)"); the rows the
    library gives are as wide as the data and that column, not 16,384 cells."""
    data = _register(tmp_path / "book.xlsx", far_right=True)
    frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, "far", data, sliced=sliced)
    assert frames == ["head"] + ["part"] * 10, frames
    assert (r_parts.status, r_parts.rows_in) == (r_whole.status, r_whole.rows_in) == ("loaded", N)
    for table in whole:
        assert parts[table] == whole[table], table
    notes = [(row, v) for row, v in _column_by_row(whole["raw"], "Kelompok (XFD)") if v is not None]
    assert notes == [(13, "sudah dicek")]
    finding, = [f for f in whole["findings"] if f[0] == "EXTRA_COLUMNS"]
    assert "'Kelompok (XFD)'" in finding[-1]


def _column_by_row(raw_rows: list[tuple], label: str) -> list[tuple]:
    """(source row, the cell under `label` as delivered) from each raw row's raw_cells (the last column)."""
    return [(row[0], json.loads(row[-1]).get(label)) for row in raw_rows]


@pytest.mark.parametrize("sliced", [False, True])
@pytest.mark.parametrize("case", ["loose_cell", "formula"])
def test_what_a_part_alone_cannot_read_is_read_whole(home_factory, monkeypatch, tmp_path, case, sliced):
    """A cell below the header in a column without a label, a formula without a saved result: the child says so
    before the first part, and the file is read whole, with the same outcome. Read in slices, the cell in a column
    without a label lies in a later slice than the header (asked of the XML)."""
    data = _register(tmp_path / "book.xlsx", second_sheet="Catatan" if case == "second_sheet" else None,
                     loose_cell=case == "loose_cell", formula=case == "formula")
    frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, case, data, sliced=sliced)
    assert frames == ["whole"]
    assert r_parts.status == r_whole.status == "loaded"
    assert parts == whole


def test_a_notes_sheet_beside_the_data_is_a_sheet_without_a_header_in_parts_too(home_factory, monkeypatch,
                                                                                 tmp_path):
    """A second visible sheet of notes: the data sheet is sent in parts, the notes sheet is a sheet without a
    header, as the whole read finds it."""
    data = _register(tmp_path / "book.xlsx", second_sheet="Catatan")
    frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, "notes", data)
    assert frames == ["head"] + ["part"] * 10, frames
    assert r_parts.status == r_whole.status == "loaded"
    assert parts == whole
    assert [f[0] for f in parts["findings"]].count("SHEET_NO_HEADER") == 1


def test_the_rows_start_at_the_sheet_s_first_column_as_a_whole_read_gives_them(tmp_path):
    """The library's rows, one by one, start at the first used column; padded, they are the whole read's."""
    for left in (0, 1, 3):
        path = tmp_path / f"left{left}.xlsx"
        _register(path, left=left)
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Peserta Juni")
        assert list(bookparts._padded(sheet.iter_rows(), sheet.start[1])) == sheet.to_python(skip_empty_area=False)


def test_a_child_that_stops_mid_file_rejects_that_file_only(home_factory, monkeypatch, tmp_path):
    """The reader child dies (as a native abort ends it) after sending two parts: the file is rejected as
    FILE_CORRUPT with the reason, none of its rows is left, and the next file loads."""
    data = _register(tmp_path / "book.xlsx")
    s = home_factory("stops")
    dest = s.inbox / "73.72" / "register_parepare_2025-06.xlsx"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(data)
    real = bookparts.block_from_rows
    made = []

    def block_from_rows(*args, **kwargs):
        made.append(1)
        if len(made) == 3:
            os.abort()          # (in the child: it was forked with this module)
        return real(*args, **kwargs)

    monkeypatch.setattr(bookparts, "BOOK_STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(prepare, "BOOK_PART_ROWS", PART)
    monkeypatch.setattr(prepare, "STREAM_FIRST_PART_LINES", FIRST)
    monkeypatch.setattr(bookparts, "block_from_rows", block_from_rows)
    ld = Loader(s)
    try:
        r = ld.load(dest)
        left = ld.con.execute("select (select count(*) from raw.register) + (select count(*) from quarantine.rows)"
                              ).fetchone()[0]
        status = ld.con.execute("select status, error_code from audit.loads").fetchall()
    finally:
        ld.con.close()
    assert made == [], "the parent made no block: the child did"
    assert r.status == "rejected" and r.error_code == "FILE_CORRUPT", r
    assert "signal 6" in r.error_message
    assert left == 0 and status == [("rejected", "FILE_CORRUPT")]
    monkeypatch.setattr(bookparts, "block_from_rows", real)
    s2 = home_factory("after")
    dest2 = s2.inbox / "73.72" / "register_parepare_2025-06.xlsx"
    dest2.parent.mkdir(parents=True)
    dest2.write_bytes(data)
    ld = Loader(s2)
    try:
        assert ld.load(dest2).status == "loaded"
    finally:
        ld.con.close()


def _stored_with(data: bytes, part: str | None) -> bytes:
    """The workbook's parts stored, not deflated, with one digit of a number cell in `part` changed after its CRC
    was written (the part's CRC then fails at its end, its XML still well formed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as a, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as b:
        for name in a.namelist():
            b.writestr(name, a.read(name))
    raw = bytearray(out.getvalue())
    if part is not None:
        with zipfile.ZipFile(io.BytesIO(bytes(raw))) as z:
            info = z.getinfo(part)
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        body = bytes(raw[start: start + info.compress_size])
        at = body.index(b"<v>", len(body) // 2) + 3 if b"<v>" in body[len(body) // 2:] else body.index(b"?>") - 1
        raw[start + at] = ord("7") if raw[start + at] != ord("7") else ord("8")
    return bytes(raw)


@pytest.mark.parametrize("damaged", [None, "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml",
                                     "xl/styles.xml"])
def test_a_big_worksheet_s_crc_is_tested_by_the_child_alone_and_a_damaged_part_is_still_named(
        home_factory, monkeypatch, tmp_path, damaged):
    """The parent's check of a big workbook's container leaves its big worksheets to the reader child, which
    tests them as it cuts them (the sheet of data, sheet1) or unzips them (the hidden sheet of hints, sheet2, not
    cut): the parent unzips no worksheet, and a worksheet whose CRC fails is named as the whole read names it.
    Every worksheet is big here (`_sliced`); a damaged small part (styles) is named by the parent's own check."""
    data = _stored_with(_register(tmp_path / "book.xlsx"), damaged)
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))      # (in the parent: the child forked has its own list)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    frames: list = []
    r_parts, parts = _load(home_factory, monkeypatch, "crcparts", data, parts=True, frames=frames, sliced=True)
    in_parts = list(opened)
    r_whole, whole = _load(home_factory, monkeypatch, "crcwhole", data, parts=False)
    if damaged is None:
        assert r_parts.status == "loaded" and frames[0] == "head", (r_parts, frames)
        assert "xl/styles.xml" in in_parts and not [n for n in in_parts if n.startswith("xl/worksheets/")], in_parts
    else:
        assert r_parts.status == "rejected" and r_parts.error_code == "FILE_CORRUPT", r_parts
        assert repr(damaged) in r_parts.error_message, r_parts.error_message
        assert frames == ([] if damaged == "xl/styles.xml" else ["whole"]), frames
    assert parts == whole
    assert (r_parts.status, r_parts.error_code, r_parts.error_message) == (
        r_whole.status, r_whole.error_code, r_whole.error_message)


# ---------------------------------------------------------------------------------------- a sheet a district --
def _row(ws, r: int, c0: int, i: int, order: list[str], district: str | None) -> None:
    """Worker i's cells, in the sheet's own column order (a district cell unless merged: None)."""
    cells = {"No": i + 1, "NIK": _nik(i)[:15] if i % 9 == 4 else _nik(i), "Nama": f"Peserta Sintetis {i}",
             "Tgl Lahir": f"{1 + i % 27:02d}/{1 + i % 12:02d}/{1980 + i % 20}", "L/P": "P" if i % 2 else "L",
             "Profesi": "Nelayan", "Kelurahan": "Lumpue", "Kecamatan": district, "Program": "JKK, JKM",
             "Mulai Kepesertaan": "01/04/2025", "Iuran/Bulan": 16800, "Sumber Dana": "APBD"}
    for c, h in enumerate(order):
        v = cells.get(h)
        if isinstance(v, int):
            ws.write_number(r, c0 + c, v)
        elif v is not None:
            ws.write_string(r, c0 + c, v)


SHEETS = {"Kec. Bacukiki": 13, "Kec. Soreang": 20, "Kec. Ujung": 9}


def _districts(path, *, other: str | None = None) -> tuple[bytes, dict[str, int]]:
    """Parepare's June register as a district office sends it: an instruction sheet first, then a sheet a
    district, each laid out its own way (a title and total; the header on the first row, columns in another order,
    a blank row; the district merged down the whole sheet and a signature), an empty sheet and a hidden one among
    them. `other`: one more sheet (a contributions bill, a formula without a saved value, a cell in a column
    without a label, the notes of `test_header_inference`). Gives the bytes and each district sheet's last row
    (0-based)."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    first = wb.add_worksheet("Petunjuk")
    for r, t in enumerate(["Petunjuk pengisian", "1. Satu baris satu peserta", "2. NIK 16 digit sesuai KTP"]):
        first.write_string(r, 0, t)
    last: dict[str, int] = {}
    i = 0
    ws = wb.add_worksheet("Kec. Bacukiki")
    ws.write_string(0, 0, "DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE BULAN JUNI 2025")
    order = ["No", "NIK", "Nama", "Tgl Lahir", "L/P", "Profesi", "Kelurahan", "Kecamatan", "Program",
             "Mulai Kepesertaan", "Iuran/Bulan", "Sumber Dana"]
    for c, h in enumerate(order):
        ws.write_string(2, c, h)
    for r in range(3, 3 + SHEETS["Kec. Bacukiki"]):
        _row(ws, r, 0, i, order, "Bacukiki")
        i += 1
    ws.write_string(r + 1, 0, "JUMLAH")
    ws.write_number(r + 1, 10, 16800 * SHEETS["Kec. Bacukiki"])
    last["Kec. Bacukiki"] = r + 1
    wb.add_worksheet("Kosong")
    ws = wb.add_worksheet("Kec. Soreang")
    order = ["NIK", "Nama", "No", "L/P", "Tgl Lahir", "Kelurahan", "Kecamatan", "Profesi", "Sumber Dana",
             "Program", "Mulai Kepesertaan", "Iuran/Bulan"]
    written = {"NIK": "No KTP", "Nama": "Nama Peserta", "Mulai Kepesertaan": "TMT (dd/mm/yyyy)"}
    for c, h in enumerate(order):
        ws.write_string(0, c + 1, written.get(h, h))        # (this office's own words for three columns)
    r = 1
    for k in range(SHEETS["Kec. Soreang"]):
        r += k == 10                                  # a blank row
        _row(ws, r, 1, i, order, "Soreang")
        i += 1
        r += 1
    last["Kec. Soreang"] = r - 1
    hidden = wb.add_worksheet("Arsip Mei")
    for c, h in enumerate(HEADER):
        hidden.write_string(0, c, h)
    hidden.write_string(1, 1, _nik(99))
    hidden.hide()
    ws = wb.add_worksheet("Kec. Ujung")
    ws.merge_range(0, 0, 0, 6, "PEMERINTAH KOTA PAREPARE — KECAMATAN UJUNG")
    order = ["No", "NIK", "Nama", "Kecamatan", "Tgl Lahir", "L/P", "Profesi", "Kelurahan", "Program",
             "Mulai Kepesertaan", "Iuran/Bulan", "Sumber Dana"]
    for c, h in enumerate(order):
        ws.write_string(1, c, h)
    n = SHEETS["Kec. Ujung"]
    ws.merge_range(2, 3, 1 + n, 3, "Ujung")           # the district merged down every row, across parts
    for r in range(2, 2 + n):
        _row(ws, r, 0, i, order, None)
        i += 1
    ws.write_string(r + 2, 9, "Parepare, 30 Juni 2025")
    ws.write_string(r + 4, 9, "Camat Ujung")
    last["Kec. Ujung"] = r + 4
    if other == "bill":
        bill = wb.add_worksheet("Tagihan")
        for c, h in enumerate(["Bulan", "Kab/Kota", "Sumber Dana", "Jumlah Peserta", "Jumlah Tagihan",
                               "Jumlah Dibayar"]):
            bill.write_string(0, c, h)
        for c, v in enumerate(["Juni 2025", "Kota Parepare", "APBD"]):
            bill.write_string(1, c, v)
    elif other == "formula":
        wb.get_worksheet_by_name("Kec. Soreang").write_formula(5, 9, '="AP"&"BD"', None, "")
    elif other == "loose_cell":
        wb.get_worksheet_by_name("Kec. Ujung").write_string(4, len(order) + 1, "dicek")
    elif other == "empty_district":                   # a district with no one yet: its title and header alone
        empty = wb.add_worksheet("Kec. Lapadde")
        empty.write_string(0, 0, "DAFTAR PESERTA PEKERJA RENTAN KECAMATAN LAPADDE")
        for c, h in enumerate(HEADER):
            empty.write_string(2, c, h)
    elif other == "notes":
        notes = wb.add_worksheet("Keterangan")
        for r, row in enumerate([["Keterangan pengisian"], [], ["Kolom", "Penjelasan"],
                                 ["NIK", "16 digit sesuai KTP"], ["Periode", "bulan laporan, mis. Juni 2025"],
                                 ["TMT", "tanggal mulai kepesertaan"]]):
            for c, t in enumerate(row):
                notes.write_string(r, c, t)
    wb.close()
    return path.read_bytes(), last


@pytest.mark.parametrize("other,sliced", [(None, False), ("notes", False), ("empty_district", False),
                                          (None, True), ("empty_district", True)])
def test_a_workbook_of_a_sheet_a_district_in_parts_gives_what_the_whole_read_gives(home_factory, monkeypatch,
                                                                                 tmp_path, other, sliced):
    """Each district sheet is sent in parts, sheet after sheet (the first part of the first sheet FIRST rows, the
    others PART); the instruction sheets are sheets without a header; the outcome is the whole read's. `sliced`:
    every sheet read in slices of a few rows, the instruction sheets too."""
    data, last = _districts(tmp_path / "book.xlsx", other=other)
    frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, "", data, sliced=sliced)
    header_row = {"Kec. Bacukiki": 2, "Kec. Soreang": 0, "Kec. Ujung": 1}
    below = [last[s] - header_row[s] for s in SHEETS]       # each sheet's rows below its header
    n_parts = 1 + -(-(below[0] - FIRST) // PART) + sum(-(-n // PART) for n in below[1:])
    n_parts += other == "empty_district"          # (its part of no rows)
    assert frames == ["head"] + ["part"] * n_parts, frames
    n = sum(SHEETS.values())
    assert (r_whole.status, r_whole.rows_in) == ("loaded", n)
    assert (r_parts.status, r_parts.rows_in, r_parts.rows_loaded, r_parts.rows_quarantined, r_parts.reasons) == (
        r_whole.status, r_whole.rows_in, r_whole.rows_loaded, r_whole.rows_quarantined, r_whole.reasons)
    assert r_whole.reasons == {"NIK_15_DIGITS": len(range(4, n, 9))}
    for table in whole:
        assert parts[table] == whole[table], table
    assert parts["load"][0][5] == ",".join([*SHEETS] + (["Kec. Lapadde"] if other == "empty_district" else []))
    no_header = [f[4] for f in parts["findings"] if f[0] == "SHEET_NO_HEADER"]
    named = sorted(m.split(":")[0] for m in no_header)
    assert named == (["lembar Keterangan", "lembar Petunjuk"] if other == "notes" else ["lembar Petunjuk"]), named
    sheets = [row[3] for row in parts["raw"]] + [row[1] for row in parts["quarantine"]]
    assert {s: sheets.count(s) for s in SHEETS} == SHEETS
    assert {d for _, d in _column_by_row(parts["raw"], "Kecamatan")} == {"Bacukiki", "Soreang", "Ujung"}
    # each row's cells as delivered, under its own sheet's header words
    soreang = [row for row in parts["raw"] if row[3] == "Kec. Soreang"]
    assert soreang and all(json.loads(row[-1])["No KTP"] == row[7] for row in soreang)
    assert not any("No KTP" in json.loads(row[-1]) for row in parts["raw"] if row[3] != "Kec. Soreang")


@pytest.mark.parametrize("sliced", [False, True])
@pytest.mark.parametrize("other", ["bill", "formula", "loose_cell"])
def test_a_sheet_a_part_alone_cannot_read_sends_the_workbook_whole(home_factory, monkeypatch, tmp_path, other,
                                                                  sliced):
    """A second kind of sheet (a contributions bill: the whole read refuses the mix), a formula without a saved
    value or a cell in a column without a label in a later sheet: the child says so before the first part, and
    the outcome is the whole read's."""
    data, _ = _districts(tmp_path / "book.xlsx", other=other)
    frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, other, data, sliced=sliced)
    assert frames == ["whole"]
    assert r_parts.status == r_whole.status == ("rejected" if other == "bill" else "loaded")
    assert r_parts.error_code == r_whole.error_code == ("WRONG_KIND" if other == "bill" else None)
    assert parts == whole


def test_a_workbook_of_a_sheet_a_month_in_parts_gives_each_row_its_sheet_s_month(home_factory, monkeypatch,
                                                                                  tmp_path):
    """Sheets named for the months ("Januari", "Februari", "Maret"), the year in the file's name: each row is of
    its sheet's month, in parts as read whole."""
    wb = xlsxwriter.Workbook(str(tmp_path / "book.xlsx"), {"strings_to_numbers": False})
    order = ["No", "NIK", "Nama", "Tgl Lahir", "L/P", "Profesi", "Kelurahan", "Kecamatan", "Program",
             "Mulai Kepesertaan", "Iuran/Bulan", "Sumber Dana"]
    i = 0
    for month in ("Januari", "Februari", "Maret"):
        ws = wb.add_worksheet(month)
        for c, h in enumerate(order):
            ws.write_string(0, c, h)
        for r in range(1, 12):
            _row(ws, r, 0, i, order, "Bacukiki")
            i += 1
    wb.close()
    data = (tmp_path / "book.xlsx").read_bytes()
    frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, "months", data)
    assert frames == ["head"] + ["part"] * (2 + 2 + 2), frames      # 11 rows a sheet: FIRST and 8, then 8 and 3
    assert (r_parts.status, r_parts.rows_in) == (r_whole.status, r_whole.rows_in) == ("loaded", 33)
    assert parts == whole
    periods = {(row[3], row[5].isoformat()) for row in parts["raw"]}
    assert periods == {("Januari", "2025-01-01"), ("Februari", "2025-02-01"), ("Maret", "2025-03-01")}


def test_numbered_area_sheets_as_an_exporter_writes_them_in_parts_give_what_the_whole_read_gives(
        home_factory, monkeypatch, tmp_path):
    """The layout a public village-data exporter writes (one sheet an area, named "1. BACUKIKI": a number, the area
    upper case, cut to 25 characters; a merged title naming the area and its count in brackets above the header):
    each sheet in parts, the outcome the whole read's."""
    wb = xlsxwriter.Workbook(str(tmp_path / "book.xlsx"), {"strings_to_numbers": False})
    order = ["No", "NIK", "Nama", "Tgl Lahir", "L/P", "Profesi", "Kelurahan", "Kecamatan", "Program",
             "Mulai Kepesertaan", "Iuran/Bulan", "Sumber Dana"]
    areas = {"BACUKIKI": 5, "BACUKIKI BARAT KELURAHAN LUMPUE DAN SEKITARNYA": 12, "SOREANG": 10}
    i = 0
    for k, (area, n) in enumerate(areas.items()):
        ws = wb.add_worksheet(f"{k + 1}. {area[:25]}")
        ws.merge_range(0, 0, 0, len(order) - 1, f"DATA PESERTA PEKERJA RENTAN KECAMATAN {area} ({n})")
        for c, h in enumerate(order):
            ws.write_string(2, c, h.upper())
        for r in range(3, 3 + n):
            _row(ws, r, 0, i, order, area.title())
            i += 1
    wb.close()
    data = (tmp_path / "book.xlsx").read_bytes()
    frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, "areas", data)
    assert frames == ["head"] + ["part"] * (2 + 2 + 2), frames      # 5: FIRST and 2; 12: 8 and 4; 10: 8 and 2
    assert (r_parts.status, r_parts.rows_in) == (r_whole.status, r_whole.rows_in) == ("loaded", sum(areas.values()))
    assert parts == whole
    # (the long name cut at 25 characters ends in a space, and keeps it)
    assert parts["load"][0][5] == "1. BACUKIKI,2. BACUKIKI BARAT KELURAHAN ,3. SOREANG"


def _ods_sheet(name: str, first: int, n: int, district: str) -> Sheet:
    """A district's sheet as a LibreOffice user lays it out: a title, a header over two rows (a group label merged
    over the NIK and name, the rest merged down), the district merged down every data row, a total."""
    header = ["No", "Identitas", None, "Tgl Lahir", "L/P", "Profesi", "Kelurahan", "Kecamatan", "Program",
              "Mulai Kepesertaan", "Iuran/Bulan", "Sumber Dana"]
    rows = [[f"DAFTAR PESERTA PEKERJA RENTAN KECAMATAN {district.upper()} JUNI 2025"], [], header,
            [None, "NIK", "Nama"] + [None] * 9]
    merges = [(2, 1, 2, 2, "Identitas")] + [(2, c, 3, c, header[c]) for c in (0, *range(3, 12))]
    for k in range(n):
        i = first + k
        rows.append([i + 1, _nik(i)[:15] if i % 9 == 4 else _nik(i), f"Peserta Sintetis {i}",
                     f"{1 + i % 27:02d}-{1 + i % 12:02d}-{1980 + i % 20}", "L" if i % 2 else "P", "Petani", "Lumpue",
                     district if k == 0 else None, "JKK, JKM", "01-04-2025", 16800, "APBD"])
    merges.append((4, 7, 3 + n, 7, district))
    rows.append(["JUMLAH"] + [None] * 9 + [16800 * n])
    return Sheet(name, rows, merges)


def test_a_big_ods_of_district_sheets_in_parts_gives_what_the_whole_read_gives(home_factory, monkeypatch):
    """An .ods (LibreOffice's own format) of a sheet a district and a notes sheet: read part by part as an .xlsx is,
    its merged ranges from its content.xml (the library gives an .ods none), the outcome the whole read's."""
    data = ods_bytes([_ods_sheet("Bacukiki", 0, 12, "Bacukiki"), _ods_sheet("Soreang", 12, 19, "Soreang"),
                      Sheet("Catatan", [["Diisi oleh operator kecamatan"]])])
    name = "register_parepare_2025-06.ods"
    frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, "ods", data, file=name)
    # rows below each two-row header: 12 + total = 13 (FIRST, 8, 2), 19 + total = 20 (8, 8, 4)
    assert frames == ["head"] + ["part"] * (3 + 3), frames
    assert (r_parts.status, r_parts.rows_in) == (r_whole.status, r_whole.rows_in) == ("loaded", 31)
    assert r_whole.reasons == {"NIK_15_DIGITS": len(range(4, 31, 9))}
    assert parts == whole
    # the merged district, across the parts' edges: every row its sheet's
    assert {(row[3], d) for row, (_, d) in zip(parts["raw"], _column_by_row(parts["raw"], "Kecamatan"),
                                               strict=True)} == {("Bacukiki", "Bacukiki"), ("Soreang", "Soreang")}


def _with_far_blanks(data: bytes, case: str) -> bytes:
    """The .ods with a space 16,000 columns right of the first sheet's title and of its fifth data row (`right`),
    or an "x" there in the title's row (`right_x`), or a space under a run of 5,000 empty rows below it (`below`),
    or that and a note merged over three rows below the total (`below_merged`: a merged range reaching rows the
    trim leaves out)."""
    space = '<table:table-cell office:value-type="string"><text:p> </text:p></table:table-cell>'
    run = '<table:table-cell table:number-columns-repeated="16000"/>'

    def change(parts: dict) -> None:
        xml = parts["content.xml"].decode()
        end = xml.index("</table:table>")
        if case == "right_x":       # (a value: its column moved to follow the data, `odsfar`)
            at = xml.index("</table:table-row>")
            x = '<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'
            xml = xml[:at] + run + x + xml[at:]
        elif case == "right":
            for row in (8, 0):       # (the fifth data row first: the title's insertion moves it)
                at = -1
                for _ in range(row + 1):
                    at = xml.index("</table:table-row>", at + 1)
                xml = xml[:at] + run + space + xml[at:]
        else:
            xml = (xml[:end] + '<table:table-row table:number-rows-repeated="5000"><table:table-cell table:number-'
                   f'columns-repeated="12"/></table:table-row><table:table-row>{space}</table:table-row>' + xml[end:])
        parts["content.xml"] = xml.encode()
    return with_parts(data, change)


@pytest.mark.parametrize("case", ["right", "below", "below_merged", "right_x"])
def test_a_big_ods_with_blank_cells_far_off_in_parts_gives_what_the_whole_read_gives(home_factory, monkeypatch,
                                                                                     case):
    """The .ods of district sheets with a stray space far right or far below: the child reads it without those
    blank cells (`odstail`), as the whole read does, and the outcome is the whole read's; a merged range that
    reaches the rows left out sends it whole (the whole read makes those rows), and so does a value far right (its
    column moved: the whole read names it by its own letter)."""
    from cakupan.ingest.readers import odstail

    monkeypatch.setattr(odstail, "FAR_ROWS", 40)
    first = _ods_sheet("Bacukiki", 0, 12, "Bacukiki")
    if case == "below_merged":
        first.rows += [[], ["Catatan: diisi operator kelurahan"], [], []]
        first.merges.append((len(first.rows) - 3, 0, len(first.rows) - 1, 3, "Catatan: diisi operator kelurahan"))
    data = _with_far_blanks(ods_bytes([first, _ods_sheet("Soreang", 12, 19, "Soreang")]), case)
    assert odstail.without_far_blanks(data, odsmerge.content_xml(io.BytesIO(data))) is not None
    name = "register_parepare_2025-06.ods"
    frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, f"far{case}", data, file=name)
    assert frames == (["whole"] if case in ("below_merged", "right_x") else ["head"] + ["part"] * (3 + 3)), frames
    assert (r_parts.status, r_parts.rows_in) == (r_whole.status, r_whole.rows_in) == ("loaded", 31)
    assert parts == whole


# ------------------------------------------------------------------------------------- a big sheet in slices --
def _gaps(path, *, date_1904: bool = False) -> bytes:
    """A register sheet with what a slice's edge may cut: dates as date cells (in the 1904 date system too), 400
    blank rows between two runs of data (many slices without a row), data again, then nothing down to one space
    typed in row 5,000 (rows of no data, as the whole read gives them, and not in the library's area of any slice
    with data)."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "date_1904": date_1904})
    ws = wb.add_worksheet("Peserta")
    date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_string(0, 0, "DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE BULAN JUNI 2025")
    order = HEADER[:12]
    for c, h in enumerate(order):
        ws.write_string(2, c, h)
    r = 3
    for i in range(40):
        if i == 20:
            r += 400
        _row(ws, r, 0, i, order, "Ujung")
        ws.write_datetime(r, 3, dt.datetime(1980 + i % 20, 1 + i % 12, 1 + i % 27), date_fmt)
        r += 1
    ws.write_string(4999, 5, " ")
    wb.close()
    return path.read_bytes()


def _whole_rows(path, name: str) -> list[list]:
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name)
    return list(bookparts._padded(sheet.iter_rows(), sheet.start[1]))


@pytest.mark.parametrize("book", ["left0", "left3", "left1_tiny", "gaps", "gaps1904"])
def test_a_sheet_in_slices_gives_the_whole_read_s_rows(monkeypatch, tmp_path, book):
    """Cut into slices of a few rows, a sheet gives the library's rows of the whole sheet, one for one (from
    column A, every row from the first, as wide, dates as dates in either date system), its merged ranges and its
    last row; the temporary workbook is gone once open. `tiny`: slices of a row or two, the first the title alone
    (narrower than the header below it)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    _sliced(monkeypatch)
    if book.endswith("tiny"):
        monkeypatch.setattr(sheetslices, "SLICE_BYTES", 1)
    path = tmp_path / f"{book}.xlsx"
    if book.startswith("left"):
        data, name = _register(path, left=int(book[4])), "Peserta Juni"
    else:
        data, name = _gaps(path, date_1904=book == "gaps1904"), "Peserta"
    sheet = sheetslices.sliced_sheets(path, data, [name])[name]
    assert list((tmp_path / "tmp").iterdir()) == []
    whole = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name)
    assert sheet._slices >= 20
    assert sheet.end[0] == whole.end[0] and sheet.merged_cell_ranges == whole.merged_cell_ranges
    rows = list(sheet.iter_rows())
    assert rows == _whole_rows(path, name)
    if book.startswith("gaps"):
        # rows far apart are in slices apart: no slice's area spans more than _MAX_SPAN rows
        spans = [(x.end[0] - x.start[0]) for x in map(sheet._wb.get_sheet_by_name, (f"s{k}" for k in range(
            sheet._slices))) if x.start is not None]
        assert max(spans) <= 40, spans
        assert len(rows) == 5000 and rows[4999][5] == " "
        assert [r[3] for r in rows[3:5]] == [dt.date(1980, 1, 1), dt.date(1981, 2, 2)]
    sheet.release()


def _xlsx(path, sheet_xml: bytes) -> bytes:
    """A one-sheet workbook ("Data") of the given worksheet XML, zipped by hand."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
                   'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/'
                   'xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                   'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                   'relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"'
                   '/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return path.read_bytes()


def _row_xml(r: int | None, prefix: str = "") -> str:
    ref = f' r="{r}"' if r else ""
    return (f'<{prefix}row{ref}><{prefix}c t="inlineStr"><{prefix}is><{prefix}t>Peserta {r}</{prefix}t></{prefix}is>'
            f'</{prefix}c><{prefix}c><{prefix}v>{r or 0}</{prefix}v></{prefix}c></{prefix}row>')


@pytest.mark.parametrize("case", ["plain", "row_without_reference_last", "prefixed", "unended", "no_room",
                                  "slices_out_of_order", "row_out_of_order"])
def test_a_sheet_not_written_the_plain_way_is_read_whole(monkeypatch, tmp_path, case):
    """Rows without a reference (every seventh, and the last) are numbered as the whole read numbers them; a
    worksheet with a namespace prefix, XML that ends inside its rows, or no room for the temporary workbook (its
    folder gone), a slice that starts above the one before: the sheet is not sliced (read whole, as before);
    nothing is left on disk. A row stored after rows below it inside a slice rejects the file as it is read."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / ("gone" if case == "no_room" else "tmp")))
    (tmp_path / "tmp").mkdir()
    _sliced(monkeypatch)
    prefix = "x:" if case == "prefixed" else ""
    rows = [_row_xml(r if r % 7 else None, prefix) for r in range(1, 60)]
    if case == "row_without_reference_last":
        rows.append(_row_xml(None))
    if case == "slices_out_of_order":
        rows = rows[30:] + rows[:30]
    if case == "row_out_of_order":
        rows.insert(40, rows.pop(2))
    ns = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"' if prefix else \
        'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    xml = (f'<?xml version="1.0"?><{prefix}worksheet {ns}><{prefix}sheetData>{"".join(rows)}'
           f'</{prefix}sheetData></{prefix}worksheet>')
    if case == "unended":
        xml = xml[: xml.index("</sheetData>")]
    path = tmp_path / "book.xlsx"
    got = sheetslices.sliced_sheets(path, _xlsx(path, xml.encode()), ["Data"])
    assert list((tmp_path / "tmp").iterdir()) == []
    if case in ("prefixed", "unended", "no_room"):
        assert got == {}
        return
    if case.endswith("out_of_order"):       # never a row out of its place: read whole, or rejected as read
        if got:
            with pytest.raises(FileRejected) as caught:
                list(got["Data"].iter_rows())
            assert caught.value.code == "FILE_CORRUPT" and "tersimpan sesudah baris-baris" in str(caught.value.detail)
        return
    sheet = got["Data"]
    assert sheet._slices >= 5
    assert sheet.end[0] == CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Data").end[0]
    assert list(sheet.iter_rows()) == _whole_rows(path, "Data")
    sheet.release()


def test_the_columns_from_one_on_are_matched_as_letters():
    """The cell references of every column from the j-th on, and none before (the check of cells in columns
    without a label, for a sheet as wide as ZZ)."""
    def number(letters: str) -> int:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        return n - 1

    names = ["A", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]
    assert [column_letter(number(x)) for x in names] == names
    for width in (1, 13, 25, 26, 27, 30, 52, 675, 700, 701):
        pattern = re.compile("(?:" + "|".join(sheetslices._from_column(width)) + ")$")
        assert [j for j in range(2000) if pattern.match(column_letter(j))] == list(range(width, 2000))


@pytest.mark.parametrize("loose", [False, True])
def test_a_sheet_wider_than_z_in_slices_gives_what_the_whole_read_gives(home_factory, monkeypatch, tmp_path,
                                                                       loose):
    """A register of 30 columns (16 notes columns after the contract's) read in slices of a few rows: in parts,
    as the whole read; a cell in column AF (no label) in a later slice than the header: read whole."""
    path = tmp_path / "wide.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    ws = wb.add_worksheet("Peserta")
    order = HEADER[:12] + [f"Catatan {k}" for k in range(1, 17)]
    for c, h in enumerate(order):
        ws.write_string(0, c, h)
    for i in range(30):
        _row(ws, 1 + i, 0, i, order, "Ujung")
        ws.write_string(1 + i, 12 + i % 16, f"cek {i}")
    if loose:
        ws.write_string(25, 31, "dicek")
    wb.close()
    frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, f"wide{loose}",
                                                       path.read_bytes(), sliced=True)
    assert frames[0] == ("whole" if loose else "head")
    assert r_parts.status == r_whole.status == "loaded" and r_whole.rows_in == 30
    assert parts == whole


@pytest.mark.parametrize("case", ["none", "saved", "not_saved", "not_cut"])
def test_a_big_sheet_s_cut_says_whether_its_rows_hold_a_formula(home_factory, monkeypatch, tmp_path, case):
    """The child's scan for formulas without a saved result leaves a big sheet to its cut, which looks for formula
    tags as it goes (the sheet is not unzipped once more for them): a register without one is not scanned again,
    one whose formula has its result saved is scanned and read in parts, one without it is read whole, and so is
    one whose cut failed (no room for its slices: scanned as before), each as the whole read gives it."""
    from cakupan.ingest.readers import workbook
    from cakupan.ingest.readers.blocks import ReadOptions

    data = _register(tmp_path / "book.xlsx", formula={"none": False, "saved": "APBD"}.get(case, True))
    if case == "not_cut":
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    _sliced(monkeypatch)
    scans: list[tuple[set, set | None]] = []
    real = workbook.formulas_without_value

    def watched(source, xmls=None, skip=(), only=None):
        scans.append((set(skip), None if only is None else set(only)))
        return real(source, xmls, skip, only)

    monkeypatch.setattr(workbook, "formulas_without_value", watched)
    monkeypatch.setattr(bookparts, "formulas_without_value", watched)
    path = tmp_path / "book.xlsx"
    cut = sheetslices.sliced_sheets(path, data, ["Peserta Juni"]).get("Peserta Juni")
    assert (cut is None) == (case == "not_cut")
    assert cut is None or cut.formulas == (case != "none")
    if cut is not None:
        cut.release()
    scans.clear()
    first = next(bookparts._messages(path, data, ReadOptions(), 8, 8))
    sheet = "xl/worksheets/sheet1.xml"
    assert sheet in scans[0][0] and scans[0][1] is None   # (the other worksheets' scan: a hidden sheet's here)
    assert scans[1:] == ([] if case == "none" else [(set(), {sheet})])
    assert first[0] == ("head" if case in ("none", "saved") else "whole")
    if case in ("saved", "not_saved"):
        frames, (r_parts, parts), (r_whole, whole) = _both(home_factory, monkeypatch, case, data, sliced=True)
        assert frames[0] == first[0] and r_parts.status == r_whole.status == "loaded"
        assert parts == whole


def test_a_formula_tag_is_found_without_a_search_for_every_tag():
    """`xmlscan.has_formula`: `<f>`, a shared formula's `<f .../>` and a prefixed `<x:f>` are formula tags, in the
    range asked; a rich text's `<family>`, a name with an "f" and a prefix's own "f" are not."""
    from cakupan.ingest.readers.xmlscan import FORMULA_TAG, has_formula

    row = b'<row r="5"><c r="A5" t="inlineStr"><is><t>Arif Fadli</t></is></c>%s</row>'
    for tag in (b'<c r="B5"><f>1+1</f><v>2</v></c>', b'<c r="B5"><f t="shared" si="0"/><v>2</v></c>',
                b'<x:c r="B5"><x:f>1+1</x:f></x:c>', b'<c r="B5"><f/></c>'):
        xml = row % tag
        m = FORMULA_TAG.search(xml)
        assert has_formula(xml) and has_formula(xml, m.start(), m.end()) and has_formula(xml, 0, m.end())
        assert not has_formula(xml, 0, m.end() - 1) and not has_formula(xml, m.start() + 1, m.end())
    for plain in (b'<c r="B5" t="inlineStr"><is><r><rPr><family val="2"/></rPr><t>Fauzi</t></r></is></c>',
                  b'<c r="B5" xmlns:foo="urn:x"><v>2</v></c>', b'<c r="B5"><v>:f</v></c>', b"", b"f", b"<"):
        assert not has_formula(row % plain if plain.startswith(b"<c") else plain)


def test_a_sheet_a_district_is_parsed_ahead_on_two_workbook_objects(tmp_path):
    """`bookparts._parsed_ahead`: each district's sheet, asked for in any order, is the library's own parse of it
    (two threads, a workbook object each: one object serves one call at a time), and a sheet whose XML the library
    cannot parse still rejects the file naming that sheet, when its turn comes."""
    from cakupan.ingest.readers.blocks import ReadOptions
    from cakupan.ingest.readers.sniff import sheet_parts
    from cakupan.ingest.readers.workbook import open_workbook

    path = tmp_path / "districts.xlsx"
    data, _ = _districts(path)
    wb = open_workbook(path, data)
    names = [n for n in wb.sheet_names if n in SHEETS]
    assert len(names) == 3
    sheet_of = bookparts._parsed_ahead(path, data, open_workbook(path, data), names)
    for name in reversed(names):
        assert sheet_of(name).to_python() == wb.get_sheet_by_name(name).to_python()
    assert bookparts._parsed_ahead(path, data, wb, names[:1]) == wb.get_sheet_by_name   # (one sheet: asked of wb)

    # the third sheet's rows cut off inside a cell: its turn rejects the file, naming it
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
        part = {name: p for p, name in sheet_parts(z).items()}[names[2]]
    xml = parts[part]
    parts[part] = xml[: xml.index(b'<row r="3"')] + b'<row r="3"><c r="A3" t="inlineStr"><is><t>x'
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in parts.items():
            z.writestr(n, b)
    with pytest.raises(FileRejected) as caught:
        list(bookparts._messages(broken, broken.read_bytes(), ReadOptions(), 8, 8))
    assert caught.value.code == "FILE_CORRUPT" and names[2] in caught.value.detail.render("en")
