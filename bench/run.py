"""`make bench`: the national-scale benchmark; writes BENCHMARKS.md from this run's measurements.

    python -m bench.run --out BENCHMARKS.md [--scale full|small] [--workdir var/bench] [--no-profile]

Every measured phase runs in its own process (bench/phases.py): the wall time is taken around the process and
its peak RSS comes from os.wait4, so no phase's memory leaks into another's number. Goals come from the issue.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
HISTORY = BENCH / "history.jsonl"
FINDINGS = BENCH / "findings.md"
HISTORY_STORAGE = BENCH / "history_storage.md"
# sections measured by hand between runs (memory of a big CSV, the national inbox per file), kept across runs
BY_HAND = BENCH / "by_hand.md"
KEY = "bench-only-pseudonym-key"
BIG_XLSX_SHEETS = 4          # the big workbook once more, its rows over a sheet a district
# what one more small file costs: two inboxes of PER_FILE_WORKERS workers a regency (a few rows a file) and these
# many regencies, ingested alternately; the difference of their walls over the difference of their files
PER_FILE_REGENCIES = {"full": (40, 160), "small": (3, 9)}
PER_FILE_WORKERS = 4


@dataclass(frozen=True)
class Scale:
    name: str
    regencies: int | None      # None = all 514
    months: int
    workers: int
    big_csv_rows: int
    big_xlsx_rows: int
    profile_csv_rows: int
    profile_regencies: int
    shape_runs: int = 3        # runs of each loader on each register CSV shape


SCALES = {
    "full": Scale("full", None, 12, 160, 1_000_000, 200_000, 200_000, 20),
    "small": Scale("small", 20, 4, 40, 20_000, 5_000, 20_000, 5, shape_runs=1),       # the smoke test's
}

GOALS = {
    "ingest_vs_duckdb": 1 / 3,
    "ingest_rss_mb": 2048,
    "full_seconds": 300,
    "full_rss_mb": 2048,
    "incremental_ratio": 0.10,
    "dag_import_seconds": 0.5,
    "per_file_ms": 5.0,
}


@dataclass
class Phase:
    name: str
    result: dict
    wall: float
    rss_mb: float
    ok: bool
    log: Path
    error: str | None = None
    extra: dict = field(default_factory=dict)


class Bench:
    def __init__(self, workdir: Path, scale: Scale, verbose: bool = True):
        self.work = workdir
        self.scale = scale
        self.logs = workdir / "logs"
        self.verbose = verbose
        self.n = 0
        self.started = time.perf_counter()

    def say(self, msg: str) -> None:
        if self.verbose:
            print(f"[bench {time.perf_counter() - self.started:7.1f}s] {msg}", flush=True)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CAKUPAN_", "AIRFLOW__CORE__DAGS"))}
        env.update({"PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""), "NO_COLOR": "1",
                    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", "GX_ANALYTICS_ENABLED": "False",
                    "AIRFLOW_HOME": str(self.work / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                    "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False", "PYTHONHASHSEED": "0"})
        env.update(extra)
        return env

    def phase(self, name: str, args: dict, label: str | None = None, timeout: float = 1800,
              python: str | None = None, module: str = "bench.phases") -> Phase:
        """Run one phase in a child process (`python -m module name args`: bench/phases.py in this venv unless
        told otherwise); return its JSON result, wall time and peak RSS."""
        self.n += 1
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{self.n:02d}-{label or name}.log"
        load_before, busy_before = _loadavg(), _busy_cpu_seconds()
        with open(log, "w") as out:
            t = time.perf_counter()
            proc = subprocess.Popen([python or sys.executable, "-m", module, name, json.dumps(args)], cwd=ROOT,
                                    stdout=out, stderr=subprocess.STDOUT, env=self.env())
            deadline = t + timeout
            while True:
                pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    proc.kill()
                    pid, status, ru = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.02)
            wall = time.perf_counter() - t
            proc.returncode = os.waitstatus_to_exitcode(status)
        text = log.read_text(errors="replace")
        result: dict = {}
        for line in reversed(text.splitlines()):
            if line.startswith("{"):
                try:
                    result = json.loads(line)
                    break
                except ValueError:
                    continue
        # VmHWM reported by the child itself; ru_maxrss from wait4 would include the parent's RSS at fork time
        rss_mb = result.pop("vmhwm_mb", None) or ru.ru_maxrss / 1024
        result["cpu_s"] = ru.ru_utime + ru.ru_stime       # this child's own CPU time (not inherited)
        result["load_before"], result["load_after"] = load_before, _loadavg()
        busy_after = _busy_cpu_seconds()
        if busy_before is not None and busy_after is not None:
            # CPU the machine spent outside this phase while it ran (other processes, this bench's own polling):
            # unlike the load average, it does not count the phase's own processes nor lag behind the last phase
            result["other_cpu_s"] = round(max(0.0, busy_after - busy_before - result["cpu_s"]), 2)
        ok = proc.returncode == 0 and bool(result)
        err = None if ok else f"exit {proc.returncode}; see {log}: " + text[-800:]
        self.say(f"{label or name}: {'ok' if ok else 'FAILED'} in {wall:.1f}s (cpu {result['cpu_s']:.1f}s, "
                 f"load {load_before}), peak RSS {rss_mb:.0f} MB")
        if not ok:
            print(err, file=sys.stderr)
        return Phase(label or name, result, wall, rss_mb, ok, log, err)


def _loadavg() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _busy_cpu_seconds() -> float | None:
    """CPU seconds all CPUs have spent busy since boot (/proc/stat: every state but idle and iowait)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _other_cpu(r: dict) -> list[tuple[str, float, float]]:
    """(phase, CPU s used outside it while it ran, its wall s) of every measured phase that recorded it."""
    out = [(k, v["other_cpu_s"], v.get("wall") or 0.0) for k, v in r["phases"].items() if "other_cpu_s" in v]
    for shape, res in (r.get("shapes") or {}).items():
        for loader, runs in res.get("loaders", {}).items():
            out += [(f"shape_{shape}_{loader}_{i + 1}", x["other_cpu_s"], x.get("wall") or 0.0)
                    for i, x in enumerate(runs) if "other_cpu_s" in x]
    for i, pair in enumerate((r.get("per_file") or {}).get("runs", [])):
        out += [(f"per_file_{k}_{i + 1}", x["other_cpu_s"], x["wall"]) for k, x in (("small", pair["small"]),
                ("large", pair["large"])) if x.get("other_cpu_s") is not None]
    return out


