"""CSV encodings and delimiters, old .xls templates, files sent twice or corrected, and files rejected as
a whole (empty, encrypted, corrupt, misfiled).
"""

from __future__ import annotations

import io
import random
import struct
import zipfile

from cakupan_dev.messy.formats import Sheet, cfb_bytes, csv_bytes, xls_bytes, xlsx_bytes
from cakupan_dev.messy.outcomes import MessyCase, Outcome, loaded, messy_file, rejected
from cakupan_dev.messy.people import (
    COL,
    PAREPARE,
    REGISTER_HEADER,
    SIGNATURE,
    D,
    Worker,
    register_row,
    title_rows,
    workers,
)


def csv_cases() -> list[MessyCase]:
    out = []
    ws = workers(3, seed=30)
    accents = ["Lompoé", "Bukit Indah – Timur", "Lumpue"]
    header = REGISTER_HEADER.copy()
    header[COL["Desa"]] = "Désa"
    data = [register_row(i + 1, w, Desa=a) for i, (w, a) in enumerate(zip(ws, accents, strict=True))]
    rows = [["DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE — BULAN APRIL 2025"], [], header] + data + \
        [["JUMLAH", None, None, None, None, None, None, None, None, None, "50.400"], [],
         [None, None, None, None, None, None, None, None, None, "Parepare, 2 Mei 2025"]]
    common = {"regency": PAREPARE, "period": "2025-04", "values": {"village": tuple(accents)},
              "loaded_rows": (("", 4), ("", 5), ("", 6))}
    out.append(MessyCase(
        "register_csv_semicolon_utf8_bom", "register", "';' CSV, UTF-8 with BOM, CRLF, a title line above",
        (messy_file("daftar_peserta_parepare_bom.csv", csv_bytes(rows, ";", "utf-8", bom=True), loaded(3, **common)),)))
    out.append(MessyCase(
        "register_csv_comma_utf8", "register", "',' CSV, UTF-8 without BOM, LF, quoted 'JKK, JKM' cells",
        (messy_file("daftar_peserta_parepare_koma.csv", csv_bytes(rows, ",", "utf-8", newline="\n"), loaded(3, **common)),)))
    out.append(MessyCase(
        "register_csv_windows_1252", "register",
        "';' CSV in Windows-1252: 'Désa' header and 'é' / '–' (0x96) in values must survive",
        (messy_file("daftar_peserta_parepare_ansi.csv", csv_bytes(rows, ";", "cp1252"), loaded(3, **common)),)))

    # --- rows typed with another delimiter, and one enormous cell (both are row problems, not a broken file)
    ws = workers(5, seed=32)
    good = [";".join(str(v) for v in register_row(i + 1, w)) for i, w in enumerate(ws[:3])]
    bad = [",".join(str(v) for v in register_row(i + 4, w, Program="JKK+JKM")) for i, w in enumerate(ws[3:])]
    text = "\r\n".join([";".join(REGISTER_HEADER), *good, *bad]) + "\r\n"
    out.append(MessyCase(
        "register_mixed_delimiters", "register",
        "two rows separated with ',' in a ';' file: each lands in one cell; quarantined whole, never dropped",
        (messy_file("register_parepare_2025-04_campur.csv", text.encode("utf-8"),
            loaded(5, ("ROW_NOT_SPLIT", "ROW_NOT_SPLIT"), regency=PAREPARE, period="2025-04",
                   quarantine_at=(("", 5, "ROW_NOT_SPLIT"), ("", 6, "ROW_NOT_SPLIT")))),)))
    data = [register_row(i + 1, w) for i, w in enumerate(ws[:3])]
    data[1][COL["Nama"]] = "Sangat Panjang " * 20_000                   # 300 KB in one cell
    out.append(MessyCase(
        "register_enormous_cell", "register", "one 300 KB cell (a paste gone wrong): that row is quarantined",
        (messy_file("register_parepare_2025-04_sel_besar.csv", csv_bytes([REGISTER_HEADER] + data),
            loaded(3, ("VALUE_TOO_LONG",), regency=PAREPARE, period="2025-04")),)))

    # --- the period from the file name only, and no period anywhere
    ws = workers(2, seed=31)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    out.append(MessyCase(
        "register_period_from_file_name", "register", "no title, no period column: YYYY-MM in the file name",
        (messy_file("register_parepare_2025-06.csv", csv_bytes([REGISTER_HEADER] + data),
            loaded(2, regency=PAREPARE, period="2025-06")),)))
    out.append(MessyCase(
        "register_period_unknown", "register", "no title, no period column, no YYYY-MM in the file name",
        (messy_file("register_parepare.csv", csv_bytes([REGISTER_HEADER] + data), rejected("PERIOD_UNKNOWN")),)))
    return out


