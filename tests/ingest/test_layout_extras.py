"""Issue 19, the parts built last: columns the contract does not know (kept in raw_cells, listed once per file),
ODS merged ranges read from content.xml, and the same register loading alike from .ods and .xlsx.

Expected values come from the layouts' own definitions (`cakupan_dev.messy.layout_cases`) and from the XML
written here by hand, never from what the loader returned.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

from cakupan.core.contracts import all_contracts
from cakupan.ingest.loader import Loader
from cakupan.ingest.readers.blocks import ReadOptions
from cakupan.ingest.readers.csvtext import read_csv
from cakupan.ingest.readers.fastcsv import fast_csv_block
from cakupan.ingest.readers.labels import without_hint
from cakupan.ingest.readers.odsmerge import merged_ranges_of, ods_merged_ranges
from cakupan_dev.messy.formats import Sheet, ods_bytes, xlsx_bytes
from cakupan_dev.messy.layout_cases import LAYOUTS, Layout, extra_cell, register_layout
from cakupan_dev.messy.people import REGISTER_HEADER, register_row, title_rows, workers

PHONE_LAYOUT = next(lay for lay in LAYOUTS if lay.name == "extra_columns_phone")


def _load(home, name: str, data: bytes, folder: str = "73.72"):
    path = home.inbox / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    loader = Loader(home)
    return loader, loader.load(path)


def test_extra_columns_are_kept_in_raw_cells_and_listed_once_per_file(home):
    lay = PHONE_LAYOUT
    case = register_layout(lay)
    f = case.files[0]
    loader, r = _load(home, f.name, f.data)
    try:
        con = loader.con
        assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (lay.n, lay.n - len(lay.bad), len(lay.bad))
        findings = con.execute("select code, message from audit.load_findings where load_id = ?",
                               [r.load_id]).fetchall()
        assert [c for c, _ in findings] == ["EXTRA_COLUMNS"]          # once for the file, not once per row
        message = findings[0][1]
        assert message.startswith(f"{f.name}, lembar Peserta: "), message
        assert "'Keterangan', 'No. HP Ketua RT'" in message and "'NO'" not in message and "''" not in message
        assert all(extra_cell("No. HP Ketua RT", i, lay.seed) not in message for i in range(lay.n))
        # every row keeps every cell it arrived with, in the file's column order (the blank column has none)
        rows = con.execute("select source_row, raw_cells from raw.register where load_id = ? union all "
                           "select source_row, raw_cells from quarantine.rows where load_id = ? order by 1",
                           [r.load_id, r.load_id]).fetchall()
        first = 4 + lay.header_rows + 1                      # a four-row title, the header, then the data
        assert [n for n, _ in rows] == list(range(first, first + lay.n))
        for i, (_, cells) in enumerate(rows):
            cells = json.loads(cells)
            assert list(cells)[:3] == ["NIK", "Keterangan", "No. HP Ketua RT"]
            assert cells["Keterangan"] == extra_cell("Keterangan", i, lay.seed)
            assert cells["No. HP Ketua RT"] == extra_cell("No. HP Ketua RT", i, lay.seed)
            assert "NO" not in cells and "(column A)" not in cells and "" not in cells   # the row number: no
        assert list(json.loads(rows[0][1]))[3:] == [lay.labels.get(c, c) for c in REGISTER_HEADER[2:]]
    finally:
        loader.con.close()


def test_a_worksheet_cell_under_no_header_is_kept_as_its_column(home):
    """A note a clerk typed right of the table, in a column with no header: kept as '(column M)', listed."""
    ws = workers(3, seed=41)
    rows = title_rows() + [REGISTER_HEADER] + [register_row(i + 1, w) for i, w in enumerate(ws)]
    rows[-2] = rows[-2] + ["pindah domisili"]             # column M, below no header label
    loader, r = _load(home, "register_parepare_2025-04.xlsx", xlsx_bytes([Sheet("Data", rows)]))
    try:
        assert (r.rows_in, r.rows_loaded) == (3, 3)
        cells = [json.loads(c)["(column M)"] for (c,) in loader.con.execute(
            "select raw_cells from raw.register where load_id = ? order by source_row", [r.load_id]).fetchall()]
        assert cells == [None, "pindah domisili", None]
        [(message,)] = loader.con.execute("select message from audit.load_findings where load_id = ? and "
                                          "code = 'EXTRA_COLUMNS'", [r.load_id]).fetchall()
        assert "'(column M)'" in message
    finally:
        loader.con.close()


def test_extra_columns_read_alike_row_by_row_and_column_wise(tmp_path):
    """A big CSV with a 'Keterangan' column: the column-wise reader keeps the same extra cells as the exact one."""
    ws = workers(3, seed=43)
    lines = [";".join(["NO", "NIK", "Keterangan", *REGISTER_HEADER[2:]])]
    notes = []
    for i in range(2500):
        row = register_row(i + 1, ws[i % 3])
        note = "" if i % 7 else f"catatan {i}"
        notes.append(note or None)
        lines.append(";".join(str(v) for v in [row[0], row[1], note, *row[2:]]))
    raw = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "register_parepare_2025-04.csv"
    path.write_bytes(raw)
    exact = read_csv(path, raw, all_contracts(), ReadOptions()).blocks[0]
    fast = fast_csv_block(raw, all_contracts(), ReadOptions())
    assert fast is not None
    got = fast[1].extra_cells
    assert list(exact.extras) == list(fast[1].extras) == ["Keterangan"]      # the row number "NO" is not one
    assert exact.extra_cells["Keterangan"] == notes
    assert got["Keterangan"].to_pylist() == notes


# ------------------------------------------------------------------------------------------ ODS merges -----
_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
       'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
       'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


def test_ods_merged_ranges_count_repeated_rows_and_cells():
    """Hand-written content.xml as LibreOffice saves it: the positions come from counting repeats."""
    xml = f"""<?xml version="1.0"?><office:document-content {_NS}><office:body><office:spreadsheet>
    <table:table table:name="A &amp; B"><table:table-column table:number-columns-repeated="6"/>
      <table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="6"/>
      </table:table-row>
      <table:table-row><table:table-cell table:number-columns-repeated="2"/>
        <table:table-cell table:number-columns-spanned="3" table:number-rows-spanned="2" office:value-type="string">
          <text:p>IDENTITAS &gt; 1</text:p></table:table-cell>
        <table:covered-table-cell table:number-columns-repeated="2"/><table:table-cell/></table:table-row>
      <table:table-row><table:table-cell table:formula="of:=[.A1]>0"/><table:table-cell/>
        <table:covered-table-cell table:number-columns-repeated="3"/>
        <table:table-cell table:number-rows-spanned="4"/></table:table-row>
    </table:table>
    <table:table table:name="Plain"><table:table-row><table:table-cell/></table:table-row></table:table>
    </office:spreadsheet></office:body></office:document-content>""".encode()
    assert merged_ranges_of(xml) == {"A & B": [((3, 2), (4, 4)), ((4, 5), (7, 5))]}


def test_ods_writer_and_reader_agree_on_merges():
    """The test ODS writer's spanned cells (with its repeated blank runs) come back as the ranges it was given."""
    merges = [(0, 0, 1, 0, "NO"), (0, 1, 0, 4, "IDENTITAS"), (5, 6, 9, 6, "Bacukiki")]
    rows = [["NO", "IDENTITAS"], [None, "NIK", "Nama", "JK", "Tgl"]] + [[None] * 8 for _ in range(8)]
    rows[5][6] = "Bacukiki"
    got = ods_merged_ranges(io.BytesIO(ods_bytes([Sheet("S", rows, merges)])))
    assert sorted(got["S"]) == sorted(((a, b), (c, d)) for a, b, c, d, _ in merges)
    assert ods_merged_ranges(io.BytesIO(ods_bytes([Sheet("S", rows)]))) == {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    assert ods_merged_ranges(io.BytesIO(buf.getvalue())) == {}      # no content.xml: no merges, no error


def test_an_ods_register_with_merges_loads_exactly_like_the_same_xlsx(home):
    """Vertically merged district, two-row header with merged group labels, a row without NIK: the .ods gives
    the same rows in / loaded / quarantined and the same values as the .xlsx of the same layout."""
    got = {}
    for fmt in ("xlsx", "ods"):
        lay = Layout("parity", "", fmt=fmt, header_rows=2, district_merged=True, n=5,
                     bad={3: ({"NIK": ""}, "NIK_MISSING")})
        f = register_layout(lay).files[0]
        loader, r = _load(home, f.name, f.data)
        try:
            raw = loader.con.execute(
                "select sheet, source_row, nik, full_name, birth_date, sex, occupation, village, district, "
                "programs, coverage_start, monthly_contribution, funding_source, period from raw.register "
                "where load_id = ? order by source_row", [r.load_id]).fetchall()
            quarantined = loader.con.execute("select sheet, source_row, reason_code from quarantine.rows "
                                             "where load_id = ?", [r.load_id]).fetchall()
        finally:
            loader.con.close()
        got[fmt] = ((r.rows_in, r.rows_loaded, r.rows_quarantined), raw, quarantined)
        # from the layout's definition: every loaded row's district is the merged one, Bacukiki
        assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (5, 4, 1)
        assert [x[8] for x in raw] == ["Bacukiki"] * 4
        assert quarantined == [("Peserta", 4 + 2 + 4, "NIK_MISSING")]
    assert got["ods"] == got["xlsx"]
    assert [x[2] for x in got["ods"][1]] == [w.nik for i, w in enumerate(workers(5, seed=19)) if i != 3]


# The columns of a payroll system's BPJS Ketenagakerjaan participant export (its header list, as a real export module
# writes it; the values here are synthetic): the place and the date of birth in two columns, the place first.
EXPORT_HEADER = ["NO", "NIK", "NO KPJ", "NAMA LENGKAP", "TEMPAT LAHIR", "TANGGAL LAHIR", "JENIS KELAMIN",
                 "STATUS PERKAWINAN", "ALAMAT", "KELURAHAN", "KECAMATAN", "KOTA/KAB", "PROVINSI", "NO HP",
                 "PEKERJAAN", "PROGRAM", "TMT KEPESERTAAN", "IURAN", "SUMBER DANA"]


def _export_rows(n: int, seed: int) -> tuple[list[list], list]:
    ws = workers(n, seed=seed)
    rows = [["LAPORAN DATA PESERTA BPJS KETENAGAKERJAAN AKTIF"], ["Tanggal Export: 02-05-2025 09:14"], [],
            EXPORT_HEADER]
    for i, w in enumerate(ws):
        rows.append([i + 1, w.nik, f"2234{5686820 + i:07d}", w.name, ["Parepare", "Makassar", "Barru"][i % 3],
                     w.birth.strftime("%d-%m-%Y"), {"L": "LAKI-LAKI", "P": "PEREMPUAN"}[w.sex], "K/1",
                     f"Jl. Bau Massepe No. {i + 3}", "LUMPUE", "BACUKIKI", "KOTA PAREPARE", "SULAWESI SELATAN",
                     f"0812{4400 + i:08d}", w.occupation,
                     "JKK, JKM", "01-04-2025", "16.800", "APBD"])
    return rows, ws


def test_an_export_with_the_place_of_birth_before_the_date_reads_the_date(home):
    """"TEMPAT LAHIR" (place of birth) is one word from the alias "Tempat/Tgl Lahir" and was taken for the birth
    date by typo, before the exact "TANGGAL LAHIR": every row of such an export was set apart ('Parepare' is no
    date). The place is a column the contract knows to be none of its own (kept as delivered, listed once)."""
    rows, ws = _export_rows(4, seed=61)
    loader, r = _load(home, "register_parepare_2025-04.xlsx", xlsx_bytes([Sheet("Data Peserta", rows)]))
    try:
        assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (4, 4, 0), r
        got = loader.con.execute("select birth_date, sex, raw_cells from raw.register where load_id = ? "
                                 "order by source_row", [r.load_id]).fetchall()
        assert loader.con.execute("select distinct regency_code, regency from raw.register where load_id = ?",
                                  [r.load_id]).fetchall() == [("73.72", "73.72")]       # "KOTA/KAB" read
        assert [b for b, _, _ in got] == [w.birth for w in ws]
        assert [s for _, s, _ in got] == [w.sex for w in ws]
        assert [json.loads(c)["TEMPAT LAHIR"] for _, _, c in got] == ["Parepare", "Makassar", "Barru", "Parepare"]
        [(message,)] = loader.con.execute("select message from audit.load_findings where load_id = ? and "
                                          "code = 'EXTRA_COLUMNS'", [r.load_id]).fetchall()
        assert "'TEMPAT LAHIR', 'STATUS PERKAWINAN', 'ALAMAT', 'PROVINSI', 'NO HP'" in message, message
    finally:
        loader.con.close()
    # the column-wise reader of a big CSV maps the same columns
    text = "\n".join(";".join(str(v) for v in row) for row in rows) + "\n"
    fast = fast_csv_block(text.encode(), all_contracts(), ReadOptions())
    assert fast is not None
    assert fast[1].mapping["birth_date"] == EXPORT_HEADER.index("TANGGAL LAHIR")
    assert "TEMPAT LAHIR" in fast[1].extras


def test_a_place_of_birth_alone_is_no_birth_date_and_a_typo_gives_way_to_an_exact_label(home):
    """Without a date column the place of birth stays an extra column (the rows load, their birth date blank);
    a birth-date label with a typo gives its column to an exact one further right, and keeps it otherwise."""
    rows, ws = _export_rows(3, seed=62)
    drop = EXPORT_HEADER.index("TANGGAL LAHIR")
    alone = [row[:drop] + row[drop + 1:] if len(row) > drop else row for row in rows]
    loader, r = _load(home, "register_parepare_2025-04.xlsx", xlsx_bytes([Sheet("Data", alone)]))
    try:
        assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (3, 3, 0), r
        assert loader.con.execute("select count(birth_date) from raw.register where load_id = ?",
                                  [r.load_id]).fetchone() == (0,)
    finally:
        loader.con.close()
    for header, column in ((["Tangal Lahir", "Tanggal Lahir"], 1), (["Tanggal Lahir", "Tangal Lahir"], 0),
                           (["Tangal Lahir", "Tempat Lahir"], 0)):
        lines = [";".join(["NIK", "Nama", *header, *REGISTER_HEADER[4:]])]
        for i, w in enumerate(ws):
            row = register_row(i + 1, w)
            lines.append(";".join(str(v) for v in [row[1], row[2], row[3], row[3], *row[4:]]))
        fast = fast_csv_block(("\n".join(lines) + "\n").encode(), all_contracts(), ReadOptions())
        assert fast is not None
        assert fast[1].mapping["birth_date"] == 2 + column, header


# An import template's header, each label with what to write in brackets after it (a layout seen in public
# Indonesian staff-import templates: "JK (Laki-laki/Perempuan)", "Shift (1/0)"); the labels are this test's own
TEMPLATE_HEADER = ["No KTP", "Nama", "JK (Laki-laki/Perempuan)", "Tgl Lahir (dd/mm/yyyy)", "Pekerjaan",
                   "Program (JKK/JKM)", "TMT (dd/mm/yyyy)", "Iuran per Bulan (Rp)", "Sumber Dana [APBD/APBDes/CSR]",
                   "Upah (Rp)"]


def _template_rows(n: int, seed: int) -> tuple[list[list], list]:
    ws = workers(n, seed=seed)
    rows = [["TEMPLATE IMPORT PESERTA BPU - isi mulai baris ke-3, jangan ubah judul kolom"], TEMPLATE_HEADER]
    for w in ws:
        rows.append([w.nik, w.name, {"L": "Laki-laki", "P": "Perempuan"}[w.sex], w.birth.strftime("%d/%m/%Y"),
                     w.occupation, "JKK+JKM", "01/04/2025", "16.800", "APBD", "2.500.000"])
    return rows, ws


def test_labels_with_a_hint_in_brackets_are_the_template_s_columns(home):
    """Every label but the alias "Iuran per Bulan (Rp)" carried what to write in brackets, and no column after
    the name was found: the file was rejected (HEADER_NOT_FOUND, "JK (Laki-laki/Perempuan)" named as nearest to
    TMT). A label is tried as written, then without its hint; the cells stay under the labels as written."""
    rows, ws = _template_rows(5, seed=63)
    loader, r = _load(home, "register_parepare_2025-04.xlsx", xlsx_bytes([Sheet("Isian", rows)]))
    try:
        assert (r.status, r.rows_in, r.rows_loaded, r.rows_quarantined) == ("loaded", 5, 5, 0), r
        got = loader.con.execute("select sex, birth_date, coverage_start, funding_source, monthly_contribution, "
                                 "raw_cells from raw.register where load_id = ? order by source_row",
                                 [r.load_id]).fetchall()
        assert [g[:2] for g in got] == [(w.sex, w.birth) for w in ws]
        assert {g[2:5] for g in got} == {(dt.date(2025, 4, 1), "APBD", 16800)}
        assert [list(json.loads(g[5])) for g in got] == [TEMPLATE_HEADER] * 5
        [(message,)] = loader.con.execute("select message from audit.load_findings where load_id = ? and "
                                          "code = 'EXTRA_COLUMNS'", [r.load_id]).fetchall()
        assert "'Upah (Rp)'" in message and "Laki-laki/Perempuan" not in message, message
    finally:
        loader.con.close()
    # the column-wise reader of a big CSV maps the same columns
    text = "\n".join(";".join(str(v) for v in row) for row in rows) + "\n"
    fast = fast_csv_block(text.encode(), all_contracts(), ReadOptions())
    assert fast is not None
    assert {c: TEMPLATE_HEADER[j] for c, j in fast[1].mapping.items()} == {
        "nik": "No KTP", "full_name": "Nama", "sex": "JK (Laki-laki/Perempuan)",
        "birth_date": "Tgl Lahir (dd/mm/yyyy)", "occupation": "Pekerjaan", "programs": "Program (JKK/JKM)",
        "coverage_start": "TMT (dd/mm/yyyy)", "monthly_contribution": "Iuran per Bulan (Rp)",
        "funding_source": "Sumber Dana [APBD/APBDes/CSR]"}


def test_a_hint_is_left_out_only_at_a_label_s_end_and_never_to_nothing():
    assert without_hint("TMT (dd/mm/yyyy)") == "TMT"
    assert without_hint("Sumber Dana [APBD/CSR] ") == "Sumber Dana"
    assert without_hint("Iuran (Rp) per Bulan") is None         # not at the end: as written only
    assert without_hint("(Rp)") is None and without_hint("Nama") is None and without_hint("Nama ( )") == "Nama"
    assert without_hint("Tgl (Lahir) (dd/mm)") == "Tgl (Lahir)"   # one hint, the last


def test_a_two_row_header_whose_sub_labels_carry_hints(home):
    """"Tanggal" above "Lahir (dd/mm/yyyy)" and "Mulai (dd/mm/yyyy)": each column's joined label without its hint
    is an alias ("Tanggal Lahir", "Tanggal Mulai")."""
    ws = workers(4, seed=64)
    rows = [["No KTP", "Nama", "JK (L/P)", "Tanggal", None, "Pekerjaan", "Program", "Iuran (Rp)", "Sumber Dana"],
            [None, None, None, "Lahir (dd/mm/yyyy)", "Mulai (dd/mm/yyyy)", None, None, None, None]]
    for w in ws:
        rows.append([w.nik, w.name, w.sex, w.birth.strftime("%d/%m/%Y"), "01/04/2025", w.occupation, "JKK, JKM",
                     "16800", "APBD"])
    loader, r = _load(home, "register_parepare_2025-04.xlsx", xlsx_bytes([Sheet("Isian", rows)]))
    try:
        assert (r.status, r.rows_in, r.rows_loaded) == ("loaded", 4, 4), r
        got = loader.con.execute("select sex, birth_date, coverage_start from raw.register where load_id = ? "
                                 "order by source_row", [r.load_id]).fetchall()
        assert got == [(w.sex, w.birth, dt.date(2025, 4, 1)) for w in ws]
    finally:
        loader.con.close()
