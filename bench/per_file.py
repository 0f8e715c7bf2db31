"""What each small file costs the loader: `python -m bench.per_file [--regencies N] [--workdir DIR]`.

Writes a national-style inbox slice (the benchmark's generator: registers CSV + XLSX and contributions from
`cakupan_dev.synth`, claims and city reports from `bench.data`, 160 workers, 12 months), ingests it once into a
fresh warehouse in this process, as `cakupan ingest` does (reader processes included), and prints the writer's
milliseconds per file by step, the DuckDB statements it ran per file, and the CPU per file of the writer and of
the reader processes. The inbox is kept in the work folder and reused by the next run (same seed, same files); the
warehouse is made afresh every time.
"""

from __future__ import annotations

import argparse
import collections
import functools
import gc
import json
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (module, class or None, function): the writer's steps timed (cumulative: a step inside another counts in both)
STEPS = [
    ("cakupan.ingest.discover", None, "received_at"),
    ("cakupan.ingest.loader", "Loader", "_start"),
    ("cakupan.ingest.loader", "Loader", "_insert"),
    ("cakupan.ingest.loader", "Loader", "_quarantine"),
    ("cakupan.ingest.loader", "Loader", "_complete"),
    ("cakupan.ingest.group", None, "_write_group"),
    ("cakupan.ingest.group", None, "_start_group"),
    ("cakupan.ingest.group", None, "_insert_group"),
    ("cakupan.ingest.prepare", "Preparer", "prepare"),
]


class _Counting:
    """A DuckDB connection that counts the statements run through it (execute, executemany, register)."""

    def __init__(self, con, counts: collections.Counter):
        self._con, self._counts = con, counts

    def execute(self, *a, **k):
        self._counts["statements"] += 1
        t = time.perf_counter()
        try:
            self._con.execute(*a, **k)
        finally:
            self._counts["ms:" + " ".join(str(a[0]).split()[:3])] += 1000 * (time.perf_counter() - t)
        return self

    def executemany(self, *a, **k):
        self._counts["statements"] += 1
        self._con.executemany(*a, **k)
        return self

    def register(self, *a, **k):
        self._counts["registers"] += 1
        return self._con.register(*a, **k)

    def __getattr__(self, name):
        return getattr(self._con, name)


def _instrument(counts: collections.Counter, times: collections.Counter) -> None:
    import importlib

    from cakupan.ingest import loader

    for mod, cls, fn in STEPS:
        try:
            owner = importlib.import_module(mod)
        except ImportError:         # an older tree (the probe measures the code on the path)
            continue
        owner = getattr(owner, cls) if cls else owner
        real = getattr(owner, fn, None)
        if real is None:
            continue

        def timed(*a, __real=real, __name=fn, **k):
            t = time.perf_counter()
            try:
                return __real(*a, **k)
            finally:
                times[__name] += time.perf_counter() - t
        setattr(owner, fn, functools.wraps(real)(timed))
        if mod == "cakupan.ingest.discover":
            loader.discover.received_at = getattr(owner, fn)
    real_writer = loader.Loader._writer

    def counted_writer(self, writer=None):
        real_writer(self, writer)
        w = self.writer
        w.con = _Counting(w.con, counts)
        w.stage = w.con if w.stage is getattr(w.con, "_con", None) else w.stage
        self.con, self.stage = w.con, w.stage
    loader.Loader._writer = counted_writer