# ------------------------------------------------------------------------------------------ the run --------
def run(workdir: Path, scale: Scale, profile: bool) -> dict:
    from bench import data

    b = Bench(workdir, scale)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    report: dict = {"scale": scale.name, "started": dt.datetime.now().isoformat(timespec="seconds"),
                    "machine": machine(), "phases": {}}
    P = report["phases"]

    def keep(ph: Phase) -> Phase:
        P[ph.name] = {"wall": ph.wall, "rss_mb": ph.rss_mb, "ok": ph.ok, "error": ph.error, **ph.result}
        return ph

    # --- inputs ---------------------------------------------------------------------------------------------
    codes = data.all_regency_codes()[: scale.regencies] if scale.regencies else data.all_regency_codes()
    months = [f"2025-{m:02d}" for m in range(1, scale.months + 1)]
    cfg = data.make_config(workdir / "config", codes)
    home = workdir / "national"
    t = time.perf_counter()
    truth = data.synth_inbox(home / "inbox", codes, months, scale.workers, seed=1, formats=("csv", "xlsx"),
                             scenarios=("late_payment", "partial_payment", "correction", "duplicate_worker",
                                        "bad_rows"))
    extra = data.extra_sources(home / "inbox", codes, months)
    held = data.hold_back(home / "inbox", truth, workdir / "holdout")
    report["synth_seconds"] = time.perf_counter() - t
    report["dataset"] = dataset_summary(home / "inbox", truth, extra, codes, months, held)
    b.say(f"national inbox: {report['dataset']['files']} files, {report['dataset']['register_rows']} register rows "
          f"({report['synth_seconds']:.0f}s)")

    big = workdir / "big"
    csv_home, xlsx_home = workdir / "big_csv_home", workdir / "big_xlsx_home"
    csv_code = codes[0]
    big_csv = csv_home / "inbox" / csv_code / "register_nasional_2025-06.csv"
    big_xlsx = xlsx_home / "inbox" / csv_code / "register_nasional_2025-06.xlsx"
    t = time.perf_counter()
    n_csv = data.big_register_csv(big_csv, scale.big_csv_rows, big / "scratch")
    n_xlsx = data.big_register_xlsx(big_xlsx, big_csv, scale.big_xlsx_rows)
    # the same rows over a sheet a district, as district offices send them (issue 22: any file shape)
    sheets_home = workdir / "big_xlsx_sheets_home"
    big_sheets = sheets_home / "inbox" / csv_code / "register_nasional_2025-06.xlsx"
    data.big_register_xlsx(big_sheets, big_csv, scale.big_xlsx_rows, sheets=BIG_XLSX_SHEETS)
    # the same rows as Excel saves them: each text once in the workbook's shared strings (issue 22: a shape the
    # generator's streaming writer never wrote; a sheet's XML 0.7 x as big)
    shared_home = workdir / "big_xlsx_shared_home"
    big_shared = shared_home / "inbox" / csv_code / "register_nasional_2025-06.xlsx"
    data.big_register_xlsx(big_shared, big_csv, scale.big_xlsx_rows, shared_strings=True)
    report["big_files"] = {"csv_rows": n_csv, "csv_mb": big_csv.stat().st_size / 2**20, "xlsx_rows": n_xlsx,
                           "xlsx_mb": big_xlsx.stat().st_size / 2**20, "xlsx_sheets": BIG_XLSX_SHEETS,
                           "seconds": time.perf_counter() - t}
    b.say(f"big files: {n_csv} CSV rows, {n_xlsx} XLSX rows")

    # --- single big files: the project's loader vs bare DuckDB -----------------------------------------------
    keep(b.phase("noop", {}, "interpreter_startup"))
    keep(b.phase("duckdb_csv", {"path": str(big_csv), "db": str(big / "duckdb_baseline.duckdb")}, "duckdb_read_csv"))
    keep(b.phase("ingest_file", {"home": str(csv_home), "config": str(cfg), "path": str(big_csv)}, "ingest_big_csv"))
    keep(b.phase("ingest_file", {"home": str(xlsx_home), "config": str(cfg), "path": str(big_xlsx)},
                 "ingest_big_xlsx"))
    keep(b.phase("ingest_file", {"home": str(sheets_home), "config": str(cfg), "path": str(big_sheets)},
                 "ingest_big_xlsx_sheets"))
    keep(b.phase("ingest_file", {"home": str(shared_home), "config": str(cfg), "path": str(big_shared)},
                 "ingest_big_xlsx_shared"))
    keep(b.phase("xlsx_read", {"path": str(big_xlsx), "engine": "calamine"}, "xlsx_calamine"))
    keep(b.phase("xlsx_read", {"path": str(big_xlsx), "engine": "openpyxl"}, "xlsx_openpyxl"))
    from bench import shape_bench

    if shape_bench.BENCH_PYTHON.exists():       # the peer a user of polars would pick (bench venv, fastexcel)
        for book, name in ((big_xlsx, "xlsx_polars"), (big_shared, "xlsx_polars_shared")):
            keep(b.phase("polars", {"path": str(book), "db": str(big / f"{name}.duckdb"),
                                    **shape_bench.shapes.csv_dialect("current"),
                                    "header_row": data.BIG_XLSX_HEADER_ROW},
                         name, module="bench.peers", python=str(shape_bench.BENCH_PYTHON), timeout=300))
    # --- the register CSV shapes of issue 22, each beside bare DuckDB, polars and dlt (3 runs each at full scale) --
    report["shapes"] = shape_bench.run_shapes(b, big_csv, cfg, workdir / "shapes", runs=scale.shape_runs,
                                              profile=profile, peer_timeout=300)

    # --- what one more small file costs (issue 22: per-file overhead < 5 ms) ------------------------------------
    report["per_file"] = per_file_overhead(b, workdir / "per_file", PER_FILE_REGENCIES[scale.name],
                                           runs=2 if scale.name == "full" else 1)
    # --- the whole chain, each step in its own process (as Airflow runs them) ----------------------------------
    base = {"home": str(home), "config": str(cfg), "key": KEY}
    for step in ("ingest", "build", "publish"):
        keep(b.phase("step", {**base, "step": step, "run_id": "bench__full"}, f"full_{step}"))
    keep(b.phase("warehouse_summary", base, "full_summary"))
    # --- incremental: one new regency-month register file, then the same chain -------------------------------
    dest = home / "inbox" / held.relative_to(workdir / "holdout")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(held, dest)
    for step in ("ingest", "build", "publish"):
        keep(b.phase("step", {**base, "step": step, "run_id": "bench__incremental"}, f"incremental_{step}"))
    keep(b.phase("warehouse_summary", base, "incremental_summary"))

    # --- DAG files ---------------------------------------------------------------------------------------------
    for dag in sorted((ROOT / "dags").glob("*.py")):
        keep(b.phase("dag_import", {"path": str(dag)}, f"dag_{dag.stem}"))
        keep(b.phase("dag_import", {"path": str(dag), "bare": True}, f"bare_dag_{dag.stem}"))

    # --- profiles ------------------------------------------------------------------------------------------------
    if profile:
        report["profiles"] = profiles(b, workdir, cfg, big_csv, home, codes, scale, base)
    report["total_seconds"] = time.perf_counter() - b.started
    (workdir / "report.json").write_text(json.dumps(report, indent=1, default=str))
    return report


