"""The other sources: contributions, claims and the structured city report, as regencies send them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cakupan_dev.messy.formats import Sheet, csv_bytes, xlsx_bytes
from cakupan_dev.messy.outcomes import MessyCase, loaded, messy_file
from cakupan_dev.messy.people import PAREPARE, D, workers


def other_source_cases() -> list[MessyCase]:
    out = []
    # --- contributions: numbers in every style, months in every style, a JUMLAH that agrees (UTF-8 BOM, ',')
    header = ["Periode", "Kab/Kota", "Sumber Dana", "Jumlah Tenaga Kerja", "Tagihan (Rp)", "Pembayaran (Rp)",
              "Tanggal Pembayaran"]
    rows = [("April 2025", "Kota Parepare", "APBD", "4.000 orang", "Rp 67.200.000,00", "Rp 67.200.000,00",
             "13/05/2025"),
            ("05/2025", "Parepare", "APBD", "4.000", "Rp67,2 juta", "67.200.000", "13-06-2025"),
            ("2025-06", "73.72", "APBD", "4000", "67.200.000", "0", ""),
            ("Juli 2025", "7372", "CSR", "1.000", "Rp16,8 juta", "16.800.000", "13 Agustus 2025"),
            ("Agustus 2025", "Kota Pare-Pare", "APBD", "71.428", "Rp1,2 miliar", "1.199.990.400", "2025-09-15")]
    billed = (4000, 4000, 4000, 1000, 71428)
    amounts = (67_200_000, 67_200_000, 67_200_000, 16_800_000, 1_200_000_000)
    total = ["JUMLAH", None, None, f"{sum(billed):,}".replace(",", "."), None, None, None]
    out.append(MessyCase(
        "contributions_numbers_and_months", "contributions",
        "periods 'April 2025', '05/2025', '2025-06'; regency as name, alias, dotted and plain code; counts "
        "'4.000 orang'; amounts 'Rp 67.200.000,00', 'Rp67,2 juta', 'Rp1,2 miliar'; a JUMLAH row that agrees",
        (messy_file("contributions_parepare_2025.csv", csv_bytes([header, *rows, total], ",", "utf-8", bom=True),
            loaded(5, regency=PAREPARE,
                   values={"period": (D(2025, 4, 1), D(2025, 5, 1), D(2025, 6, 1), D(2025, 7, 1), D(2025, 8, 1)),
                           "participants_billed": billed, "amount_billed": amounts,
                           "amount_paid": (67_200_000, 67_200_000, 0, 16_800_000, 1_199_990_400),
                           "paid_date": (D(2025, 5, 13), D(2025, 6, 13), None, D(2025, 8, 13), D(2025, 9, 15)),
                           "regency_code": (PAREPARE,) * 5})),)))

    # --- contributions: month cells of every kind in a workbook; an unknown regency; a JUMLAH that disagrees
    header = ["Bulan", "Wilayah", "Sumber Dana", "Jml TK", "Jumlah Tagihan", "Jumlah Dibayar"]
    months = ["April 2025", "04/2025", "2025-04", D(2025, 4, 1), "Apr 2025", 45748]
    funds = ["APBD", "APBDes", "CSR", "BAZNAS", "Mandiri", "Dana Desa"]
    data = [[m, "Kota Parepare", f, 10, 168000, 168000] for m, f in zip(months, funds, strict=True)]
    data.append(["Mei 2025", "Kabupaten Antah Berantah", "APBD", 10, 168000, 168000])
    data.append(["Mei 2025", "Kota Palopo", "APBD", 10, 168000, 168000])
    data.append(["2025", "Kota Parepare", "APBD", 10, 168000, 168000])
    rows = [["REKAP IURAN PEKERJA RENTAN"], []] + [header] + data + [["JUMLAH", None, None, 90, 999, None]]
    out.append(MessyCase(
        "contributions_months_unknown_regency_total_mismatch", "contributions",
        "month cells 'April 2025', '04/2025', '2025-04', a date cell, 'Apr 2025', an Excel serial; a row for "
        "'Kabupaten Antah Berantah', one for another regency, a bare year; a JUMLAH that disagrees",
        (messy_file("iuran_parepare_2025-04.xlsx", xlsx_bytes([Sheet("Iuran", rows)]),
            loaded(9, ("REGENCY_UNKNOWN", "REGENCY_MISMATCH", "MONTH_INVALID"), regency=PAREPARE,
                   findings=("TOTAL_MISMATCH",),
                   quarantine_at=(("Iuran", 10, "REGENCY_UNKNOWN"), ("Iuran", 11, "REGENCY_MISMATCH"),
                                  ("Iuran", 12, "MONTH_INVALID")),
                   values={"period": (D(2025, 4, 1),) * 6, "funding_source": ("APBD", "APBDES", "CSR", "BAZNAS",
                                                                               "MANDIRI", "APBDES")})),)))

    # --- claims: Windows-1252, ';', NIK or KPJ or both or neither, one claim naming two programs
    ws = workers(5, seed=70)
    header = ["No Klaim", "NIK", "No KPJ", "Jenis Klaim", "Tanggal Kejadian/Meninggal", "Tgl Bayar", "Manfaat (Rp)",
              "Kab/Kota", "Keterangan"]
    rows = [header,
            ["KLM-2025-0007", ws[0].nik, "", "JKM", "03/06/2025", "19/06/2025", "Rp42.000.000", "Parepare",
             "Ahli waris – istri"],
            ["KLM-2025-0011", "", "11 1111 1111", "JKK", "12 Jun 2025", "30 Jun 2025", "Rp3.250.000", "Parepare",
             "Pengobatan"],
            ["KLM-2025-0012", ws[2].nik, "22222222222", "Jaminan Kematian", "14 Juni 2025", "01/07/2025",
             "Rp 42.000.000,00", "Kota Parepare", "Santunan"],
            ["KLM-2025-0013", "", "", "JKK", "14 Jun 2025", "01 Jul 2025", "Rp1.100.000", "Parepare", "Tanpa identitas"],
            ["KLM-2025-0014", ws[4].nik, "", "JKK, JKM", "15 Jun 2025", "01 Jul 2025", "Rp1.100.000", "Parepare", ""]]
    out.append(MessyCase(
        "claims_windows_1252", "claims",
        "Windows-1252 ';' claims: NIK only, KPJ with spaces only, both, neither, two programs in one claim",
        (messy_file("klaim_parepare_2025-06.csv", csv_bytes(rows, ";", "cp1252"),
            loaded(5, ("NO_PARTICIPANT_ID", "PROGRAM_UNKNOWN"), regency=PAREPARE, period="2025-06",
                   quarantine_at=(("", 5, "NO_PARTICIPANT_ID"), ("", 6, "PROGRAM_UNKNOWN")),
                   findings=("EXTRA_COLUMNS",),       # "Keterangan": not a claims column
                   values={"kpj": (None, "1111111111", "22222222222"), "program": ("JKM", "JKK", "JKM"),
                           "amount_paid": (42_000_000, 3_250_000, 42_000_000),
                           "event_date": (D(2025, 6, 3), D(2025, 6, 12), D(2025, 6, 14))})),)))

    # --- claims in a workbook: number and date cells
    header = ["Nomor Klaim", "Nomor NIK", "KPJ", "Program", "Tgl Kejadian", "Tanggal Pembayaran", "Jumlah Dibayar"]
    data = [["KLM-1", ws[0].nik, 12345678901, "JKM", D(2025, 6, 3), dt.datetime(2025, 6, 19, 9, 0), 42000000],
            ["KLM-2", ws[1].nik, None, "JKK", 45820, "19/06/2025", 1250000.5]]
    out.append(MessyCase(
        "claims_workbook_typed_cells", "claims",
        "claims as number, date, datetime and serial cells; the regency from the folder (no Kab/Kota column)",
        (messy_file("klaim_parepare_2025-06.xlsx", xlsx_bytes([Sheet("Klaim", [header] + data)]),
            loaded(2, regency=PAREPARE, period="2025-06",
                   values={"kpj": ("12345678901", None), "event_date": (D(2025, 6, 3), D(2025, 6, 12)),
                           "paid_date": (D(2025, 6, 19), D(2025, 6, 19)),
                           "amount_paid": (42_000_000, Decimal("1250000.5")), "regency_code": (PAREPARE,) * 2})),)))

    # --- the structured city report, with a two-row header and words in numbers
    top = ["Periode", "Kabupaten/Kota", "Penduduk Bekerja", "Peserta Aktif", "Target Pekerja Rentan",
           "Pekerja Rentan Terlindungi", "Anggaran (Rp)", None]
    bottom = [None] * 6 + ["Pagu", "Realisasi"]
    data = [["Juni 2025", "Kota Parepare", "152.340", "93.120 orang", "4.000 orang", "2.500", "Rp1,2 miliar",
             "Rp 750.000.000,00"]]
    merges = [(2, c, 3, c, top[c]) for c in range(6)] + [(2, 6, 2, 7, "Anggaran (Rp)")]
    out.append(MessyCase(
        "city_report_two_row_header", "city_report",
        "the structured city report: title, a header over two rows ('Anggaran (Rp)' merged over Pagu / "
        "Realisasi), '93.120 orang', 'Rp1,2 miliar'",
        (messy_file("laporan_parepare_2025-06.xlsx",
            xlsx_bytes([Sheet("Laporan", [["LAPORAN PERLINDUNGAN PEKERJA RENTAN — JUNI 2025"], [], top, bottom]
                              + data, merges)]),
            loaded(1, regency=PAREPARE, period="2025-06", loaded_rows=(("Laporan", 5),),
                   values={"employed_population": (152340,), "active_participants_total": (93120,),
                           "vulnerable_target": (4000,), "vulnerable_covered": (2500,),
                           "budget_allocated": (1_200_000_000,), "budget_realized": (750_000_000,)})),)))
    return out
