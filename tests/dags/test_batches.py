"""Batched ingest (issue 20): the ingest DAG maps over batches of files, yet every file keeps its own load.

`orchestration.plan_batches` cuts the pending files into batches; `ingest.run.load_batch` (what a mapped
`load_batch` task calls) loads one batch on a real DuckDB warehouse; `orchestration.combine_batches` adds the
batch summaries up for the Asset announcements.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
from cakupan.ingest.loader import Loader
from cakupan.ingest.run import load_batch
from cakupan.orchestration import combine_batches, plan_batches


def _files(folder: Path, sizes: list[int]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, n in enumerate(sizes):
        p = folder / f"f{i}.csv"
        p.write_bytes(b"x" * n)
        out.append(str(p))
    return out


def test_batches_keep_load_order_and_close_at_either_limit(tmp_path):
    paths = _files(tmp_path, [10] * 7)
    assert plan_batches(paths, max_files=3, max_bytes=10**6) == [paths[0:3], paths[3:6], paths[6:7]]
    assert plan_batches(paths, max_files=100, max_bytes=25) == [paths[0:2], paths[2:4], paths[4:6], paths[6:7]]
    big = _files(tmp_path / "big", [5, 100, 5])
    assert plan_batches(big, max_files=100, max_bytes=50) == [[big[0]], [big[1]], [big[2]]]  # too big: alone
    gone = str(tmp_path / "gone.csv")                                        # vanished: its load records that
    assert plan_batches([gone, *paths[:2]], max_files=2, max_bytes=10**6) == [[gone, paths[0]], [paths[1]]]
    assert plan_batches([], max_files=3, max_bytes=10) == []


def test_combine_adds_up_the_batches():
    a = {"files": 3, "status": {"loaded": 2, "rejected": 1}, "rows_loaded": {"register": 10},
         "rows_quarantined": 1, "not_loaded": [["x.xlsx", "rejected", "FILE_CORRUPT"]]}
    b = {"files": 2, "status": {"loaded": 2}, "rows_loaded": {"register": 5, "claims": 4}, "rows_quarantined": 0,
         "not_loaded": []}
    assert combine_batches([a, b]) == {
        "batches": 2, "files": 5, "status": {"loaded": 4, "rejected": 1}, "rows_loaded": {"register": 15, "claims": 4},
        "rows_quarantined": 1, "not_loaded": [["x.xlsx", "rejected", "FILE_CORRUPT"]]}


def _inbox_with_a_corrupt_file_and_a_copy(s, synth_inbox, **spec) -> tuple[dict, Path, Path, list[str]]:
    truth = synth_inbox(s.home, scenarios=("bad_rows",), **spec)
    inbox = s.home / "inbox"
    corrupt = inbox / "73.72" / "register_parepare_2025-06.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 this is not a workbook")
    first = inbox / truth["files"][0]["path"]
    copy = first.parent / f"copy_of_{first.name}"     # same folder: the same bytes elsewhere are judged by content
    shutil.copy2(first, copy)                                                   # same bytes under another name,
    os.utime(copy, (first.stat().st_mtime + 3600,) * 2)                         # received an hour later
    loader = Loader(s)
    try:
        pending = [str(p) for p in loader.pending_files()]
    finally:
        loader.con.close()
    assert len(pending) == len(truth["files"]) + 2
    return truth, corrupt, copy, pending


def _assert_every_file_has_its_own_load(s, truth, corrupt, copy, pending, batches, summaries) -> None:
    total = combine_batches(summaries)
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        loads = {r[0]: r[1:] for r in con.execute(
            "select file_name, status, error_code, rows_in, rows_loaded, rows_quarantined from audit.loads"
        ).fetchall()}
        per_source = dict(con.execute("select source, sum(rows_loaded) from audit.loads where status = 'loaded' "
                                      "group by source").fetchall())
    assert len(loads) == len(pending)                                          # one manifest row per file
    assert loads[corrupt.name][:2] == ("rejected", "FILE_CORRUPT")
    assert loads[copy.name][:2] == ("duplicate", "DUPLICATE_FILE")
    for f in truth["files"]:                                                    # the generator's counts
        assert loads[Path(f["path"]).name] == ("loaded", None, f["rows_in"], f["loaded"], f["quarantined"])
    assert total["files"] == len(pending) and total["batches"] == len(batches)
    assert total["status"] == {"loaded": len(truth["files"]), "rejected": 1, "duplicate": 1}
    assert total["rows_loaded"] == per_source
    assert total["rows_quarantined"] == sum(f["quarantined"] for f in truth["files"])
    assert sorted(x[0] for x in total["not_loaded"]) == sorted([corrupt.name, copy.name])


def test_a_bad_file_never_fails_its_batch_and_every_file_gets_its_own_load(settings_factory, synth_inbox):
    s = settings_factory()
    truth, corrupt, copy, pending = _inbox_with_a_corrupt_file_and_a_copy(
        s, synth_inbox, regencies=("73.72", "73.73"), months=("2025-03", "2025-04"), workers=8, seed=5)
    batches = plan_batches(pending, max_files=4, max_bytes=10**9)
    summaries = [load_batch(s, b, run_id="manual__batches") for b in batches]
    _assert_every_file_has_its_own_load(s, truth, corrupt, copy, pending, batches, summaries)

    # a retried batch task (Airflow retries) loads nothing twice
    again = load_batch(s, batches[0], run_id="manual__batches")
    assert again["status"] == {"already_processed": len(batches[0])} and again["rows_loaded"] == {}


def test_a_batch_of_forty_files_or_more_keeps_each_file_apart_in_its_reader_processes(settings_factory,
                                                                                       synth_inbox):
    """From READERS_MIN_FILES files on, a batch is read and validated by reader processes while one writer
    writes (the path a national batch of 500 takes): the same per-file outcome, the corrupt file and the copy
    included, and a retried batch still loads nothing twice."""
    from cakupan.ingest.run import READERS_MIN_FILES

    s = settings_factory()
    truth, corrupt, copy, pending = _inbox_with_a_corrupt_file_and_a_copy(
        s, synth_inbox, months=tuple(f"2025-{m:02d}" for m in range(1, 13)), workers=4, seed=8)
    assert len(pending) >= max(READERS_MIN_FILES, 40)
    _assert_every_file_has_its_own_load(s, truth, corrupt, copy, pending, [pending],
                                        [load_batch(s, pending, run_id="manual__big_batch")])
    again = load_batch(s, pending, run_id="manual__big_batch")
    assert again["status"] == {"already_processed": len(pending)} and again["rows_loaded"] == {}
