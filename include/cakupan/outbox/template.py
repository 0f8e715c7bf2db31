"""`cakupan template register|contributions|claims`: the recommended workbook for a regency, built from the source
contract so that a file filled in from it loads with no rejected row: NIK and KPJ cells are text (Excel cannot
round them), sex, program and funding source are drop-down lists, dates are date cells, and a second sheet
explains each column in Bahasa Indonesia."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import xlsxwriter

from cakupan.core.config import Regency
from cakupan.core.contracts import load_contract
from cakupan.core.messages import section

TEMPLATE_ROWS = 1000          # rows prepared with formats and drop-down lists
FUNDING = ["APBD", "APBDes", "CSR", "BAZNAS", "Mandiri"]
PROGRAMS = ["JKK, JKM", "JKK", "JKM", "JKK, JKM, JHT"]
SEXES = ["L", "P"]

TEMPLATE_TEXTS_ID = section("template", "id")   # the catalogue's `template.*` texts: a clerk's workbook is in `id`


def template_name(source: str, regency: Regency) -> str:
    return f"templat-{source}-{regency.code}.xlsx"


def render_template(source: str, regency: Regency) -> bytes:
    """The template's bytes for one source and regency."""
    contract = load_contract(source)
    t = TEMPLATE_TEXTS_ID
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    bold = wb.add_format({"bold": True, "font_size": 13})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    fmt = {"text": wb.add_format({"num_format": "@"}),
           "date": wb.add_format({"num_format": "dd/mm/yyyy"}),
           "money": wb.add_format({"num_format": "#,##0"}),
           "count": wb.add_format({"num_format": "0"})}
    ws = wb.add_worksheet(source.capitalize() if source != "register" else "Peserta")
    ws.write_string(0, 0, t[f"title_{source}"], bold)
    ws.write_string(1, 0, t["regency_line"].format(name=regency.name.upper(), code=regency.code), bold)
    header_row = 3
    lists = {"sex": SEXES, "programs": PROGRAMS, "program": ["JKK", "JKM", "JHT", "JP", "JKP"],
             "funding_source": FUNDING}
    for i, col in enumerate(contract.columns):
        label = col.header
        ws.write_string(header_row, i, label, head)
        kind = {"nik": "text", "kpj": "text", "date": "date", "birth_date": "date", "money": "money",
                "count": "count"}.get(col.type, "text")
        ws.set_column(i, i, max(14, len(label) + 4), fmt[kind])
        first, last = header_row + 1, header_row + TEMPLATE_ROWS
        for r in range(first, last + 1):          # the cells themselves carry the format (not only the column)
            ws.write_blank(r, i, None, fmt[kind])
        if col.type in lists:
            ws.data_validation(first, i, last, i, {"validate": "list", "source": lists[col.type],
                                                   "error_message": t["list_error"]})
        elif kind == "date":
            ws.data_validation(first, i, last, i, {"validate": "date", "criteria": "between",
                                                   "minimum": dt.date(1900, 1, 1),
                                                   "maximum": dt.date(2100, 12, 31)})
    ws.freeze_panes(header_row + 1, 0)
    _instructions(wb, contract, regency, head)
    wb.close()
    return buf.getvalue()


def _instructions(wb, contract, regency: Regency, head) -> None:
    t = TEMPLATE_TEXTS_ID
    ws = wb.add_worksheet(t["instructions_sheet"])
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    ws.write_string(0, 0, t["instructions_intro"].format(unit=t[f"unit_{contract.source}"], name=regency.name), wrap)
    for j, key in enumerate(("col_header", "col_required", "col_how")):
        ws.write_string(2, j, t[key], head)
    for i, col in enumerate(contract.columns, start=3):
        ws.write_string(i, 0, col.header)
        ws.write_string(i, 1, t["yes"] if col.required else t["no"])
        ws.write_string(i, 2, t.get(f"how_{col.type}", t["how_text"]).format(name=regency.name), wrap)
    ws.write_string(len(contract.columns) + 4, 0, t["personal"])
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 8)
    ws.set_column(2, 2, 90)


def write_template(source: str, regency: Regency, out: Path) -> Path:
    path = out / template_name(source, regency) if out.is_dir() else out
    path.write_bytes(render_template(source, regency))
    return path
