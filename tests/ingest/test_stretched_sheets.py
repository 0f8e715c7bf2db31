"""A worksheet whose rows reach far below its data (a space typed in row 1,048,001 under a few thousand rows) is
read in slices by the whole read too (issue 22: `readers/sheetslices._stray`, `workbook._rows_of_slices`):
the same rows as the library's whole read gives (merged ranges, formulas without a value, blank rows in the
middle, the table from column D), without the library or the reader building that whole area. Real
python-calamine, real forked reader child, real loader and DuckDB."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap

import pytest
import xlsxwriter
from cakupan.ingest.readers import odsmerge, odstail, sheetslices, workbook, xmlscan
from cakupan.ingest.readers.blocks import FORMULA_NO_VALUE, FileRejected, column_letter
from cakupan_dev.messy.formats import Sheet, ods_bytes, with_parts

HEADER = ["No", "NIK", "Nama", "Tgl Lahir", "L/P", "Pekerjaan", "Desa", "Kecamatan", "Program", "TMT", "Iuran",
          "Sumber Dana"]
FAR = 1_048_000     # 0-based: Excel's row 1,048,001


def _book(path, case: str, n: int = 40, far: int = FAR) -> None:
    """A register of `n` workers (Palopo's fishermen) with what a clerk leaves below it, by case, and a space in
    the 0-based row `far`."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    ws = wb.add_worksheet("Nelayan")
    c0 = 3 if case == "left" else 0
    ws.write_string(0, c0, "DAFTAR NELAYAN PENERIMA BANTUAN IURAN KOTA PALOPO 2025")
    for c, h in enumerate(HEADER):
        ws.write_string(2, c0 + c, h)
    for i in range(n):
        r = 3 + i + (5 if case == "blank_middle" and i >= n // 2 else 0)
        for c, v in enumerate([str(i + 1), f"7373{i:012d}", f"Nelayan Sintetis {i}", "12-03-1985", "L",
                               "Nelayan", "Pontap", "Wara Timur", "JKK, JKM", "1 April 2025", "16.800", "APBD"]):
            ws.write_string(r, c0 + c, v)
    last = 3 + n + (5 if case == "blank_middle" else 0)
    if case == "blank_middle":
        for r in range(3 + n // 2, 3 + n // 2 + 5):
            ws.write_string(r, c0 + 2, " " if r % 2 else "\u00a0")      # spaces typed in the blank rows
    if case == "merged_down":       # a district merged down past the data, and a note merged over rows below it
        ws.merge_range(3 + n - 4, c0 + 7, last + 6, c0 + 7, "Wara Utara")
        ws.merge_range(last + 10, c0, last + 12, c0 + 3, "Catatan: data per 30 Juni 2025")
    if case == "formula":           # a formula whose result was never saved, below the data
        ws.write_formula(last + 3, c0 + 10, "=SUM(K4:K43)", None, "")
    if case == "note_far":          # a real note far below: its rows are the sheet's
        ws.write_string(far - 2_000, c0, "Dicetak dari aplikasi SIPP")
    ws.write_string(far, c0 + (25 if case == "wide" else 2), " ")
    wb.close()


def _read(path, sliced: bool, m) -> list:
    """`_sheets_in_process` of the workbook, its stretched sheet read in slices or (as before) whole."""
    with m.context() as c:
        if not sliced:
            c.setattr(sheetslices, "_stray", lambda xml: False)
        return workbook._sheets_in_process(path, ())


@pytest.mark.parametrize("case", ["space", "left", "wide", "blank_middle", "merged_down", "formula", "note_far"])
def test_a_stretched_sheet_in_slices_gives_the_whole_read_s_rows(tmp_path, monkeypatch, case):
    """`space`: in row 1,048,001; the others in row 5,001, a sheet said stretched at a span of 40 rows (the whole
    read they are compared with builds the area down to it: ~2 s a read for the real row)."""
    path = tmp_path / "register_palopo_2025-06.xlsx"
    far = FAR if case == "space" else 5_000
    if far != FAR:
        monkeypatch.setattr(sheetslices, "_MAX_SPAN", 40)
        monkeypatch.setattr(sheetslices, "_GAP", 30)
    _book(path, case, far=far)
    got = _read(path, True, monkeypatch)
    assert set(sheetslices.sliced_sheets(path, None, ["Nelayan"])) == {"Nelayan"}
    assert got == _read(path, False, monkeypatch)
    (name, rows), = got
    first = 3 if case == "left" else 0
    assert name == "Nelayan" and rows[3][first + 2] == "Nelayan Sintetis 0"
    if case == "note_far":
        assert len(rows) == far - 2_000 + 1 and rows[-1][first] == "Dicetak dari aplikasi SIPP"
        return
    # the rows end at the last filled one: the stray space and the rows above it are not rows of the sheet
    ends = {"space": 43, "left": 43, "wide": 43, "blank_middle": 48, "merged_down": 56, "formula": 47}
    assert len(rows) == ends[case], len(rows)
    assert {len(r) for r in rows} == {26 if case == "wide" else first + len(HEADER)}
    if case == "blank_middle":
        assert [r[2] for r in rows[23:28]] == [" ", "\u00a0", " ", "\u00a0", " "]
    if case == "merged_down":
        # (the top-left cell's value fills the range's empty cells only: the three typed ones keep theirs)
        assert [r[7] for r in rows[39:51]] == ["Wara Utara"] + ["Wara Timur"] * 3 + ["Wara Utara"] * 7 + [""]
        assert rows[55][:4] == ["Catatan: data per 30 Juni 2025"] * 4
    if case == "formula":
        assert rows[-1][10] == FORMULA_NO_VALUE


def _load_in_child(home, path) -> dict:
    """The file loaded by the real loader in a process of its own (its reader children's peak memory alone)."""
    script = textwrap.dedent(f"""
        import json, resource, sys
        from pathlib import Path
        from cakupan.core.settings import Settings
        from cakupan.ingest.loader import Loader
        s = Settings.from_env(home={str(home)!r}, pseudonym_key="k")
        ld = Loader(s, run_id="t")
        r = ld.load(Path({str(path)!r}))
        ld.con.close()
        print(json.dumps({{"status": r.status, "loaded": r.rows_loaded, "quarantined": r.rows_quarantined,
                          "child_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return got


# ----------------------------------------------------------------------------- an .ods (`readers/odstail.py`) --
def _ods(case: str, n: int = 40, run: int = FAR) -> bytes:
    """Palopo's register as LibreOffice saves it, with a run of `run` empty rows under it and then, by case: a
    space (`<text:p> </text:p>`), spaces as LibreOffice writes them (`<text:s/>`) in column Z, a 0 typed there (a
    value: kept), or a space in column A under a district merged down past the data."""
    rows = [["DAFTAR NELAYAN PENERIMA BANTUAN IURAN KOTA PALOPO 2025"], [], HEADER]
    rows += [[str(i + 1), f"7373{i:012d}", f"Nelayan Sintetis {i}", "12-03-1985", "L", "Nelayan", "Pontap",
              None if case == "merged" and i >= n - 3 else "Wara Timur", "JKK, JKM", "1 April 2025", "16.800", "APBD"]
             for i in range(n)]
    merges = [(3 + n - 3, 7, 3 + n + 2, 7, "Wara Utara")] if case == "merged" else []
    space = '<table:table-cell office:value-type="string"><text:p> </text:p></table:table-cell>'
    cell = {"space": '<table:table-cell table:number-columns-repeated="2"/>' + space,
            "text_s": '<table:table-cell table:number-columns-repeated="25"/><table:table-cell office:value-type='
                      '"string" calcext:value-type="string"><text:p><text:s text:c="2"/></text:p></table:table-cell>',
            "zero": '<table:table-cell table:number-columns-repeated="2"/><table:table-cell office:value-type='
                    '"float" office:value="0"><text:p>0</text:p></table:table-cell>',
            "merged": space}[case]
    tail = (f'<table:table-row table:style-name="ro1" table:number-rows-repeated="{run}"><table:table-cell '
            f'table:number-columns-repeated="13"/></table:table-row><table:table-row table:style-name="ro1">{cell}'
            f'</table:table-row><table:table-row table:number-rows-repeated="575"><table:table-cell table:number-'
            f'columns-repeated="13"/></table:table-row>')
    return with_parts(ods_bytes([Sheet("Nelayan", rows, merges)]), lambda parts: _insert(
        parts, "content.xml", lambda xml: xml.rindex("</table:table>"), tail))


def _insert(parts: dict, name: str, where, text: str) -> None:
    """Part `name` with `text` inserted where `where(its text)` says."""
    xml = parts[name].decode()
    at = where(xml)
    parts[name] = (xml[:at] + text + xml[at:]).encode()


@pytest.mark.parametrize("case", ["space", "text_s", "zero", "merged"])
def test_an_ods_s_blank_rows_far_below_are_left_out_as_the_whole_read_drops_them(tmp_path, monkeypatch, case):
    """`space`: under a run of a million empty rows; the others under 5,000, the run said far at 40 rows."""
    run = FAR if case == "space" else 5_000
    if run != FAR:
        monkeypatch.setattr(odstail, "FAR_ROWS", 40)
    path = tmp_path / "register_palopo_2025-06.ods"
    path.write_bytes(_ods(case, run=run))
    trimmed = odstail.without_far_blanks(path.read_bytes(), odsmerge.content_xml(path))
    assert (trimmed is not None) == (case != "zero"), case
    got = workbook._sheets_in_process(path, ())
    with monkeypatch.context() as m:
        m.setattr(odstail, "FAR_ROWS", 1 << 40)
        assert got == workbook._sheets_in_process(path, ())
    (_, rows), = got
    assert rows[3][2] == "Nelayan Sintetis 0"
    if case in ("space", "text_s"):
        assert len(rows) == 43 and {len(r) for r in rows} == {26 if case == "text_s" else 12}
        assert trimmed.widths == {"Nelayan": 26 if case == "text_s" else 3}
    if case == "merged":        # (the district merged down past the data, over rows of no value)
        assert len(rows) == 46 and [r[7] for r in rows[40:46]] == ["Wara Utara"] * 6


# ------------------------------------------------------ a cell far right of the data (`sheetslices._stray`) --
def _far_right(path, case: str, n: int = 40) -> None:
    """Palopo's register (header in row 3) with what a clerk leaves far right of it, by case; the `inline`
    and `str` cells as a writer other than xlsxwriter stores them (an inline string; a text without a formula)."""
    _book(path, "none", n=n, far=n + 3)     # (its space then sits in the row under the data, column C)
    wb_cells = {"space_header": [("XFD3", " ")], "space_below": [(f"XFD{n + 12}", " ")],
                "nbsp_data": [("AAA5", "\u00a0"), ("AMJ9", "")], "x_header": [("XFD3", "x"), ("AAA8", " ")],
                "zero": [("XFD6", 0)], "formula": [("XFD7", '=""')], "escape": [("XFD8", "_x0020_")],
                "inline": [], "many": [(f"ZZZ{r}", " ") for r in range(4, n + 4)],
                "dup": [("AAB3", "Nama"), ("XFD3", "Nama"), ("XFD9", "z")], "merged_far": [("XFA3", "Catatan")],
                "merged_near_far": [("XFD5", "x")], "merged_short": [("XFD5", "x")],
                "merged_two": [("AAA5", "y"), ("XFD6", "x")], "merged_data_row": [("XFD7", "x")],
                "merged_gap": [("XFD5", "x")], "merged_moved": [("XFC4", "a"), ("XFD4", "b")],
                "wide_far_below": [*((f"{column_letter(702 + k)}5", "y") for k in range(150)), ("XFD1048576", "x")],
                }[case]
    merged = {"merged_far": "XFA3:XFD3", "merged_near_far": "A1:XFD1", "merged_moved": "XFC4:XFD4",
              "merged_short": "A1:XFC1", "merged_two": "A1:XFD1", "merged_data_row": "A5:XFD5",
              "merged_gap": "P1:XFD1"}.get(case)
    path.write_bytes(with_parts(path.read_bytes(), lambda parts: _far_cells(parts, case, wb_cells, merged)))


def _far_cells(parts: dict, case: str, wb_cells: list, merged: str | None) -> None:
    """The sheet's XML (and shared strings) of `_far_right` with its cells far right, by case."""
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    strings = parts["xl/sharedStrings.xml"].decode()
    added = []
    for ref, value in wb_cells:
        row = int("".join(ch for ch in ref if ch.isdigit()))
        if isinstance(value, int):
            cell = f'<c r="{ref}"><v>{value}</v></c>'
        elif value.startswith("="):
            cell = f'<c r="{ref}" t="str"><f>""</f><v></v></c>'
        else:
            cell = f'<c r="{ref}" t="s"><v>{strings.count("<si>") + len(added)}</v></c>'
            added.append(f'<si><t xml:space="preserve">{value}</t></si>')
        xml = _with_cell(xml, row, cell)
    if case == "inline":
        xml = _with_cell(xml, 4, '<c r="XFD4" t="inlineStr"><is><t xml:space="preserve">  </t></is></c>')
        xml = _with_cell(xml, 5, '<c r="XFC5" t="str"><v> </v></c>')
        xml = _with_cell(xml, 6, '<c r="XFD6" t="inlineStr"><is><r><t xml:space="preserve"> </t></r></is></c>')
    if merged:
        at = xml.index("</sheetData>") + len("</sheetData>")
        xml = xml[:at] + f'<mergeCells count="1"><mergeCell ref="{merged}"/></mergeCells>' + xml[at:]
    at = strings.index("</sst>")
    parts["xl/sharedStrings.xml"] = (strings[:at] + "".join(added) + strings[at:]).encode()
    parts["xl/worksheets/sheet1.xml"] = xml.encode()


def _labelled(blocks: list) -> list:
    """The blocks with each header's labels, and the extra columns' names, in order, without their places in the
    rows: the whole read lists a blank label per column of its area, nothing reads them, and a column moved from
    far right takes another place (`sheetslices._far_columns`). The contract's columns keep theirs."""
    return [dataclasses.replace(b, headers=[h for h in b.headers if h], extras=list(b.extras)) for b in blocks]


def _with_cell(xml: str, row: int, cell: str) -> str:
    """The sheet XML with `cell` as the last cell of its row `row` (1-based; the row made when it has none)."""
    start = xml.find(f'<row r="{row}"')
    if start < 0:
        at = xml.index("</sheetData>")
        return xml[:at] + f'<row r="{row}">{cell}</row>' + xml[at:]
    end = xml.index("</row>", start)
    return xml[:end] + cell + xml[end:]


# kept far right, by case: the rows' width, and the extra columns the block then has (the escape is a space once the
# library reads it: a cell in doubt is kept, and its column is blank; a merged range over a column of no cell keeps
# the whole read's width, to its last cell; one from the data's columns to column XFD ends at the last column kept
# when it lies above the table (a title over the whole row), and keeps the whole read's width over a data row)
KEPT = {"x_header": (13, ["x"]), "zero": (13, ["(column XFD)"]), "formula": (13, ["(column XFD)"]),
        "escape": (13, []), "dup": (14, ["Nama (AAB)", "Nama (XFD)"]),
        "merged_far": (16_381, ["Catatan"]),
        "merged_near_far": (13, ["(column XFD)"]), "merged_short": (13, ["(column XFD)"]),
        "merged_two": (14, ["(column AAA)", "(column XFD)"]), "merged_data_row": (16_384, None),
        "merged_gap": (16_384, ["(column XFD)"]), "merged_moved": (14, ["(column XFC)", "(column XFD)"])}


@pytest.mark.parametrize("big", [False, True])
@pytest.mark.parametrize("case", ["space_header", "space_below", "nbsp_data", "inline", "many", *KEPT])
def test_a_sheet_with_a_cell_far_right_reads_as_the_whole_read(tmp_path, monkeypatch, case, big):
    """A cell in column AAA or beyond sends the sheet to the slices, where a cell far right that the reader reads
    as blank (spaces, a no-break space, an empty text; shared, inline or a plain text) is left out, and a value
    there (a text, a 0, a formula without its result, a cell in doubt) is moved, with its column, to follow the
    data: the blocks are those of the whole read (the extra columns named by their own letters), and the rows are
    as wide as the data and those columns. `big`: the sheet sliced as a big one is (slices of ~700 bytes, its XML
    unzipped 256 bytes at a time), where the columns to move are looked for once a slice shows a value far right
    and the sheet is cut again."""
    from cakupan.ingest.readers import read_file

    path = tmp_path / "register_palopo_2025-06.xlsx"
    _far_right(path, case)
    monkeypatch.setattr(workbook, "IN_PROCESS_MAX_CELLS", 1_000)    # (read in the child, as a bigger one is)
    if big:
        monkeypatch.setattr(sheetslices, "SLICE_SHEET_MIN_BYTES", 0)
        monkeypatch.setattr(sheetslices, "SLICE_BYTES", 700)
        monkeypatch.setattr(sheetslices, "_PIECE", 256)
    got = read_file(path)
    assert len(got.blocks[0].headers) == KEPT.get(case, (len(HEADER),))[0]
    with monkeypatch.context() as m:
        m.setattr(sheetslices, "_stray", lambda xml: False)
        m.setattr(sheetslices, "SLICE_SHEET_MIN_BYTES", 1 << 40)
        whole = read_file(path)
        (_, whole_rows), = workbook._sheets_in_process(path, ())
    assert got.sheets_without_header == whole.sheets_without_header
    assert set(sheetslices.sliced_sheets(path, None, ["Nelayan"])) == {"Nelayan"}
    (_, rows), = workbook._sheets_in_process(path, ())
    _same_as_whole(got, whole, rows, whole_rows, KEPT.get(case), 700)


def _same_as_whole(got, whole, rows: list, whole_rows: list, kept: tuple | None, wide: int) -> None:
    """The blocks read are the whole read's (`_labelled`), the whole read's rows wider than `wide`; the rows read
    as wide as the data, or (`kept`: a value far right) as wide as said, with the extra columns said."""
    assert _labelled(got.blocks) == _labelled(whole.blocks)
    block, = got.blocks
    assert block.n_rows == 40 and block.cells["nik"][0] == "7373000000000000"
    assert len(whole_rows[0]) > wide
    width, extras = kept or (len(HEADER), [])
    assert {len(r) for r in rows} == {width}
    if extras is not None:      # (None: as many as the whole read's, one per column of its area)
        assert list(block.extras) == extras


def _ods_far_right(case: str, n: int = 40) -> bytes:
    """Palopo's register as LibreOffice saves it, with, by case, a cell 16,000 columns right of the header (row 3)
    or of a data row: a space; spaces as LibreOffice writes them, with the row's rest of empty cells after it; a
    space in a row repeated three times; a space a million rows below *and* far right (both runs left out); an
    "x" or a 0 (values: kept); the "x" under a title merged across the whole row."""
    rows = [["DAFTAR NELAYAN PENERIMA BANTUAN IURAN KOTA PALOPO 2025"], [], HEADER]
    rows += [[str(i + 1), f"7373{i:012d}", f"Nelayan Sintetis {i}", "12-03-1985", "L", "Nelayan", "Pontap",
              "Wara Timur", "JKK, JKM", "1 April 2025", "16.800", "APBD"] for i in range(n)]
    run = '<table:table-cell table:number-columns-repeated="16000"/>'
    space = '<table:table-cell office:value-type="string"><text:p> </text:p></table:table-cell>'
    def text(t: str, repeat: int = 1) -> str:
        times = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
        return f'<table:table-cell{times} office:value-type="string"><text:p>{t}</text:p></table:table-cell>'

    far = {"space_header": [(2, run + space)],
           "text_s": [(5, run + '<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>'
                       '<text:s text:c="2"/></text:p></table:table-cell><table:table-cell table:number-columns-'
                       'repeated="371"/>')],
           "x": [(2, run + text("x"))], "x_title": [(2, run + text("x"))],
           "zero": [(7, run + '<table:table-cell office:value-type="float" office:value="0"><text:p>0</text:p>'
                     '</table:table-cell>')],
           "two": [(9, '<table:table-cell table:number-columns-repeated="15000"/>' + text("y")
                    + '<table:table-cell table:number-columns-repeated="999"/>' + space),
                   (2, run + text("Ket"))],
           "repeated": [(2, run + text("x", 2))]}
    tail = {"repeated_rows": f'<table:table-row table:number-rows-repeated="3">{run}{space}</table:table-row>',
            "below_and_right": f'<table:table-row table:number-rows-repeated="{FAR}"><table:table-cell '
                               f'table:number-columns-repeated="13"/></table:table-row><table:table-row>{run}'
                               f'{space}</table:table-row>'}

    def change(parts: dict) -> None:
        if case == "x_title":       # the title merged across the whole row, as far as the "x"
            xml = parts["content.xml"].decode()
            at = xml.index("<table:table-cell", xml.index("<table:table-row"))
            parts["content.xml"] = (xml[:at] + '<table:table-cell table:number-columns-spanned="16013" '
                                    'table:number-rows-spanned="1"' + xml[at + len("<table:table-cell"):].replace(
                                        "</table:table-cell>", "</table:table-cell><table:covered-table-cell "
                                        'table:number-columns-repeated="16012"/>', 1)).encode()
        for row, cells in far.get(case, ()):
            _insert(parts, "content.xml", lambda xml, row=row: _row_end(xml, row), cells)
        if case in tail:
            _insert(parts, "content.xml", lambda xml: xml.rindex("</table:table>"), tail[case])
    return with_parts(ods_bytes([Sheet("Nelayan", rows, [])]), change)


def _row_end(xml: str, row: int) -> int:
    """Where the 0-based table row `row` of an .ods's content.xml ends."""
    at = -1
    for _ in range(row + 1):
        at = xml.index("</table:table-row>", at + 1)
    return at


# kept far right, by case: the rows' width, and the extra columns (a value's column moved to follow the data and
# named by its own letter; a value repeated over two cells is not moved: the whole read's width)
ODS_KEPT = {"x": (13, ["x"]), "x_title": (13, ["x"]), "zero": (13, ["(column WQW)"]), "two": (14, ["Ket", "(column VEK)"]),
            "repeated": (16_014, ["x", "x (WQX)"])}


@pytest.mark.parametrize("case", ["space_header", "text_s", "repeated_rows", "below_and_right", *ODS_KEPT])
def test_an_ods_s_blank_cells_far_right_are_left_out_and_the_blocks_are_the_whole_read_s(tmp_path, monkeypatch,
                                                                                          case):
    """The cells from a run of 16,000 empty cells to a row's end are left out when they read as blank, and a value
    there is moved, with its column, to follow the data (`odsfar`): the blocks are the whole read's (the runs
    kept) and the rows as wide as the data and those columns."""
    from cakupan.ingest.readers import read_file

    path = tmp_path / "register_palopo_2025-06.ods"
    path.write_bytes(_ods_far_right(case))
    got = read_file(path)
    (_, rows), = workbook._sheets_in_process(path, ())
    assert len(got.blocks[0].headers) == ODS_KEPT.get(case, (len(HEADER),))[0]
    with monkeypatch.context() as m:
        m.setattr(odstail, "FAR_COLUMNS", 1 << 40)
        if case != "below_and_right":       # (the whole area a million rows down: ~1.7 s and 0.7 GB more)
            m.setattr(odstail, "FAR_ROWS", 1 << 40)
        whole = read_file(path)
        (_, whole_rows), = workbook._sheets_in_process(path, ())
    _same_as_whole(got, whole, rows, whole_rows, ODS_KEPT.get(case), 16_000)


def test_a_value_far_below_the_moved_columns_rejects_the_file_naming_its_own_cell(tmp_path, monkeypatch):
    """150 columns from AAA on filled in one row and an "x" in XFD1048576: moved to follow the data the rows are
    163 cells wide, 65 of them once the million blank rows are made 21 (10,595 cells); with the limit at 10,000
    cells the file is rejected, and the message names the cell as the clerk sees it (XFD1048576), not its place
    once moved."""
    monkeypatch.setattr(workbook, "AREA_MAX_CELLS", 10_000)
    path = tmp_path / "register_palopo_2025-06.xlsx"
    _far_right(path, "wide_far_below")
    with pytest.raises(FileRejected) as info:
        workbook._sheets_in_process(path, ())
    assert info.value.code == "FILE_CORRUPT"
    assert "di sel XFD1048576? Hapus isi sel itu" in info.value.detail.render("id")


# ---------------------------------------------- a long run of blank rows made one (`workbook._rows_of_slices`) --
def _with_gap(path, n: int, gap_to: int, case: str) -> None:
    """Palopo's register of `n` workers, then blank rows down to the 0-based row `gap_to`, where five more workers
    (the last with a 15-digit NIK) and a total follow; then an "x" in row 12,000, column XFD. `merged`: a note
    merged over two rows below the total (a merged range below the run: no run is made one)."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    ws = wb.add_worksheet("Nelayan")
    ws.write_string(0, 0, "DAFTAR NELAYAN PENERIMA BANTUAN IURAN KOTA PALOPO 2025")
    for c, h in enumerate(HEADER):
        ws.write_string(2, c, h)
    rows = [*range(3, 3 + n), *range(gap_to, gap_to + 5)]
    for i, r in enumerate(rows):
        nik = f"7373{i:012d}"[: 15 if i == len(rows) - 1 else 16]
        for c, v in enumerate([str(i + 1), nik, f"Nelayan Sintetis {i}", "12-03-1985", "L", "Nelayan", "Pontap",
                               "Wara Timur", "JKK, JKM", "1 April 2025", "16.800", "APBD"]):
            ws.write_string(r, c, v)
    ws.write_string(gap_to + 5, 0, "JUMLAH")
    ws.write_number(gap_to + 5, 10, 16_800 * len(rows))
    if case == "merged":
        ws.merge_range(gap_to + 7, 0, gap_to + 8, 3, "Catatan: data per 30 Juni 2025")
    ws.write_string(11_999, 16_383, "x")
    wb.close()


@pytest.mark.parametrize("case", ["long_data", "short_data", "merged"])
def test_a_long_run_of_blank_rows_is_made_one_and_every_row_keeps_its_number(tmp_path, monkeypatch, case):
    """Made one above a run of 100 blank rows (a million, as written): the blocks are those of the rows all made,
    the workers after the run keep their own row numbers (in the raw zone and the quarantine: the source row), and
    the total below them its own. `short_data`: the run starts within the first 64 rows (the header's are looked
    for there), which are made as read."""
    from cakupan.ingest.readers import read_file

    monkeypatch.setattr(sheetslices, "_MAX_SPAN", 40)
    monkeypatch.setattr(sheetslices, "_GAP", 30)
    monkeypatch.setattr(workbook, "COLLAPSE_BLANK_ROWS", 100)
    n = 5 if case == "short_data" else 70
    path = tmp_path / "register_palopo_2025-06.xlsx"
    _with_gap(path, n, 5_000, case)
    got = read_file(path)
    (_, rows), = workbook._sheets_in_process(path, ())
    with monkeypatch.context() as m:
        m.setattr(workbook, "COLLAPSE_BLANK_ROWS", 1 << 40)
        whole = read_file(path)
        (_, whole_rows), = workbook._sheets_in_process(path, ())
    assert _labelled(got.blocks) == _labelled(whole.blocks)
    block, = got.blocks
    assert block.source_rows == [*range(4, 4 + n), *range(5_001, 5_006)]      # (1-based)
    assert block.cells["nik"][-1] == f"7373{n + 4:012d}"[:15]
    assert [t[0] for t in block.total_rows] == [5_006]
    assert len(whole_rows) == 12_000
    # title, blank, header, the workers, the run made one (or as many as make the first 64 rows), the five, the
    # total, the second run made one, the "x"
    made = {"long_data": 3 + n + 1 + 5 + 1 + 1 + 1, "short_data": 64 + 5 + 1 + 1 + 1, "merged": 12_000}[case]
    assert len(rows) == made, len(rows)


# a register with a stray cell, made by case: (its suffix, its rows, how it is written). Each loaded whole in a
# process of its own, its forked reader child stays small; what the child took before:
SMALL_CHILD = {
    # a space in row 1,048,001 under 2,000 rows (a 100 KB file): a million-row area, 667 MB
    "xlsx_space_far_below": (".xlsx", 2_000, lambda p: _book(p, "space", n=2_000)),
    # the same in an .ods, under a million repeated empty rows: 1.1 GB
    "ods_space_far_below": (".ods", 2_000, lambda p: p.write_bytes(_ods("space", n=2_000))),
    # a space in XFD3: rows 16,384 cells wide, 1.3 GB (the loader itself 0.9 GB, 7 s)
    "xlsx_space_far_right": (".xlsx", 2_000, lambda p: _far_right(p, "space_header", n=2_000)),
    # a space 16,000 columns right of an .ods's header: 2.3 GB, 6.9 s
    "ods_space_far_right": (".ods", 2_000, lambda p: p.write_bytes(_ods_far_right("space_header", n=2_000))),
    # an "x" in XFD3 over 20,000 rows (a value: its column an extra column "x"): 328 million cells, rejected
    # (`used_range_too_large`); its column now moved to follow the data
    "xlsx_x_far_right": (".xlsx", 20_000, lambda p: _far_right(p, "x_header", n=20_000)),
    # the same under a title merged over the whole first row (A1:XFD1): the rows kept 16,384 cells wide, rejected
    # (2,000 rows: 6.9 s, the loader 1.35 GB); the title now ends at the moved column
    "xlsx_title_over_row_x_far_right": (".xlsx", 20_000, lambda p: _far_right(p, "merged_near_far", n=20_000)),
    # an "x" in the last cell of an old .xls (IV65536) under 2,000 rows: 16.7 million cells, 1.25 GB, 4.3 s
    "xls_x_last_cell": (".xls", 2_000, lambda p: _xls(p, "last_cell", n=2_000)),
    # an "x" 16,000 columns right of an .ods's header over 10,000 rows: 160 million cells (2,000 rows: 2.3 GB)
    "ods_x_far_right": (".ods", 10_000, lambda p: p.write_bytes(_ods_far_right("x", n=10_000))),
}


@pytest.mark.parametrize("case", list(SMALL_CHILD))
def test_a_register_with_a_stray_cell_loads_with_a_small_reader_child(tmp_path, case):
    """The whole chain in a process of its own (`_load_in_child`): every row is loaded, and the loader's forked
    reader child stays under 250 MB."""
    suffix, n, write = SMALL_CHILD[case]
    path = tmp_path / "inbox" / "73.73" / f"register_palopo_2025-06{suffix}"
    path.parent.mkdir(parents=True)
    write(path)
    got = _load_in_child(tmp_path, path)
    assert (got["status"], got["loaded"] + got["quarantined"]) == ("loaded", n), got
    assert got["child_mb"] < 250, got


# ------------------------------------------------------------------- an .xls (`readers/xlsgap.py`) --------------
def _xls(path, case: str, n: int = 40) -> None:
    """Palopo's register as an old .xls (header in row 3), with, by case: an "x" in its last cell (IV65536); three
    more workers 30,000 rows below, then the "x"; a note merged down column M from row 10 to row 40,000;
    a space in A60000; an "x" in IV300 (a gap too short to make one)."""
    from cakupan_dev.messy.formats import xls_bytes

    rows = [["DAFTAR NELAYAN PENERIMA BANTUAN IURAN KOTA PALOPO 2025"], [], HEADER]
    rows += [[str(i + 1), f"7373{i:012d}", f"Nelayan Sintetis {i}", "12-03-1985", "L", "Nelayan", "Pontap",
              "Wara Timur", "JKK, JKM", "1 April 2025", "16.800", "APBD"] for i in range(n)]
    cells = {"last_cell": [(65_535, 255, "x")],
             "far_workers": [*((30_000 + k, c, v) for k in range(3) for c, v in enumerate(
                 [str(n + k + 1), f"73739{k:011d}", f"Nelayan Jauh {k}", "12-03-1985", "L", "Nelayan", "Pontap",
                  "Wara Timur", "JKK, JKM", "1 April 2025", "16.800", "APBD"])), (65_535, 255, "x")],
            "merged_over_run": [(65_535, 255, "x")], "space_far": [(59_999, 0, " "), (65_535, 255, "x")],
            "short_gap": [(299, 255, "x")]}[case]
    last = max(r for r, _, _ in cells)
    rows += [[] for _ in range(len(rows), last + 1)]
    for r, c, v in cells:
        rows[r] = rows[r] + [None] * (c - len(rows[r])) + [v]
    merges = [(9, 12, 39_999, 12, "Nelayan Wara Utara")] if case == "merged_over_run" else []
    path.write_bytes(xls_bytes([Sheet("Nelayan", rows, merges)]))


# the rows read, and the sheet's row number of the last of them, by case: a run made one blank row, or as many as
# keep the first 64 rows (the header's) as read; the rows after it keep their numbers; a merged range's rows are no
# run, nor is one of 256 rows
XLS_ROWS = {"last_cell": (64 + 1, 65_536), "far_workers": (64 + 3 + 1 + 1, 65_536),
            "merged_over_run": (40_000 + 1 + 1, 65_536), "space_far": (64 + 1 + 1 + 1, 65_536),
            "short_gap": (300, 300)}


@pytest.mark.parametrize("case", list(XLS_ROWS))
def test_an_xls_s_long_runs_of_empty_rows_are_made_one_and_the_blocks_are_the_whole_read_s(tmp_path, monkeypatch,
                                                                                           case):
    """The library builds an .xls sheet's whole area to its last value when it opens the workbook (an "x" in
    IV65536: 16.7 million cells); a run of more than 1,024 rows without a value is made one in the file's bytes
    first (`xlsgap`): the rows read keep their own numbers, and the blocks are the whole read's."""
    from cakupan.ingest.readers import read_file, xlsgap

    path = tmp_path / "register_palopo_2025-06.xls"
    _xls(path, case)
    monkeypatch.setattr(xlsgap, "GAP_MIN_CELLS", 0)     # (the small cases' areas too)
    got = read_file(path)
    (_, rows), = workbook._sheets_in_process(path, ())
    with monkeypatch.context() as m:
        m.setattr(workbook, "without_long_gaps", lambda data: None)
        whole = read_file(path)
        (_, whole_rows), = workbook._sheets_in_process(path, ())
    assert _labelled(got.blocks) == _labelled(whole.blocks)
    assert got.blocks[0].cells["nik"][0] == "7373000000000000"
    row_of = getattr(rows, "row_of", None) or (lambda i: i + 1)
    assert (len(rows), row_of(len(rows) - 1)) == XLS_ROWS[case]
    assert len(whole_rows) == XLS_ROWS[case][1]
    assert {row_of(i): r for i, r in enumerate(rows) if any(r)} == {i + 1: r for i, r in enumerate(whole_rows) if any(r)}
    if case == "far_workers":
        assert got.blocks[0].source_rows[-3:] == [30_001, 30_002, 30_003]


def test_an_xls_that_is_not_plain_biff8_is_read_as_it_is(tmp_path):
    """A BIFF5 .xls (no "Workbook" stream), an OLE container without a workbook, and cut or garbled bytes are left
    to the library as before."""
    from cakupan.ingest.readers import xlsgap
    from cakupan_dev.messy import case_by_name
    from cakupan_dev.messy.formats import cfb_bytes

    path = tmp_path / "register_palopo_2025-06.xls"
    _xls(path, "last_cell")
    good = path.read_bytes()
    assert xlsgap.without_long_gaps(good) is not None
    for data in (cfb_bytes({"Book": good[:4096]}), cfb_bytes({"Foo": b"bar"}), good[:3000],
                 good[:512] + bytes(len(good) - 512), case_by_name("corrupt_random_bytes_xls").files[0].data):
        assert xlsgap.without_long_gaps(data) is None


_CELL_XML = {
    "value": b'<c r="B{r}" t="s"><v>7</v></c>', "inline": b'<c r="C{r}" t="inlineStr"><is><t>Ani</t></is></c>',
    "formula": b'<c r="D{r}"><f>A{r}+1</f></c>', "style": b'<c r="E{r}" s="3"/>', "bare": b"<c><v>1</v></c>",
}


def _slice_xml(rows: list[tuple[int, list[str]]]) -> bytes:
    """Rows of cells by kind, each row's reference given or (0) left out, as a worksheet's sheetData holds them."""
    out = []
    for r, kinds in rows:
        ref = f' r="{r}"' if r else ""
        out.append(f"<row{ref}>".encode() + b"".join(_CELL_XML[k].replace(b"{r}", str(r or 1).encode())
                                                       for k in kinds) + b"</row>")
    return b"".join(out)


def _last_cell_by_definition(xml: bytes) -> int | None:
    """The last cell holding a value, inline text or formula, looked for over the whole XML at once."""
    content = max(xml.rfind(b"<v"), xml.rfind(b"<is>"), xml.rfind(b"<f"))
    at = max(xml.rfind(b"<c ", 0, content), xml.rfind(b"<c>", 0, content)) if content >= 0 else -1
    if at < 0:
        return None
    row = xml.rfind(b'<row r="', 0, at)
    return int(sheetslices._ROW_AT.match(xml, row)[1]) - 1 + xml.count(b"<row", row + 4, at)


@pytest.mark.parametrize(("last", "styled_below", "row"), [
    (["value"], 0, 39), (["inline"], 0, 39), (["formula"], 0, 39), (["value"], 200, 39), (["inline"], 3_000, 39),
    (["formula"], 40_000, 39), (["bare"], 10, 39), (["style"], 5_000, 28), (["value", "unnumbered"], 300, 40),
])
def test_a_slice_s_last_cell_is_found_from_its_end_as_over_the_whole_slice(last, styled_below, row):
    """`sheetslices._last_cell` looks for the last cell holding something from the slice's end back, in growing
    windows (a sheet of shared strings holds no inline text nor formula: each looked for over a whole 12 MB
    slice cost a 1M-row register 0.75 s): the same 0-based row as looked for over the whole slice, whichever kind
    that cell is, however many style-only cells (a template's borders) follow it, a row without its reference."""
    rows = [(r, ["value", "inline"]) for r in range(1, 30)] + [(40, [last[0]])]
    if "unnumbered" in last:
        rows.append((0, ["value"]))     # (the row after 40: 0-based 40)
    rows += [(60 + i, ["style", "style"]) for i in range(styled_below)]
    xml = _slice_xml(rows)
    assert _last_cell_by_definition(xml) == row
    assert sheetslices._last_cell(xml, len(xml)) == row


def test_a_worksheet_s_xml_inflated_ahead_of_the_cut_comes_in_order_and_a_bad_crc_still_fails(tmp_path):
    """`xmlscan.Ahead`: the pieces a thread inflates ahead of the cut are the member's bytes in order, `read()`
    gives the rest at once, and a member whose CRC fails raises where its last piece is asked for, as reading it
    directly does; a cut given up half-way leaves no read running."""
    import threading
    import zipfile

    body = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i) for i in range(1, 400))
    part = "xl/worksheets/sheet1.xml"
    for method in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
        path = tmp_path / f"book{method}.xlsx"
        with zipfile.ZipFile(path, "w", method) as z:
            z.writestr(part, body)
        with zipfile.ZipFile(path) as z:
            with xmlscan.Ahead(z.open(part), 1000) as f:
                pieces = [f.read(1000) for _ in range(5)]
                rest = f.read()
                assert f.read() == b""
            with xmlscan.Ahead(z.open(part), 1000) as f:
                whole = list(iter(lambda: f.read(1000), b""))
            with pytest.raises(RuntimeError, match="given up"), xmlscan.Ahead(z.open(part), 1000) as f:
                f.read(1000)
                raise RuntimeError("given up")
        assert [len(p) for p in pieces] == [1000] * 5 and b"".join(pieces) + rest == body
        assert b"".join(whole) == body and {len(p) for p in whole[:-1]} == {1000}
    assert not [t for t in threading.enumerate() if t.name.startswith("cakupan-inflate")]

    stored = (tmp_path / f"book{zipfile.ZIP_STORED}.xlsx").read_bytes()
    at = stored.index(b'<row r="200"')
    (tmp_path / "bad.xlsx").write_bytes(stored[:at] + b'<row r="201"' + stored[at + len(b'<row r="200"'):])
    with zipfile.ZipFile(tmp_path / "bad.xlsx") as z:
        with pytest.raises(zipfile.BadZipFile, match="CRC"):
            z.read(part)
        with pytest.raises(zipfile.BadZipFile, match="CRC"), xmlscan.Ahead(z.open(part), 1000) as f:
            while f.read(1000):
                pass


def test_a_cut_killed_midway_leaves_no_temporary_workbook_behind(tmp_path, monkeypatch):
    """A reader child is killed (SIGKILL: the parent rejected the file already, or its time ran out) while it cuts
    a sheet into its temporary workbook: nothing is left in the temporary folder. A cut that ends well leaves
    nothing named there either, while its slices are read."""
    import os
    import signal
    import tempfile

    path = tmp_path / "register_palopo_2025-06.xlsx"
    _book(path, "space", n=200)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(sheetslices, "SLICE_SHEET_MIN_BYTES", 0)
    monkeypatch.setattr(sheetslices, "SLICE_BYTES", 2_000)

    got = sheetslices.sliced_sheets(path, None, ["Nelayan"])
    try:
        assert list(temp.iterdir()) == []
        rows = list(got["Nelayan"].iter_rows())
        assert rows[3][2] == "Nelayan Sintetis 0" and rows[202][2] == "Nelayan Sintetis 199", rows[:4]
    finally:
        got["Nelayan"].release()

    real = sheetslices._write_book

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)        # (the slices written, the book not yet opened)
        return real(*args, **kwargs)

    monkeypatch.setattr(sheetslices, "_write_book", killed)
    pid = os.fork()
    if pid == 0:
        try:
            sheetslices.sliced_sheets(path, None, ["Nelayan"])
        finally:
            os._exit(0)
    status = os.waitpid(pid, 0)[1]
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
    assert list(temp.iterdir()) == []


