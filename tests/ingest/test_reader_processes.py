"""The loader's faster ways give exactly what the plain way gives, on the whole messy corpus.

- Reader processes: `ingest_paths` hands the reading and validating of the next files to forked reader
  processes while it writes the current one.
- Parts: a big CSV is read, validated and written part by part, the next part read while one is written.

Loaded both ways, the manifest, raw zone, quarantine and findings are the same row for row (only file times
differ, as the files were written twice).
"""

from __future__ import annotations

import itertools

import duckdb
import pytest
from cakupan.ingest import loader, prepare, run
from cakupan_dev.messy import cases
from hypothesis import given
from hypothesis import strategies as st

RAW_SOURCES = ("register", "contributions", "claims", "city_report")


def _write_corpus(inbox):
    paths = []
    for case in cases():
        for f in case.files:
            p = inbox / f.folder / case.name / f.name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(f.data)
            paths.append(p)
    return paths


def _tables(settings) -> dict[str, list[tuple]]:
    out = {}
    with duckdb.connect(str(settings.work_db), read_only=True) as con:
        out["loads"] = con.execute(
            "select load_id, source_file, file_sha256, status, source, regency_code, period, rows_in, rows_loaded, "
            "rows_quarantined, error_code, error_message, duplicate_of from audit.loads order by load_id").fetchall()
        for s in RAW_SOURCES:
            out[s] = con.execute(f"select * exclude (received_at) from raw.{s} order by load_id, sheet, "
                                 "source_row").fetchall()
        out["quarantine"] = con.execute("select * from quarantine.rows order by all").fetchall()
        out["findings"] = con.execute("select * from audit.load_findings order by all").fetchall()
    return out


def _spy_on_readers(monkeypatch, log, die_on=None):
    """Patch Preparer.prepare (the forked readers inherit it) to note which process read each file; a reader
    (never the writer) exits on `die_on`, as a native abort would end it."""
    import os

    writer, real = os.getpid(), prepare.Preparer.prepare

    def spy(self, path, data=None):
        if os.getpid() != writer:
            with open(log, "a") as f:
                f.write(f"{os.getpid()} {path}\n")
            if die_on is not None and str(path) == str(die_on):
                os._exit(9)
        return real(self, path, data)

    monkeypatch.setattr(prepare.Preparer, "prepare", spy)
    return writer


def test_reader_processes_load_exactly_what_the_writer_alone_loads(home_factory, monkeypatch, tmp_path):
    runs = {}
    log = tmp_path / "readers.log"
    for name, min_files in (("alone", 10**9), ("readers", 1)):
        s = home_factory(name)
        paths = _write_corpus(s.inbox)
        monkeypatch.setattr(run, "READERS_MIN_FILES", min_files)
        writer = _spy_on_readers(monkeypatch, log)
        results = run.ingest_paths(s, paths, run_id="same")
        runs[name] = ([r.to_dict() for r in results], _tables(s))
        reads = [line.split(maxsplit=1) for line in log.read_text().splitlines()] if log.exists() else []
        read_by = {int(pid) for pid, _ in reads}
        assert bool(read_by) == (name == "readers") and writer not in read_by
        if name == "readers":     # each reader reads runs of consecutive files (its memos see a regency's next file)
            pid_of = {path: pid for pid, path in reads}
            sizes = [p.stat().st_size for p in paths]
            chunks = run._chunks(sizes)
            assert max(len(c) for c in chunks) == run.READ_CHUNK
            assert all(len({pid_of[str(paths[j])] for j in c}) == 1 for c in chunks)
            log.unlink()
    alone, readers = runs["alone"], runs["readers"]
    assert len(alone[0]) >= 60 and {r["status"] for r in alone[0]} >= {"loaded", "rejected", "duplicate"}
    assert readers[0] == alone[0]
    for table in alone[1]:
        assert readers[1][table] == alone[1][table], table
    assert sum(len(alone[1][s]) for s in RAW_SOURCES) > 100 and alone[1]["quarantine"]


def _airflow_like(writer):
    """Airflow's task runner's SIGTERM handler: it acts in the task's own process and returns in a forked child."""
    import os

    def on_term(signum, frame):
        if os.getpid() == writer:
            raise SystemExit(143)
    return on_term


