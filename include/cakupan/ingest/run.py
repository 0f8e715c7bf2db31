"""Ingest many files: one writer (`loader.Loader`), and with many files reader processes that read and validate
the next files (`prepare.Preparer`) while the writer writes the current one. The files are written in the same
order, with the same rows, counts and messages, either way (tests/ingest/test_reader_processes.py)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from cakupan.core.settings import Settings
from cakupan.ingest import group
from cakupan.ingest.inbox import in_inbox, leads_out, manifest_path, walk_folder
from cakupan.ingest.loader import Loader, LoadResult, ReaderWork
from cakupan.ingest.prepare import Preparer

READER_PROCESSES = 2            # reader processes beside the writer (reading and validating is most of a load)
READERS_MIN_FILES = 40          # fewer files are not worth starting them
READERS_MAX_FILE_BYTES = 16 << 20   # a bigger file is read by the writer itself (no copy of a big table)
READ_AHEAD = 80                 # files read ahead of the writer (more than a group: the next is read while one
                                # is written), as long as they hold at most READ_AHEAD_BYTES
READ_AHEAD_BYTES = 64 << 20
WINDOW_BYTES = 32 << 20         # files handed to the writer at once (`group.load_many`): at most GROUP_MAX_FILES
READ_CHUNK = 8                  # consecutive files one reader reads in one task: a regency's next file mostly holds
READ_CHUNK_BYTES = 4 << 20      # values the reader's memos have just seen (dealt one by one, each reader saw every
                                # other file: ~4 ms a file more); a chunk holds at most this many bytes (or one file)

READER_GC_YOUNG = 7000          # a reader's first collector threshold (Python's is 700): 0.4 -> 0.03 ms a file

_reader: Preparer | None = None     # in a reader process: its Preparer (set by the pool's initializer)


def ingest_paths(settings: Settings, paths: list[Path] | None = None, run_id: str | None = None) -> list[LoadResult]:
    """Load the given files and folders (or every pending inbox file); one file's failure never stops the others.
    Files left for a later ingest (still changing) come last, with status 'waiting'."""
    loader = Loader(settings, run_id=run_id)
    try:
        files = []
        for p in paths or []:
            p = Path(p)
            within = not in_inbox(manifest_path(p, settings.inbox)) or not leads_out(p, settings.inbox)
            files.extend([f.path for f in walk_folder(p, settings.inbox)] if p.is_dir() and within else [p])
        if paths is None:
            files = loader.pending_files()
        if len(files) < READERS_MIN_FILES or READER_PROCESSES < 1 or not hasattr(os, "fork"):
            results = []
            for window in _windows(files):
                results += group.load_many(loader, [(f, None) for f in window])
        else:
            results = _load_with_readers(loader, settings, files)
        return results + loader.waiting
    finally:
        loader.con.close()


def _start_reader(settings: Settings) -> None:
    """A reader's start. SIGTERM ends it as the default does, whatever handler the writer had: when a reader dies
    the pool ends the others with SIGTERM and waits for them, and a handler inherited through the fork (Airflow's
    task runner returns from its own in a forked child; one that raises SystemExit is caught by the pool's worker
    loop) left a reader alive, blocked writing a result nobody reads, and the ingest waiting for it for ever. Ctrl-C
    is the writer's to handle (it ends the pool)."""
    global _reader
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.freeze()         # what the writer held at the fork: never walked by the collector (nor its pages copied)
    # young collections seldom: the collection before each chunk (`_prepare_in_reader`) finds what a file left
    gc.set_threshold(READER_GC_YOUNG, *gc.get_threshold()[1:])
    _reader = Preparer(settings)


def _prepare_in_reader(paths: list[str]) -> list[ReaderWork | None]:
    """Read each file's bytes once, check and validate them in a reader process (`group.prepare_work`), in order:
    the bytes' SHA-256 and stamp with the result, or (None, why nothing was read). A file-level rejection is handed
    to the writer, which records it as its own; any other error gives None: the writer then reads the file itself
    and meets (and logs) the error where it always does.

    What the chunks before left is collected, and what outlived them (the memos' new entries, mostly) is set aside
    (`gc.freeze`): a full collection walks every object it tracks, and the memos grow for the whole ingest (over
    half a national inbox, a reader spent 2 ms a file in the collector, most in ~30 full collections).

    The collection is a young one (generations 0 and 1, where everything since the last freeze is) unless the
    collector moved something older: a full collection also untracks every dict holding only atoms (a memo of texts
    and tuples of texts: the NIK memo, a cache's own dict), the memo's next entry tracks it again as new, and the
    next collection walks it whole — 1.2 ms a file over a national inbox, growing with the memos, as they were never
    frozen. A dict a young collection met is frozen tracked, and never walked again."""
    gc.collect(2 if gc.get_objects(2) else 1)
    gc.freeze()
    return [group.prepare_work(_reader, Path(p)) for p in paths]


