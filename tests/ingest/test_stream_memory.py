"""Memory of a big CSV loaded part by part (issue 22: peak RSS per 1M rows).

A streamed load writes every part in one transaction. Two things used to keep each written part alive until the
commit, so a 1M-row file was held about twice over (BENCHMARKS.md "Memory"): the Arrow table behind a view
registered and dropped inside the transaction (DuckDB keeps a dropped catalog entry until the commit), and the
part's cell text, kept with its block for the row numbers. These tests load a real file through the real loader
and DuckDB and watch Arrow's allocator after every part.
"""

from __future__ import annotations

import statistics

import duckdb
import pyarrow as pa
import pytest
from cakupan.core.messages import SettingsError
from cakupan.core.settings import Settings
from cakupan.ingest import loader as loader_module
from cakupan.ingest import prepare, readers
from cakupan.ingest.loader import Loader
from cakupan.ingest.readers import fastcsv

PART = 300



_REAL_INSERT = Loader._insert


def _in_parts(monkeypatch, after_insert, part: int = PART) -> None:
    """Big CSVs loaded in parts of `part` lines, `after_insert(batch)` called after each part is written."""

    def insert(self, batch, contract, load):
        n = _REAL_INSERT(self, batch, contract, load)
        after_insert(batch)
        return n

    monkeypatch.setattr(prepare, "STREAM_MIN_BYTES", 0)
    monkeypatch.setattr(prepare, "STREAM_PART_LINES", part)
    monkeypatch.setattr(prepare, "STREAM_FIRST_PART_LINES", part)
    monkeypatch.setattr(Loader, "_insert", insert)


def _load_in_parts(s, big_register, monkeypatch, part: int = PART) -> tuple[list[int], list[int], int]:
    """Load the file in parts of `part` lines through the real loader: Arrow's allocated bytes after each part is
    written, each part's table size, and the file's size."""
    dest = s.inbox / "73.72" / big_register.name
    dest.parent.mkdir(parents=True)
    dest.write_bytes(big_register.read_bytes())
    after_part, part_bytes = [], []

    def watch(batch):
        part_bytes.append(batch.table.get_total_buffer_size())
        after_part.append(pa.total_allocated_bytes())

    _in_parts(monkeypatch, watch, part)
    ld = Loader(s)
    try:
        r = ld.load(dest)
    finally:
        ld.con.close()
    assert r.status == "loaded" and r.rows_in == r.rows_loaded + r.rows_quarantined
    assert len(after_part) >= 10, "the file was not loaded in parts"
    return after_part, part_bytes, dest.stat().st_size


def test_a_written_part_is_not_held_until_the_commit(big_register, home_factory, monkeypatch):
    after_part, part_bytes, _ = _load_in_parts(home_factory("stream"), big_register, monkeypatch)
    # Flat after the first parts: what the loader holds does not grow with the parts written. Before the fix
    # it grew by about one part per part (10+ parts here: about ten parts' worth).
    growth = after_part[-2] - after_part[2]
    assert growth < 3 * max(part_bytes), (growth, max(part_bytes), after_part)


def test_the_file_s_lines_are_let_go_part_by_part(big_register, home_factory, monkeypatch):
    """Each part holds only its own lines (split a chunk at a time): what Arrow holds falls as the parts are
    written. Before, every part's lines were slices of one buffer, held until the last part was read."""
    monkeypatch.setattr(fastcsv, "PART_CHUNK_BYTES", 16 << 10)
    monkeypatch.setattr(loader_module, "part_rereader", lambda path, stamp: None)    # parts hold their lines
    after_part, _, size = _load_in_parts(home_factory("lines"), big_register, monkeypatch, part=100)
    assert _let_go(after_part, size), (size, after_part)


