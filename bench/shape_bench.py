"""Ingest of each register CSV shape (bench/shapes.py) beside its peers (bench/peers.py), in one run.

    python -m bench.shape_bench SOURCE_CSV --config CONFIG_DIR [--workdir var/bench/shapes] [--runs 3]

`make bench` runs this inside `bench.run` (the source is its 1,000,000-row CSV; the tables land in BENCHMARKS.md).
Run alone, it prints the tables (and the JSON to --workdir/shapes.json). Every loader of every shape runs `runs`
times, each in its own process; a table shows the median whole-process wall time (interpreter and imports
included, as a user times a command), that run's CPU time and the highest peak RSS of the runs.
The peers run from the bench-only venv (.venv-bench, `make bench` installs bench/requirements-peers.txt there);
bare DuckDB runs from the project venv, the DuckDB Cakupan uses.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
from pathlib import Path

from bench import shapes
from bench.run import ROOT, Bench, Scale

BENCH_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
REGENCY = "11.01"        # the folder the files are delivered in (its regency exists in every benchmark config)
LOADERS = ("duckdb", "duckdb_told", "polars", "dlt", "cakupan")
LABELS = {"duckdb": "DuckDB `read_csv`, all varchar", "duckdb_told": "DuckDB `read_csv`, told the dialect",
          "polars": "polars + validation → DuckDB",
          "dlt": "dlt filesystem + `read_csv_duckdb` (Arrow)", "cakupan": "**Cakupan ingest**"}
GOAL_RATIO, GOAL_RSS_MB_PER_M = 0.6, 600


def run_shapes(b: Bench, source: Path, config: Path, workdir: Path, runs: int = 3, profile: bool = True,
               peer_runs: int | None = None, peer_timeout: float = 600.0) -> dict:
    """Write the shapes from source, then time every loader on each (`runs` times; polars and dlt `peer_runs`
    times when given); return {shape: {...}}."""
    workdir.mkdir(parents=True, exist_ok=True)
    out: dict = {}
    peers_ok = BENCH_PYTHON.exists()
    if not peers_ok:
        b.say(f"{BENCH_PYTHON} is missing (make bench installs it): peers skipped")
    for shape in shapes.SHAPES:
        path = workdir / "files" / f"register_{shape}_2025-06.csv"
        if shape == "current":
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                os.link(source, path)
            with open(source, "rb") as f:
                rows = sum(1 for _ in f) - 1
        else:
            rows = shapes.write_shape(source, shape, path)
        dialect = shapes.csv_dialect(shape)
        res: dict = {"rows": rows, "mb": path.stat().st_size / 2**20, "loaders": {}}
        for loader in LOADERS:
            if loader in ("polars", "dlt") and not peers_ok or loader == "duckdb_told" and "read_csv" not in dialect:
                continue
            n = peer_runs if peer_runs is not None and loader in ("polars", "dlt") else runs
            res["loaders"][loader] = [_one(b, loader, shape, path, dialect, config, workdir, k, peer_timeout)
                                      for k in range(n)]
        if profile:
            res["profile"] = _profile(b, shape, path, config, workdir)
        out[shape] = res
    (workdir / "shapes.json").write_text(json.dumps(out, indent=1, default=str))
    return out


def _one(b: Bench, loader: str, shape: str, path: Path, dialect: dict, config: Path, workdir: Path, k: int,
         timeout: float) -> dict:
    label = f"shape_{shape}_{loader}_{k + 1}"
    db = workdir / "db" / f"{loader}.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    if loader == "cakupan":
        home = _fresh_home(workdir / "home", path)
        ph = b.phase("ingest_file", {"home": str(home), "config": str(config),
                                     "path": str(home / "inbox" / REGENCY / path.name)}, label)
    else:
        ph = b.phase(loader, {"path": str(path), "db": str(db), **dialect}, label, module="bench.peers",
                     python=sys.executable if loader.startswith("duckdb") else str(BENCH_PYTHON), timeout=timeout)
    return {"ok": ph.ok, "wall": ph.wall, "rss_mb": ph.rss_mb, "error": ph.error, **ph.result}


def _fresh_home(home: Path, path: Path) -> Path:
    shutil.rmtree(home, ignore_errors=True)
    dest = home / "inbox" / REGENCY / path.name
    dest.parent.mkdir(parents=True)
    os.link(path, dest)
    return home


def _profile(b: Bench, shape: str, path: Path, config: Path, workdir: Path) -> dict:
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        return {}
    home = _fresh_home(workdir / "home", path)
    out = workdir / "profiles" / f"ingest_{shape}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    ph = b.phase("profile", {"phase": "ingest_file", "out": str(out),
                             "args": {"home": str(home), "config": str(config),
                                      "path": str(home / "inbox" / REGENCY / path.name)}}, f"profile_shape_{shape}")
    return {**ph.result, "file": str(out)}


def summary(runs: list[dict]) -> dict | None:
    """The median run by wall time (its CPU), the highest peak RSS; None when a run failed."""
    if not runs or not all(r["ok"] for r in runs):
        return None
    walls = sorted(runs, key=lambda r: r["wall"])
    mid = walls[len(walls) // 2]
    return {"wall": statistics.median(r["wall"] for r in runs), "cpu": mid.get("cpu_s"), "best": walls[0]["wall"],
            "rss_mb": max(r["rss_mb"] for r in runs), "rows": mid.get("rows", mid.get("rows_loaded")),
            "rejected": mid.get("rejected", mid.get("rows_quarantined")), "runs": [round(r["wall"], 2) for r in runs]}


SHAPE_TITLES = {
    "current": "the benchmark's own CSV (`;`, UTF-8 with BOM, dd/mm/yyyy or yyyy-mm-dd by regency, \"Rp 16.800,00\")",
    "issue": "issue 22's shape (`;`, UTF-8 without BOM, births dd-mm-yyyy, TMT \"13 April 2025\", \"Rp 16.800\", "
             "11-digit KPJ)",
    "cp1252": "cp1252, `,` as delimiter, every field quoted",
    "styles": "dates and money in every style the parsers accept, rotating row by row",
    "excel_nik": ("`current` with each NIK of digits alone as Excel shows the number it made of it "
                  "(\"7,37201E+15\"): those rows set apart, each with its messages"),
    "pasted": ("`current` with what text pasted in from elsewhere leaves: a non-breaking space in a third of the "
               "villages, a quote typed inside 20 names, a NUL after 3, a carriage return alone in 4 "
               "sub-districts (each such row cut in two by it, as csv reads it, both halves set apart)"),
    "office": ("a payroll system's BPJS Ketenagakerjaan export layout: a title block, 19 upper-case columns, 8 of "
               "them none of the contract's (place of birth, address, phone, mother's name), \"16.800\", "
               "dd-mm-yyyy; lines ~1.7 × `current`'s"),
    "alt_enter": ("`office` with a line break typed (Alt+Enter) into every tenth row's address: those rows are "
                  "records of two lines, quoted"),
    "blank_rows": ("`current` as a sheet saved as CSV with its formatted empty rows: a line of delimiters alone after "
                   "every fourth row and a quarter as many again below the data (1.5 lines a row); peers read "
                   "those lines as rows of nulls, Cakupan skips them as blank rows"),
    "unique_nik": ("`current` with every participant a row of their own, as in one month's register (the source is a "
                   "year of monthly registers: 103k NIKs in 1M rows; here 1M)"),
    "comma": ("`current` saved by an English-locale Excel: `,`, only the cells holding a comma quoted "
              "(\"Rp 16.800,00\"), so most lines mix quoted and unquoted cells"),
    "database": ("a register exported by its database's tools (phpMyAdmin's CSV): `,`, every value quoted but the "
                 "bare NULLs of missing ones, births \"19850312\", DATETIME starts, DECIMAL contributions"),
}


def baseline(r: dict) -> tuple[dict | None, bool]:
    """The bare DuckDB run a shape's ratios are taken against: its sniffer's, or, when that failed on every run,
    the one told the dialect (`shapes.TOLD`); and whether it is the told one."""
    sniffed = summary(r["loaders"].get("duckdb", []))
    if sniffed is not None:
        return sniffed, False
    told = summary(r["loaders"].get("duckdb_told", []))
    return told, told is not None


def _cause(err: str) -> str:
    """The line of a failed run's output that says why (from its whole log, which the error names): the last
    exception line (`...Error: ...`), else its last line with a word in it."""
    log = re.match(r"exit -?\d+; see (\S+\.log): ", err)
    if log and Path(log[1]).exists():
        err = Path(log[1]).read_text(encoding="utf-8", errors="replace")
    lines = [x.strip() for x in err.splitlines() if re.search(r"[A-Za-z]{3}", x)]
    said = [x for x in lines if re.match(r"^[\w.]+(Error|Exception): ", x)]
    return (said or lines or ["?"])[-1].replace("|", "/")


def ceiling(base_wall: float, cpu_s: float, cpus: int) -> str:
    """What the CPU a run used allows: spread perfectly over the machine's CPUs from its first instruction to its
    last, it takes `cpu_s / cpus` of wall at least, so its ratio to `base_wall` is at most that; and the CPU it may
    use to reach the goal ratio."""
    best = base_wall / (cpu_s / cpus)
    allowed = base_wall / GOAL_RATIO * cpus
    return (f"Ceiling: Cakupan used {cpu_s:.1f} s of CPU; on this machine's {cpus} CPUs, kept all busy, that is "
            f"{cpu_s / cpus:.2f} s of wall at least, a ratio of at most {best:.2f}; {GOAL_RATIO} needs at most "
            f"{allowed:.1f} s of CPU ({(allowed - cpu_s) / cpu_s:+.0%}).")


def markdown(res: dict, cpus: int | None = None) -> list[str]:
    """One table per shape, then the goals met or not (ratios within this run) and what the CPU used allows
    (`ceiling`; `cpus`: the CPUs the run had, this process's by default)."""
    cpus = cpus or len(os.sched_getaffinity(0))
    runs = max((len(v) for r in res.values() for v in r["loaders"].values()), default=0)
    L = ["## Ingest by file shape, beside its peers", "",
         (f"Issue 22. The same generated participants in {len(res)} register CSV shapes (`bench/shapes.py`; the "
          "fifth a delivery gone wrong, whose every row a validating loader sets apart, the sixth what pasting from "
          "elsewhere leaves in a file, the seventh a payroll system's export layout, the eighth that layout with "
          "line breaks typed into cells, the ninth a sheet saved with its formatted empty rows); each loader "
         f"writes into a fresh DuckDB file and checkpoints it, in its own process, {runs} runs; median whole-process "
         "wall time (interpreter and imports included), that run's CPU time (user + system; the ratio by CPU "
         "time in brackets), the highest peak "
         "RSS of the runs (a loader's runs are listed; a peer may have fewer). Peers: `bench/peers.py` from `.venv-bench` (`bench/requirements-peers.txt`). "
         "polars validates NIK (16 digits once spaces, dots and dashes are dropped), dates and money in every "
         "style of the `styles` shape, required cells, and keeps the rest apart (it keeps the rows Cakupan "
         "keeps: every row of the first four shapes, those whose NIK Excel left as text in `excel_nik`); bare DuckDB and dlt (Arrow batches) check nothing. Where DuckDB's sniffer fails on a shape, DuckDB is also "
         "run told the dialect (`bench/shapes.py` TOLD: what its error leads a user to give) and the ratios are "
         "taken against that run. Goals: ≥ 0.6 of bare DuckDB, "
         "peak RSS < 600 MB per 1 M rows."), ""]
    for shape, r in res.items():
        base, told = baseline(r)
        L += [f"### {shape}: {SHAPE_TITLES.get(shape, shape)}", "",
              f"{r['rows']:,} rows, {r['mb']:.0f} MB.", "",
              "| loader | median wall s (runs) | ratio to bare DuckDB | CPU s | peak RSS MB | rows kept / set apart |",
              "|---|---|---|---|---|---|"]
        for loader in LOADERS:
            s = summary(r["loaders"].get(loader, []))
            if s is None:
                if loader in r["loaders"]:
                    err = next((x.get("error") for x in r["loaders"][loader] if not x["ok"]), "") or ""
                    why = ("did not finish within its timeout (killed)" if err.startswith("exit -9")
                           else f"failed: {_cause(err)[:120]}")
                    L.append(f"| {LABELS[loader]} | {why} | | | | |")
                continue
            ratio = f"{base['wall'] / s['wall']:.2f} ({base['cpu'] / s['cpu']:.2f})" if base else "—"
            kept = f"{s['rows']:,}" if isinstance(s.get("rows"), int) else "?"
            apart = f" / {s['rejected']:,}" if isinstance(s.get("rejected"), int) else ""
            L.append(f"| {LABELS[loader]} | {s['wall']:.2f} ({', '.join(map(str, s['runs']))}) | "
                     f"{'**' + ratio + '**' if loader == 'cakupan' else ratio} | {s['cpu']:.1f} | "
                     f"{s['rss_mb']:,.0f} | {kept}{apart} |")
        c = summary(r["loaders"].get("cakupan", []))
        if c and base:
            per_m = c["rss_mb"] / (r["rows"] / 1e6)
            L += ["", (f"Goals: ratio {base['wall'] / c['wall']:.2f}"
                      f"{' (against DuckDB told the dialect: its sniffer fails on this shape)' if told else ''} "
                      f"({'met' if base['wall'] / c['wall'] >= GOAL_RATIO else 'not met'}, ≥ {GOAL_RATIO}); "
                      f"peak RSS {per_m:,.0f} MB per 1 M rows "
                      f"({'met' if per_m < GOAL_RSS_MB_PER_M else 'not met'}, < {GOAL_RSS_MB_PER_M}). "
                      + ceiling(base["wall"], c["cpu"], cpus))]
        top = (r.get("profile") or {}).get("top") or []
        if top:
            L += ["", (f"Profile of Cakupan's ingest of this shape (pyinstrument, one run, "
                      f"{r['profile'].get('seconds') or 0:.1f} s in-process; inclusive time of the project's "
                      "functions):"), "", "| function | s | share |", "|---|---|---|"]
            L += [f"| `{t['function']}` | {t['seconds']} | {t['share']:.0%} |" for t in top
                  if not t["function"].endswith(":<module>")][:10]
        L.append("")
    return L


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path)
    ap.add_argument("--config", type=Path, help="a config folder with regency 11.01 (default: one is written)")
    ap.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench" / "shapes")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--peer-runs", type=int, help="runs of polars and dlt (default: --runs)")
    ap.add_argument("--peer-timeout", type=float, default=600.0)
    ap.add_argument("--shapes", default=",".join(shapes.SHAPES))
    ap.add_argument("--loaders", default="duckdb,polars,dlt,cakupan")
    ap.add_argument("--no-profile", action="store_true")
    a = ap.parse_args(argv)
    global LOADERS
    shapes.SHAPES, LOADERS = tuple(a.shapes.split(",")), tuple(a.loaders.split(","))
    b = Bench(a.workdir, Scale("shapes", 1, 1, 1, 0, 0, 0, 0))
    if a.config is None:
        from bench import data

        a.config = data.make_config(a.workdir / "config", [REGENCY])
    res = run_shapes(b, a.source, a.config, a.workdir, a.runs, profile=not a.no_profile, peer_runs=a.peer_runs,
                     peer_timeout=a.peer_timeout)
    print("\n".join(markdown(res)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
