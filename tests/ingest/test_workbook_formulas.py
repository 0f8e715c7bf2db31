"""A big workbook's worksheet XML is scanned for formulas a piece at a time (it is not held whole beside the cells):
a formula without a saved result is found wherever a piece ends, and is read as FORMULA_NO_VALUE through the
reader child."""

from __future__ import annotations

import io
import zipfile

import pytest
import xlsxwriter
from cakupan.ingest.readers import FORMULA_NO_VALUE, read_workbook
from cakupan.ingest.readers import workbook as wbmod

HEADER = ["No", "NIK", "Nama", "Desa"]


def _workbook(path, n_rows: int, formulas: dict[tuple[int, int], str], prefix: str | None = None) -> None:
    """Rows of text under a header; `formulas`: (row, column) → a formula written with no saved result."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    ws = wb.add_worksheet("Peserta")
    ws.write_row(0, 0, HEADER)
    for i in range(1, n_rows + 1):
        ws.write_row(i, 0, [str(i), f"73720115058{i:05d}", f"Peserta {i}", "Lumpue"])
    for (r, c), f in formulas.items():
        ws.write_formula(r, c, f, None, "")
    wb.close()
    if prefix:          # the same sheet with a namespace prefix on every tag, as some exporters write it
        _prefix_tags(path, prefix)


def _prefix_tags(path, prefix: str) -> None:
    src = zipfile.ZipFile(path)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = (data.replace(b"<worksheet xmlns=", f"<{prefix}:worksheet xmlns:{prefix}=".encode())
                        .replace(b"</worksheet>", f"</{prefix}:worksheet>".encode()))
                for tag in (b"sheetData", b"row", b"c", b"f", b"v", b"is", b"t", b"dimension", b"sheetViews",
                            b"sheetView", b"sheetFormatPr", b"pageMargins", b"selection", b"pane"):
                    data = data.replace(b"<" + tag + b" ", b"<" + prefix.encode() + b":" + tag + b" ")
                    data = data.replace(b"<" + tag + b">", b"<" + prefix.encode() + b":" + tag + b">")
                    data = data.replace(b"<" + tag + b"/>", b"<" + prefix.encode() + b":" + tag + b"/>")
                    data = data.replace(b"</" + tag + b">", b"</" + prefix.encode() + b":" + tag + b">")
            dst.writestr(item, data)
    src.close()
    path.write_bytes(out.getvalue())


def _formula_offset(path) -> int:
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml")
    return min(i for i in (xml.find(b"<f>"), xml.find(b"<x:f>")) if i >= 0)


@pytest.mark.parametrize("prefix", [None, "x"])
def test_a_formula_is_found_wherever_a_piece_ends(tmp_path, monkeypatch, prefix):
    path = tmp_path / "register_parepare_2025-06.xlsx"
    _workbook(path, 40, {(25, 1): '="7372"&"011505800025"'}, prefix)
    at = _formula_offset(path)
    # every cut from a few bytes before the tag to a few after it, then pieces far smaller than a row
    for piece in [*(at - k for k in range(-6, 8) if at - k > 0), 7, 64, 1000]:
        monkeypatch.setattr(wbmod, "XML_SCAN_PIECE", piece)
        assert wbmod.formulas_without_value(path) == {"Peserta": [(25, 1, FORMULA_NO_VALUE)]}, piece


def test_a_sheet_without_formulas_scans_to_its_end(tmp_path, monkeypatch):
    path = tmp_path / "register_parepare_2025-06.xlsx"
    _workbook(path, 40, {})
    monkeypatch.setattr(wbmod, "XML_SCAN_PIECE", 50)
    assert wbmod.formulas_without_value(path) == {}


def test_the_reader_child_marks_a_formula_without_a_result(tmp_path):
    """Not plainly written (prefixed tags), so not read in-process: the child reads it, scans its XML in pieces
    and marks the cell."""
    path = tmp_path / "register_parepare_2025-06.xlsx"
    _workbook(path, 3_000, {(2_000, 1): '="7372"&"011505800025"'}, prefix="x")
    assert wbmod._small_plain_xlsx(path) is None            # the child's path, not the small in-process one
    [(name, rows)] = read_workbook(path)
    assert name == "Peserta" and len(rows) == 3_001
    assert rows[2_000][1] == FORMULA_NO_VALUE
    assert rows[1_999][1] == "7372011505801999"
    assert rows[3_000] == ["3000", "7372011505803000", "Peserta 3000", "Lumpue"]
