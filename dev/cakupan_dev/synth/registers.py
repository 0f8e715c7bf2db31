"""Register deliveries as files: CSV, and XLSX with a title block, a TOTAL row and a signature."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cakupan_dev.synth.people import Worker
from cakupan_dev.synth.regency import COL_AMOUNT, COL_END, Regency
from cakupan_dev.synth.spec import last_day
from cakupan_dev.synth.text import MONTHS_ID, excel_serial, fmt_date, id_date, rupiah, write_csv

XLSX_STREAM_ROWS = 2000  # registers longer than this are written in xlsxwriter constant_memory mode
_FIXED_CREATED = datetime(2025, 1, 1, 0, 0, 0)


def _register_headers(reg: Regency) -> list[str]:
    return reg.style.headers + (["No KPJ"] if reg.with_kpj else [])


def write_register_csv(path: Path, reg: Regency, rows: Sequence[Worker], period: tuple[int, int]) -> None:
    rendered = (reg.csv_row(i, w, period) for i, w in enumerate(rows, start=1))
    write_csv(path, itertools.chain([_register_headers(reg)], rendered), reg.style.csv_delimiter, reg.style.csv_bom)


def _title_lines(reg: Regency, period: tuple[int, int], koreksi: bool) -> list[str]:
    st = reg.style
    y, m = period
    name_up = reg.name.upper()
    daftar = f"DAFTAR PESERTA PEKERJA RENTAN {name_up} — BULAN {MONTHS_ID[m - 1].upper()} {y}"
    if koreksi:
        daftar += " (REVISI)"
    pool = [
        f"PEMERINTAH {name_up}",
        st.dinas,
        daftar,
        "PENERIMA BANTUAN IURAN BPJS KETENAGAKERJAAN",
        "Program Jaminan Kecelakaan Kerja (JKK) dan Jaminan Kematian (JKM)",
        f"Tahun Anggaran {y}",
    ]
    extras = (pool[:2] + pool[3:])[: st.title_lines - 1]
    # natural order: government and office first, then the title, then the rest
    return extras[:2] + [daftar] + extras[2:]


def write_register_xlsx(path: Path, reg: Regency, rows: Sequence[Worker], period: tuple[int, int],
                         koreksi: bool) -> None:
    import xlsxwriter

    st = reg.style
    # Big sheets stream row by row (constant_memory: inline strings, temp files); a regency-month register is
    # usually a few hundred rows, and building those in memory avoids ~10 temp files per workbook (2-3x faster).
    mode = {"constant_memory": True} if len(rows) > XLSX_STREAM_ROWS else {"in_memory": True}
    wb = xlsxwriter.Workbook(str(path), {**mode, "strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.set_properties({"created": _FIXED_CREATED, "author": f"Dinas Tenaga Kerja {reg.name}", "title": ""})
    ws = wb.add_worksheet(st.sheet_name)
    date_fmt = wb.add_format({"num_format": st.xlsx_date_fmt})
    money_fmt = wb.add_format({"num_format": "#,##0"})
    bold = wb.add_format({"bold": True})
    r = 0
    for line in _title_lines(reg, period, koreksi):
        ws.write_string(r, 0, line, bold)
        r += 1
    r += st.blank_after_title
    for c, h in enumerate(_register_headers(reg)):
        ws.write_string(r, c, h, bold)
    r += 1
    ws_string, ws_number = ws.write_string, ws.write_number
    for no, w in enumerate(rows, start=1):
        cells = reg.xlsx_row(w)
        ws_number(r, 0, no)
        for c in range(1, len(cells)):
            kind, val = cells[c]
            if kind == "s":
                if val:
                    ws_string(r, c, val)
            elif kind == "d":
                ws_number(r, c, val, date_fmt)
            elif kind == "n":
                ws_number(r, c, val, money_fmt)
            elif kind == "nn":
                ws_number(r, c, val)
        if w.end is not None:
            if w.excel_dates:
                ws_number(r, COL_END, excel_serial(w.end), date_fmt)
            else:
                ws_string(r, COL_END, fmt_date(w.end, "dmy-"))
        r += 1
    total = reg.spec.unit_premium * len(rows)
    ws.write_string(r, 0, "TOTAL", bold)
    if st.xlsx_amount_number:
        ws.write_number(r, COL_AMOUNT, total, money_fmt)
    else:
        ws.write_string(r, COL_AMOUNT, rupiah(total, "dots"))
    r += 2  # one blank row
    sign_col = 9
    ws.write_string(r, sign_col, f"{reg.short}, {id_date(last_day(period))}")
    ws.write_string(r + 1, sign_col, "Kepala Dinas")
    wb.close()
