"""A register whose programs are one column each, flagged per worker (JHT = Y, JKK = Y, ...), as a payroll or
participant export writes them, instead of one "Program" column ("JKK, JKM"). Each worker's programs are the
columns flagged for them; the flags stay in raw_cells as delivered; a flag no one can read, or a worker with no
program flagged, is set apart with a reason naming it.

The rows are synthetic; the expected programs are written out by hand per row below, never taken from the loader.
"""

from __future__ import annotations

import json

import duckdb
import openpyxl
import pytest
from _support import load_one_way
from cakupan.core.contracts import all_contracts
from cakupan.ingest.loader import Loader
from cakupan.ingest.parsing import ParseError
from cakupan.ingest.programflags import parse_flags, program_of_label
from cakupan.ingest.readers.blocks import ReadOptions
from cakupan.ingest.readers.fastcsv import fast_csv_parts
from cakupan.ingest.readers.header import find_header
from cakupan.outbox.workbook import HIGHLIGHT, export_rejections
from cakupan_dev.messy.formats import Sheet, ods_bytes, xlsx_bytes
from cakupan_dev.messy.people import workers
from python_calamine import CalamineWorkbook

HEADER = ["NO", "NIK", "NAMA LENGKAP", "TANGGAL LAHIR", "JENIS KELAMIN", "PEKERJAAN", "KELURAHAN", "KECAMATAN",
          "JHT", "JKK", "JKM", "JP", "TMT KEPESERTAAN", "IURAN", "SUMBER DANA", "NO HP"]
# per worker: the flags under JHT, JKK, JKM, JP as an office types them, and the programs they mean
FLAGS = [
    (("", "Y", "Y", ""), ("JKK", "JKM")),
    (("Y", "Y", "Y", ""), ("JHT", "JKK", "JKM")),
    (("T", "Ya", "ya", "T"), ("JKK", "JKM")),
    (("-", "V", "V", "-"), ("JKK", "JKM")),
    (("0", "1", "1", "0"), ("JKK", "JKM")),
    (("Tidak", "✓", "✓", "Tidak"), ("JKK", "JKM")),
    (("", "Y", "", ""), ("JKK",)),
]
UNREADABLE = ("", "Q", "Y", "")      # JKK = "Q": no one can tell
NONE_FLAGGED = ("T", "T", "", "")


def _rows(flags: list[tuple[str, str, str, str]], seed: int) -> tuple[list[list], list]:
    ws = workers(len(flags), seed=seed)
    rows = [["DATA PESERTA BPU PEKERJA RENTAN"], ["Tanggal Export: 02-05-2025 09:14"], [], HEADER]
    for i, (w, f) in enumerate(zip(ws, flags, strict=True)):
        rows.append([i + 1, w.nik, w.name, w.birth.strftime("%d-%m-%Y"), w.sex, w.occupation, "LUMPUE", "BACUKIKI",
                     *f, "01-04-2025", "16.800", "APBD", f"0812{4400 + i:08d}"])
    return rows, ws


def _load(home, name: str, data: bytes):
    path = home.inbox / "73.72" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    loader = Loader(home)
    return loader, loader.load(path)