@pytest.mark.timeout(180)
@pytest.mark.parametrize("handler", [None, "exits", "airflow"])
def test_a_reader_that_dies_does_not_lose_the_file(handler, home_factory, monkeypatch, tmp_path):
    """If a reader process dies (a native crash), the writer reads that file and the rest itself.

    The pool then ends the other reader with SIGTERM and waits for it. A SIGTERM handler the writer's process had
    (the test stack's, which exits; Airflow's task runner's, which returns in a forked child) is inherited by the
    readers: the other reader lived on, blocked writing a result nobody read, and the ingest waited for ever (CI,
    stop 49: 600 s). No pool process is left when the ingest returns."""
    import multiprocessing
    import os
    import signal
    import sys

    alone = home_factory("alone")
    expected = [r.to_dict() for r in run.ingest_paths(alone, _write_corpus(alone.inbox), run_id="x")]
    s = home_factory("crash")
    paths = _write_corpus(s.inbox)
    victim = next(p for p in paths if p.name.endswith(".csv"))
    monkeypatch.setattr(run, "READERS_MIN_FILES", 1)
    _spy_on_readers(monkeypatch, tmp_path / "readers.log", die_on=victim)
    on_term = {None: signal.SIG_DFL, "exits": lambda *_: sys.exit(143), "airflow": _airflow_like(os.getpid())}
    before = signal.signal(signal.SIGTERM, on_term[handler])
    try:
        results = [r.to_dict() for r in run.ingest_paths(s, paths, run_id="x")]
    finally:
        signal.signal(signal.SIGTERM, before)
    log = (tmp_path / "readers.log").read_text()
    assert str(victim) in log         # a reader did die on it
    assert results == expected
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        assert con.execute("select count(*) from audit.loads where status = 'started'").fetchone()[0] == 0
    assert not multiprocessing.active_children()    # no reader left behind, blocked on a pipe
    for pid in {int(line.split()[0]) for line in log.splitlines()}:
        assert not os.path.exists(f"/proc/{pid}"), pid


class _Cycle:
    """An object that refers to itself: only the cycle collector frees it."""

    def __init__(self):
        self.me = self


_chunk_started = [False]    # in a reader: set as a chunk starts, cleared at its first file
_cycles: list = []          # in a reader: a weak reference to a cycle left by each file read
_real_chunk = run._prepare_in_reader


def _chunk_in_reader(paths):
    """`run._prepare_in_reader`, noting that a chunk starts (a module function: the pool pickles it by name)."""
    _chunk_started[0] = True
    return _real_chunk(paths)


def test_a_reader_collects_what_each_chunk_left_and_never_walks_it_again(home_factory, monkeypatch, tmp_path):
    """A reader's memos grow for the whole ingest, and a full collection walks every object the collector
    tracks: before each chunk, what the chunks before left is collected (a cycle a file left is gone) and what
    outlived them is set aside (frozen), so the collector tracks only the new chunk's objects. A memo holding only
    texts and tuples of texts (the NIK memo) is frozen too, once it has entries: a full collection would untrack
    it, its next entry track it again as new, and every chunk's collection walk it whole."""
    import gc
    import os
    import weakref

    s = home_factory("gc")
    paths = _write_corpus(s.inbox)
    monkeypatch.setattr(run, "READERS_MIN_FILES", 1)
    log, writer = tmp_path / "chunks.log", os.getpid()
    real_prepare = prepare.Preparer.prepare
    def spy(self, path, data=None):
        if os.getpid() != writer and _chunk_started[0]:
            _chunk_started[0] = False
            memo = self.validate._niks._kept
            walked = any(o is memo for o in gc.get_objects())
            with open(log, "a") as f:       # reader, cycles left by earlier files still alive, tracked, frozen,
                f.write(f"{os.getpid()} {sum(w() is not None for w in _cycles)} {len(gc.get_objects())} "
                        f"{gc.get_freeze_count()} {len(memo)} {int(gc.is_tracked(memo) and not walked)}\n")
        if os.getpid() != writer:
            _cycles.append(weakref.ref(_Cycle()))
        return real_prepare(self, path, data)

    monkeypatch.setattr(run, "_prepare_in_reader", _chunk_in_reader)
    monkeypatch.setattr(prepare.Preparer, "prepare", spy)
    results = run.ingest_paths(s, paths, run_id="gc")
    assert len(results) == len(paths)
    starts = [tuple(map(int, line.split())) for line in log.read_text().splitlines()]
    assert len(starts) >= 6 and len({pid for pid, *_ in starts}) == run.READER_PROCESSES
    # ... NIK memo entries, and whether the memo is frozen (tracked, in no generation a collection walks)
    for _pid, alive, tracked, frozen, _memo, _memo_frozen in starts:
        assert alive == 0                           # every cycle of the chunks before was collected
        assert frozen > 20_000 and tracked < 500    # the rest set aside: the collector tracks the chunk's own
    with_entries = [memo_frozen for *_, memo, memo_frozen in starts if memo > 0]
    assert len(with_entries) >= 4 and all(with_entries)


