"""A bad-input corpus written by the tests themselves (no binary fixtures): every kind of broken or messy delivery a
regency clerk can send, with the outcome each one must have.

`build_corpus(inbox)` writes the files under inbox/<regency folder>/ and returns one `Case` per file. A case's
`expect` says which outcomes are right: ("rejected", {codes}) for a file-level error, ("duplicate", {...}), or
("loaded", {codes}) where every listed quarantine reason must appear among the file's quarantined rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REGENCY = "73.72"           # configured in config/regencies (Kota Parepare), default funding source APBD
OTHER = "73.73"             # configured too (Kota Palopo)
UNCONFIGURED = "99.99"      # a folder that is no configured regency
DISTRICT = "737201"

HEADER = ["No", "NIK", "Nama", "Tgl Lahir", "JK", "Pekerjaan", "Desa", "Kecamatan", "Program", "TMT",
          "Tgl Berakhir", "Iuran", "Sumber Dana"]
CONTRIB_HEADER = ["Bulan", "Kab/Kota", "Sumber Dana", "Jumlah Peserta", "Jumlah Tagihan", "Jumlah Dibayar",
                  "Tgl Bayar"]


@dataclass
class Case:
    name: str
    path: Path
    expect: tuple[str, frozenset[str]]
    note: str = ""
    xfail: str | None = None          # set when a reader/ingest bug is known: the test is xfail(strict=True)
    extra: dict = field(default_factory=dict)


def nik(i: int, female: bool = False) -> str:
    """A synthetic, well-formed NIK of Parepare (district 73.72.01), unique per i (i < 9000 * 300)."""
    birth = dt.date(1970, 1, 1) + dt.timedelta(days=i % 9000)
    day = birth.day + (40 if female else 0)
    return f"{DISTRICT}{day:02d}{birth.month:02d}{birth.year % 100:02d}{(i // 9000) % 9999 + 1:04d}"


def register_row(i: int, **over) -> list[str]:
    row = {"No": str(i + 1), "NIK": nik(i, female=i % 3 == 0), "Nama": f"Peserta Sintetis {i}",
           "Tgl Lahir": "12-03-1985", "JK": "P" if i % 3 == 0 else "L", "Pekerjaan": "Nelayan",
           "Desa": "Lapadde", "Kecamatan": "Ujung", "Program": "JKK, JKM", "TMT": "01-05-2025",
           "Tgl Berakhir": "", "Iuran": "16.800", "Sumber Dana": "APBD"}
    row.update(over)
    return [row[h] for h in HEADER]


def register_rows(n: int, start: int = 0) -> list[list[str]]:
    return [register_row(start + i) for i in range(n)]


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ";", encoding: str = "utf-8",
              header: list[str] | None = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    if header:
        w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: list[dict]) -> Path:
    """sheets: [{"name", "rows": [[cell, ...]], "hidden": bool, "title": [lines], "formulas": {(r, c): (f, v)},
    "numbers": {(r, c): float}}] — rows are data rows below a header written from sheet["header"]."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"created": dt.datetime(2025, 1, 1)})   # the same bytes every run
    for sh in sheets:
        ws = wb.add_worksheet(sh["name"])
        r = 0
        for line in sh.get("title", []):
            ws.write_string(r, 0, line)
            r += 1
        if sh.get("header", HEADER):
            for c, h in enumerate(sh.get("header", HEADER)):
                ws.write_string(r, c, h)
            r += 1
        first = r
        for row in sh.get("rows", []):
            for c, v in enumerate(row):
                if v is None or v == "":
                    continue
                if isinstance(v, int | float):
                    ws.write_number(r, c, v)
                else:
                    ws.write_string(r, c, str(v))
            r += 1
        for (ri, ci), (formula, value) in sh.get("formulas", {}).items():
            ws.write_formula(first + ri, ci, formula, None, value)
        if sh.get("hidden"):
            ws.hide()
    wb.close()
    return path