def _let_go(after_part: list[int], size: int) -> bool:
    """By two thirds of the parts, more than a quarter of the file's lines (~its size) are let go; with the lines in
    one chunk Arrow holds as much then as early on. Measured in parts of 100 lines (~40 here) and taken as the median
    of three neighbouring parts: the parts read ahead, done or not when the writer measures, move each reading by
    up to two parts' tables (a CI run in parts of 300 lines saw one reading 119 KB above its neighbours' line and
    another 45 KB below, and failed a single-reading check by 1 KB)."""
    at = 2 * len(after_part) // 3
    return statistics.median(after_part[1:4]) - statistics.median(after_part[at - 1:at + 2]) > size // 4


def test_the_lines_in_one_chunk_are_not_let_go(big_register, home_factory, monkeypatch):
    """The check above can fail: with the whole file one chunk (every part's lines slices of one buffer, as before
    parts split their own), nothing is let go by two thirds of the parts."""
    monkeypatch.setattr(fastcsv, "PART_CHUNK_BYTES", 1 << 30)
    monkeypatch.setattr(loader_module, "part_rereader", lambda path, stamp: None)
    after_part, _, size = _load_in_parts(home_factory("one_chunk"), big_register, monkeypatch, part=100)
    assert not _let_go(after_part, size), (size, after_part)


def _held_less(held, read, size) -> bool:
    """Over the first three parts, Arrow holds (median) more than half the file's size less when the parts read
    their lines when their turn comes than when they hold them. Had they held them too, the two would be about
    equal; that they differ by about the whole size is what the reading saves. The next part, read ahead while one
    is written, is held or not depending on the timing, hence the median and half the size (a CI run saw 612 KB
    held and 250 KB read after the first part of a 495 KB file; quiet runs 680 KB and 209 KB)."""
    return statistics.median(held[:3]) - statistics.median(read[:3]) > size // 2


def test_parts_read_from_the_file_hold_no_lines(big_register, home_factory, monkeypatch):
    """As the loader loads a big CSV, each part reads its bytes again from the file and splits them when its turn
    comes: from the first part on, Arrow holds about a file's size less than when the parts hold their lines."""
    monkeypatch.setattr(fastcsv, "PART_CHUNK_BYTES", 16 << 10)
    reread, _, size = _load_in_parts(home_factory("reread"), big_register, monkeypatch)
    monkeypatch.setattr(loader_module, "part_rereader", lambda path, stamp: None)
    held, _, _ = _load_in_parts(home_factory("held"), big_register, monkeypatch)
    assert _held_less(held, reread, size), (size, held[:3], reread[:3])
    assert max(reread) < min(held[:2]), (reread, held)


def test_a_utf16_file_s_parts_split_their_lines_when_read(big_register, home_factory, monkeypatch, tmp_path):
    """A UTF-16 file (Excel's Unicode Text) is made UTF-8 once; its parts split their lines from that copy when
    their turn comes, as others' from the file: Arrow holds about the file's UTF-8 size less from the first part on,
    and the rows are those of the parts that held their lines."""
    text = big_register.read_bytes().decode("utf-8-sig")
    utf16 = tmp_path / "register_parepare_2025-06.csv"
    utf16.write_bytes(text.replace(";", "\t").encode("utf-16"))
    monkeypatch.setattr(fastcsv, "PART_CHUNK_BYTES", 16 << 10)
    homes = home_factory("u16_split"), home_factory("u16_held")
    split, _, _ = _load_in_parts(homes[0], utf16, monkeypatch)
    monkeypatch.setattr(loader_module, "part_rereader", lambda path, stamp: None)
    held, _, _ = _load_in_parts(homes[1], utf16, monkeypatch)
    size = len(text.encode("utf-8"))
    assert _held_less(held, split, size), (size, held[:3], split[:3])
    rows = []
    for s in homes:
        with duckdb.connect(str(s.work_db), read_only=True) as con:
            rows.append(con.execute("select source_row, nik, participant_key, raw_cells::varchar from raw.register "
                                    "order by source_row").fetchall())
    assert len(rows[0]) > 3000 and rows[0] == rows[1]


def _loader_setting(s, name, load=None):
    """DuckDB's setting `name` on a fresh loader's connection (after it loaded `load`, when given), and the load's
    result."""
    ld = Loader(s)
    try:
        result = ld.load(load) if load is not None else None
        return ld.con.execute(f"select current_setting('{name}')").fetchone()[0], result
    finally:
        ld.con.close()