def _size(path: Path) -> int | None:
    """The file's size, None for one too big for a reader (or not to be stat'ed: the writer meets that itself)."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    return size if size <= READERS_MAX_FILE_BYTES else None


def _chunks(sizes: list[int | None]) -> list[list[int]]:
    """The files a reader reads, as runs of consecutive indexes (at most READ_CHUNK files and READ_CHUNK_BYTES, or
    one file); a file too big for a reader (size None) is in none."""
    chunks: list[list[int]] = []
    run: list[int] = []
    run_bytes = 0
    for j, n in enumerate(sizes):
        if run and (n is None or len(run) >= READ_CHUNK or run_bytes + n > READ_CHUNK_BYTES):
            chunks.append(run)
            run, run_bytes = [], 0
        if n is not None:
            run.append(j)
            run_bytes += n
    if run:
        chunks.append(run)
    return chunks


def _windows(files: list[Path]):
    """The files in order, cut into windows of at most GROUP_MAX_FILES files and WINDOW_BYTES (what
    `group.load_many` holds read at once)."""
    window, size = [], 0
    for f in files:
        n = _size(f) or 0
        if window and (len(window) >= group.GROUP_MAX_FILES or size + n > WINDOW_BYTES):
            yield window
            window, size = [], 0
        window.append(f)
        size += n
    if window:
        yield window


def _load_with_readers(loader: Loader, settings: Settings, files: list[Path]) -> list[LoadResult]:
    results: list[LoadResult] = []
    sizes = [_size(f) for f in files]
    chunks = _chunks(sizes)
    chunk_of = {j: k for k, c in enumerate(chunks) for j in c}
    ahead: dict[int, Future] = {}                   # chunk -> its reader's work, submitted and not all taken
    got: dict[int, list[ReaderWork | None]] = {}    # chunk -> what its reader gave (None: the reader died)
    submitted = 0                                   # chunks submitted (in order)
    ahead_bytes = window_bytes = 0      # bytes read ahead and not yet taken; bytes in the window
    # The readers are forked while this process has no database open (no DuckDB threads to copy mid-work);
    # a fork pool starts all its processes at the first task.
    loader.con.close()
    with ProcessPoolExecutor(READER_PROCESSES, mp_context=multiprocessing.get_context("fork"),
                             initializer=_start_reader, initargs=(settings,)) as pool:
        pool.submit(int).result()
        loader.reconnect()
        usable = True
        window: list[tuple[Path, ReaderWork | None]] = []
        for i, path in enumerate(files):
            while submitted < len(chunks) and chunks[submitted][0] < i:     # passed unsubmitted: read here
                submitted += 1
            while usable and submitted < len(chunks) and chunks[submitted][0] < i + READ_AHEAD:
                n = sum(sizes[j] for j in chunks[submitted])
                if ahead and ahead_bytes + n > READ_AHEAD_BYTES:
                    break
                try:
                    ahead[submitted] = pool.submit(_prepare_in_reader, [str(files[j]) for j in chunks[submitted]])
                except RuntimeError:     # the pool broke (a reader died): read the rest here
                    usable = False
                    break
                ahead_bytes += n
                submitted += 1
            prepared = None
            k = chunk_of.get(i)
            if k in ahead:
                if k not in got:
                    try:
                        got[k] = ahead[k].result()
                    except Exception:  # noqa: BLE001 - a reader died on these files: read them here, with the usual guards
                        got[k] = [None] * len(chunks[k])
                prepared = got[k][chunks[k].index(i)]
                ahead_bytes -= sizes[i]
                window_bytes += sizes[i]
                if i == chunks[k][-1]:
                    del ahead[k], got[k]
            window.append((path, prepared))
            if len(window) >= group.GROUP_MAX_FILES or window_bytes >= WINDOW_BYTES or i == len(files) - 1:
                # what the readers left unread (a big file, a reader's error) is read by `Loader.load` itself
                results += group.load_many(loader, window, read_here=False)
                window, window_bytes = [], 0
    return results


def load_batch(settings: Settings, paths: list[str], run_id: str | None = None) -> dict:
    """Load one batch of files (the Airflow ingest DAG maps over batches): each file still gets its own manifest
    row, reason codes and isolation, so one bad file never fails its batch. Returns a small summary (an XCom):
    files per status, rows loaded per source, and the files not loaded with their reason code."""
    results = ingest_paths(settings, [Path(p) for p in paths], run_id=run_id)
    summary: dict = {"files": len(results), "status": {}, "rows_loaded": {}, "rows_quarantined": 0, "not_loaded": []}
    for r in results:
        summary["status"][r.status] = summary["status"].get(r.status, 0) + 1
        summary["rows_quarantined"] += r.rows_quarantined or 0
        if r.status == "loaded" and r.source:
            summary["rows_loaded"][r.source] = summary["rows_loaded"].get(r.source, 0) + (r.rows_loaded or 0)
        elif r.status not in ("loaded", "already_processed"):
            summary["not_loaded"].append([Path(r.file).name, r.status, r.error_code])
    return summary
