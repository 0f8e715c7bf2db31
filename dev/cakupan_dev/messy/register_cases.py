"""Registers laid out as regencies lay them out (title blocks, header rows, totals, notes, one sheet per
district) and typed as clerks type them (numbers, dates, NIKs as numbers, regions).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cakupan_dev.messy.formats import Sheet, csv_bytes, xlsx_bytes
from cakupan_dev.messy.outcomes import MessyCase, loaded, messy_file, rejected
from cakupan_dev.messy.people import (
    COL,
    PAREPARE,
    REGISTER_HEADER,
    SIGNATURE,
    D,
    money_total,
    nik,
    register_row,
    sheet_row,
    title_rows,
    workers,
)


def register_layout_cases() -> list[MessyCase]:
    out = []
    # --- title block, header on row 9, NO column, blank rows, TOTAL, notes and signatures
    ws = workers(6, seed=1)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    top = title_rows() + [["Dicetak: 02/05/2025"], [], [], []]          # 8 rows: header on row 9
    body = data[:3] + [[], []] + data[3:]
    rows = top + [REGISTER_HEADER] + body + [["TOTAL", None, None, None, None, None, None, None, None, None,
                                              f"{money_total(data):,}".replace(",", ".")]] + \
        [[None, "Catatan: iuran dibayar dari APBD Kota Parepare"]] + SIGNATURE
    src_rows = [sheet_row(9, i) for i in (0, 1, 2, 5, 6, 7)]
    out.append(MessyCase(
        "register_title_block_total_signatures", "register",
        "title block above a header on row 9; NO column; blank rows; TOTAL row that agrees; notes and a "
        "two-person signature block below",
        (messy_file("register_parepare_april.xlsx", xlsx_bytes([Sheet("Peserta", rows)]),
            loaded(6, regency=PAREPARE, period="2025-04", sheets=("Peserta",),
                   loaded_rows=tuple(("Peserta", r) for r in src_rows),
                   values={"nik": tuple(w.nik for w in ws), "full_name": tuple(w.name for w in ws),
                           "monthly_contribution": (16800,) * 6, "birth_date": tuple(w.birth for w in ws)})),)))

    # --- header on row 15 (the last row a header may be on) and on row 16 (too low: rejected)
    ws = workers(3, seed=2)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    pre = title_rows() + [[f"Catatan {i}: lihat lampiran"] for i in range(1, 11)]   # 14 rows
    out.append(MessyCase(
        "register_header_on_row_15", "register", "a long preamble: the header is on row 15",
        (messy_file("register_parepare_2025-04_panjang.xlsx", xlsx_bytes([Sheet("Sheet1", pre + [REGISTER_HEADER] + data)]),
            loaded(3, regency=PAREPARE, period="2025-04",
                   loaded_rows=tuple(("Sheet1", 16 + i) for i in range(3)))),)))
    out.append(MessyCase(
        "register_header_on_row_18", "register", "the header on row 18, below a long preamble: still found",
        (messy_file("register_parepare_2025-04_terlalu_panjang.xlsx",
            xlsx_bytes([Sheet("Sheet1", pre + [["Lampiran"], [], ["Daftar:"]] + [REGISTER_HEADER] + data)]),
            loaded(3, regency=PAREPARE, period="2025-04",
                   loaded_rows=tuple(("Sheet1", 19 + i) for i in range(3)))),)))
    out.append(MessyCase(
        "register_header_on_row_45", "register", "the header far below row 40: no header is searched there",
        (messy_file("register_parepare_2025-04_sangat_panjang.xlsx",
            xlsx_bytes([Sheet("Sheet1", pre + [[f"Lampiran {i}"] for i in range(30)] + [REGISTER_HEADER] + data)]),
            rejected("HEADER_NOT_FOUND")),)))

    # --- the title directly above the header (no blank row): a title is not the top row of a two-row header
    ws = workers(3, seed=7)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    out.append(MessyCase(
        "register_title_touching_header", "register",
        "the title line directly above the header, no blank row between (the period is in the title only)",
        (messy_file("daftar_peserta_parepare.xlsx",
            xlsx_bytes([Sheet("Peserta", [["DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE BULAN APRIL 2025"],
                                          REGISTER_HEADER] + data)]),
            loaded(3, regency=PAREPARE, period="2025-04",
                   loaded_rows=tuple(("Peserta", 3 + i) for i in range(3)))),)))

    # --- two-row header with merged cells
    ws = workers(4, seed=3)
    top_hdr = ["NO", "NIK", "Nama Lengkap", "Jenis Kelamin", "Pekerjaan", "Alamat", None, "Kepesertaan", None,
               "Iuran", "Sumber Dana"]
    bottom_hdr = [None, None, None, None, None, "Desa", "Kecamatan", "Program", "TMT", "per Bulan (Rp)", None]
    data = [[i + 1, w.nik, w.name, w.sex, w.occupation, "Lumpue", "Bacukiki", "JKK+JKM", "01/04/2025", 16800,
             "APBD"] for i, w in enumerate(ws)]
    merges = [(4, c, 5, c, top_hdr[c]) for c in (0, 1, 2, 3, 4, 10)] + [(4, 5, 4, 6, "Alamat"),
                                                                        (4, 7, 4, 8, "Kepesertaan")]
    rows = title_rows() + [top_hdr, bottom_hdr] + data + [["JUMLAH", None, None, None, None, None, None, None,
                                                           None, 16800 * 4]]
    out.append(MessyCase(
        "register_two_row_merged_header", "register",
        "header over two rows with merged cells (NIK merged down, 'Alamat' over Desa/Kecamatan, 'Kepesertaan' "
        "over Program/TMT, 'Iuran' over 'per Bulan (Rp)')",
        (messy_file("register_parepare_2025-04_dua_baris.xlsx", xlsx_bytes([Sheet("Peserta", rows, merges)]),
            loaded(4, regency=PAREPARE, period="2025-04",
                   loaded_rows=tuple(("Peserta", 7 + i) for i in range(4)),
                   values={"district": ("Bacukiki",) * 4, "programs": ("JKK,JKM",) * 4,
                           "coverage_start": (D(2025, 4, 1),) * 4, "sex": tuple(w.sex for w in ws)})),)))

    # --- total row that disagrees with the rows: loaded, with a TOTAL_MISMATCH finding
    ws = workers(4, seed=4)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    rows = title_rows() + [REGISTER_HEADER] + data + [["JUMLAH", None, None, None, None, None, None, None, None,
                                                       None, "Rp 90.000"]]
    merges = [(9, 0, 9, 9, "JUMLAH")]
    out.append(MessyCase(
        "register_total_mismatch", "register", "a JUMLAH row (merged across) whose total is not the sum of the rows",
        (messy_file("register_parepare_2025-04_jumlah_salah.xlsx", xlsx_bytes([Sheet("Peserta", rows, merges)]),
            loaded(4, regency=PAREPARE, period="2025-04", findings=("TOTAL_MISMATCH",))),)))

    # --- a total row of number cells with three decimals: a number cell is never read as a thousands group
    ws = workers(3, seed=8)
    data = [register_row(i + 1, w, Iuran=100.111) for i, w in enumerate(ws)]
    rows = title_rows() + [REGISTER_HEADER] + data + [["JUMLAH", None, None, None, None, None, None, None, None,
                                                       None, 300.333]]
    out.append(MessyCase(
        "register_total_of_number_cells", "register",
        "Iuran and its JUMLAH typed as numbers with three decimals (100.111 and 300.333): they agree",
        (messy_file("register_parepare_2025-04_desimal.xlsx", xlsx_bytes([Sheet("Peserta", rows)]),
            loaded(3, regency=PAREPARE, period="2025-04",
                   values={"monthly_contribution": (Decimal("100.11"),) * 3})),)))

    # --- sub-totals per village and a grand total: all agree, every data row kept
    ws = workers(5, seed=5)
    a = [register_row(i + 1, w, Desa="Lumpue") for i, w in enumerate(ws[:3])]
    b = [register_row(i + 4, w, Desa="Watang Soreang") for i, w in enumerate(ws[3:])]
    rows = title_rows() + [REGISTER_HEADER] + a + [["Sub Total", None, None, None, None, None, None, None, None,
                                                    None, "50.400"]] + b + \
        [["Sub Total", None, None, None, None, None, None, None, None, None, "33.600"],
         ["TOTAL", None, None, None, None, None, None, None, None, None, "84.000"]]
    out.append(MessyCase(
        "register_subtotals", "register", "sub-total rows per village between the data and a grand TOTAL",
        (messy_file("register_parepare_2025-04_subtotal.xlsx", xlsx_bytes([Sheet("Peserta", rows)]),
            loaded(5, regency=PAREPARE, period="2025-04",
                   loaded_rows=tuple(("Peserta", r) for r in (6, 7, 8, 10, 11)),
                   values={"village": ("Lumpue",) * 3 + ("Watang Soreang",) * 2})),)))

    # --- sub-totals naming their district, in the name column (as a city office lays them out), then a grand total
    ws = workers(5, seed=11)
    a = [register_row(i + 1, w, Kecamatan="Bacukiki") for i, w in enumerate(ws[:3])]
    b = [register_row(i + 4, w, Kecamatan="Soreang") for i, w in enumerate(ws[3:])]

    def subtotal(label: str, amount: str) -> list:
        return [None, None, label, None, None, None, None, None, None, None, amount]

    for name, fmt, second, findings in (
            ("kecamatan.xlsx", "xlsx", "33.600", ()),
            ("kecamatan.csv", "csv", "50.400", ("TOTAL_MISMATCH",))):
        rows = [REGISTER_HEADER] + a + [subtotal("SUB TOTAL KEC. BACUKIKI", "50.400")] + b + [
            subtotal("Jumlah Kecamatan Soreang", second), ["TOTAL", None, None, None, None, None, None, None, None,
                                                          None, "84.000"]]
        data = xlsx_bytes([Sheet("Peserta", title_rows() + rows)]) if fmt == "xlsx" else csv_bytes(rows)
        out.append(MessyCase(
            f"register_district_subtotals_{fmt}", "register",
            "sub-total rows naming their district ('SUB TOTAL KEC. BACUKIKI', 'Jumlah Kecamatan Soreang') in the name "
            "column, then a grand TOTAL: totals, not rows without a NIK" + (
                "; the second sub-total is wrong (a finding)" if findings else ""),
            (messy_file(f"register_parepare_2025-04_sub_{name}", data,
                        loaded(5, regency=PAREPARE, period="2025-04", findings=findings,
                               values={"district": ("Bacukiki",) * 3 + ("Soreang",) * 2})),)))

    # --- column-number row under the header and the header repeated mid-table (a printed page break)
    ws = workers(4, seed=6)
    data = [register_row(i + 1, w) for i, w in enumerate(ws)]
    numbers = [f"({i})" for i in range(1, len(REGISTER_HEADER) + 1)]
    rows = title_rows() + [REGISTER_HEADER, numbers] + data[:2] + [REGISTER_HEADER] + data[2:]
    out.append(MessyCase(
        "register_column_numbers_and_repeated_header", "register",
        "the '(1) (2) (3) ...' row under the header, and the header printed again on page 2",
        (messy_file("register_parepare_2025-04_halaman.xlsx", xlsx_bytes([Sheet("Peserta", rows)]),
            loaded(4, regency=PAREPARE, period="2025-04",
                   loaded_rows=tuple(("Peserta", r) for r in (7, 8, 10, 11)))),)))

    # --- one sheet per district (+ a recap sheet without a data header)
    sheets, expected_rows, bad_at = [], [], []
    layout = [("Kec. Bacukiki", 3, 1), ("Kec. Ujung", 4, 3), ("Kec. Soreang", 2, 0)]
    for k, (name, n, extra_title) in enumerate(layout):
        ws = workers(n, seed=10 + k)
        data = [register_row(i + 1, w, Kecamatan=name[5:]) for i, w in enumerate(ws)]
        if name == "Kec. Ujung":
            data[2][COL["NIK"]] = ws[2].nik[:15]           # 15 digits
        top = [[f"DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE — {name.upper()} — APRIL 2025"]] + \
            [[f"Keterangan {j + 1}"] for j in range(extra_title)] + [[]]
        rows = top + [REGISTER_HEADER] + data + [["JUMLAH", None, None, None, None, None, None, None, None, None,
                                                  f"{16800 * n:,}".replace(",", ".")]]
        sheets.append(Sheet(name, rows))
        first = len(top) + 2
        for i in range(n):
            if name == "Kec. Ujung" and i == 2:
                bad_at.append((name, first + i, "NIK_15_DIGITS"))
            else:
                expected_rows.append((name, first + i))
    sheets.append(Sheet("Rekap", [["REKAPITULASI PER KECAMATAN"], ["Kecamatan", "Jumlah"], ["Bacukiki", 3],
                                  ["Ujung", 4], ["Soreang", 2]]))
    out.append(MessyCase(
        "register_one_sheet_per_district", "register",
        "three district (kecamatan) sheets, each with its own title length, header row and JUMLAH; a recap "
        "sheet with no data header (recorded as a finding); a bad NIK on sheet 2",
        (messy_file("register_parepare_2025-04_per_kecamatan.xlsx", xlsx_bytes(sheets),
            loaded(9, ("NIK_15_DIGITS",), regency=PAREPARE, period="2025-04",
                   sheets=("Kec. Bacukiki", "Kec. Ujung", "Kec. Soreang"), quarantine_at=tuple(bad_at),
                   loaded_rows=tuple(expected_rows), findings=("SHEET_NO_HEADER",),
                   values={"district": ("Bacukiki",) * 3 + ("Ujung",) * 3 + ("Soreang",) * 2})),)))

    # --- hidden sheet and a sheet per district in an .xls? (old template, below)
    return out


def register_value_cases() -> list[MessyCase]:
    out = []
    # --- Indonesian numbers, as text and as number cells (including non-integral floats)
    money = [("16.800", 16800), ("Rp 16.800,00", 16800), ("Rp16.800", 16800), ("Rp 16.800,-", 16800),
             (16800, 16800), (16800.5, Decimal("16800.5")), (123.456, Decimal("123.46")), ("16,800.00", 16800),
             ("1.234.567", 1234567), ("Rp 16.800 /bulan", 16800), ("16800", 16800)]
    ws = workers(len(money) + 2, seed=20)
    data = [register_row(i + 1, w, Iuran=m) for i, (w, (m, _)) in enumerate(zip(ws, money, strict=False))]
    data.append(register_row(len(data) + 1, ws[-2], Iuran="enam belas ribu"))      # NUMBER_INVALID
    data.append(register_row(len(data) + 1, ws[-1], Iuran="-16.800"))              # NUMBER_NEGATIVE
    out.append(MessyCase(
        "register_indonesian_numbers", "register",
        "Iuran as '16.800', 'Rp 16.800,00', 'Rp 16.800,-', '1.234.567', number cells 16800, 16800.5 and 123.456 "
        "(a non-integral number cell is not a thousands group), words and a negative amount",
        (messy_file("register_parepare_2025-04_angka.xlsx", xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER]
                                                                        + data)]),
            loaded(len(data), ("NUMBER_INVALID", "NUMBER_NEGATIVE"), regency=PAREPARE, period="2025-04",
                   quarantine_at=(("Peserta", 6 + len(money), "NUMBER_INVALID"),
                                  ("Peserta", 7 + len(money), "NUMBER_NEGATIVE")),
                   values={"monthly_contribution": tuple(v for _, v in money)})),)))

    # --- every date format, in a register (coverage start) and its TTL birth dates
    start = D(2025, 3, 13)
    dates = ["13/03/2025", "13-03-2025", "13 Maret 2025", "13 Mar 2025", "2025-03-13", 45729, start,
             dt.datetime(2025, 3, 13, 10, 30), 45729.5, "13.03.2025", "Kamis, 13 Maret 2025", "2025-03-13 10:30:00",
             "13/3/25"]
    ws = workers(len(dates) + 2, seed=21)
    header = REGISTER_HEADER.copy()
    header[COL["Tgl Lahir"]] = "TTL"
    data = [register_row(i + 1, w, TMT=d, Tgl_Lahir=f"Parepare, {w.birth:%d-%m-%Y}")
            for i, (w, d) in enumerate(zip(ws, dates, strict=False))]
    data.append(register_row(len(data) + 1, ws[-2], TMT="31/02/2025"))
    data.append(register_row(len(data) + 1, ws[-1], TMT="13/03/1899"))      # before 1900: out of range
    out.append(MessyCase(
        "register_date_formats", "register",
        "coverage start as 13/03/2025, 13-03-2025, 13 Maret 2025, 13 Mar 2025, 2025-03-13, an Excel serial, "
        "a date cell, a datetime cell, a serial with a time fraction, a weekday prefix, a two-digit year; "
        "TTL 'Parepare, 12-05-1980'; an impossible date and one out of range",
        (messy_file("register_parepare_2025-04_tanggal.xlsx",
            xlsx_bytes([Sheet("Peserta", title_rows() + [header] + data)]),
            loaded(len(data), ("DATE_INVALID", "DATE_OUT_OF_RANGE"), regency=PAREPARE, period="2025-04",
                   values={"coverage_start": (start,) * len(dates),
                           "birth_date": tuple(w.birth for w in ws[:len(dates)])})),)))

    # --- program lists and sex codes (CSV, so every cell is text)
    programs = [("JKK, JKM", "JKK,JKM"), ("JKK+JKM", "JKK,JKM"), ("JKK/JKM", "JKK,JKM"), ("jkk & jkm", "JKK,JKM"),
                ("JKK dan JKM", "JKK,JKM"), ("Jaminan Kecelakaan Kerja, Jaminan Kematian", "JKK,JKM"),
                ("JKM", "JKM"), ("JKK;JKM", "JKK,JKM")]
    sexes = [("L", "L"), ("P", "P"), ("Laki-laki", "L"), ("Perempuan", "P"), ("laki laki", "L"),
             ("PEREMPUAN", "P"), ("Lk", "L"), ("Pr", "P")]
    ws = workers(len(programs) + 2, seed=22)
    data = [register_row(i + 1, w, Program=p, JK=s)
            for i, (w, (p, _), (s, _)) in enumerate(zip(ws, programs, sexes, strict=False))]
    data.append(register_row(len(data) + 1, ws[-2], Program="JKN"))
    data.append(register_row(len(data) + 1, ws[-1], JK="X"))
    out.append(MessyCase(
        "register_programs_and_sex_codes", "register",
        "programs 'JKK, JKM', 'JKK+JKM', 'JKK/JKM', 'jkk & jkm', 'JKK dan JKM', names in words; sex L/P, "
        "Laki-laki/Perempuan in any case, Lk/Pr; an unknown program and sex",
        (messy_file("register_parepare_2025-04_program.csv", csv_bytes([REGISTER_HEADER] + data, delimiter=","),
            loaded(len(data), ("PROGRAM_UNKNOWN", "SEX_INVALID"), regency=PAREPARE, period="2025-04",
                   values={"programs": tuple(v for _, v in programs), "sex": tuple(v for _, v in sexes)})),)))

    # --- NIKs: typed as text with noise, wrong lengths, letters, impossible dates, unknown regions, numbers
    base = workers(14, seed=23)
    good = [("'" + base[0].nik, base[0].nik),
            (" ".join([base[1].nik[:4], base[1].nik[4:8], base[1].nik[8:12], base[1].nik[12:]]), base[1].nik),
            (".".join([base[2].nik[:4], base[2].nik[4:8], base[2].nik[8:12], base[2].nik[12:]]), base[2].nik),
            (nik(D(1980, 5, 5), False, 120), nik(D(1980, 5, 5), False, 120)),        # ends in 0, typed as text
            (nik(D(1980, 5, 12), True, 126), nik(D(1980, 5, 12), True, 126))]        # day + 40
    bad = [(base[5].nik[:15], "NIK_15_DIGITS"), (base[6].nik + "7", "NIK_17_DIGITS"),
           (base[7].nik[:10] + "O" + base[7].nik[11:], "NIK_NOT_DIGITS"),
           ("737201" + "3213800128", "NIK_BIRTH_DATE_INVALID"), ("990101" + "4505800129", "NIK_REGION_UNKNOWN"),
           ("7.37201450580012E+15", "NIK_PRECISION_LOST"), (None, "NIK_MISSING"),
           (int("737201" + "4505800130"), "NIK_PRECISION_LOST"),         # a number cell (16th digit lost)
           (int("737201" + "4505800123"), "NIK_PRECISION_LOST")]         # a number cell, whatever its last digit
    # (synthetic NIKs are written in two parts so no 16-digit identifier stands in a committed source file)
    data = [register_row(i + 1, base[i], NIK=v) for i, (v, _) in enumerate(good)]
    data += [register_row(len(good) + i + 1, base[5 + i], NIK=v) for i, (v, _) in enumerate(bad)]
    out.append(MessyCase(
        "register_nik_variants", "register",
        "NIK with a leading apostrophe, spaces, dots, ending in 0 as text, a woman's (day + 40); 15 and 17 "
        "digits, a letter O, an impossible birth date, an unknown region, scientific notation, empty, and two "
        "NIKs typed as numbers (precision lost)",
        (messy_file("register_parepare_2025-04_nik.xlsx", xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER]
                                                                     + data)]),
            loaded(len(data), tuple(r for _, r in bad), regency=PAREPARE, period="2025-04",
                   quarantine_at=tuple(("Peserta", 6 + len(good) + i, r) for i, (_, r) in enumerate(bad)),
                   values={"nik": tuple(n for _, n in good)})),)))

    ws = workers(3, seed=24)
    data = [register_row(1, ws[0]), register_row(2, ws[1], NIK="7,37201E+15"),
            register_row(3, ws[2], NIK="7.372014505800E+15")]
    out.append(MessyCase(
        "register_nik_scientific_csv", "register",
        "a CSV exported from a sheet where the NIK column was a number: '7,37201E+15' (Indonesian decimal comma)",
        (messy_file("register_parepare_2025-04_nik.csv", csv_bytes([REGISTER_HEADER] + data),
            loaded(3, ("NIK_PRECISION_LOST", "NIK_PRECISION_LOST"), regency=PAREPARE, period="2025-04",
                   quarantine_at=(("", 3, "NIK_PRECISION_LOST"), ("", 4, "NIK_PRECISION_LOST")))),)))

    # --- a register naming its regency per row: one row for another regency
    ws = workers(3, seed=25)
    header = REGISTER_HEADER + ["Kab/Kota"]
    data = [register_row(1, ws[0]) + ["Kota Parepare"], register_row(2, ws[1]) + ["PAREPARE"],
            register_row(3, ws[2]) + ["Kota Palopo"]]
    out.append(MessyCase(
        "register_row_regency_mismatch", "register",
        "a Kab/Kota column: names of this regency in two spellings, and a row for another regency",
        (messy_file("register_parepare_2025-04_wilayah.xlsx", xlsx_bytes([Sheet("Peserta", title_rows() + [header] + data)]),
            loaded(3, ("REGENCY_MISMATCH",), regency=PAREPARE, period="2025-04")),)))

    # --- an occupation missing, a required cell empty
    ws = workers(3, seed=26)
    data = [register_row(1, ws[0]), register_row(2, ws[1], Pekerjaan=None), register_row(3, ws[2], Program="")]
    out.append(MessyCase(
        "register_required_cells_empty", "register", "required cells left empty (occupation, program)",
        (messy_file("register_parepare_2025-04_kosong.xlsx", xlsx_bytes([Sheet("Peserta", title_rows() + [REGISTER_HEADER]
                                                                        + data)]),
            loaded(3, ("OCCUPATION_MISSING", "REQUIRED_MISSING"), regency=PAREPARE, period="2025-04")),)))
    return out