def test_the_second_slice_parsed_apart_reads_as_the_rest_and_every_descriptor_is_let_go(tmp_path, monkeypatch):
    """The second slice is parsed, as the sheet is opened, by a workbook object of its own through a descriptor of
    its own (`xmlscan.parsed_apart`): the rows read in slices are the whole read's, and once the sheet is let go,
    read or not, no descriptor is left open."""
    import os

    path = tmp_path / "register_palopo_2025-06.xlsx"
    _book(path, "space", n=200)
    monkeypatch.setattr(sheetslices, "SLICE_SHEET_MIN_BYTES", 0)
    monkeypatch.setattr(sheetslices, "SLICE_BYTES", 2_000)
    monkeypatch.setattr(sheetslices, "_PIECE", 256)
    whole = _read(path, False, monkeypatch)
    open_before = sorted(os.listdir("/proc/self/fd"))
    for read in (True, False):
        sheet = sheetslices.sliced_sheets(path, None, ["Nelayan"])["Nelayan"]
        try:
            assert sheet._slices > 2
            if read:
                assert _read(path, True, monkeypatch) == whole
                rows = list(sheet.iter_rows())
                assert [r[2] for r in rows[3:203]] == [f"Nelayan Sintetis {i}" for i in range(200)]
        finally:
            sheet.release()
        assert sorted(os.listdir("/proc/self/fd")) == open_before, read
