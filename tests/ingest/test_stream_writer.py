"""How a big CSV is written (issue 22, bench/findings.md "A big CSV's writer, session 11"): the raw rows' cells as
delivered are stored zstd-compressed in the work file, and DuckDB runs on one thread while the parts are written,
the caller's setting given back afterwards whether the load succeeded or failed. Real loader, real DuckDB file."""

from __future__ import annotations

import csv
import json

import duckdb
import pytest
from cakupan.ingest import prepare, readers
from cakupan.ingest.loader import Loader
from cakupan.ingest.validate import Validator
from cakupan.targets.postgres.zones import zones_ddl

PART = 500



def _deliver(s, big_register):
    dest = s.inbox / "73.72" / big_register.name
    dest.parent.mkdir(parents=True)
    dest.write_bytes(big_register.read_bytes())
    return dest


def _in_parts(monkeypatch, seen: list, fail_at: int | None = None) -> None:
    """Every CSV loaded part by part (PART lines); each part's insert notes DuckDB's threads setting as it runs, and
    the insert of part `fail_at` raises."""
    real = Loader._insert

    def insert(self, batch, contract, load):
        seen.append(self.stage.execute("select current_setting('threads')").fetchone()[0])
        if fail_at is not None and len(seen) == fail_at:
            raise RuntimeError("a part that cannot be written")
        return real(self, batch, contract, load)

    monkeypatch.setattr(prepare, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(prepare, "STREAM_PART_LINES", PART)
    monkeypatch.setattr(prepare, "STREAM_FIRST_PART_LINES", PART)
    monkeypatch.setattr(Loader, "_insert", insert)


@pytest.mark.parametrize("fail_at", [None, 2], ids=["loaded", "failed"])
def test_parts_are_written_on_one_thread_and_the_setting_is_given_back(big_register, home_factory, monkeypatch,
                                                                        fail_at):
    s = home_factory(f"threads_{fail_at}")
    dest = _deliver(s, big_register)
    seen: list[int] = []
    _in_parts(monkeypatch, seen, fail_at)
    ld = Loader(s)
    try:
        ld.con.execute("set threads = 3")
        r = ld.load(dest)
        after = ld.con.execute("select current_setting('threads')").fetchone()[0]
        raw = ld.con.execute("select count(*) from raw.register").fetchone()[0]
    finally:
        ld.con.close()
    assert after == 3
    if fail_at is None:
        assert r.status == "loaded" and r.rows_in == r.rows_loaded + r.rows_quarantined == raw
        assert len(seen) >= 5 and set(seen) == {1}, seen
    else:
        assert r.status == "failed" and raw == 0
        assert seen == [1, 1]


def test_two_parts_are_read_ahead_while_one_is_written(big_register, home_factory, monkeypatch):
    """While the first part is written the reader thread reads and validates the next two (a part that fills a row
    group is written ~4x as long as one that does not: with one part ahead each side waited for the other in turn,
    bench/findings.md "Session 44"); a load that fails there stops reading: no part after those is read."""
    import threading

    s = home_factory("ahead")
    dest = _deliver(s, big_register)
    _in_parts(monkeypatch, [])
    validated, third = [], threading.Event()
    real_validate = Validator.__call__

    def validate(self, blocks, facts):
        validated.append(len(blocks))
        if len(validated) == 3:
            third.set()
        return real_validate(self, blocks, facts)

    def first_insert(self, batch, contract, load):
        waited = third.wait(timeout=30)
        raise RuntimeError(f"third part validated while the first is written: {waited}")

    monkeypatch.setattr(Validator, "__call__", validate)
    monkeypatch.setattr(Loader, "_insert", first_insert)
    ld = Loader(s)
    try:
        r = ld.load(dest)
    finally:
        ld.con.close()
    assert r.status == "failed" and "validated while the first is written: True" in r.error_message, r
    parts = big_register.read_bytes().count(b"\n") // PART
    assert parts >= 5 and len(validated) == 3, (parts, validated)


@pytest.mark.parametrize("case", ["line_breaks_in_cells", "carriage_returns"])
def test_a_register_written_by_another_office_loads_in_parts_as_row_by_row(big_register, home_factory, monkeypatch,
                                                                           tmp_path, case):
    """An office's register whose addresses hold line breaks (Alt+Enter in Excel, quoted by the CSV export), and
    one whose lines end in carriage returns alone (Excel's "CSV (Macintosh)"): read column-wise and written part by
    part (each part read again from the file), their rows, numbers and cells are those the row-by-row path gives;
    before, either sent the whole file row by row."""
    text = big_register.read_text(encoding="utf-8-sig")
    delimiter = ";" if text.count(";") > text.count(",") else ","
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    village = next(i for i, h in enumerate(rows[0]) if h.lower() in ("kelurahan", "desa", "kelurahan/desa"))
    for i, row in enumerate(rows[1:], 1):
        if case == "line_breaks_in_cells" and i % 97 == 0 and len(row) > village:
            row[village] += f"\nRT 0{i % 7}\nRW 01"
    path = tmp_path / big_register.name
    with path.open("w", encoding="utf-8", newline="") as f:
        end = "\r\n" if case == "line_breaks_in_cells" else "\r"
        csv.writer(f, delimiter=delimiter, lineterminator=end).writerows(rows)
    loaded = {}
    for how in ("in_parts", "row_by_row"):
        with monkeypatch.context() as mp:
            seen: list[int] = []
            if how == "in_parts":
                _in_parts(mp, seen)
            else:
                mp.setattr(readers, "FAST_CSV_MIN_LINES", 10**9)
                mp.setattr(prepare, "STREAM_MIN_BYTES", 10**12)
            s = home_factory(f"lines_{how}")
            ld = Loader(s)
            try:
                r = ld.load(_deliver(s, path))
                loaded[how] = (r.status, r.rows_in, r.rows_loaded, r.rows_quarantined, ld.con.execute(
                    "select source_row, nik, full_name, village, raw_cells::varchar, participant_key "
                    "from raw.register order by source_row").fetchall(), ld.con.execute(
                    "select source_row, reason_code, message from quarantine.rows order by source_row").fetchall())
            finally:
                ld.con.close()
            assert (len(seen) >= 5) == (how == "in_parts"), seen
    assert loaded["in_parts"] == loaded["row_by_row"]
    status, rows_in, _, _, raw, _ = loaded["in_parts"]
    assert status == "loaded" and rows_in == len(rows) - 1
    if case == "line_breaks_in_cells":
        assert sum("RT 0" in v for _, _, _, v, _, _ in raw if v) >= (len(rows) - 1) // 97 - 5


def test_the_cells_as_delivered_and_the_niks_are_stored_zstd_and_read_back_whole(big_register, home_factory):
    s = home_factory("zstd")
    dest = _deliver(s, big_register)
    ld = Loader(s)
    try:
        r = ld.load(dest)
        ld.con.execute("checkpoint")
    finally:
        ld.con.close()
    assert r.status == "loaded" and r.rows_loaded > 2000
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        kinds = dict(con.execute(
            "select column_name, list(distinct compression) from pragma_storage_info('raw.register') "
            "where segment_type not in ('VALIDITY') and column_name in ('raw_cells', 'full_name', 'nik', "
            "'participant_key') "
            "group by column_name").fetchall())
        # every row's cells as delivered come back as the JSON written (a blank cell: null)
        rows = con.execute("select source_row, raw_cells from raw.register order by source_row").fetchall()
    assert kinds["raw_cells"] == ["ZSTD"], kinds
    # so are a person's NIK and its pseudonym (one a participant: zones.IDENTIFIER_STORAGE)
    assert kinds["nik"] == kinds["participant_key"] == ["ZSTD"], kinds
    assert "ZSTD" not in kinds["full_name"], kinds      # (the other columns keep DuckDB's own choice)
    first = big_register.read_text(encoding="utf-8-sig").split("\n", 1)[0]
    with open(big_register, encoding="utf-8-sig", newline="") as f:
        header, *lines = list(csv.reader(f, delimiter=";" if first.count(";") > first.count(",") else ","))
    in_file = {n: dict(zip(header, cells, strict=True)) for n, cells in enumerate(lines, start=2)}   # line numbers
    assert len(rows) == r.rows_loaded == len(in_file)
    for row, cells in rows:
        cells = json.loads(cells)
        assert len(cells) >= 10 and cells == {k: in_file[row][k] or None for k in cells}, (row, cells, in_file[row])


def test_postgresql_and_in_memory_stages_get_no_duckdb_storage_clause():
    assert "using compression" not in zones_ddl().lower()
