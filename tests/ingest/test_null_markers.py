"""A register or claims file exported from a database writes a missing value as a marker, not as an empty cell:
phpMyAdmin's CSV export "NULL", MySQL's SELECT ... INTO OUTFILE and PostgreSQL's text COPY "\\N", a JavaScript
export "null"; SQL Server's grid copied into Excel pastes "NULL" as text. Such a cell is read as blank: an optional
column is empty (no "NULL" village in the marts, no KPJ_INVALID for a missing card number), a required one is
missing with its own reason, and the cell stays in raw_cells as delivered.

The rows are synthetic; every expected value is written out by hand below, never taken from the loader.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest
from _support import load_csv_one_way
from cakupan.ingest.loader import Loader
from cakupan_dev.messy.formats import Sheet, xlsx_bytes
from cakupan_dev.messy.people import workers

HEADER = ["nik", "nama", "tgl_lahir", "jenis_kelamin", "pekerjaan", "kelurahan", "kecamatan", "no_kpj", "program",
          "tmt", "tgl_berakhir", "iuran", "sumber_dana", "no_hp"]


def _rows(n: int, marker: str, seed: int) -> list[list[str]]:
    """n workers as a database exports them: kelurahan, KPJ, end date and phone never filled (the marker); every
    tenth worker's village filled, every 7th with an end date, "Nulla" as one worker's name (a text, not a
    marker); then a worker whose NIK is the marker, one whose occupation is and one whose start date is."""
    out = []
    for i, w in enumerate(workers(n + 3, seed=seed)):
        village = "LUMPUE" if i % 10 == 0 else marker
        end = "2025-12-31" if i % 7 == 0 else marker
        name = "Nulla" if i == 3 else w.name
        nik = marker if i == n else w.nik
        occupation = marker if i == n + 1 else "Nelayan"
        start = marker if i == n + 2 else "2025-04-01"
        out.append([nik, name, w.birth.isoformat(), w.sex, occupation, village, "BACUKIKI", marker, "JKK, JKM",
                    start, end, "16800", "APBD", marker])
    return out


def _csv(rows: list[list[str]]) -> bytes:
    lines = [",".join(HEADER)] + [",".join(f'"{v}"' if "," in v else v for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("marker", ["NULL", "\\N", "null"])
def test_a_database_export_s_null_markers_read_as_blank_cells_every_way(home_factory, monkeypatch, marker):
    """Row by row, column-wise whole (over 4,096 rows: the bulk parsers) and column-wise in parts (the small
    parts' memo parsers): every worker loads, the marker columns empty, the three marked required cells set apart
    as missing; raw_cells keeps the marker as delivered."""
    n = 4_500
    data = _csv(_rows(n, marker, seed=1))   # (serials up to 4,602: a NIK has four digits for it)
    got = {}
    for way in ("row_by_row", "column_wise", "parts"):
        s = home_factory(way)
        r = load_csv_one_way(s, "register_parepare_2025-05.csv", data, way, monkeypatch)
        assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (n + 3, n, 3), (way, r)
        assert r.reasons == {"NIK_MISSING": 1, "OCCUPATION_MISSING": 1, "REQUIRED_MISSING": 1}, (way, r.reasons)
        with duckdb.connect(str(s.work_db), read_only=True) as con:
            counts = con.execute(
                "select count(village), count(kpj), count(coverage_end), count(*) filter (village = 'LUMPUE'), "
                "count(*) filter (coverage_end = date '2025-12-31'), count(*) filter (full_name = 'Nulla') "
                "from raw.register").fetchone()
            assert counts == (450, 0, 643, 450, 643, 1), (way, counts)
            [(cells,)] = con.execute("select raw_cells from raw.register where source_row = 3").fetchall()
            cells = json.loads(cells)
            assert (cells["kelurahan"], cells["no_kpj"], cells["tgl_berakhir"], cells["no_hp"]) == (marker,) * 4
            got[way] = con.execute("select * exclude (received_at) from raw.register order by source_row").fetchall()
            quarantined = con.execute("select source_row, reason_code, column_name from quarantine.rows "
                                      "order by source_row").fetchall()
            assert quarantined == [(n + 2, "NIK_MISSING", "nik"), (n + 3, "OCCUPATION_MISSING", "occupation"),
                                   (n + 4, "REQUIRED_MISSING", "coverage_start")], way
    assert got["row_by_row"] == got["column_wise"] == got["parts"]


def test_null_pasted_from_a_database_grid_into_a_workbook(home):
    """SQL Server's grid copied into Excel: "NULL" as a text cell in the workbook reads as blank."""
    rows = [HEADER, *_rows(5, "NULL", seed=82)]
    path = home.inbox / "73.72" / "register_parepare_2025-05.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(xlsx_bytes([Sheet("Sheet1", rows)]))
    loader = Loader(home)
    try:
        r = loader.load(path)
        assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (8, 5, 3), r
        got = loader.con.execute("select village, kpj, coverage_end from raw.register order by source_row").fetchall()
        assert got == [("LUMPUE", None, dt.date(2025, 12, 31)), (None, None, None), (None, None, None), (None, None, None),
                       (None, None, None)]
    finally:
        loader.con.close()


def test_a_claim_whose_nik_and_kpj_are_both_null_markers_has_no_participant_id(home):
    """A claim needs a NIK or a KPJ: both exported as NULL is neither, not two unreadable identifiers."""
    lines = ["No Klaim;NIK;No KPJ;Jenis Klaim;Tanggal Kejadian;Tgl Bayar;Manfaat (Rp);Kab/Kota",
             "KLM-1;NULL;NULL;JKM;03/06/2025;19/06/2025;42000000;Parepare",
             "KLM-2;NULL;11111111111;JKK;12/06/2025;30/06/2025;3250000;Parepare"]
    path = home.inbox / "73.72" / "claims_parepare_2025-06.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    loader = Loader(home)
    try:
        r = loader.load(path)
        assert (r.rows_in, r.rows_loaded, r.rows_quarantined) == (2, 1, 1), r
        assert r.reasons == {"NO_PARTICIPANT_ID": 1}, r.reasons
        assert loader.con.execute("select claim_id, nik, kpj from raw.claims").fetchall() == [
            ("KLM-2", None, "11111111111")]
    finally:
        loader.con.close()