def per_file_overhead(b: Bench, work: Path, sizes: tuple[int, int], runs: int) -> dict:
    """Ingest two inboxes of small files (`bench.per_file`'s for the first `sizes` regencies, PER_FILE_WORKERS
    workers each, as one alone leaves some months' register empty: registers CSV + XLSX, contributions, claims,
    city reports, 12 months), each in its own process as the Airflow task runs it, alternately `runs` times. What
    the process pays once (interpreter, imports, the warehouse's set-up) is in both walls, so the difference of the
    walls over the difference of the files is what one more file costs, its few rows included."""
    from bench import per_file

    inboxes = {n: per_file.make_inbox(work / f"r{n}", n, PER_FILE_WORKERS) for n in sizes}
    out: dict = {"regencies": list(sizes), "runs": []}
    for i in range(runs):
        got = {}
        for n in sizes:
            home = work / f"r{n}" / f"home{i + 1}"
            home.mkdir()
            (home / "inbox").symlink_to(inboxes[n][0].resolve())
            ph = b.phase("step", {"home": str(home), "config": str(inboxes[n][1]), "key": KEY, "step": "ingest",
                                  "run_id": f"bench__per_file_{i + 1}"}, f"per_file_{n}_{i + 1}")
            if not ph.ok:
                return {**out, "error": ph.error}
            got[n] = {"files": ph.result["files"], "rows_in": ph.result["rows_in"], "wall": ph.wall,
                      "cpu_s": ph.result["cpu_s"], "status": ph.result["status"],
                      "other_cpu_s": ph.result.get("other_cpu_s")}
        (a, z) = (got[n] for n in sizes)
        files = z["files"] - a["files"]
        out["runs"].append({"small": a, "large": z, "ms_per_file": 1000 * (z["wall"] - a["wall"]) / files,
                            "cpu_ms_per_file": 1000 * (z["cpu_s"] - a["cpu_s"]) / files})
    return out


