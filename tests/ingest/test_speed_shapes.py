"""Every register CSV shape of the benchmark (bench/shapes.py) loads the same whichever way the loader reads it.

The loader has three ways through a CSV: row by row (small files), column-wise in Arrow (`fastcsv`, big files)
and column-wise in parts, the next part read while one is written (files past `STREAM_MIN_BYTES`). On each shape
(the generator's own, issue 22's `;`/dd-mm-yyyy/"13 April 2025"/"Rp 16.800"/KPJ shape, cp1252 with `,` and every
field quoted, dates and money in every style the parsers accept, every NIK turned into a number by Excel, text
pasted in from elsewhere, a payroll system's export layout with a title block and columns of its own, a sheet
saved with its formatted empty rows as lines of delimiters alone, every participant a row of their own, a comma CSV
with some cells quoted, and a database's export of quoted values and bare NULLs) the three give the same raw rows,
the same quarantined rows with the same reasons and messages, and the rows set apart are exactly the ones planted
bad (on the Excel shape, every row).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import duckdb
import pytest
from _support import load_one_way
from cakupan.ingest import parsing
from cakupan_dev.synth import SynthSpec, generate

from bench import shapes

# data row (1-based) -> (column position in the source, bad cell, the reason it must be quarantined with)
PLANTED = {
    5: (shapes.NIK, "73720312", "NIK_WRONG_LENGTH"),
    9: (shapes.BIRTH, "31/02/1990", "DATE_INVALID"),
    13: (shapes.MONEY, "enam belas ribu", "NUMBER_INVALID"),
    17: (shapes.START, "", "REQUIRED_MISSING"),
    21: (shapes.JOB, "", "OCCUPATION_MISSING"),
}
WAYS = ("row_by_row", "column_wise", "parts")


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A register CSV of regency 73.72 from the synthetic generator, with the PLANTED cells written in."""
    tmp = tmp_path_factory.mktemp("shapes")
    generate(SynthSpec(regencies=["73.72"], months=["2025-06"], workers=300, seed=3, formats=("csv",)), tmp / "gen")
    text = (tmp / "gen" / "73.72" / "register_parepare_2025-06.csv").read_text(encoding="utf-8-sig")
    delim = ";" if text.split("\n", 1)[0].count(";") > 3 else ","
    recs = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    for row, (col, cell, _) in PLANTED.items():
        recs[row][col] = cell
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(recs)
    path = tmp / "source.csv"
    path.write_text(out.getvalue(), encoding="utf-8-sig")
    return path, len(recs) - 1


def _load(settings, path, way: str, monkeypatch) -> dict:
    dest = settings.inbox / "73.72" / path.name
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(path.read_bytes())
    column_wise, r = load_one_way(settings, dest, way, monkeypatch)
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        raw = con.execute("select * exclude (received_at) from raw.register order by source_row").fetchall()
        quarantine = con.execute("select * from quarantine.rows order by source_row").fetchall()
        reasons = dict(con.execute("select source_row, reason_code from quarantine.rows").fetchall())
        stored = dict(con.execute(
            "select column_name, list(distinct compression) from pragma_storage_info('quarantine.rows') where "
            "segment_type <> 'VALIDITY' and column_name in ('message', 'public_message', 'reasons', 'raw_cells') "
            "group by column_name").fetchall())
    return {"column_wise": column_wise, "status": r.status, "counts": (r.rows_in, r.rows_loaded, r.rows_quarantined), "raw": raw,
            "quarantine": quarantine, "reasons": reasons, "stored": stored}