def _csv(rows: list[list]) -> bytes:
    return ("\n".join(";".join(str(v) for v in row) for row in rows) + "\n").encode()


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "csv"])
def test_a_register_with_a_flag_column_per_program_loads_each_workers_flagged_programs(home, fmt):
    flags = [f for f, _ in FLAGS] + [UNREADABLE, NONE_FLAGGED]
    rows, ws = _rows(flags, seed=71)
    data = {"xlsx": xlsx_bytes, "ods": ods_bytes}[fmt]([Sheet("Peserta", rows)]) if fmt != "csv" else _csv(rows)
    loader, r = _load(home, f"register_parepare_2025-04.{fmt}", data)
    sheet = "-" if fmt == "csv" else "Peserta"
    try:
        assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (len(flags), len(FLAGS), 2), r
        got = loader.con.execute("select nik, programs, raw_cells from raw.register where load_id = ? "
                                 "order by source_row", [r.load_id]).fetchall()
        assert [n for n, _, _ in got] == [w.nik for w in ws[:len(FLAGS)]]
        assert [tuple(p.split(",")) for _, p, _ in got] == [p for _, p in FLAGS]
        # the flags as delivered, each under its own header
        cells = [json.loads(c) for _, _, c in got]
        assert [(c["JHT"], c["JKK"], c["JKM"], c["JP"]) for c in cells] == [
            tuple(v or None for v in f) for f, _ in FLAGS]
        set_apart = loader.con.execute(
            "select source_row, reason_code, public_message from quarantine.rows where load_id = ? "
            "order by source_row", [r.load_id]).fetchall()
        assert [(row, code) for row, code, _ in set_apart] == [(5 + len(FLAGS), "PROGRAM_FLAG_UNREADABLE"),
                                                               (6 + len(FLAGS), "PROGRAM_NONE_FLAGGED")]
        # each names the file, the row and what was typed under each program, in Bahasa Indonesia
        assert set_apart[0][2] == (f"73.72/register_parepare_2025-04.{fmt}, lembar {sheet}, baris {5 + len(FLAGS)}: "
                                   "Tanda program tidak terbaca: 'JHT=; JKK=Q; JKM=Y; JP='. Pada kolom tiap program "
                                   "tulis Y bila peserta ikut program itu, atau T (atau kosongkan) bila tidak.")
        assert "'JHT=T; JKK=T; JKM=; JP='" in set_apart[1][2], set_apart[1][2]
        # read as the programs, not listed as columns the contract does not know
        [(extra,)] = loader.con.execute("select message from audit.load_findings where load_id = ? and "
                                        "code = 'EXTRA_COLUMNS'", [r.load_id]).fetchall()
        assert "'NO HP'" in extra and "JKK" not in extra, extra
    finally:
        loader.con.close()


def test_flags_under_a_merged_program_label_over_two_header_rows(home):
    """"PROGRAM YANG DIIKUTI" merged over JKK and JKM, the other labels merged down the two header rows: the flags
    are read (before, the group label was taken for the Program column: every row's programs were its JKK cell)."""
    ws = workers(3, seed=73)
    top = ["NO", "NIK", "NAMA", "PEKERJAAN", "PROGRAM YANG DIIKUTI", None, "TMT", "IURAN", "SUMBER DANA"]
    sub = [None, None, None, None, "JKK", "JKM", None, None, None]
    rows = [["REKAP PESERTA BPU KOTA PAREPARE APRIL 2025"], [], top, sub]
    typed = [("Y", "Y"), ("Y", ""), ("", "")]
    for i, (w, (jkk, jkm)) in enumerate(zip(ws, typed, strict=True)):
        rows.append([i + 1, w.nik, w.name, w.occupation, jkk, jkm, "01/04/2025", 16800, "APBD"])
    merges = [(2, 4, 2, 5, "PROGRAM YANG DIIKUTI")] + [(2, j, 3, j, top[j]) for j in (0, 1, 2, 3, 6, 7, 8)]
    loader, r = _load(home, "register_parepare_2025-04.xlsx", xlsx_bytes([Sheet("Rekap", rows, merges)]))
    try:
        assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (3, 2, 1), r
        got = loader.con.execute("select programs, raw_cells from raw.register where load_id = ? order by source_row",
                                 [r.load_id]).fetchall()
        assert [p for p, _ in got] == ["JKK,JKM", "JKK"]
        # (the merges give the lower header row every label: it is the header, the flags under their own)
        assert [(json.loads(c)["JKK"], json.loads(c)["JKM"]) for _, c in got] == [("Y", "Y"), ("Y", None)]
        assert loader.con.execute("select source_row, reason_code from quarantine.rows where load_id = ?",
                                  [r.load_id]).fetchall() == [(7, "PROGRAM_NONE_FLAGGED")]
    finally:
        loader.con.close()


def test_a_program_label_over_flags_is_not_the_program_column():
    """The labels on the upper row, "PROGRAM" written once above the flags, which alone are on the lower row: the
    upper row alone maps "PROGRAM" to the Program column (every row's programs would be its JHT cell); the two rows
    map the flags, each labelled with the two joined (its key in raw_cells)."""
    top = ["NIK", "Nama", "Pekerjaan", "PROGRAM", "", "", "TMT", "Iuran", "Sumber Dana"]
    sub = ["", "", "", "JHT", "JKK", "JKM", "", "", ""]
    header = find_header([top, sub, ["3372011234567890", "Budi", "Petani", "", "Y", "Y", "01-04-2025", "16800",
                                     "APBD"]], all_contracts(), {}, {})
    assert header is not None and header.source == "register" and header.rows_used == 2
    assert "programs" not in header.mapping and header.program_flags == {"JHT": 3, "JKK": 4, "JKM": 5}
    assert header.headers[3:6] == ["PROGRAM JHT", "PROGRAM JKK", "PROGRAM JKM"]
    assert sorted(header.block("", "").program_flags.values()) == ["PROGRAM JHT", "PROGRAM JKK", "PROGRAM JKM"]