def fake_encrypted_ole(path: Path) -> Path:
    """A compound-file (OLE2) container laid out like Office's password-protected workbooks: a header sector and a
    directory sector whose entries are 'Root Entry', 'EncryptionInfo' and 'EncryptedPackage'."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 44, 1)        # one FAT sector
    struct.pack_into("<I", header, 48, 1)        # first directory sector
    struct.pack_into("<I", header, 60, 0xFFFFFFFE)
    struct.pack_into("<I", header, 68, 0xFFFFFFFE)
    struct.pack_into("<I", header, 76, 0)        # DIFAT[0] = sector 0 holds the FAT
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, 0xFFFFFFFF)
    fat = bytearray(b"\xff" * 512)
    struct.pack_into("<III", fat, 0, 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFE)
    directory = bytearray(512)
    for k, (name, typ) in enumerate((("Root Entry", 5), ("EncryptionInfo", 2), ("EncryptedPackage", 2))):
        raw = name.encode("utf-16-le") + b"\x00\x00"
        off = k * 128
        directory[off:off + len(raw)] = raw
        struct.pack_into("<H", directory, off + 64, len(raw))
        directory[off + 66] = typ
    payload = random.Random(7).randbytes(2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(header) + bytes(fat) + bytes(directory) + payload)
    return path


def _flip_crc(blob: bytes, member: str) -> bytes:
    """Corrupt the stored CRC-32 of one zip member (local header and central directory)."""
    out = bytearray(blob)
    name = member.encode()
    for sig, crc_off, name_off in ((b"PK\x03\x04", 14, 30), (b"PK\x01\x02", 16, 46)):
        i = out.find(sig)
        while i != -1:
            if out[i + name_off:i + name_off + len(name)] == name:
                out[i + crc_off] ^= 0xFF
            i = out.find(sig, i + 4)
    return bytes(out)


# ------------------------------------------------------------------------------------------ the corpus -----
def build_corpus(inbox: Path) -> list[Case]:
    reg = inbox / REGENCY
    cases: list[Case] = []

    def add(name, path, status, codes, note="", **extra):
        cases.append(Case(name, path, (status, frozenset(codes)), note, extra=extra))

    good_rows = register_rows(6)
    good = write_csv(reg / "register_parepare_2025-05.csv", good_rows)
    add("good_baseline", good, "loaded", [])

    # --- containers ----------------------------------------------------------------------------------------
    ok_xlsx = write_xlsx(reg / "tmp_ok.xlsx", [{"name": "Peserta", "rows": register_rows(40, 100),
                                                "title": ["DAFTAR PESERTA MEI 2025"]}])
    blob = ok_xlsx.read_bytes()
    ok_xlsx.unlink()
    # 400 bytes overwritten in the middle of the container (seeded: the same damage every run)
    p = reg / "register_parepare_2025-06_corrupt_zip_deflate_stream.xlsx"
    damaged = bytearray(blob)
    mid = len(damaged) // 2
    damaged[mid:mid + 400] = random.Random(0).randbytes(400)
    p.write_bytes(bytes(damaged))
    add("corrupt_zip_deflate_stream", p, "rejected", ["FILE_CORRUPT"])
    # a member whose CRC-32 does not match its data (a bit flipped in transit)
    p = reg / "register_parepare_2025-06_corrupt_zip_crc.xlsx"
    p.write_bytes(_flip_crc(blob, "xl/worksheets/sheet1.xml"))
    add("corrupt_zip_crc", p, "rejected", ["FILE_CORRUPT"])
    p = reg / "register_parepare_2025-06_truncated.xlsx"
    p.write_bytes(blob[: len(blob) * 2 // 3])
    add("truncated_xlsx", p, "rejected", ["FILE_CORRUPT"])
    p = reg / "register_parepare_2025-06_cut_header.xlsx"
    p.write_bytes(blob[:200])
    add("truncated_xlsx_200_bytes", p, "rejected", ["FILE_CORRUPT"])
    add("password_protected_xlsx", fake_encrypted_ole(reg / "register_parepare_2025-06_password.xlsx"),
        "rejected", ["FILE_ENCRYPTED"])
    p = reg / "register_parepare_2025-06_empty.csv"
    p.write_bytes(b"")
    add("empty_csv", p, "rejected", ["FILE_EMPTY"])
    p = reg / "register_parepare_2025-06_empty.xlsx"
    p.write_bytes(b"")
    add("empty_xlsx", p, "rejected", ["FILE_EMPTY"])
    p = reg / "register_parepare_2025-06_blank_lines.csv"
    p.write_bytes(b"\xef\xbb\xbf\r\n;;;;\r\n\r\n  \r\n")
    add("blank_lines_csv", p, "rejected", ["FILE_EMPTY"])
    add("header_only_csv", write_csv(reg / "register_parepare_2025-06_header_only.csv", []),
        "rejected", ["NO_DATA_ROWS"])
    add("header_only_xlsx", write_xlsx(reg / "register_parepare_2025-06_header_only.xlsx",
                                       [{"name": "Peserta", "rows": []}]), "rejected", ["NO_DATA_ROWS"])
    add("empty_workbook", write_xlsx(reg / "register_parepare_2025-06_no_cells.xlsx",
                                     [{"name": "Sheet1", "rows": [], "header": []}]), "rejected", ["FILE_EMPTY"])
    p = reg / "register_parepare_2025-06_junk.csv"
    p.write_bytes(bytes((i * 37 + 11) % 256 for i in range(20000)))
    add("binary_junk_named_csv", p, "rejected", ["FILE_CORRUPT"])
    p = reg / "register_parepare_2025-06_elf.csv"
    p.write_bytes(b"\x7fELF\x02\x01\x01" + random.Random(3).randbytes(5000))
    add("executable_named_csv", p, "rejected", ["FILE_CORRUPT"])
    p = reg / "register_parepare_2025-06_workbook_as.csv"
    p.write_bytes(blob)
    add("xlsx_named_csv", p, "rejected", ["FILE_CORRUPT"])
    p = reg / "register_parepare_2025-06_text_as.xlsx"
    p.write_bytes(b"No;NIK;Nama\n1;2;3\n")
    add("text_named_xlsx", p, "rejected", ["FILE_CORRUPT"])
    p = reg / "register_parepare_2025-06_garbage.xls"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + random.Random(4).randbytes(4000))
    add("garbage_ole_xls", p, "rejected", ["FILE_CORRUPT"])
    p = reg / "register_parepare_2025-06_archive.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("data.csv", "No;NIK\n1;2\n")
    add("plain_zip_named_xlsx", p, "rejected", ["FILE_TYPE_UNSUPPORTED", "FILE_CORRUPT"])
    p = reg / "register_parepare_2025-06.pdf"
    p.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n")
    add("pdf", p, "rejected", ["FILE_TYPE_UNSUPPORTED"])
    p = reg / "register_parepare_2025-06_docx.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", "<w:document/>")
    add("docx_named_xlsx", p, "rejected", ["FILE_CORRUPT", "FILE_TYPE_UNSUPPORTED"])

    # --- wrong kind, header problems, file-level context -------------------------------------------------
    contrib = [["Mei 2025", "Parepare", "APBD", "120", "Rp 2.016.000,00", "Rp 2.016.000,00", "20/06/2025"]]
    add("wrong_kind_contributions_named_register",
        write_csv(reg / "register_parepare_2025-07_tagihan.csv", contrib, header=CONTRIB_HEADER),
        "rejected", ["WRONG_KIND"])
    add("two_kinds_in_one_workbook", write_xlsx(reg / "register_parepare_2025-07_mixed.xlsx", [
        {"name": "Peserta", "rows": register_rows(3, 300)},
        {"name": "Iuran", "header": CONTRIB_HEADER, "rows": contrib}]), "rejected", ["WRONG_KIND"])
    add("no_header", write_csv(reg / "register_parepare_2025-07_noheader.csv",
                               [["a", "b", "c"], ["1", "2", "3"]], header=["Judul", "Laporan", "Lain"]),
        "rejected", ["HEADER_NOT_FOUND"])
    add("header_missing_required_columns",
        write_csv(reg / "register_parepare_2025-07_partial.csv", [["1", nik(1), "X"]], header=["No", "NIK", "Nama"]),
        "rejected", ["HEADER_NOT_FOUND"])
    add("period_unknown", write_csv(reg / "register_parepare_tanpa_bulan.csv", register_rows(3, 320)),
        "rejected", ["PERIOD_UNKNOWN"])
    # a row without the period or regency its file does not give either: that row alone is set apart
    add("period_missing_in_a_row", write_csv(reg / "register_parepare_perbulan.csv",
        [[*register_row(340), "Mei 2025"], [*register_row(341), "Mei 2025"], [*register_row(342), ""]],
        header=[*HEADER, "Periode"]), "loaded", ["PERIOD_MISSING"])
    add("regency_missing_in_a_row", write_csv(inbox / UNCONFIGURED / "register_entah_2025-06_kolom.csv",
        [[*register_row(345), "Parepare"], [*register_row(346), "Parepare"], [*register_row(347), ""]],
        header=[*HEADER, "Kab/Kota"]), "loaded", ["REGENCY_MISSING"])
    add("unconfigured_folder_no_regency",
        write_csv(inbox / UNCONFIGURED / "register_entah_2025-05.csv", register_rows(3, 330)),
        "rejected", ["REGENCY_UNRESOLVED"])

    # --- encodings and delimiters -------------------------------------------------------------------------
    accented = [register_row(400 + i, Nama=n) for i, n in enumerate(["Andi Bénédicte", "Dg. Ngállé", "Renée"])]
    add("cp1252_encoding", write_csv(reg / "register_parepare_2025-08_cp1252.csv", accented, encoding="cp1252"),
        "loaded", [])
    add("utf16_bom", write_csv(reg / "register_parepare_2025-08_utf16.csv", register_rows(4, 410), encoding="utf-16"),
        "loaded", [])
    p = reg / "register_parepare_2025-08_bom_tab.csv"
    write_csv(p, register_rows(4, 420), delimiter="\t", encoding="utf-8-sig")
    add("utf8_bom_tab_delimited", p, "loaded", [])
    p = reg / "register_parepare_2025-08_mixed_delims.csv"
    lines = [";".join(HEADER)] + [";".join(r) for r in register_rows(6, 430)] + \
            [",".join(r) for r in register_rows(3, 440)]
    p.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    add("mixed_delimiters", p, "loaded", ["ROW_NOT_SPLIT", "REQUIRED_MISSING", "OCCUPATION_MISSING", "NIK_NOT_DIGITS",
                                          "NIK_WRONG_LENGTH", "NIK_17_DIGITS", "NIK_MISSING", "NO_PARTICIPANT_ID"],
        any_code=True, rows_in=9)
    p = reg / "register_parepare_2025-08_latin1_in_utf8.csv"
    body = "\r\n".join([";".join(HEADER)] + [";".join(r) for r in register_rows(3, 450)]).encode("utf-8")
    p.write_bytes(body + b"\r\n4;" + nik(460).encode() + b";Jos\xe9 Salah Encoding;12-03-1985;L;Nelayan;Lapadde;"
                  b"Ujung;JKK, JKM;01-05-2025;;16.800;APBD\r\n")
    add("wrong_encoding_byte_in_utf8", p, "loaded", [])
    p = reg / "register_parepare_2025-08_nul.csv"
    body = "\r\n".join([";".join(HEADER)] + [";".join(r) for r in register_rows(3, 470)]).encode("utf-8")
    p.write_bytes(body + b"\r\n4;" + nik(474).encode() + b";Nul\x00Byte;12-03-1985;L;Nelayan;;;JKK;01-05-2025;;16.800;APBD\r\n")
    add("nul_byte_in_a_cell", p, "loaded", [], any_code=True, alt=[("rejected", {"FILE_CORRUPT"})])
    p = reg / "register_parepare_2025-08_quotes.csv"
    p.write_text(";".join(HEADER) + "\r\n" + ";".join(register_row(480)) + "\r\n"
                 + '2;' + nik(481) + ';"Nama dengan\r\nbaris baru";12-03-1985;L;Nelayan;;;JKK;01-05-2025;;16.800;APBD\r\n'
                 + '3;' + nik(482) + ';"Tanda kutip tidak ditutup;12-03-1985;L;Nelayan;;;JKK;01-05-2025;;16.800;APBD\r\n',
                 encoding="utf-8")
    add("embedded_newline_and_unclosed_quote", p, "loaded", [], any_code=True, alt=[("rejected", {"FILE_CORRUPT"})])
    p = reg / "register_parepare_2025-08_ragged.csv"
    p.write_text(";".join(HEADER) + "\r\n" + ";".join(register_row(490)) + ";extra;cells\r\n"
                 + ";".join(register_row(491)[:6]) + "\r\n", encoding="utf-8")
    add("ragged_rows", p, "loaded", ["REQUIRED_MISSING", "NO_PARTICIPANT_ID", "OCCUPATION_MISSING"], any_code=True)

    # --- row-level problems ---------------------------------------------------------------------------------
    add("nik_15_digits", write_csv(reg / "register_parepare_2025-09_nik15.csv",
                                   register_rows(3, 500) + [register_row(503, NIK=nik(503)[:15])]),
        "loaded", ["NIK_15_DIGITS"])
    add("nik_17_digits", write_csv(reg / "register_parepare_2025-09_nik17.csv",
                                   register_rows(3, 510) + [register_row(513, NIK=nik(513) + "7")]),
        "loaded", ["NIK_17_DIGITS"])
    add("nik_float_mangled_text", write_csv(reg / "register_parepare_2025-09_nikfloat.csv",
                                            register_rows(3, 520) + [register_row(523, NIK="7.37201E+15"),
                                                                     register_row(524, NIK="7372014512850000.0")]),
        "loaded", ["NIK_PRECISION_LOST"], any_code=True)
    float_nik = float(int(nik(530)[:15] + "0"))
    add("nik_number_in_excel", write_xlsx(reg / "register_parepare_2025-09_niknum.xlsx", [
        {"name": "Peserta", "rows": register_rows(3, 531) + [[4, float_nik, *register_row(530)[2:]]]}]),
        "loaded", ["NIK_PRECISION_LOST"])
    add("nik_letters", write_csv(reg / "register_parepare_2025-09_nikletters.csv",
                                 register_rows(2, 540) + [register_row(542, NIK="73720I45O3850001")]),
        "loaded", ["NIK_NOT_DIGITS"])
    add("impossible_dates", write_csv(reg / "register_parepare_2025-09_dates.csv", register_rows(2, 550) + [
        register_row(552, TMT="31-02-2025"), register_row(553, TMT="2025-13-01"), register_row(554, TMT="kemarin")]),
        "loaded", ["DATE_INVALID"])
    add("date_out_of_range", write_csv(reg / "register_parepare_2025-09_year.csv", register_rows(2, 560) + [
        register_row(562, TMT="01-05-2925")]), "loaded", ["DATE_OUT_OF_RANGE", "DATE_INVALID"], any_code=True)
    add("negative_amounts", write_csv(reg / "register_parepare_2025-09_negative.csv", register_rows(2, 570) + [
        register_row(572, Iuran="-16.800"), register_row(573, Iuran="(16.800)")]),
        "loaded", ["NUMBER_NEGATIVE"])
    add("negative_paid_contributions", write_csv(reg / "contributions_parepare_2025.csv", [
        ["Mei 2025", "Parepare", "APBD", "120", "Rp 2.016.000,00", "Rp 2.016.000,00", "20/06/2025"],
        ["Juni 2025", "Parepare", "APBD", "120", "Rp 2.016.000,00", "-Rp 50.000,00", "20/07/2025"]],
        header=CONTRIB_HEADER), "loaded", ["NUMBER_NEGATIVE"])
    add("unknown_regency_in_rows", write_csv(inbox / OTHER / "contributions_palopo_2025.csv", [
        ["Mei 2025", "Palopo", "APBD", "80", "Rp 1.344.000,00", "Rp 1.344.000,00", "20/06/2025"],
        ["Mei 2025", "Kabupaten Atlantis", "APBD", "80", "Rp 1.344.000,00", "Rp 1.344.000,00", "20/06/2025"]],
        header=CONTRIB_HEADER), "loaded", ["REGENCY_UNKNOWN"])
    add("missing_required_cells", write_csv(reg / "register_parepare_2025-09_missing.csv", register_rows(2, 580) + [
        register_row(582, Pekerjaan=""), register_row(583, NIK="")]), "loaded", ["OCCUPATION_MISSING", "NIK_MISSING"])
    add("bad_codes", write_csv(reg / "register_parepare_2025-09_codes.csv", register_rows(2, 590) + [
        register_row(592, JK="X"), register_row(593, Program="ASURANSI"), register_row(594, **{"Sumber Dana": "Bank"})]),
        "loaded", ["SEX_INVALID", "PROGRAM_UNKNOWN", "FUNDING_SOURCE_UNKNOWN"])
    add("coverage_end_before_start", write_csv(reg / "register_parepare_2025-09_end.csv", register_rows(2, 600) + [
        register_row(602, **{"Tgl Berakhir": "01-01-2025"})]), "loaded", ["COVERAGE_END_BEFORE_START"])
    add("long_cell_5000_chars", write_csv(reg / "register_parepare_2025-10_longcell.csv", register_rows(2, 605) + [
        register_row(607, Nama="Panjang " * 625)]), "loaded", ["VALUE_TOO_LONG"])
    # the limit is 1000 characters, not bytes: 1000 two-byte letters pass, 1001 one-byte letters do not
    add("cell_of_1000_two_byte_letters", write_csv(reg / "register_parepare_2025-10_limit.csv", register_rows(2, 608)
        + [register_row(609, Nama="\u00e9" * 1000)]), "loaded", [])
    add("cell_of_1001_letters", write_csv(reg / "register_parepare_2025-10_over.csv", register_rows(2, 620)
        + [register_row(622, Nama="a" * 1001)]), "loaded", ["VALUE_TOO_LONG"])
    add("enormous_cell_1mb_csv", write_csv(reg / "register_parepare_2025-10_bigcell.csv", register_rows(2, 610) + [
        register_row(612, Nama="Sangat Panjang " * 80_000)]), "loaded", ["VALUE_TOO_LONG"])
    add("enormous_cell_xlsx", write_xlsx(reg / "register_parepare_2025-10_bigcell.xlsx", [
        {"name": "Peserta", "rows": [[i + 1, *register_row(615 + i)[1:]] for i in range(2)]
         + [[3, *register_row(617, Nama="X" * 32_000)[1:]]]}]), "loaded", ["VALUE_TOO_LONG"])

    # --- spreadsheets: formulas, hidden sheets, totals ------------------------------------------------------
    rows = [[i + 1, *register_row(620 + i)[1:11], 16800, "APBD"] for i in range(4)]
    add("formula_cells", write_xlsx(reg / "register_parepare_2025-10_formula.xlsx", [
        {"name": "Peserta", "rows": rows, "formulas": {(0, 11): ("=8400*2", 16800), (1, 0): ("=A1+1", 2)}}]),
        "loaded", [])
    add("formula_without_cached_value", write_xlsx(reg / "register_parepare_2025-10_formula_nocache.xlsx", [
        {"name": "Peserta", "rows": rows, "formulas": {(2, 11): ("=8400*2", 0)}}]), "loaded", [], any_code=True)
    add("hidden_sheet_skipped", write_xlsx(reg / "register_parepare_2025-10_hidden.xlsx", [
        {"name": "Peserta", "rows": [[i + 1, *register_row(640 + i)[1:]] for i in range(3)]},
        {"name": "Lama", "rows": [[i + 1, *register_row(650 + i)[1:]] for i in range(5)], "hidden": True}]),
        "loaded", [], rows_in=3)
    add("only_sheet_hidden", write_xlsx(reg / "register_parepare_2025-10_allhidden.xlsx", [
        {"name": "Kosong", "rows": [], "header": []},
        {"name": "Peserta", "rows": [[i + 1, *register_row(660 + i)[1:]] for i in range(3)], "hidden": True}]),
        "rejected", ["FILE_EMPTY", "NO_DATA_ROWS", "HEADER_NOT_FOUND"])
    add("title_block_total_signature", write_xlsx(reg / "register_parepare_2025-10_total.xlsx", [
        {"name": "Peserta", "title": ["PEMERINTAH KOTA PAREPARE", "DAFTAR PESERTA BULAN OKTOBER 2025", ""],
         "rows": [[i + 1, *register_row(670 + i)[1:]] for i in range(5)]
         + [["TOTAL", "", "", "", "", "", "", "", "", "", "", "84.000", ""], [], ["", "", "", "", "", "", "", "", "",
                                                                               "Kepala Dinas"]]}]),
        "loaded", [], rows_in=5)

    # --- duplicate and corrected deliveries -------------------------------------------------------------------
    dup = reg / "register_parepare_2025-05_kirim_ulang.csv"
    dup.write_bytes(good.read_bytes())
    add("duplicate_delivery_same_bytes", dup, "duplicate", ["DUPLICATE_FILE"])
    fixed = good_rows[:5] + [register_row(700)]
    add("corrected_delivery", write_csv(reg / "register_parepare_2025-05_koreksi.csv", fixed), "loaded", [])
    return cases