@pytest.mark.parametrize(("part_lines", "first_lines"), [(1, 1), (3, 2), (1000, 7)])
def test_big_csvs_loaded_in_parts_equal_loaded_whole(home_factory, monkeypatch, part_lines, first_lines):
    """Every CSV of the corpus loaded part by part (forced, parts of a few lines: totals, notes and bad rows
    fall on part edges) equals the same CSV loaded whole."""
    runs = {}
    real = loader.Loader._write_streamed
    for name, min_bytes in (("whole", 1 << 62), ("parts", 0)):
        s = home_factory(name)
        paths = _write_corpus(s.inbox)
        monkeypatch.setattr(run, "READERS_MIN_FILES", 10**9)
        monkeypatch.setattr(prepare, "STREAM_MIN_BYTES", min_bytes)
        monkeypatch.setattr(prepare, "STREAM_PART_LINES", part_lines)
        monkeypatch.setattr(prepare, "STREAM_FIRST_PART_LINES", first_lines)
        streamed = []

        def spy(self, st, load, _real=real, _log=streamed):
            _log.append(load.path.name)
            return _real(self, st, load)

        monkeypatch.setattr(loader.Loader, "_write_streamed", spy)
        results = run.ingest_paths(s, paths, run_id="same")
        runs[name] = ([r.to_dict() for r in results], _tables(s), streamed)
    whole, parts = runs["whole"], runs["parts"]
    assert not whole[2] and len(parts[2]) >= 8           # the corpus's readable CSVs did go part by part
    assert parts[0] == whole[0]
    for table in whole[1]:
        assert parts[1][table] == whole[1][table], table


pytestmark = pytest.mark.timeout(600)


@given(st.lists(st.one_of(st.none(), st.integers(0, 3 << 20)), max_size=60))
def test_reader_chunks_are_runs_of_consecutive_readable_files(sizes):
    chunks = run._chunks(sizes)
    assert [j for c in chunks for j in c] == [j for j, n in enumerate(sizes) if n is not None]
    for c in chunks:
        assert c == list(range(c[0], c[-1] + 1)) and len(c) <= run.READ_CHUNK
        assert len(c) == 1 or sum(sizes[j] for j in c) <= run.READ_CHUNK_BYTES
    for a, b in itertools.pairwise(chunks):        # a chunk ends only where it must
        if b[0] == a[-1] + 1:
            assert len(a) == run.READ_CHUNK or sum(sizes[j] for j in a + [b[0]]) > run.READ_CHUNK_BYTES


def test_what_a_reader_hands_over_arrives_unchanged(home_factory):
    """A reader pickles each file's work (the batch's table as one Arrow stream, the shipped contract by its
    source's name): unpickled in the writer it equals the work, table, schema and chunks alike."""
    import dataclasses
    import pickle
    from multiprocessing.reduction import ForkingPickler

    from cakupan.core.contracts import load_contract
    from cakupan.ingest import group

    s = home_factory("handover")
    preparer = prepare.Preparer(s)
    seen = set()
    for path in _write_corpus(s.inbox):
        meta, work = group.prepare_work(preparer, path)
        back_meta, back = pickle.loads(ForkingPickler.dumps((meta, work)))
        assert back_meta == meta
        if not isinstance(work, prepare.Prepared):
            assert type(back) is type(work) and str(back) == str(work)
            continue
        seen.add(work.facts.contract.source)
        a, b = work.batch, back.batch
        assert b.table.equals(a.table, check_metadata=True) and b.table.schema == a.table.schema
        assert [c.num_chunks for c in b.table.columns] == [c.num_chunks for c in a.table.columns]
        assert (b.columns, b.checks, b.cell_labels, b.any_unsplit) == (a.columns, a.checks, a.cell_labels,
                                                                       a.any_unsplit)
        assert back.facts == work.facts and back.facts.contract is load_contract(work.facts.contract.source)
        assert back.result == work.result
    assert seen == set(RAW_SOURCES)
    odd = dataclasses.replace(load_contract("claims"), description="a contract not shipped")
    again = pickle.loads(pickle.dumps(odd))
    assert again == odd and again is not odd and again != load_contract("claims")