def _load_way(settings, name: str, data: bytes, way: str, monkeypatch) -> tuple:
    """Load a CSV one of the loader's three ways (`load_one_way`): which way it was read, and what was written."""
    dest = settings.inbox / "73.72" / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    column_wise, r = load_one_way(settings, dest, way, monkeypatch)
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        raw = con.execute("select * exclude (received_at) from raw.register order by source_row").fetchall()
        quarantined = con.execute("select * from quarantine.rows order by source_row").fetchall()
        programs = dict(con.execute("select programs, count(*) from raw.register group by 1").fetchall())
        reasons = dict(con.execute("select reason_code, count(*) from quarantine.rows group by 1").fetchall())
    return column_wise, (r.rows_in, r.rows_loaded, r.rows_quarantined), raw, quarantined, programs, reasons


def test_the_column_wise_reader_of_a_big_csv_reads_the_flags_as_the_row_by_row_reader_does(home_factory,
                                                                                           monkeypatch):
    """The same register read row by row, column-wise whole and column-wise in parts: the same rows, programs and
    reasons."""
    flags = ([f for f, _ in FLAGS] + [UNREADABLE, NONE_FLAGGED]) * 60
    rows, _ = _rows(flags, seed=72)
    data = _csv(rows)
    got = {way: _load_way(home_factory(way), "register_parepare_2025-04.csv", data, way, monkeypatch)
           for way in ("row_by_row", "column_wise", "parts")}
    for way, (column_wise, counts, _, _, programs, reasons) in got.items():
        assert column_wise == (way != "row_by_row"), way
        assert counts == (len(flags), len(FLAGS) * 60, 120), way
        assert programs == {"JKK,JKM": 5 * 60, "JHT,JKK,JKM": 60, "JKK": 60}, way
        assert reasons == {"PROGRAM_FLAG_UNREADABLE": 60, "PROGRAM_NONE_FLAGGED": 60}, way
    assert got["row_by_row"][2:4] == got["column_wise"][2:4] == got["parts"][2:4]
    header = fast_csv_parts(data, all_contracts(), ReadOptions(), 500)[0]
    assert header.program_flags == {"JHT": "JHT", "JKK": "JKK", "JKM": "JKM", "JP": "JP"}
    assert "JKK" not in header.listed_extras and "NO HP" in header.listed_extras


def test_a_single_program_column_or_amount_columns_are_not_flags():
    """One column named after a program is no flag group, and "Iuran JKK" (an amount) names no program alone."""
    base = ["NIK", "Nama", "Pekerjaan", "TMT", "Iuran", "Sumber Dana"]
    contracts = all_contracts()
    one = find_header([base + ["JKK"]], contracts, {}, {})
    assert one is None or one.source != "register" or not one.program_flags
    amounts = find_header([base + ["Iuran JKK", "Iuran JKM"]], contracts, {}, {})
    assert amounts is None or amounts.source != "register" or not amounts.program_flags
    flagged = find_header([base + ["JKK", "Jaminan Kematian"]], contracts, {}, {})
    assert flagged is not None and flagged.source == "register"
    assert flagged.program_flags == {"JKK": 6, "JKM": 7}


@pytest.mark.parametrize(("flags", "expected"), [
    ("JHT=; JKK=Y; JKM=Y; JP=", ("JKK", "JKM")),
    ("JKK=ya; JKM=Ya.; JHT=Tidak", ("JKK", "JKM")),
    ("JKK=1; JKM=1; JHT=0; JP=0", ("JKK", "JKM")),
    ("JKK=10.000; JKM=6.800; JHT=-", ("JKK", "JKM")),     # the premium of each program, a payroll's habit
    ("JKK=✓; JKM=✓; JHT=✗", ("JKK", "JKM")),
    ("JHT=Y; JKK=Y; JKM=Y; JP=T", ("JHT", "JKK", "JKM")),
    ("JKK=x; JKM=Y", "PROGRAM_FLAG_UNREADABLE"),          # a cross: a choice in one form, struck out in another
    ("JKK=mungkin; JKM=Y", "PROGRAM_FLAG_UNREADABLE"),
    ("JKK=T; JKM=", "PROGRAM_NONE_FLAGGED"),
    ("JHT=NULL; JKK=Y; JKM=Y; JP=\\N", ("JKK", "JKM")),  # a database export's null markers: blank, so no
    ("JKK=NULL; JKM=null", "PROGRAM_NONE_FLAGGED"),
    ("JKK=#N/A; JKM=Y", "PROGRAM_FLAG_UNREADABLE"),       # a failed formula is no answer
    ("JKK=0; JKM=-", "PROGRAM_NONE_FLAGGED"),
])
def test_a_rows_flags_read_as_its_programs(flags, expected):
    if isinstance(expected, tuple):
        assert parse_flags(flags) == expected
    else:
        with pytest.raises(ParseError) as info:
            parse_flags(flags)
        assert info.value.code == expected