def test_the_ingest_memory_limit_is_duckdb_s_while_loading(home_factory, monkeypatch):
    monkeypatch.setenv("CAKUPAN_INGEST_MEMORY_LIMIT", "300MB")
    shown, _ = _loader_setting(home_factory("limit"), "memory_limit")
    assert shown == f"{300e6 / 2**20:.1f} MiB"     # DuckDB shows 300 MB (10^6 bytes) in MiB


def test_the_loader_keeps_memory_for_duckdb_s_blocks_and_never_lowers_it(home_factory, big_register, monkeypatch):
    """DuckDB's block allocator keeps memory for its blocks while loading (without it every eviction at the ingest
    memory limit handed all freed memory back and the next part faulted it in again); a DuckDB that already keeps
    more (another connection to the same work file set it) still loads: the setting cannot be lowered."""
    kept, _ = _loader_setting(home_factory("blocks"), "block_allocator_memory")
    assert kept == f"{64e6 / 2**20:.1f} MiB"
    s = home_factory("blocks_more")
    dest = s.inbox / "73.72" / big_register.name
    dest.parent.mkdir(parents=True)
    dest.write_bytes(big_register.read_bytes())
    other = duckdb.connect(str(s.work_db))
    try:
        other.execute("set block_allocator_memory = '128MB'")
        before = other.execute("select current_setting('block_allocator_memory')").fetchone()[0]
        kept, result = _loader_setting(s, "block_allocator_memory", load=dest)
    finally:
        other.close()
    assert result.status == "loaded" and result.rows_loaded > 3000, result
    assert kept == before and before.startswith("122.")     # (128 MB as DuckDB shows it: kept, not lowered)


@pytest.mark.parametrize("bad", ["lots", "300", "1 GBs", "-1GB"])
def test_a_memory_limit_that_is_not_a_size_is_one_clear_line(bad, monkeypatch, tmp_path):
    monkeypatch.setenv("CAKUPAN_INGEST_MEMORY_LIMIT", bad)
    with pytest.raises(SettingsError) as err:
        Settings.from_env(home=tmp_path)
    assert "CAKUPAN_INGEST_MEMORY_LIMIT" in str(err.value) and repr(bad) in str(err.value)


_WITHOUT_PANDAS = r"""
import json, sys
from pathlib import Path
from cakupan.core.settings import Settings
from cakupan.ingest.loader import Loader

home, path, key = sys.argv[1:4]
ld = Loader(Settings.from_env(home=home, pseudonym_key=key))
try:
    r = ld.load(Path(path))
finally:
    ld.con.close()
after_load = "pandas" in sys.modules
import pandas as pd
import pyarrow as pa
back = pa.table({"a": [1, None]}).to_pandas()["a"].tolist()
frame = pa.Table.from_pandas(pd.DataFrame({"x": [1.5, None]})).column("x").to_pylist()
series = pa.array(pd.Series([1.5, None]))
print(json.dumps({"status": r.status, "rows_in": r.rows_in, "loaded": r.rows_loaded, "pandas": after_load,
                  "back": str(back), "frame": frame, "series": [str(series.type), series.null_count]}))
"""


