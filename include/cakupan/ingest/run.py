"""Ingest many files: one writer (`loader.Loader`), and with many files reader processes that read and validate
the next files (`prepare.Preparer`) while the writer writes the current one. The files are written in the same
order, with the same rows, counts and messages, either way (tests/ingest/test_reader_processes.py)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from cakupan.core.settings import Settings
from cakupan.ingest.inbox import FileChanging, in_inbox, leads_out, manifest_path, read_delivery, walk_folder
from cakupan.ingest.loader import Loader, LoadResult, ReaderWork
from cakupan.ingest.prepare import Preparer
from cakupan.ingest.readers import FileRejected

READER_PROCESSES = 2            # reader processes beside the writer (reading and validating is most of a load)
READERS_MIN_FILES = 40          # fewer files are not worth starting them
READERS_MAX_FILE_BYTES = 16 << 20   # a bigger file is read by the writer itself (no copy of a big table)
READ_AHEAD = 8                  # files read ahead of the writer

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
            results = [loader.load(f) for f in files]
        else:
            results = _load_with_readers(loader, settings, files)
        return results + loader.waiting
    finally:
        loader.con.close()


def _start_reader(settings: Settings) -> None:
    global _reader
    _reader = Preparer(settings)


def _prepare_in_reader(path: str) -> ReaderWork | None:
    """Read a file's bytes once, check and validate them in a reader process: the bytes' SHA-256 and stamp with
    the result, or (None, why nothing was read). A file-level rejection is handed to the writer, which records it
    as its own; any other error gives None: the writer then reads the file itself and meets (and logs) the error
    where it always does."""
    try:
        delivery = read_delivery(Path(path), _reader.settings.inbox)
    except (FileRejected, FileChanging) as exc:
        return None, exc
    except Exception:  # noqa: BLE001
        return None
    meta = delivery.meta
    try:
        return meta, _reader.prepare(Path(path), delivery.data)
    except FileRejected as exc:
        return meta, exc
    except Exception:  # noqa: BLE001
        return None


def _small(path: Path) -> bool:
    try:
        return path.stat().st_size <= READERS_MAX_FILE_BYTES
    except OSError:
        return False


def _load_with_readers(loader: Loader, settings: Settings, files: list[Path]) -> list[LoadResult]:
    results: list[LoadResult] = []
    ahead: dict[int, Future] = {}
    # The readers are forked while this process has no database open (no DuckDB threads to copy mid-work);
    # a fork pool starts all its processes at the first task.
    loader.con.close()
    with ProcessPoolExecutor(READER_PROCESSES, mp_context=multiprocessing.get_context("fork"),
                             initializer=_start_reader, initargs=(settings,)) as pool:
        pool.submit(int).result()
        loader.reconnect()
        usable = True
        for i, path in enumerate(files):
            for j in range(i, min(len(files), i + READ_AHEAD)):
                if usable and j not in ahead and _small(files[j]):
                    try:
                        ahead[j] = pool.submit(_prepare_in_reader, str(files[j]))
                    except RuntimeError:     # the pool broke (a reader died): read the rest here
                        usable = False
            prepared = None
            if i in ahead:
                try:
                    prepared = ahead.pop(i).result()
                except Exception:  # noqa: BLE001 - a reader died on this file: read it here, with the usual guards
                    prepared = None
            results.append(loader.load(path, prepared))
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