def old_template_cases() -> list[MessyCase]:
    rows = _old_template_rows()
    outcome = loaded(5, ("NIK_PRECISION_LOST",), regency=PAREPARE, period="2025-04",
                     quarantine_at=(("Sheet1", 7, "NIK_PRECISION_LOST"),),
                     values={"coverage_start": (D(2025, 4, 1),) * 4})
    far = rows + [[] for _ in range(len(rows), 65_535)] + [[None] * 255 + ["x"]]
    return [MessyCase(
        "register_old_xls_template", "register",
        "an old .xls template: upper-case headers, date cells and text dates, numbers, a NIK typed as a number",
        (messy_file("register_parepare_2025-04_lama.xls", xls_bytes([Sheet("Sheet1", rows)]), outcome),)),
        MessyCase(
        "register_old_xls_stray_cell", "register",
        "the old .xls template with an \"x\" typed in its last cell (IV65536): the empty rows above it made one, "
        "its row a note below the data; the workers load",
        (messy_file("register_parepare_2025-04_lama.xls", xls_bytes([Sheet("Sheet1", far)]), outcome),))]


def _old_template_rows() -> list[list]:
    ws = workers(5, seed=40)
    header = ["NO", "NIK", "NAMA", "JK", "PEKERJAAN", "PROGRAM", "TMT", "IURAN/BLN", "SUMBER DANA"]
    data = []
    for i, w in enumerate(ws):
        tmt = D(2025, 4, 1) if i % 2 else "01-04-2025"
        data.append([i + 1, w.nik, w.name, w.sex, w.occupation, "JKK+JKM", tmt, 16800, "APBD"])
    data[3][1] = int(ws[3].nik[:15] + "0")                     # typed as a number: 16th digit zeroed
    rows = [["DAFTAR PESERTA BPU PEKERJA RENTAN KOTA PAREPARE - APRIL 2025"], [], header] + data + \
        [["JUMLAH", None, None, None, None, None, None, 16800 * 5], [],
         [None, None, None, None, None, "Parepare, 30 April 2025"], [None, None, None, None, None, "Kepala Dinas"]]
    return rows


def delivery_cases() -> list[MessyCase]:
    out = []
    ws = workers(5, seed=50)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    first = xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER] + data)])
    out.append(MessyCase(
        "register_sent_twice", "register", "the same bytes sent again under another name: loaded once",
        (messy_file("register_parepare_2025-04.xlsx", first, loaded(5, regency=PAREPARE, period="2025-04")),
         messy_file("register_parepare_2025-04 (1).xlsx", first, Outcome("duplicate", error_code="DUPLICATE_FILE")))))
    corrected = [register_row(i + 1, w) for i, w in enumerate(ws[:4])] + \
        [register_row(5, Worker.make(9, seed=51)), register_row(6, Worker.make(10, seed=51))]
    out.append(MessyCase(
        "register_corrected_delivery", "register",
        "a corrected file for the same regency and month a week later: both stay in raw (supersede is downstream)",
        (messy_file("register_parepare_2025-04.xlsx", first, loaded(5, regency=PAREPARE, period="2025-04")),
         messy_file("register_parepare_2025-04_koreksi.xlsx",
            xlsx_bytes([Sheet("Peserta", title_rows("DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE — BULAN APRIL 2025 "
                                                    "(REVISI)") + [REGISTER_HEADER] + corrected)]),
            loaded(6, regency=PAREPARE, period="2025-04")))))
    return out


