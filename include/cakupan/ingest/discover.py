"""Which inbox files to load, and when each was received.

Every look at an inbox file is kept in `audit.inbox_files` (path, size, modification time, and the bytes'
SHA-256 once read): a file's received time is the first look at its bytes, never the sender's modification time
(a zip keeps the times of the machine it was made on). A file changed less than the settle time ago
(`CAKUPAN_SETTLE_SECONDS`) is looked at again once it is that old; it is loaded only if it did not change (a copy
still under way is left for a later ingest). A path loaded before is hashed again only when its size or time
changed, so a rescan of a national inbox reads no file.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import duckdb

from cakupan.core.settings import Settings
from cakupan.ingest.inbox import Found, Meta, sha256_of, walk
from cakupan.targets.zones import insert_rows

DONE = "status not in ('interrupted', 'started', 'failed')"     # a load of these bytes at this path is not redone


def pending(con: duckdb.DuckDBPyConnection, settings: Settings,
            folders: list[str]) -> tuple[list[Path], list[tuple[Path, str, str]]]:
    """The entries of the given regency folders not yet processed (same path and bytes), in the order they were
    first seen (then modification time and path), and the files left for a later ingest (path, manifest path, why).
    Links out of the inbox and entries that are not files are listed once, for the loader to record unopened."""
    settle = settings.settle_seconds
    found = walk(settings.inbox, folders)
    done = set(con.execute(f"select source_file, file_sha256 from audit.loads where {DONE}").fetchall())
    loaded_paths = {p for (p,) in con.execute("select distinct source_file from audit.loads").fetchall()}
    looks = {(p, n, t): (sha, seen) for p, n, t, sha, seen in con.execute(
        "select source_file, file_size, mtime_ns, max(file_sha256), min(first_seen_at) from audit.inbox_files "
        "group by source_file, file_size, mtime_ns").fetchall()}
    now = dt.datetime.now()
    out, young, new_looks = [], [], []
    for f in found:
        if f.refusal is not None:
            if (f.rel, "") not in done:
                out.append((now, 0, f.rel, f.path))
            continue
        key = (f.rel, f.stamp.size, f.stamp.mtime_ns)
        sha, seen = looks.get(key, (None, None))
        if seen is None:
            seen = now
            new_looks.append((*key, None, now))
        if sha is None and f.rel in loaded_paths:      # this path was loaded before: are these its bytes?
            try:
                sha = sha256_of(f.path)
            except OSError:
                sha = ""
        if sha is not None and (f.rel, sha) in done:
            continue
        if time.time() - f.stamp.mtime_ns / 1e9 < settle and (now - seen).total_seconds() < settle:
            young.append((f, seen))
        else:
            out.append((seen, f.stamp.mtime_ns, f.rel, f.path))
    waiting = _settle(young, settle, new_looks, out)
    if new_looks:
        insert_rows(con, "audit.inbox_files", new_looks)
    return [path for *_, path in sorted(out)], waiting


def _settle(young: list[tuple[Found, dt.datetime]], settle: float, new_looks: list[tuple],
            out: list[tuple]) -> list[tuple[Path, str, str]]:
    """Look again at the files that changed less than the settle time ago, once they are that old (one wait for
    all, at most the settle time): the unchanged ones join `out`; the others wait (their new size and time are a
    look of their own)."""
    if not young:
        return []
    wall = time.time()
    time.sleep(min(settle, max(settle - (wall - f.stamp.mtime_ns / 1e9) for f, _ in young)))
    now, waiting = dt.datetime.now(), []
    for f, seen in young:
        try:
            st = os.stat(f.path)
        except OSError:
            continue                        # gone: nothing to load
        if (st.st_size, st.st_mtime_ns) == (f.stamp.size, f.stamp.mtime_ns):
            out.append((seen, f.stamp.mtime_ns, f.rel, f.path))
            continue
        new_looks.append((f.rel, st.st_size, st.st_mtime_ns, None, now))
        waiting.append((f.path, f.rel, f"it changed again within {settle:g} s"))
    return waiting


def received_at(con: duckdb.DuckDBPyConnection, rel: str, meta: Meta) -> dt.datetime:
    """When Cakupan first saw these bytes at this path (a look at the same size and time counts); a file never
    looked at before (named on the command line) is seen now. The look learns the bytes' SHA-256."""
    st = meta.stamp
    seen = con.execute("select min(first_seen_at) from audit.inbox_files where source_file = ? and "
                       "(file_sha256 = ? or (file_size = ? and mtime_ns = ?))",
                       [rel, meta.sha256, st.size, st.mtime_ns]).fetchone()[0]
    if seen is None:
        seen = dt.datetime.now()
        con.execute("insert into audit.inbox_files values (?, ?, ?, ?, ?)",
                    [rel, st.size, st.mtime_ns, meta.sha256, seen])
    else:
        con.execute("update audit.inbox_files set file_sha256 = ? where source_file = ? and file_size = ? and "
                    "mtime_ns = ? and file_sha256 is null", [meta.sha256, rel, st.size, st.mtime_ns])
    return seen
