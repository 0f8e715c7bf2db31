"""The rejection workbook: exactly the rejected rows as delivered, highlighted, with the reason in Bahasa Indonesia;
0600 in a 0700 regency folder; sent back fixed, its rows join the delivery they fix (no worker vanishes) and the
quarantine view marks each earlier rejected row "fixed by load N". Real ingest, real dbt, real publish."""

from __future__ import annotations

import shutil
import stat

import duckdb
import openpyxl
import pytest
from cakupan import pipeline
from cakupan.core.contracts import reason
from cakupan.outbox.fixes import fixes_load_of, record_fixes
from cakupan.outbox.workbook import HIGHLIGHT, export_rejections, outbox_root
from python_calamine import CalamineWorkbook

pytestmark = pytest.mark.integration


def _bad_register(settings):
    """A Parepare register for April 2025 (openpyxl, as a clerk's Excel would write it): 3 good rows, 2 bad ones."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Peserta"
    ws.append(["DAFTAR PESERTA PEKERJA RENTAN KOTA PAREPARE BULAN APRIL 2025"])
    ws.append([])
    header = ["No", "NIK", "Nama", "JK", "Pekerjaan", "Program", "TMT", "Iuran", "Sumber Dana"]
    ws.append(header)
    rows = [
        [1, "7372014107850001", "Ani Sintetis", "P", "Nelayan", "JKK, JKM", "01/04/2025", 16800, "APBD"],
        [2, "737201010190001", "Budi Sintetis", "L", "Petani", "JKK, JKM", "01/04/2025", 16800, "APBD"],   # 15 digits
        [3, "7372010202900002", "Cici Sintetis", "X", "Pedagang", "JKK, JKM", "01/04/2025", 16800, "APBD"],  # sex
        [4, "7372010303900003", "Dedi Sintetis", "L", "Ojek", "JKK, JKM", "01/04/2025", 16800, "APBD"],
        [5, "7372010404900004", "Eka Sintetis", "L", "Nelayan", "JKK, JKM", "01/04/2025", 16800, "APBD"],
    ]
    for r in rows:
        ws.append(r)
    folder = settings.inbox / "73.72"
    folder.mkdir(parents=True)
    path = folder / "peserta-2025-04.xlsx"
    wb.save(path)
    return path, header, rows


def _build(settings):
    pipeline.prepare(settings)
    pipeline.build(settings)
    assert pipeline.gate_and_publish(settings, pipeline.new_run_id()).published


def _enrolled(settings, month="2025-04-01"):
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        return con.execute("select enrolled from marts.mart_coverage_monthly where regency_code = '73.72' "
                           "and month_start = ?", [month]).fetchone()[0]


def test_export_fix_resend_round_trip(settings_factory, tmp_path):
    settings = settings_factory()
    settings.ensure_dirs()
    _path, header, _rows = _bad_register(settings)
    (first,) = pipeline.ingest(settings, "t1")
    assert (first.rows_loaded, first.rows_quarantined) == (3, 2)
    _build(settings)
    assert _enrolled(settings) == 3

    (book,) = export_rejections(settings)
    folder = outbox_root(settings) / "73.72"
    assert book.parent == folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(book.stat().st_mode) == 0o600
    assert fixes_load_of(book) == first.load_id

    # calamine: the rejected rows exactly as delivered, the file's labels in its order, NIK as text
    cal = CalamineWorkbook.from_path(str(book))
    assert cal.sheet_names == ["Baris ditolak", "Ringkasan"]
    grid = cal.get_sheet_by_name("Baris ditolak").to_python(skip_empty_area=False)
    h = next(i for i, r in enumerate(grid) if "Baris asal" in r)
    mapped = [c for c in header if c != "No"]          # the kept columns, in the delivered order
    assert grid[h][:len(mapped)] == mapped
    data = grid[h + 1:]
    assert [r[mapped.index("NIK")] for r in data] == ["737201010190001", "7372010202900002"]
    assert [r[-1] for r in data] == [5, 6]                              # their rows in the delivered sheet
    assert data[0][len(mapped)].startswith(reason("NIK_15_DIGITS").template("id")[:30])
    assert "'X'" in data[1][len(mapped)] and "jenis kelamin" in data[1][len(mapped)]
    summary = {r[0]: r[1] for r in cal.get_sheet_by_name("Ringkasan").to_python() if r and r[0]}
    assert summary["Berkas asal"] == "peserta-2025-04.xlsx"
    assert (summary["Baris masuk"], summary["Baris dimuat"], summary["Baris ditolak"]) == (5, 3, 2)

    # openpyxl: the offending cells (and only those) highlighted, every cell stored as text
    wb = openpyxl.load_workbook(book)
    ws = wb["Baris ditolak"]
    nik_col, sex_col = mapped.index("NIK") + 1, mapped.index("JK") + 1
    fills = {(c.row, c.column) for row in ws.iter_rows(min_row=h + 2) for c in row
             if c.fill.fgColor.rgb and c.fill.fgColor.rgb.endswith(HIGHLIGHT[1:])}
    assert fills == {(h + 2, nik_col), (h + 3, sex_col)}
    assert ws.cell(h + 2, nik_col).data_type == "s"

    # the clerk fixes both rows in the workbook and sends it back
    ws.cell(h + 2, nik_col).value = "7372010101900001"
    ws.cell(h + 3, sex_col).value = "P"
    back = settings.inbox / "73.72" / "kiriman-ulang" / book.name
    back.parent.mkdir()
    wb.save(back)
    assert fixes_load_of(back) == first.load_id                   # Excel/openpyxl keep the custom property
    (second,) = pipeline.ingest(settings, "t2")
    assert (second.rows_in, second.rows_loaded, second.rows_quarantined) == (2, 2, 0)
    with duckdb.connect(str(settings.work_db), read_only=True) as con:   # the workbook's own columns: no finding
        assert con.execute("select count(*) from audit.load_findings where load_id = ? and code = 'EXTRA_COLUMNS'",
                           [second.load_id]).fetchone()[0] == 0
    assert record_fixes(settings) == 2
    _build(settings)
    assert _enrolled(settings) == 5                               # the 3 of the delivery + the 2 fixed, none lost
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        marks = con.execute("select source_row, fixed_by_load_id from audit.quarantine_rows "
                            "where load_id = ? order by source_row", [first.load_id]).fetchall()
    assert marks == [(5, second.load_id), (6, second.load_id)]
    # nothing is owed any more: the workbook is withdrawn from the outbox
    assert export_rejections(settings) == [] and not book.exists()


def test_outbox_never_published_or_reported(settings_factory):
    settings = settings_factory()
    settings.ensure_dirs()
    _bad_register(settings)
    pipeline.ingest(settings, "t1")
    _build(settings)
    (_book,) = export_rejections(settings)
    from cakupan.auditor.report import write_report

    site = write_report(settings)
    texts = [p.read_bytes() for p in site.parent.rglob("*") if p.is_file()]
    texts.append(settings.published_db.read_bytes())
    texts += [p.read_bytes() for p in settings.logs_dir.rglob("*") if p.is_file()]
    for blob in texts:
        assert str(outbox_root(settings)).encode() not in blob and b"perbaikan-" not in blob
        assert b"737201010190001" not in blob


def test_partial_fix_leaves_the_rest_owed(settings_factory):
    """Only one of two rows fixed: that row counts, the other stays rejected and is exported again."""
    settings = settings_factory()
    settings.ensure_dirs()
    _bad_register(settings)
    (_first,) = pipeline.ingest(settings, "t1")
    (book,) = export_rejections(settings)
    wb = openpyxl.load_workbook(book)
    ws = wb["Baris ditolak"]
    ws.cell(5, 1).value = "7372010101900001"          # the 15-digit NIK fixed; the sex left as X
    back = settings.inbox / "73.72" / book.name
    wb.save(back)
    (second,) = pipeline.ingest(settings, "t2")
    assert (second.rows_loaded, second.rows_quarantined) == (1, 1)
    (again,) = export_rejections(settings)
    assert fixes_load_of(again) == second.load_id
    grid = CalamineWorkbook.from_path(str(again)).get_sheet_by_name("Baris ditolak").to_python()
    assert sum(1 for r in grid if "X" in r) == 1
    shutil.rmtree(outbox_root(settings))