def profiles(b: Bench, workdir: Path, cfg: Path, big_csv: Path, home: Path, codes: list[str], scale: Scale,
             base: dict) -> dict:
    """pyinstrument runs (slower than the clean runs above, so they are separate): a big CSV, a slice of the
    national inbox (many small files), and gate + publish on a copy of the national warehouse."""
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        b.say("pyinstrument is not installed: no profiles (.venv/bin/pip install pyinstrument)")
        return {}
    out_dir = workdir / "profiles"
    out_dir.mkdir(parents=True, exist_ok=True)
    res: dict = {}
    # 1. a register CSV of profile_csv_rows rows (the first rows of the big CSV)
    p_home = workdir / "profile_csv_home"
    p_csv = p_home / "inbox" / big_csv.parent.name / big_csv.name
    p_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(big_csv, "rb") as src, open(p_csv, "wb") as dst:
        for i, line in enumerate(src):
            if i > scale.profile_csv_rows:
                break
            dst.write(line)
    ph = b.phase("profile", {"phase": "ingest_file", "out": str(out_dir / "ingest_big_csv.txt"),
                             "args": {"home": str(p_home), "config": str(cfg), "path": str(p_csv)}},
                 "profile_ingest_csv")
    res["ingest_csv"] = {"what": f"ingest of one {scale.profile_csv_rows:,}-row register CSV", **ph.result,
                         "file": str(out_dir / "ingest_big_csv.txt")}
    # 2. the national ingest on a slice of regencies (per-file costs dominate)
    s_home = workdir / "profile_slice_home"
    for code in codes[: scale.profile_regencies]:
        shutil.copytree(home / "inbox" / code, s_home / "inbox" / code)
    ph = b.phase("profile", {"phase": "step", "out": str(out_dir / "ingest_national_slice.txt"),
                             "args": {**base, "home": str(s_home), "step": "ingest", "run_id": "bench__profile"}},
                 "profile_ingest_slice")
    res["ingest_slice"] = {"what": f"national ingest of {scale.profile_regencies} regencies' folders "
                                   f"({ph.result.get('result', {}).get('files', '?')} files)", **ph.result,
                           "file": str(out_dir / "ingest_national_slice.txt")}
    # 3. gate + publish on a copy of the national warehouse
    g_home = workdir / "profile_publish_home"
    (g_home / "warehouse").mkdir(parents=True)
    shutil.copy2(home / "warehouse" / "work.duckdb", g_home / "warehouse" / "work.duckdb")
    ph = b.phase("profile", {"phase": "step", "out": str(out_dir / "gate_publish.txt"),
                             "args": {**base, "home": str(g_home), "step": "publish", "run_id": "bench__profile"}},
                 "profile_gate_publish")
    res["gate_publish"] = {"what": "gate + publish on a copy of the national warehouse", **ph.result,
                           "file": str(out_dir / "gate_publish.txt")}
    return res


# ------------------------------------------------------------------------------------------ descriptions ---
def machine() -> dict:
    def first(path: str, key: str) -> str | None:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return None

    import duckdb

    versions = {"python": platform.python_version(), "duckdb": duckdb.__version__}
    for mod, attr in (("dbt.version", "__version__"), ("openpyxl", "__version__"), ("pyarrow", "__version__"),
                      ("great_expectations", "__version__")):
        try:
            versions[mod.split(".")[0]] = getattr(__import__(mod, fromlist=["x"]), attr)
        except Exception:  # noqa: BLE001, S110 - a missing version is shown as blank
            pass
    from importlib.metadata import version

    for dist in ("python-calamine", "dbt-duckdb", "apache-airflow", "astronomer-cosmos"):
        try:
            versions[dist] = version(dist)
        except Exception:  # noqa: BLE001, S110 - a missing version is shown as blank
            pass
    mem_kb = first("/proc/meminfo", "MemTotal")
    return {
        "nproc": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
        "cpu_model": first("/proc/cpuinfo", "model name"), "cpu_mhz": first("/proc/cpuinfo", "cpu MHz"),
        "ram_gb": round(int(mem_kb.split()[0]) / 2**20, 1) if mem_kb else None,
        "kernel": platform.release(), "os": _os_name(), "versions": versions,
        "disk": _disk(), "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "cakupan_from": str(Path(__import__("cakupan").__file__).resolve().parents[1]),
    }


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def _disk() -> str:
    try:
        out = subprocess.run(["df", "-hT", str(ROOT)], check=False, capture_output=True, text=True, timeout=10).stdout
        parts = out.splitlines()[1].split()
        return f"{parts[1]} on {parts[0]}, {parts[3]} size"
    except Exception:  # noqa: BLE001
        return "?"


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], check=False, cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:  # noqa: BLE001
        return None


def dataset_summary(inbox: Path, truth: dict, extra: dict, codes: list[str], months: list[str], held: Path) -> dict:
    files = [p for p in inbox.rglob("*") if p.is_file() and p.name != "ground_truth.json"]
    by_kind: dict[str, int] = {}
    for p in files:
        kind = p.name.split("_")[0] if p.parent.name != "reports" else "narrative"
        key = f"{kind} {p.suffix.lstrip('.')}"
        by_kind[key] = by_kind.get(key, 0) + 1
    regs = [f for f in truth["files"] if f["source"] == "register"]
    held_rel = held.relative_to(held.parents[1]).as_posix()
    held_rows = sum(f["rows_in"] for f in regs if f["path"] == held_rel)
    return {
        "regencies": len(codes), "months": f"{months[0]}..{months[-1]}", "files": len(files), "by_kind": by_kind,
        "register_rows": sum(f["rows_in"] for f in regs) - held_rows, "held_back_rows": held_rows,
        "held_back_file": held_rel,
        "contribution_rows": sum(f["rows_in"] for f in truth["files"] if f["source"] == "contributions"),
        "claims_rows": extra["claims"], "city_report_rows": extra["city_report"],
        "inbox_mb": round(sum(p.stat().st_size for p in files) / 2**20, 1),
    }


