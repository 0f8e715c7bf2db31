"""`cakupan template register`: a file filled in from it (openpyxl, as a clerk's Excel would) loads with no rejected
row; NIK and KPJ cells are text, sex / program / funding source are drop-down lists, instructions in Indonesian."""

from __future__ import annotations

import datetime as dt

import openpyxl
from cakupan import pipeline
from cakupan.core.config import load_regencies
from cakupan.outbox.template import write_template


def test_filled_template_loads_clean(settings_factory):
    settings = settings_factory()
    settings.ensure_dirs()
    reg = load_regencies(settings.config_dir)["73.72"]
    folder = settings.inbox / "73.72"
    folder.mkdir(parents=True)
    path = write_template("register", reg, folder / "peserta-2025-04.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    assert "KOTA PAREPARE" in ws["A2"].value and "73.72" in ws["A2"].value
    assert wb.sheetnames[1] == "Petunjuk"
    header = [c.value for c in ws[4]]
    lists = {str(v.sqref).split(":")[0][:1]: v.formula1 for v in ws.data_validations.dataValidation
             if v.type == "list"}
    col = {h: openpyxl.utils.get_column_letter(i + 1) for i, h in enumerate(header)}
    assert lists[col["JK"]] == '"L,P"'
    assert "APBD" in lists[col["Sumber Dana"]]
    assert ws[f"{col['NIK']}5"].number_format == "@" and ws[f"{col['No KPJ']}5"].number_format == "@"
    values = {"NIK": "7372014107850001", "Nama": "Ani Sintetis", "Tgl Lahir": dt.datetime(1985, 7, 1),
              "JK": "P", "Pekerjaan": "Nelayan", "Program": "JKK, JKM", "TMT": dt.datetime(2025, 4, 1),
              "Iuran": 16800, "Sumber Dana": "APBD", "Periode": "April 2025", "No KPJ": "25010000001"}
    for name, v in values.items():
        ws[f"{col[name]}5"].value = v
    wb.save(path)
    (result,) = pipeline.ingest(settings, "t")
    assert (result.status, result.rows_in, result.rows_loaded, result.rows_quarantined) == ("loaded", 1, 1, 0)
