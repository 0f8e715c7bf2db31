"""How to store the publish history (issue 21): whole DuckDB files, Parquet per mart per publish, or changed rows only,
and Cakupan's store as built (`targets.changes`: row versions of every state, plus the newest 5 whole files).

    python -m bench.history_storage [--regencies N|all] [--workers 160] [--monthly 12] [--daily 30]
                                    [--workdir var/bench-history]
                                    [--out bench/history_storage.md]

Real publishes: a synthetic inbox of N regencies × 12 months is delivered month by month (one publish per month,
`--monthly`), then one small delivery per day (a corrected register of one regency: one worker fewer, `--daily`).
Every publish is the real chain (ingest, dbt build, gate, publish); each published file is kept (the history's own
hard links). Then each storage option is built from those files and measured: bytes on disk, and the time to read
one past state's coverage table (the `cakupan coverage --as-of` query) — the middle state, best of 3. For the store
as built, the read is what `--as-of` of a compacted state costs the first time: the state rebuilt from the store
into a DuckDB file, every table's row count and digest checked, then its coverage read (later reads use the cache).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-only-pseudonym-key"
COVERAGE = "select * from {src} order by regency_code, month_start"


def _du(paths) -> int:
    return sum(p.stat().st_size for p in paths)


def _best(fn, n: int = 3) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def publishes(work: Path, regencies: str, monthly: int, daily: int, workers: int = 160) -> list[Path]:
    """Run the real chain once per delivery; return the published files, oldest first."""
    from cakupan import pipeline
    from cakupan.core.settings import Settings
    from cakupan.targets import history

    from bench.data import all_regency_codes, make_config, synth_inbox

    codes = all_regency_codes() if regencies == "all" else all_regency_codes()[:int(regencies)]
    months = [f"2025-{m:02d}" for m in range(1, monthly + 1)]
    if work.exists():
        shutil.rmtree(work)
    staged = work / "staged"
    synth_inbox(staged, codes, months, workers, formats=("csv", "xlsx"))   # the national bench's inbox
    os.environ.update({"CAKUPAN_PSEUDONYM_KEY": KEY, "CAKUPAN_HISTORY_KEEP": "1000", "CAKUPAN_HISTORY_FILES": "1000"})
    s = Settings.from_env(home=work / "home", config_dir=make_config(work / "config", codes))
    for i, month in enumerate(months):           # month by month: each month's files, then a publish
        for f in staged.rglob(f"*_{month}*"):
            dest = s.inbox / f.relative_to(staged)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(f, dest)
        out = pipeline.run_all(s, run_id=f"monthly-{i + 1:02d}")
        print(f"monthly {month}: published={out.published}", file=sys.stderr, flush=True)
    last = months[-1]
    csvs = sorted(p for p in s.inbox.rglob(f"register_*_{last}.csv"))
    for d in range(daily):                       # a corrected register per day: one worker fewer
        src = csvs[d % len(csvs)]
        fix = src.with_name(f"{src.stem}_koreksi{d + 1}.csv")
        with open(src, encoding="utf-8-sig", newline="") as fh:
            text = fh.read().splitlines()
        fix.write_text("\n".join(text[:-(1 + d // len(csvs))]) + "\n", encoding="utf-8")
        out = pipeline.run_all(s, run_id=f"daily-{d + 1:02d}")
        print(f"daily {d + 1}: published={out.published}", file=sys.stderr, flush=True)
    return [e.path for e in history.entries(s) if e.kept]


def measure(files: list[Path], scratch: Path) -> list[dict]:
    """Bytes and read time of each storage option for these published states."""
    results = []
    mid = len(files) // 2
    # 1. whole DuckDB files (the published files themselves)
    results.append({"option": "whole DuckDB files (hard links of the published files)", "bytes": _du(files),
                    "read_s": _best(lambda: _read_duckdb(files[mid]))})
    # 2. Parquet per mart per publish (zstd)
    pq = scratch / "parquet"
    if pq.exists():
        shutil.rmtree(pq)
    t = time.perf_counter()
    for i, f in enumerate(files):
        with duckdb.connect(str(f), read_only=True) as con:
            for schema, table in con.execute("select table_schema, table_name from information_schema.tables "
                                             "where table_schema in ('marts', 'audit')").fetchall():
                out = pq / f"{i:03d}" / f"{schema}.{table}.parquet"
                out.parent.mkdir(parents=True, exist_ok=True)
                con.execute(f"copy {schema}.{table} to '{out}' (format parquet, compression zstd)")
    write_pq = time.perf_counter() - t
    results.append({"option": "Parquet per table per publish (zstd): marts and audit tables", "bytes": _du(pq.rglob("*.parquet")),
                    "read_s": _best(lambda: _read_parquet(pq / f"{mid:03d}" / "marts.mart_coverage_monthly.parquet")),
                    "write_s": write_pq})
    # 3. changed rows only: each mart's rows that are new in a publish, and the rows it dropped (by row hash)
    ch = scratch / "changes.duckdb"
    ch.unlink(missing_ok=True)
    t = time.perf_counter()
    with duckdb.connect(str(ch)) as con:
        for i, f in enumerate(files):
            con.execute(f"attach '{f}' as cur (read_only)")
            if i:
                con.execute(f"attach '{files[i - 1]}' as prev (read_only)")
            for schema, table in con.execute("select table_schema, table_name from information_schema.tables "
                                             "where table_catalog = 'cur' and table_schema in ('marts', 'audit')"
                                             ).fetchall():
                name, src = f"c_{schema}_{table}", f"{schema}.{table}"
                have = con.execute("select count(*) from information_schema.tables where table_catalog = 'changes' "
                                   "and table_name = ?", [name]).fetchone()[0]
                if not have:
                    con.execute(f"create table {name} as select {i} as publish, true as added, hash(t) as h, t.* "
                                f"from cur.{src} t")
                    continue
                # a column a later publish added (a mart gains an additive column): the change table gains it too
                have_cols = {r[0] for r in con.execute(f"describe {name}").fetchall()}
                for col, typ in con.execute(f"select column_name, data_type from information_schema.columns "
                                            f"where table_catalog = 'cur' and table_schema = '{schema}' and "
                                            f"table_name = '{table}'").fetchall():
                    if col not in have_cols:
                        con.execute(f'alter table {name} add column "{col}" {typ}')
                con.execute(f"insert into {name} by name select {i} as publish, true as added, hash(t) as h, t.* "
                            f"from cur.{src} t where hash(t) not in (select hash(p) from prev.{src} p)")
                con.execute(f"insert into {name} by name select {i} as publish, false as added, hash(p) as h, p.* "
                            f"from prev.{src} p where hash(p) not in (select hash(t) from cur.{src} t)")
            con.execute("detach cur")
            if i:
                con.execute("detach prev")
        con.execute("checkpoint")
    write_ch = time.perf_counter() - t
    results.append({"option": "changed rows only (one DuckDB file: rows added and dropped per publish, marts and audit tables)",
                    "bytes": ch.stat().st_size, "read_s": _best(lambda: _read_changes(ch, mid)),
                    "write_s": write_ch})
    results.append(_store_as_built(files, scratch / "store", mid))
    return results


def _store_as_built(files: list[Path], folder: Path, mid: int, whole: int = 5) -> dict:
    """Cakupan's history store: every state appended as the history appends it (`targets.changes.append`, in
    published order), plus the newest `whole` files the history keeps (CAKUPAN_HISTORY_FILES, default 5)."""
    from cakupan.targets import changes

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    per = []
    for f in files:
        t = time.perf_counter()
        changes.append(folder, f.stem, f.stem, f)
        per.append(time.perf_counter() - t)
    out = folder / "rebuilt.duckdb"

    def read() -> None:      # `--as-of` of a compacted state, first time: rebuild (checked), then the query
        changes.rebuild(folder, files[mid].stem, out)
        _read_duckdb(out)
        out.unlink()

    store = changes.store_path(folder).stat().st_size
    return {"option": f"Cakupan's store as built: changes.duckdb ({store / 1e3:,.0f} kB, every state) + the newest "
                      f"{whole} whole files; read = rebuild of the state from the store, checked, then the query",
            "bytes": store + _du(files[-whole:]), "read_s": _best(read), "write_s": sum(per),
            "append_max_s": max(per)}


def _read_duckdb(path: Path) -> None:
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute(COVERAGE.format(src="marts.mart_coverage_monthly")).fetchall()


def _read_parquet(path: Path) -> None:
    with duckdb.connect() as con:
        con.execute(COVERAGE.format(src=f"read_parquet('{path}')")).fetchall()


def _read_changes(path: Path, k: int) -> None:
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute(f"select * exclude (publish, added, h) from (select *, row_number() over (partition by h "
                    f"order by publish desc) as rn from c_marts_mart_coverage_monthly where publish <= {k}) "
                    "where rn = 1 and added order by regency_code, month_start").fetchall()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--regencies", default="20")
    ap.add_argument("--workers", type=int, default=160, help="workers per regency (the national bench: 160)")
    ap.add_argument("--monthly", type=int, default=12)
    ap.add_argument("--daily", type=int, default=30)
    ap.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-history")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "history_storage.md")
    ap.add_argument("--measure-only", action="store_true", help="measure the states already in --workdir")
    a = ap.parse_args(argv)
    t = time.perf_counter()
    if a.measure_only:   # the states an earlier (maybe interrupted) run published
        from cakupan.core.settings import Settings
        from cakupan.targets import history

        files = [e.path for e in history.entries(Settings.from_env(home=a.workdir / "home")) if e.kept]
    else:
        files = publishes(a.workdir, a.regencies, a.monthly, a.daily, a.workers)
    chain = time.perf_counter() - t
    res = measure(files, a.workdir / "storage")
    last = files[-1].stat().st_size
    lines = ["## Publish history storage", "",
             (f"Written by `python -m bench.history_storage --regencies {a.regencies} --monthly {a.monthly} "
              f"--daily {a.daily} --workers {a.workers}` on {dt.date.today()} (not by `make bench`; the choice is argued in the README, "
              "Publish history)."), "",
             (f"{len(files)} real publishes (monthly deliveries, then daily corrections) of {a.regencies} "
             f"regencies{'' if a.measure_only else f' in {chain:.0f} s'}; the last published file is {last / 1e6:.1f} MB. Read = the coverage "
             "table of the middle state (best of 3)."), "",
             "| option | bytes on disk | × one published file | read one past coverage table | build |",
             "|---|---|---|---|---|"]
    for r in res:
        build = "0 at publish (a hard link)" if "write_s" not in r else f"{r['write_s']:.1f} s for all states"
        if "append_max_s" in r:
            build += f" (at most {r['append_max_s']:.1f} s per publish)"
        lines.append(f"| {r['option']} | {r['bytes'] / 1e3:,.0f} kB | {r['bytes'] / last:.2f} | "
                     f"{r['read_s'] * 1000:.0f} ms | {build} |")
    a.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