def make_inbox(workdir: Path, regencies: int, workers: int = 160) -> tuple[Path, Path]:
    """The benchmark's inbox for the first `regencies` regency codes, `workers` workers each (kept: a second run
    with the same two reuses it)."""
    from bench import data

    inbox, cfg = workdir / "inbox", workdir / "config"
    done = workdir / "inbox.done"
    if done.exists() and done.read_text() == f"{regencies} {workers}":
        return inbox, cfg
    if inbox.exists():
        shutil.rmtree(inbox)
    codes = data.all_regency_codes()[:regencies]
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    data.make_config(cfg, codes)
    data.synth_inbox(inbox, codes, months, workers, seed=1, formats=("csv", "xlsx"),
                     scenarios=("late_payment", "partial_payment", "correction", "duplicate_worker", "bad_rows"))
    data.extra_sources(inbox, codes, months)
    done.write_text(f"{regencies} {workers}")
    return inbox, cfg


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _gc_timer() -> tuple[collections.Counter, object]:
    """CPU seconds ("s") this process spends in the cycle collector from now on, and its collections ("n"); and the
    callback that counts them (to remove)."""
    spent: collections.Counter = collections.Counter()
    started = [0.0]

    def callback(phase, info):
        if phase == "start":
            started[0] = time.process_time()
        else:
            spent["s"] += time.process_time() - started[0]
            spent["n"] += 1
    gc.callbacks.append(callback)
    return spent, callback


def measure(workdir: Path, regencies: int, readers: bool = True, workers: int = 160) -> dict:
    from cakupan.core.settings import Settings
    from cakupan.ingest import run

    inbox, cfg = make_inbox(workdir, regencies, workers)
    home = workdir / "home"
    if home.exists():
        shutil.rmtree(home)
    home.mkdir()
    (home / "inbox").symlink_to(inbox.resolve())
    s = Settings.from_env(home=home, pseudonym_key="bench-only-key", config_dir=cfg)
    s.ensure_dirs()
    from cakupan.targets.zones import connect_work
    connect_work(s).close()
    counts, times = collections.Counter(), collections.Counter()
    _instrument(counts, times)
    if not readers:
        run.READER_PROCESSES = 0
    gc_spent, gc_callback = _gc_timer()
    t, own, readers = time.perf_counter(), _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    try:
        results = run.ingest_paths(s, None, run_id="per_file")
    finally:
        gc.callbacks.remove(gc_callback)
    wall = time.perf_counter() - t
    own, readers = _cpu(resource.RUSAGE_SELF) - own, _cpu(resource.RUSAGE_CHILDREN) - readers
    n = len(results)
    status = collections.Counter(r.status for r in results)
    return {"files": n, "status": dict(status), "wall_s": round(wall, 2), "ms_per_file": round(1000 * wall / n, 2),
            "statements_per_file": round(counts["statements"] / n, 2),
            "registers_per_file": round(counts["registers"] / n, 2),
            "statement_ms_per_file": {k[3:]: round(v / n, 2) for k, v in counts.most_common() if k.startswith("ms:")},
            "steps_ms_per_file": {k: round(1000 * v / n, 2) for k, v in sorted(times.items(), key=lambda kv: -kv[1])},
            "rows_in": sum(r.rows_in or 0 for r in results),
            # CPU per file: this process (the writer, DuckDB's threads included) and the reader processes (ended
            # with the pool, so counted as this process's children)
            "writer_cpu_ms_per_file": round(1000 * own / n, 2), "readers_cpu_ms_per_file": round(1000 * readers / n, 2),
            # the writer's CPU in Python's cycle collector (a full collection walks every object the process holds)
            "writer_gc_ms_per_file": round(1000 * gc_spent["s"] / n, 2), "writer_gc_collections": gc_spent["n"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--regencies", type=int, default=20, help="regency folders (about 15 files each)")
    ap.add_argument("--workdir", type=Path, default=ROOT / "var" / "per_file")
    ap.add_argument("--workers", type=int, default=160, help="workers a regency (rows a register file)")
    ap.add_argument("--no-readers", action="store_true", help="the writer reads every file itself")
    a = ap.parse_args(argv)
    a.workdir.mkdir(parents=True, exist_ok=True)
    out = measure(a.workdir.resolve(), a.regencies, readers=not a.no_readers, workers=a.workers)
    try:
        out["load_average"] = float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError):
        pass
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