@pytest.mark.parametrize(("label", "program"), [
    ("JKK", "JKK"), ("jkm", "JKM"), ("Program JHT", "JHT"), ("Jaminan Kecelakaan Kerja", "JKK"),
    ("JKK (Jaminan Kecelakaan Kerja)", "JKK"), ("Iuran JKK", None), ("JKK, JKM", None), ("Program", None), ("", None),
])
def test_a_header_names_one_program_alone_or_none(label, program):
    assert program_of_label(label) == program


def test_the_rejection_workbook_marks_the_flags_and_quotes_them(home):
    """The workbook sent back to the regency: the rows set apart with the flags as typed, the flag cells
    highlighted (no one column holds the programs), and each reason quoting what was typed under each program."""
    rows, _ = _rows([f for f, _ in FLAGS] + [UNREADABLE, NONE_FLAGGED], seed=74)
    loader, r = _load(home, "register_parepare_2025-04.csv", _csv(rows))
    loader.con.close()
    assert r.rows_quarantined == 2
    [book] = export_rejections(home, "73.72")
    grid = CalamineWorkbook.from_path(str(book)).get_sheet_by_name("Baris ditolak").to_python()
    h = next(i for i, row in enumerate(grid) if "NIK" in row)
    labels = grid[h][:grid[h].index("Alasan penolakan")]
    flag_at = [labels.index(k) for k in ("JHT", "JKK", "JKM", "JP")]
    assert [[row[j] for j in flag_at] for row in grid[h + 1:]] == [list(UNREADABLE), list(NONE_FLAGGED)]
    reasons = [row[len(labels)] for row in grid[h + 1:]]
    unreadable = ("Tanda program tidak terbaca: 'JHT=; JKK=Q; JKM=Y; JP='. Pada kolom tiap program tulis Y bila "
                  "peserta ikut program itu, atau T (atau kosongkan) bila tidak.")
    none_flagged = ("Tidak ada program yang ditandai untuk peserta ini: 'JHT=T; JKK=T; JKM=; JP='. Tulis Y pada "
                    "kolom program yang diikuti peserta (misalnya JKK dan JKM).")
    assert reasons == [unreadable, none_flagged]
    ws = openpyxl.load_workbook(book)["Baris ditolak"]
    fills = {(c.row, c.column) for row in ws.iter_rows(min_row=h + 2) for c in row
             if c.fill.fgColor.rgb and c.fill.fgColor.rgb.endswith(HIGHLIGHT[1:])}
    assert fills == {(h + 2 + k, j + 1) for k in (0, 1) for j in flag_at}

    # the clerk flags the two rows' programs and sends the workbook back: both load, their programs as flagged
    ws.cell(h + 2, flag_at[1] + 1).value = "Y"
    ws.cell(h + 3, flag_at[2] + 1).value = "Y"
    back = home.inbox / "73.72" / "kiriman-ulang" / book.name
    back.parent.mkdir()
    ws.parent.save(back)
    loader = Loader(home)
    try:
        fixed = loader.load(back)
        assert (fixed.rows_in, fixed.rows_loaded, fixed.rows_quarantined) == (2, 2, 0), fixed
        assert loader.con.execute("select programs from raw.register where load_id = ? order by source_row",
                                  [fixed.load_id]).fetchall() == [("JKK,JKM",), ("JKM",)]
        [(extra,)] = loader.con.execute("select message from audit.load_findings where load_id = ? and code = "
                                        "'EXTRA_COLUMNS'", [fixed.load_id]).fetchall()
        assert "'NO HP'" in extra and "JKK" not in extra, extra     # the flags read, not unknown columns
    finally:
        loader.con.close()