@pytest.mark.parametrize("shape", [s for s in shapes.SHAPES if s != "current"] + ["current"])
def test_each_shape_loads_the_same_every_way(shape, source, home_factory, monkeypatch, tmp_path):
    src, n = source
    path = tmp_path / f"register_{shape}_2025-06.csv"
    if shape == "current":
        path.write_bytes(src.read_bytes())
    else:
        assert shapes.write_shape(src, shape, path) == n
    got = {way: _load(home_factory(f"{shape}_{way}"), path, way, monkeypatch) for way in WAYS}
    plain = got["row_by_row"]
    assert plain["status"] == "loaded"
    # rows in = loaded + quarantined; the rows set apart are the planted ones, for the planted reasons
    if shape == "excel_nik":
        # every NIK lost its digits to Excel ("7,37201E+15"): every row set apart for it, but the planted 8-digit
        # NIK (Excel shows it whole: too short, not a lost precision); the nik check is a row's first
        assert plain["counts"] == (n, 0, n)
        assert plain["reasons"] == {row + 1: "NIK_WRONG_LENGTH" if row == 5 else "NIK_PRECISION_LOST"
                                    for row in range(1, n + 1)}     # (keyed by the file's row: data row + 1)
    elif shape == "pasted":
        # a carriage return alone ends a line, as csv reads it: the rows it was typed into are cut in two, both
        # halves set apart, and every row below is a line further down
        text = src.read_text(encoding="utf-8-sig")
        recs = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))[1:]
        cut = [i for i, rec in enumerate(recs, start=1) if shapes._UNQUOTED["\r"] in "".join(shapes._pasted_row(rec, i))]
        assert cut, "the source has no row a carriage return is typed into"
        assert plain["counts"] == (n + len(cut), n - len(PLANTED) - len(cut), len(PLANTED) + 2 * len(cut))
        line = {row: row + 1 + sum(c < row for c in cut) for row in range(1, n + 1)}
        assert {r: why for r, why in plain["reasons"].items() if why in {p[2] for p in PLANTED.values()}
                and r not in {line[c] + k for c in cut for k in (0, 1)}} == {
            line[row]: reason for row, (_, _, reason) in PLANTED.items()}
        assert set(plain["reasons"]) == {line[row] for row in PLANTED} | {line[c] + k for c in cut for k in (0, 1)}
    elif shape == "blank_rows":
        # the lines of delimiters alone are blank rows: not rows in, but each moves the rows below a line down
        assert plain["counts"] == (n, n - len(PLANTED), len(PLANTED))
        assert plain["reasons"] == {row + 1 + (row - 1) // shapes.BLANK_EVERY: reason
                                    for row, (_, _, reason) in PLANTED.items()}
        assert plain["reasons"][27] == "OCCUPATION_MISSING"         # data row 21: under the header and 5 blank lines
    else:
        above = 1 + len(shapes.OFFICE_TITLE) if shape in ("office", "alt_enter") else 1    # the header (and title)
        # (alt_enter: a row is numbered by its first line, one further down for each row of two lines above it)
        two = shapes.ALT_ENTER_EVERY if shape == "alt_enter" else None
        assert plain["counts"] == (n, n - len(PLANTED), len(PLANTED))
        assert plain["reasons"] == {row + above + ((row - 1) // two if two else 0): reason
                                    for row, (_, _, reason) in PLANTED.items()}
    assert not plain["column_wise"]
    # a quarantined row's texts are stored zstd-compressed in the work file (zones.WORK_AUDIT_DDL)
    assert plain["stored"] == {key: ["ZSTD"] for key in ("message", "public_message", "reasons", "raw_cells")}
    for way in WAYS[1:]:
        assert got[way]["column_wise"], f"{way}: the file went row by row"
        assert got[way]["counts"] == plain["counts"], way
        assert got[way]["raw"] == plain["raw"], way
        assert got[way]["quarantine"] == plain["quarantine"], way


@pytest.mark.parametrize("style", list(shapes.DATE_STYLES))
def test_every_date_style_reads_back_to_its_date(style):
    days = [dt.date(1950, 1, 1) + dt.timedelta(days=k) for k in range(0, 30000, 997)]
    days += [dt.date(2025, 4, 13), dt.date(2024, 2, 29), dt.date(1970, 12, 31), dt.date(2069, 1, 1)]
    for d in days:
        text = shapes.DATE_STYLES[style](d)
        if text is not None:
            assert parsing.parse_date(text) == d, text


@pytest.mark.parametrize("style", list(shapes.MONEY_STYLES))
def test_every_money_style_reads_back_to_its_amount(style):
    for n in (0, 800, 16_800, 36_800, 100_000, 1_234_500, 16_800_000):
        text = shapes.MONEY_STYLES[style](n)
        if text is not None:
            assert parsing.parse_money(text) == Decimal(n), text


def test_unique_nik_gives_every_row_a_nik_of_its_own(tmp_path):
    """`unique_nik` turns a year of monthly registers (each participant a row a month) into one month's: a NIK seen
    before gets the next serial among the NIKs of its first twelve digits, written in groups or not; a NIK not of
    16 digits and every other cell stay as they were."""
    rows = [["1", "7372011203900001", "Ani"], ["2", "7372011203900001", "Ani"], ["3", "7372 0112 0390 0001", "Ani"],
            ["4", "73720312", "Budi"], ["5", "7372011203900001", "Ani"], ["6", "7372015507850003", "Citra"]]
    src = tmp_path / "source.csv"
    with open(src, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, delimiter=";").writerows([["No.", "NIK", "Nama"], *rows])
    out = tmp_path / "register_unique_nik_2025-06.csv"
    assert shapes.write_shape(src, "unique_nik", out) == 6
    got = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline=""), delimiter=";"))
    assert got == [["No.", "NIK", "Nama"], ["1", "7372011203900001", "Ani"], ["2", "7372011203900002", "Ani"],
                   ["3", "7372 0112 0390 0003", "Ani"], ["4", "73720312", "Budi"], ["5", "7372011203900004", "Ani"],
                   ["6", "7372015507850001", "Citra"]]