# ------------------------------------------------------------------------------------------ BENCHMARKS.md --
def _f(x, nd: int = 1) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def _met(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**no**")


def key_metrics(r: dict) -> dict:
    P = r["phases"]
    g = lambda name, k="seconds": (P.get(name) or {}).get(k)
    m: dict = {}
    rows = r["big_files"]["csv_rows"]
    if g("ingest_big_csv") and g("duckdb_read_csv"):
        m["ingest_rows_per_s"] = rows / g("ingest_big_csv")
        m["duckdb_rows_per_s"] = rows / g("duckdb_read_csv")
        m["ingest_vs_duckdb"] = m["ingest_rows_per_s"] / m["duckdb_rows_per_s"]
        if g("ingest_big_csv", "cpu_s") and g("duckdb_read_csv", "cpu_s"):
            m["ingest_vs_duckdb_cpu"] = g("duckdb_read_csv", "cpu_s") / g("ingest_big_csv", "cpu_s")
    m["ingest_rss_mb"] = g("ingest_big_csv", "rss_mb")
    if g("ingest_big_xlsx"):
        m["xlsx_rows_per_s"] = r["big_files"]["xlsx_rows"] / g("ingest_big_xlsx")
    m["xlsx_rss_mb"] = g("ingest_big_xlsx", "rss_mb")
    m["xlsx_child_rss_mb"] = g("ingest_big_xlsx", "reader_child_rss_mb")
    if g("ingest_big_xlsx") and g("xlsx_polars"):
        m["xlsx_vs_polars"] = g("xlsx_polars", "wall") / g("ingest_big_xlsx", "wall")
    if g("ingest_big_xlsx_shared") and g("xlsx_polars_shared"):
        m["xlsx_shared_vs_polars"] = g("xlsx_polars_shared", "wall") / g("ingest_big_xlsx_shared", "wall")
    full = [P.get(f"full_{s}") for s in ("ingest", "build", "publish")]
    inc = [P.get(f"incremental_{s}") for s in ("ingest", "build", "publish")]
    if all(full):
        m["full_seconds"] = sum(p["wall"] for p in full)
        m["full_rss_mb"] = max(p["rss_mb"] for p in full)
        m["full_cpu_s"] = sum(p.get("cpu_s") or 0 for p in full)
    if all(inc) and m.get("full_seconds"):
        m["incremental_seconds"] = sum(p["wall"] for p in inc)
        m["incremental_ratio"] = m["incremental_seconds"] / m["full_seconds"]
    dags = {k[4:]: v.get("seconds") for k, v in P.items() if k.startswith("dag_")}
    m["dag_import_seconds"] = dags
    if g("xlsx_calamine") and g("xlsx_openpyxl"):
        m["calamine_speedup"] = g("xlsx_openpyxl") / g("xlsx_calamine")
    return m


def _xlsx_peer(P: dict, m: dict) -> str:
    """The XLSX ingest's peer cell: polars' read_excel + validation into DuckDB, whole-process wall both."""
    p = P.get("xlsx_polars")
    if not p or not p.get("ok") or "xlsx_vs_polars" not in m:
        return "—"
    return (f"polars `read_excel` (fastexcel) + validation → DuckDB: {_f(p['wall'], 2)} s whole process, "
            f"{_f(p.get('rss_mb'), 0)} MB, {p.get('rows', '?'):,} rows kept / {p.get('rejected', '?'):,} set apart "
            f"→ **{m['xlsx_vs_polars']:.2f}** of its speed (Cakupan {_f(P['ingest_big_xlsx']['wall'], 2)} s whole "
            "process)")


def write_markdown(r: dict, out: Path) -> None:
    P = r["phases"]
    m = key_metrics(r)
    M = r["machine"]
    d = r["dataset"]
    bf = r["big_files"]
    L: list[str] = []
    add = L.append
    add("# Benchmarks")
    add("")
    add(f"Written by `make bench` (`python -m bench.run --out BENCHMARKS.md --scale {r['scale']}`) on "
        f"{r['started']}, commit `{M.get('commit')}`{' (with uncommitted changes)' if M.get('dirty') else ''}. "
        f"Every number below is from that one run; the whole run took {r['total_seconds'] / 60:.1f} min. "
        f"The `cakupan` package measured was imported from `{M.get('cakupan_from')}`"
        + (f" ({r['label']})" if r.get("label") else "") + ". "
        "Each measured phase runs in its own process: wall time is taken around the process, peak RSS is that "
        "process's high-water mark (VmHWM, reported by the process itself). Raw numbers: `var/bench/report.json`; logs: `var/bench/logs/`.")
    add("")
    loads = [v.get(k) for v in P.values() for k in ("load_before", "load_after") if v.get(k) is not None]
    other = _other_cpu(r)
    if other:
        busy = [o for o in other if o[1] > max(0.5, 0.1 * o[2])]
        add("")
        if busy:
            name, cpu, wall = max(busy, key=lambda o: o[1] / max(o[2], 0.01))
            add(f"> **Other processes used the CPUs during this run**: in {len(busy)} of {len(other)} measured "
                f"phases more than 0.5 s and a tenth of the phase's wall time of CPU went to processes outside "
                f"it (most: `{name}`, {cpu:.1f} s of CPU during its {wall:.1f} s; /proc/stat less the phase's "
                "own CPU), so those wall times are inflated. Each phase's own CPU time (user + system, from "
                "os.wait4) is shown next to its wall time; it is much less affected by other load.")
        else:
            add(f"> The CPUs were the run's own: in every one of the {len(other)} measured phases, the CPU "
                f"used outside the phase stayed under 0.5 s or a tenth of its wall time (at most "
                f"{max(o[1] for o in other):.1f} s; /proc/stat less the phase's own CPU). The load average "
                "peaked at " + (f"{max(loads):.1f}" if loads else "—") + ", from the phases' own processes "
                "(the national ingest runs two readers beside the writer).")
    elif loads and max(loads) > (M.get("nproc") or 1):
        add("")
        add(f"> **The machine was shared during this run**: the 1-minute load average reached {max(loads):.1f} on "
            f"{M.get('nproc')} CPUs (other jobs running), so wall times are inflated. Each phase's own CPU time "
            "(user + system, from os.wait4) is shown next to its wall time; it is much less affected by other load.")
    add("")
    add("## Machine")
    add("")
    add("| | |")
    add("|---|---|")
    add(f"| CPU | {M.get('cpu_model')} ({M.get('nproc')} logical CPUs, {M.get('affinity')} usable), "
        f"{M.get('cpu_mhz')} MHz |")
    add(f"| RAM | {M.get('ram_gb')} GB, no swap limit set by the bench |")
    add(f"| Disk | {M.get('disk')} |")
    add(f"| OS | {M.get('os')}, kernel {M.get('kernel')} |")
    v = M.get("versions", {})
    add(f"| Software | Python {v.get('python')}, DuckDB {v.get('duckdb')}, dbt-core {v.get('dbt')} "
        f"(dbt-duckdb {v.get('dbt-duckdb')}), Great Expectations {v.get('great_expectations')}, "
        f"pyarrow {v.get('pyarrow')}, python-calamine {v.get('python-calamine')}, openpyxl {v.get('openpyxl')}, "
        f"Airflow {v.get('apache-airflow')}, cosmos {v.get('astronomer-cosmos')} |")
    add("")
    add("## Data")
    add("")
    add(f"- National inbox from `cakupan_dev.synth` (seed 1, scenarios late/partial payment, correction, duplicate "
        f"worker, bad rows) plus `bench/data.py` claims and structured city reports and the shared narrative "
        f"reports: **{d['regencies']} regencies × {d['months']}**, {d['files']:,} files ({d['inbox_mb']} MB): "
        + ", ".join(f"{n} {k}" for k, n in sorted(d["by_kind"].items())) + ".")
    add(f"- Rows: {d['register_rows']:,} register rows (CSV and XLSX alternate by regency and month), "
        f"{d['contribution_rows']:,} contribution rows, {d['claims_rows']:,} claims, "
        f"{d['city_report_rows']:,} city-report rows.")
    add(f"- Held back for the incremental run: `{d['held_back_file']}` ({d['held_back_rows']} rows).")
    add(f"- Single files (ingestion issue): a register CSV of **{bf['csv_rows']:,} rows** ({bf['csv_mb']:.0f} MB, "
        f"UTF-8 BOM, `;`, every synthetic regency's date/money/NIK styles mixed) and a register XLSX of "
        f"**{bf['xlsx_rows']:,} rows** ({bf['xlsx_mb']:.0f} MB: title block, dates as serials and as text, money "
        "as numbers, TOTAL row, signature).")
    add("")
    add("## Results")
    add("")
    add("| measure | result | peer / ratio | goal | met |")
    add("|---|---|---|---|---|")
    if "ingest_vs_duckdb" in m:
        add(f"| ingest of the {bf['csv_rows']:,}-row register CSV | {_f(m['ingest_rows_per_s'], 0)} rows/s "
            f"({_f(P['ingest_big_csv']['seconds'])} s) | DuckDB `read_csv` of the same file: "
            f"{_f(m['duckdb_rows_per_s'], 0)} rows/s ({_f(P['duckdb_read_csv']['seconds'], 2)} s) → "
            f"**{m['ingest_vs_duckdb']:.3f}** (by CPU time: {_f(P['duckdb_read_csv'].get('cpu_s'), 2)} s vs "
            f"{_f(P['ingest_big_csv'].get('cpu_s'), 1)} s → {_f(m.get('ingest_vs_duckdb_cpu'), 3)}) | ≥ 0.333 | "
            f"{_met(m['ingest_vs_duckdb'] >= GOALS['ingest_vs_duckdb'])} |")
    add(f"| peak RSS, that ingest | {_f(m.get('ingest_rss_mb'), 0)} MB | DuckDB read_csv: "
        f"{_f(P.get('duckdb_read_csv', {}).get('rss_mb'), 0)} MB | < 2,048 MB | "
        f"{_met(m.get('ingest_rss_mb') is not None and m['ingest_rss_mb'] < GOALS['ingest_rss_mb'])} |")
    if m.get("xlsx_rows_per_s"):
        add(f"| ingest of the {bf['xlsx_rows']:,}-row register XLSX | {_f(m['xlsx_rows_per_s'], 0)} rows/s "
            f"({_f(P['ingest_big_xlsx']['seconds'])} s), peak RSS {_f(m['xlsx_rss_mb'], 0)} MB (its reader child "
            f"{_f(m.get('xlsx_child_rss_mb'), 0)} MB) | {_xlsx_peer(P, m)} | RSS < 2,048 MB | "
            f"{_met(max(m['xlsx_rss_mb'], m.get('xlsx_child_rss_mb') or 0) < GOALS['ingest_rss_mb'])} |")
    if (sh := P.get("ingest_big_xlsx_sheets")) and sh.get("ok") and m.get("xlsx_rows_per_s"):
        add(f"| the same {bf['xlsx_rows']:,} rows over {bf.get('xlsx_sheets', BIG_XLSX_SHEETS)} district sheets | "
            f"{_f(bf['xlsx_rows'] / sh['wall'], 0)} rows/s ({_f(sh.get('seconds'))} s), peak RSS "
            f"{_f(sh.get('rss_mb'), 0)} MB (its reader child {_f(sh.get('reader_child_rss_mb'), 0)} MB) | one sheet: "
            f"{_f(P['ingest_big_xlsx']['seconds'])} s, {_f(m['xlsx_rss_mb'], 0)} MB | RSS < 2,048 MB | "
            f"{_met(max(sh.get('rss_mb') or 0, sh.get('reader_child_rss_mb') or 0) < GOALS['ingest_rss_mb'])} |")
    if (sh := P.get("ingest_big_xlsx_shared")) and sh.get("ok") and (pp := P.get("xlsx_polars_shared")):
        add(f"| the same {bf['xlsx_rows']:,} rows saved as Excel saves them (shared strings) | "
            f"{_f(bf['xlsx_rows'] / sh['wall'], 0)} rows/s ({_f(sh.get('seconds'))} s), peak RSS "
            f"{_f(sh.get('rss_mb'), 0)} MB (its reader child {_f(sh.get('reader_child_rss_mb'), 0)} MB) | polars: "
            f"{_f(pp['wall'], 2)} s whole process, {_f(pp.get('rss_mb'), 0)} MB → "
            f"**{_f(m.get('xlsx_shared_vs_polars'), 2)}** of its speed (Cakupan {_f(sh['wall'], 2)} s whole process) | "
            f"RSS < 2,048 MB | "
            f"{_met(max(sh.get('rss_mb') or 0, sh.get('reader_child_rss_mb') or 0) < GOALS['ingest_rss_mb'])} |")
    if m.get("full_seconds"):
        add(f"| full chain: ingest + dbt build + gate + publish | **{_f(m['full_seconds'])} s** "
            f"({m['full_seconds'] / 60:.1f} min; CPU {_f(m.get('full_cpu_s'))} s) | — | < 300 s on 2 cores | "
            f"{_met(m['full_seconds'] < GOALS['full_seconds'])} |")
        add(f"| peak RSS, full chain (largest step) | {_f(m['full_rss_mb'], 0)} MB | — | < 2,048 MB | "
            f"{_met(m['full_rss_mb'] < GOALS['full_rss_mb'])} |")
    if pf := (r.get("per_file") or {}).get("runs"):
        ms, cpu = (statistics.median(x[k] for x in pf) for k in ("ms_per_file", "cpu_ms_per_file"))
        a, z = pf[0]["small"], pf[0]["large"]
        add(f"| one more small file in the ingest step (about {z['rows_in'] / z['files']:.0f} rows a file, rows "
            f"included): the difference of two inboxes' walls over the difference of their files, median of "
            f"{len(pf)} alternating pair{'s' * (len(pf) > 1)} | **{ms:.2f} ms** a file (CPU {cpu:.2f} ms, readers "
            f"included) | {a['files']:,} files: " + " / ".join(_f(x['small']['wall'], 2) for x in pf) + " s; "
            f"{z['files']:,} files: " + " / ".join(_f(x['large']['wall'], 2) for x in pf) + " s | < 5 ms | "
            f"{_met(ms < GOALS['per_file_ms'])} |")
    if m.get("incremental_ratio") is not None:
        add(f"| incremental run after one new regency-month file | {_f(m['incremental_seconds'])} s | "
            f"full chain {_f(m['full_seconds'])} s → **{m['incremental_ratio']:.1%}** | < 10% | "
            f"{_met(m['incremental_ratio'] < GOALS['incremental_ratio'])} |")
    for dag, secs in sorted(m["dag_import_seconds"].items()):
        bare = P.get("bare_dag_" + dag)
        if bare is None:        # a report from before the parse process's own imports were measured
            add(f"| DAG file import `dags/{dag}.py` (Airflow SDK already imported) | {_f(secs, 3)} s | "
                f"`import airflow.sdk` itself: {_f(P['dag_' + dag].get('airflow_sdk_import'), 2)} s | < 0.5 s | "
                f"{_met(secs is not None and secs < GOALS['dag_import_seconds'])} |")
            continue
        add(f"| DAG file import `dags/{dag}.py`, as the DAG processor parses it (forked from its manager, the "
            f"file's Airflow imports done) | {_f(secs, 3)} s | in a bare interpreter with only `airflow.sdk` "
            f"imported: {_f(bare.get('seconds'), 3)} s | < 0.5 s | "
            f"{_met(secs is not None and secs < GOALS['dag_import_seconds'])} |")
    if m.get("calamine_speedup"):
        add(f"| XLSX read, python-calamine vs openpyxl (read-only), same {bf['xlsx_rows']:,}-row file | "
            f"calamine {_f(P['xlsx_calamine']['seconds'], 2)} s, {_f(P['xlsx_calamine']['rss_mb'], 0)} MB | "
            f"openpyxl {_f(P['xlsx_openpyxl']['seconds'], 2)} s, {_f(P['xlsx_openpyxl']['rss_mb'], 0)} MB → "
            f"calamine **{m['calamine_speedup']:.1f}×** faster | — | — |")
    add("")
    add("### The chain step by step")
    add("")
    add("Each step in its own process, as the Airflow tasks run them (wall includes interpreter start and imports; "
        f"a bare `python -m bench.phases noop` takes {_f(P.get('interpreter_startup', {}).get('wall'), 2)} s).")
    add("")
    add("| step | full run: wall s | CPU s | peak RSS MB | incremental run: wall s | CPU s | peak RSS MB | "
        "what happened (full / incremental) |")
    add("|---|---|---|---|---|---|---|---|")
    for s in ("ingest", "build", "publish"):
        f, i = P.get(f"full_{s}") or {}, P.get(f"incremental_{s}") or {}
        add(f"| {s} | {_f(f.get('wall'))} | {_f(f.get('cpu_s'))} | {_f(f.get('rss_mb'), 0)} | {_f(i.get('wall'))} | "
            f"{_f(i.get('cpu_s'))} | {_f(i.get('rss_mb'), 0)} | {_step_note(s, f)} / {_step_note(s, i)} |")
    fs, isum = P.get("full_summary") or {}, P.get("incremental_summary") or {}
    add("")
    add(f"After the full run: raw.register {_f(fs.get('raw.register'))} rows, quarantine {_f(fs.get('quarantine.rows'))} "
        f"rows, loads {fs.get('loads')}, loads breaking rows in = loaded + quarantined: "
        f"{fs.get('balance_violations')}; work.duckdb {fs.get('work_db_mb')} MB; published marts: "
        + ", ".join(f"{k.split('.', 1)[1]} {v:,}" for k, v in fs.items() if k.startswith("published.")) + ".")
    add(f"After the incremental run: raw.register {_f(isum.get('raw.register'))} rows, loads {isum.get('loads')}.")
    add("")
    add("### Every phase")
    add("")
    add("| phase | wall s | CPU s | peak RSS MB | load avg before → after | CPU s outside the phase |")
    add("|---|---|---|---|---|---|")
    for k, v in P.items():
        add(f"| {k} | {_f(v.get('wall'), 2)} | {_f(v.get('cpu_s'), 2)} | {_f(v.get('rss_mb'), 0)} | "
            f"{_f(v.get('load_before'), 2)} → {_f(v.get('load_after'), 2)} | {_f(v.get('other_cpu_s'), 2)} |")
    add("")
    failed = [(k, v) for k, v in P.items() if not v.get("ok")]
    if failed:
        add("### Phases that failed")
        add("")
        for k, v in failed:
            add(f"- `{k}`: {str(v.get('error'))[:600]}")
        add("")
    prof = r.get("profiles") or {}
    if r.get("shapes"):
        from bench import shape_bench

        L += shape_bench.markdown(r["shapes"])
    if BY_HAND.exists():
        add(BY_HAND.read_text(encoding="utf-8").strip())
        add("")
    if prof:
        add("## Profiles (pyinstrument, separate runs)")
        add("")
        add("Inclusive time per project function (`cakupan/…`), share of the profiled run; full text profiles in "
            "`var/bench/profiles/`. Profiled runs are slower than the clean runs above (sampling overhead).")
        for p in prof.values():
            add("")
            add(f"**{p.get('what')}** — {_f(p.get('seconds'))} s under the profiler")
            add("")
            add("| function | inclusive s | share |")
            add("|---|---|---|")
            for row in p.get("top", []):
                add(f"| `{row['function']}` | {row['seconds']} | {row['share']:.0%} |")
    add("")
    if FINDINGS.exists():
        add(FINDINGS.read_text(encoding="utf-8").strip())
        add("")
    if HISTORY_STORAGE.exists():   # written by `python -m bench.history_storage` (issue 21), not by this run
        add(HISTORY_STORAGE.read_text(encoding="utf-8").strip())
        add("")
    hist = _history()
    if hist:
        add("## History (full-scale runs, oldest first: before/after of each fix)")
        add("")
        add("| date | commit | label | ingest rows/s | vs DuckDB | ingest RSS MB | full chain s | full RSS MB | "
            "incremental | DAG import s (max) |")
        add("|---|---|---|---|---|---|---|---|---|---|")
        for h in hist:
            k = h["metrics"]
            dmax = max((x for x in (k.get("dag_import_seconds") or {}).values() if x is not None), default=None)
            add(f"| {h['started']} | `{h.get('commit')}`{'+' if h.get('dirty') else ''} | {h.get('label') or ''} | "
                f"{_f(k.get('ingest_rows_per_s'), 0)} | {_f(k.get('ingest_vs_duckdb'), 3)} | "
                f"{_f(k.get('ingest_rss_mb'), 0)} | {_f(k.get('full_seconds'))} | {_f(k.get('full_rss_mb'), 0)} | "
                f"{_pct(k.get('incremental_ratio'))} | {_f(dmax, 3)} |")
        add("")
    out.write_text("\n".join(L), encoding="utf-8")


def _pct(x) -> str:
    return "—" if x is None else f"{x:.1%}"


def _step_note(step: str, p: dict) -> str:
    if not p:
        return "—"
    if not p.get("ok"):
        return "FAILED"
    if step == "ingest":
        return (f"{p.get('files')} files {p.get('status')}, {_f(p.get('rows_in'))} rows in")
    if step == "build":
        return f"prepare {_f(p.get('prepare_seconds'))} s + dbt build"
    if step == "publish":
        return f"{'published' if p.get('published') else 'NOT published'}, {p.get('checks')} checks"
    return ""


def _history() -> list[dict]:
    if not HISTORY.exists():
        return []
    return [json.loads(x) for x in HISTORY.read_text().splitlines() if x.strip()]


def _rounded(value):
    """Round floats to 4 decimals for the history file (long fractions look like IDs to secret scanners)."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    ap.add_argument("--scale", choices=sorted(SCALES), default="full")
    ap.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench")
    ap.add_argument("--no-profile", action="store_true", help="skip the pyinstrument runs")
    ap.add_argument("--label", default="", help="a note stored with this run in the history (e.g. 'before fix X')")
    ap.add_argument("--no-history", action="store_true", help="do not append this run to bench/history.jsonl")
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite --out from WORKDIR/report.json (the last run) without measuring again")
    a = ap.parse_args(argv)
    scale = SCALES[a.scale]
    if a.render_only:
        write_markdown(json.loads((a.workdir / "report.json").read_text()), a.out)
        print(f"wrote {a.out} from {a.workdir / 'report.json'}")
        return 0
    report = run(a.workdir.resolve(), scale, profile=not a.no_profile)
    report["label"] = a.label
    (a.workdir / "report.json").write_text(json.dumps(report, indent=1, default=str))
    if scale.name == "full" and not a.no_history:
        with open(HISTORY, "a", encoding="utf-8") as f:
            f.write(json.dumps({"started": report["started"], "commit": report["machine"].get("commit"),
                                "dirty": report["machine"].get("dirty"), "label": a.label,
                                "cakupan_from": report["machine"].get("cakupan_from"),
                                "metrics": _rounded(key_metrics(report))},
                               default=str) + "\n")
    write_markdown(report, a.out)
    print(f"wrote {a.out} ({report['total_seconds'] / 60:.1f} min)")
    failed = [k for k, v in report["phases"].items() if not v.get("ok")]
    if failed:
        print("phases failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