def rejected_file_cases() -> list[MessyCase]:
    out = []
    ws = workers(3, seed=60)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    good = xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER] + data)])

    def one(name: str, source: str, covers: str, fname: str, data: bytes, code: str, folder: str = PAREPARE):
        out.append(MessyCase(name, source, covers, (messy_file(fname, data, rejected(code), folder),)))

    one("empty_xlsx_zero_bytes", "register", "a 0-byte .xlsx", "register_parepare_2025-04.xlsx", b"", "FILE_EMPTY")
    one("empty_csv_zero_bytes", "register", "a 0-byte .csv", "register_parepare_2025-04.csv", b"", "FILE_EMPTY")
    one("empty_csv_blank_lines", "register", "a CSV of a BOM and blank lines", "register_parepare_2025-04.csv",
        b"\xef\xbb\xbf\r\n  \r\n\r\n", "FILE_EMPTY")
    one("empty_csv_only_delimiters", "register", "a CSV of empty cells", "register_parepare_2025-04.csv",
        b";;;;;\r\n;;;;;\r\n", "FILE_EMPTY")
    one("empty_workbook", "register", "a workbook whose only sheet is empty", "register_parepare_2025-04.xlsx",
        xlsx_bytes([Sheet("Sheet1", [])]), "FILE_EMPTY")
    one("password_protected_xlsx", "register", "a password-protected workbook (OLE container, EncryptedPackage)",
        "register_parepare_2025-04.xlsx",
        cfb_bytes({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + b"<encryption/>",
                   "EncryptedPackage": struct.pack("<Q", 9000) + bytes(random.Random(1).randbytes(9000))}),
        "FILE_ENCRYPTED")
    one("corrupt_truncated_xlsx", "register", "an XLSX cut off half-way (a failed download)",
        "register_parepare_2025-04.xlsx", good[: len(good) // 2], "FILE_CORRUPT")
    one("corrupt_random_bytes_xlsx", "register", "random bytes with an .xlsx name",
        "register_parepare_2025-04.xlsx", random.Random(2).randbytes(3000), "FILE_CORRUPT")
    one("corrupt_random_bytes_xls", "register", "random bytes with an .xls name",
        "register_parepare_2025-04.xls", random.Random(3).randbytes(3000), "FILE_CORRUPT")
    one("corrupt_ole_garbage_xls", "register", "an OLE container with no workbook stream, named .xls",
        "register_parepare_2025-04.xls", cfb_bytes({"Foo": b"bar"}), "FILE_CORRUPT")
    one("corrupt_xlsx_bad_xml", "register", "a zip with the XLSX parts but broken XML",
        "register_parepare_2025-04.xlsx", _broken_xlsx(good), "FILE_CORRUPT")
    one("xls_truncated", "register", "an old .xls cut off part-way (the OLE container is incomplete)",
        "register_parepare_2025-04.xls", old_template_cases()[0].files[0].data[:3000], "FILE_CORRUPT")
    out.append(MessyCase("stray_cell_far_away", "register", "an \"x\" typed in XFD1048576, far below and far right: "
                         "its column moved to follow the data, its row a note below it; the workers load",
                         (messy_file("register_parepare_2025-04.xlsx", _with_stray_cell(good), loaded(3)),)))
    one("xlsx_saved_as_csv", "register", "a workbook saved with a .csv name", "register_parepare_2025-04.csv",
        good, "FILE_CORRUPT")
    one("pdf_in_inbox", "other", "a PDF in the inbox", "register_parepare_2025-04.pdf",
        b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", "FILE_TYPE_UNSUPPORTED")
    one("png_in_inbox", "other", "a PNG (a photo of the list)", "register_parepare_2025-04.png",
        b"\x89PNG\r\n\x1a\n" + random.Random(4).randbytes(200), "FILE_TYPE_UNSUPPORTED")
    one("zip_named_xlsx", "other", "a plain zip archive with an .xlsx name", "register_parepare_2025-04.xlsx",
        _zip({"daftar.txt": b"lihat lampiran"}), "FILE_TYPE_UNSUPPORTED")
    one("png_named_csv", "other", "binary data with a .csv name", "register_parepare_2025-04.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "FILE_CORRUPT")

    claims = [["No Klaim", "NIK", "No KPJ", "Jenis Klaim", "Tgl Kejadian", "Tgl Bayar", "Nominal", "Kab/Kota"],
              ["KLM-1", ws[0].nik, "", "JKM", "03/06/2025", "19/06/2025", "Rp42.000.000", "Parepare"]]
    one("wrong_kind_claims_named_register", "claims", "a claims file delivered as register_*.csv",
        "register_parepare_2025-06.csv", csv_bytes(claims), "WRONG_KIND")
    one("unconfigured_folder_no_title", "register",
        "a register in an inbox folder that is not a configured regency, its title naming none",
        "register_2025-04.csv", csv_bytes([REGISTER_HEADER] + data), "REGENCY_UNRESOLVED", folder="kiriman-lain")
    one("unconfigured_regency_folder", "register", "a register in the folder of a regency not configured (73.15)",
        "register_pinrang_2025-04.csv", csv_bytes([REGISTER_HEADER] + data), "REGENCY_UNRESOLVED", folder="73.15")
    one("no_recognisable_header", "other", "a sheet of something else (an activity list)",
        "register_parepare_2025-04.xlsx",
        xlsx_bytes([Sheet("Kegiatan", [["LAPORAN KEGIATAN"], ["Tanggal", "Kegiatan", "Tempat"],
                                       ["02/05/2025", "Sosialisasi", "Aula"]])]), "HEADER_NOT_FOUND")
    one("header_missing_required_columns", "register", "a register header without Pekerjaan, Program, TMT, Iuran",
        "register_parepare_2025-04.csv",
        csv_bytes([["NO", "NIK", "Nama", "Desa"], [1, ws[0].nik, ws[0].name, "Lumpue"]]), "HEADER_NOT_FOUND")
    one("header_only", "register", "a title and a header, no data rows", "register_parepare_2025-04.xlsx",
        xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER])]), "NO_DATA_ROWS")
    one("header_total_and_signature_only", "register", "a header, a TOTAL of 0 and signatures, no data",
        "register_parepare_2025-04.xlsx",
        xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER]
                          + [["TOTAL", None, None, None, None, None, None, None, None, None, 0]] + SIGNATURE)]),
        "NO_DATA_ROWS")
    # a register in an unconfigured folder whose title names a configured regency: resolved from the title
    out.append(MessyCase(
        "unconfigured_folder_title_names_regency", "register",
        "a register in an unconfigured folder whose title names Kota Palopo: the regency comes from the title",
        (messy_file("daftar_2025-04.xlsx",
            xlsx_bytes([Sheet("Peserta", title_rows("DAFTAR PESERTA PEKERJA RENTAN KOTA PALOPO BULAN APRIL 2025")[2:]
                              + [REGISTER_HEADER] + data)]),
            loaded(3, regency="73.73", period="2025-04"), folder="kiriman-lain"),)))
    return out


def _with_stray_cell(good: bytes) -> bytes:
    """The same workbook with one more cell, "x", in the last cell of the sheet (XFD1048576)."""
    src = zipfile.ZipFile(io.BytesIO(good))
    parts = {n: src.read(n) for n in src.namelist()}
    name = "xl/worksheets/sheet1.xml"
    xml = parts[name].decode("utf-8")
    xml = xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
                      "</sheetData>")
    parts[name] = xml.encode("utf-8")
    return _zip(parts)


def _broken_xlsx(good: bytes) -> bytes:
    """The parts of a valid XLSX with the worksheet XML cut off mid-tag."""
    src = zipfile.ZipFile(io.BytesIO(good))
    parts = {n: src.read(n) for n in src.namelist()}
    for n in parts:
        if n.startswith("xl/worksheets/"):
            parts[n] = parts[n][: len(parts[n]) // 2]
        if n == "xl/workbook.xml":
            parts[n] = b"<workbook><sheets><sheet name="
    return _zip(parts)


def _zip(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return buf.getvalue()