def test_a_nik_written_as_a_formula_s_text_loads_the_same_every_way(source, home_factory, monkeypatch, tmp_path):
    """Exporting systems write a NIK or a KPJ as the spreadsheet formula ="7372…" so that Excel keeps its digits
    (a spreadsheet shows the text inside; so does a workbook's cell). Every row of issue 22's shape so written was
    set apart for a NIK "not of digits"; now the text inside is the cell, whichever way the file is read."""
    src, n = source
    plain = tmp_path / "issue.csv"
    assert shapes.write_shape(src, "issue", plain) == n
    lines = plain.read_bytes().decode("utf-8").split("\r\n")
    for i in range(1, len(lines)):
        cells = lines[i].split(";")
        if len(cells) > 2:
            cells[1] = f'="{cells[1]}"'                 # the NIK (no ";" in it), the KPJ of most rows too
            cells[2] = cells[2] if i % 5 == 0 else f'="{cells[2]}"'
            cells[3] = f'"{cells[3]}; Sari"' if i % 7 == 0 else cells[3]     # a quoted name holding the delimiter
            lines[i] = ";".join(cells)
    path = tmp_path / "register_formula_2025-06.csv"
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    assert path.read_bytes().count(b'="') == n + n - n // 5
    got = {way: _load(home_factory(f"formula_{way}"), path, way, monkeypatch) for way in WAYS}
    assert got["row_by_row"]["counts"] == (n, n - len(PLANTED), len(PLANTED))
    assert got["row_by_row"]["reasons"] == {row + 1: reason for row, (_, _, reason) in PLANTED.items()}
    for way in WAYS[1:]:
        assert got[way]["column_wise"], way
        assert (got[way]["counts"], got[way]["raw"], got[way]["quarantine"]) == (
            got["row_by_row"]["counts"], got["row_by_row"]["raw"], got["row_by_row"]["quarantine"]), way
    for row in got["row_by_row"]["raw"]:
        nik, name, kpj = (row[i] for i in (8, 9, 16))     # raw.register's nik, full_name and kpj columns
        assert nik.isdigit() and len(nik) == 16 and kpj.isdigit() and len(kpj) == 11
        assert (name.endswith("; Sari")) == ((row[4] - 1) % 7 == 0), (row[4], name)     # (source_row - header)