def test_a_load_does_not_import_pandas_and_pandas_still_works_after(big_register, home_factory, monkeypatch):
    """A fresh process loads a big register through the loader without importing pandas (pyarrow would, ~45 MB,
    to ask whether a value is a pandas object: `arrays.arrow_without_pandas`); imported afterwards, pandas and
    pyarrow's pandas conversions work both ways."""
    import json
    import subprocess
    import sys

    from _support import TEST_KEY

    s = home_factory()
    dest = s.inbox / "73.72" / big_register.name
    dest.parent.mkdir(parents=True)
    dest.write_bytes(big_register.read_bytes())
    out = subprocess.run([sys.executable, "-c", _WITHOUT_PANDAS, str(s.home), str(dest), TEST_KEY],
                         capture_output=True, text=True, timeout=300, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["status"] == "loaded" and got["rows_in"] == got["loaded"] > 1000
    assert got["pandas"] is False
    assert got["back"] in ("[1.0, nan]", "[1.0, None]") and got["frame"] == [1.5, None]
    assert got["series"] == ["double", 1]


@pytest.mark.parametrize("keep_mtime", [True, False])
def test_a_big_csv_changed_while_it_is_loaded_is_rolled_back_and_waits(big_register, home_factory, monkeypatch,
                                                                        keep_mtime):
    """A part reads its bytes again from the file: when a clerk's copy overwrites the file after the first part
    is written (same size; its time kept or not), the part's bytes no longer have the CRC-32 they had, the load
    is rolled back (no row of it stays), recorded interrupted, and the file waits; the next ingest loads it."""
    import os
    import threading

    from cakupan.ingest import loader as loader_module

    s = home_factory("changed")
    dest = s.inbox / "73.72" / big_register.name
    dest.parent.mkdir(parents=True)
    data = big_register.read_bytes()
    dest.write_bytes(data)
    calls = []
    # The part read ahead of the writer reads its bytes again meanwhile: it must see the file before the copy or
    # after it (its byte written and its time set back), never half-way (a reread between the write and the time
    # set back would hear of the time, not of the bytes).
    copying = threading.Lock()
    real_rereader = loader_module.part_rereader

    def rereader(path, stamp):
        reread = real_rereader(path, stamp)

        def locked(start, stop, digest):
            with copying:
                return reread(start, stop, digest)
        return locked

    def overwrite_after_first(batch):
        calls.append(batch.num_rows)
        if len(calls) == 1:
            with copying:
                before = os.stat(dest)
                at = data.index(b"\n", len(data) * 3 // 4) + 1        # a digit of a row far below the first part
                at += next(i for i, ch in enumerate(data[at:]) if chr(ch).isdigit())
                with open(dest, "r+b") as f:            # in place: the file is never shorter while it is copied
                    f.seek(at)
                    f.write(b"1" if data[at:at + 1] != b"1" else b"2")
                if keep_mtime:
                    os.utime(dest, ns=(before.st_atime_ns, before.st_mtime_ns))

    _in_parts(monkeypatch, overwrite_after_first)
    monkeypatch.setattr(loader_module, "part_rereader", rereader)
    ld = Loader(s)
    try:
        r = ld.load(dest)
        assert (r.status, r.error_code) == ("waiting", "FILE_CHANGING") and len(calls) >= 2, (r, calls)
        assert ("saat sedang dimuat" in r.error_message) == keep_mtime     # the bytes' check, or the stamp
        row = ld.con.execute("select status, error_code from audit.loads where load_id = ?", [r.load_id]).fetchone()
        assert row == ("interrupted", "FILE_CHANGING")
        kept = ld.con.execute("select (select count(*) from raw.register where load_id = $1) + "
                              "(select count(*) from quarantine.rows where load_id = $1)", [r.load_id]).fetchone()
        assert kept == (0,)
        monkeypatch.setattr(Loader, "_insert", _REAL_INSERT)
        again = ld.load(dest)
    finally:
        ld.con.close()
    assert again.status == "loaded" and again.load_id != r.load_id
    assert again.rows_in == again.rows_loaded + again.rows_quarantined > 1000


def _loaded(s, path) -> tuple[list, list]:
    """The raw rows (without the load's own columns) and the quarantined rows a fresh warehouse holds after
    loading `path` with the real loader."""
    dest = s.inbox / "73.72" / path.name
    dest.parent.mkdir(parents=True)
    dest.write_bytes(path.read_bytes())
    ld = Loader(s)
    try:
        r = ld.load(dest)
        assert r.rows_in == r.rows_loaded + r.rows_quarantined
        raw = ld.con.execute("select * exclude (load_id, received_at) from raw.register order by source_row").fetchall()
        quarantined = ld.con.execute("select source_row, reason_code, column_name, reasons::varchar, public_message "
                                     "from quarantine.rows order by source_row").fetchall()
    finally:
        ld.con.close()
    return raw, quarantined


@pytest.mark.parametrize(("typed", "set_apart"), [
    (b"\r", {701, 702, 1902, 1903, 3303, 3304}),     # each cut row's two halves
    (b'"', set()),                                  # a quote typed inside a name: a character, as csv reads it
    (b"\x00", set()),                               # a NUL character (a broken export): a character too
])
def test_a_big_csv_with_what_csv_reads_its_own_way_is_still_loaded_in_parts(big_register, home_factory, monkeypatch,
                                                                            tmp_path, typed, set_apart):
    """A carriage return alone (old Mac text), a quote or a NUL typed into three names of a big CSV: the CR ends the
    line there, the quote is a character in its cell (and leaves its line's quotes odd), as is the NUL, as csv reads
    them. The file is
    still loaded in parts, with the rows and reasons the row-by-row path gives; it used to go whole to that path
    (a 1M-row file: 20-25 s and over 2 GB)."""
    lines = big_register.read_bytes().split(b"\n")
    for k in (700, 1900, 3300):
        at = lines[k].index(b";", lines[k].index(b";") + 1) + 3        # inside the name
        lines[k] = lines[k][:at] + typed + lines[k][at:]
    path = tmp_path / big_register.name
    path.write_bytes(b"\n".join(lines))
    monkeypatch.setattr(readers, "FAST_CSV_MIN_LINES", 10**9)          # the row-by-row path: what csv reads
    exact = _loaded(home_factory("exact"), path)
    monkeypatch.setattr(readers, "FAST_CSV_MIN_LINES", 0)
    parts = []
    _in_parts(monkeypatch, lambda batch: parts.append(batch.table.num_rows))
    streamed = _loaded(home_factory("parts"), path)
    assert len(parts) >= 10, "the file was not loaded in parts"
    assert streamed == exact
    assert {r[0] for r in exact[1]} == set_apart


@pytest.mark.parametrize(("width", "lines"), [(100, 61_440), (273, 61_440), (274, 30_720), (600, 15_360),
                                              (5_000, 7_680)])
def test_a_part_holds_fewer_lines_the_wider_the_file_s_lines(width, lines):
    """A part's lines are bounded by their bytes (16 MiB): half a row group for lines up to 273 bytes (61,440 x
    273 = 16,773,120), then a quarter, an eighth, never under a sixteenth."""
    line = b"x" * (width - 1) + b"\n"
    assert prepare.stream_part_lines(line * 4000) == lines


def test_half_row_group_parts_fill_whole_row_groups(big_register, home_factory, monkeypatch):
    """A 124,000-row CSV loaded in its real parts (30,720 lines, then 61,440) is written as one full DuckDB row
    group and the rest: the parts of one transaction fill its row groups in order, so a part need not be a whole
    row group (a part of a whole one held ~100 MB more per 1 M rows at the peak)."""
    s = home_factory("rowgroups")
    head, *body = big_register.read_bytes().split(b"\n")
    body = [b for b in body if b.strip()]
    lines = [head]
    for k in range(31):
        for line in body:
            lines.append(str(len(lines)).encode() + line[line.index(b";"):])
    dest = s.inbox / "73.72" / big_register.name
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"\n".join(lines) + b"\n")
    parts: list[int] = []
    monkeypatch.setattr(prepare, "STREAM_MIN_BYTES", 0)
    real = Loader._insert
    monkeypatch.setattr(Loader, "_insert", lambda self, batch, *a: parts.append(batch.table.num_rows) or real(
        self, batch, *a))
    ld = Loader(s)
    try:
        r = ld.load(dest)
        groups = ld.con.execute("select row_group_id, max(count) from pragma_storage_info('raw.register') "
                                "group by all order by 1").fetchall()
    finally:
        ld.con.close()
    assert (r.status, r.rows_in, r.rows_loaded) == ("loaded", 124_000, 124_000)
    assert parts == [30_720, 61_440, 31_840]
    assert [n for _, n in groups] == [122_880, 1_120]
