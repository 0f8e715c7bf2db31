"""One benchmark phase per process: `python -m bench.phases NAME JSON-ARGS` prints one JSON line (the result).

Each phase runs in its own process so the parent can read that process's peak RSS (os.wait4) and wall time
without the other phases' memory in it.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path


def _settings(a: dict):
    from cakupan.core.settings import Settings

    return Settings.from_env(home=a["home"], pseudonym_key=a.get("key", "bench-only-key"), config_dir=a["config"])


# ------------------------------------------------------------------------------------------ phases ---------
def duckdb_csv(a: dict) -> dict:
    """Bare DuckDB: read_csv (dialect auto-detected, all columns as text) into a table of a fresh file."""
    import duckdb

    db = Path(a["db"])
    for p in (db, db.with_suffix(".duckdb.wal")):
        if p.exists():
            p.unlink()
    t = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute("create table t as select * from read_csv(?, all_varchar = true)", [a["path"]])
    con.execute("checkpoint")
    rows = con.execute("select count(*) from t").fetchone()[0]
    con.close()
    return {"seconds": time.perf_counter() - t, "rows": rows}


def ingest_file(a: dict) -> dict:
    """Load one file with the project's loader into a fresh home (its folder names the regency)."""
    from cakupan.ingest.loader import Loader

    s = _settings(a)
    loader = Loader(s, run_id="bench")
    try:
        t = time.perf_counter()
        r = loader.load(Path(a["path"]))
        loader.con.execute("checkpoint")     # written to the database file, as the DuckDB baseline is
        secs = time.perf_counter() - t
    finally:
        loader.con.close()
    # a workbook is read in a forked child: its peak (which counts the pages it shares with this process) is
    # memory the load needs too, though not in this process's VmHWM
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": secs, "status": r.status, "rows_in": r.rows_in, "rows_loaded": r.rows_loaded,
            "rows_quarantined": r.rows_quarantined, "error": r.error_message, "reader_child_rss_mb": child_mb}


def xlsx_read(a: dict) -> dict:
    """Read every cell of the first sheet with python-calamine or openpyxl (read-only, values)."""
    t = time.perf_counter()
    cells = rows = 0
    if a["engine"] == "calamine":
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(a["path"])
        data = wb.get_sheet_by_name(wb.sheet_names[0]).to_python(skip_empty_area=False)
        rows = len(data)
        cells = sum(len(r) for r in data)
    else:
        import openpyxl

        wb = openpyxl.load_workbook(a["path"], read_only=True, data_only=True)
        for r in wb.worksheets[0].iter_rows(values_only=True):
            rows += 1
            cells += len(r)
        wb.close()
    return {"seconds": time.perf_counter() - t, "rows": rows, "cells": cells}


def step(a: dict) -> dict:
    """One step of the chain, as Airflow runs it (its own process): ingest, build (prepare + dbt) or publish."""
    from cakupan import pipeline

    s = _settings(a)
    run_id = a["run_id"]
    t = time.perf_counter()
    out: dict = {}
    if a["step"] == "ingest":
        pipeline.start_run(s, run_id)
        res = pipeline.ingest(s, run_id)
        out["files"] = len(res)
        out["status"] = {}
        for r in res:
            out["status"][r.status] = out["status"].get(r.status, 0) + 1
        out["rows_in"] = sum(r.rows_in for r in res)
        out["rows_loaded"] = sum(r.rows_loaded for r in res)
        out["rows_quarantined"] = sum(r.rows_quarantined for r in res)
    elif a["step"] == "build":
        t0 = time.perf_counter()
        pipeline.prepare(s)
        out["prepare_seconds"] = time.perf_counter() - t0
        _quiet_dbt()
        pipeline.build(s)
    elif a["step"] == "publish":
        res = pipeline.gate_and_publish(s, run_id)
        pipeline.finish_run(s, run_id, "published" if res.published else "blocked", res.message)
        out["published"] = res.published
        out["message"] = res.message
        out["checks"] = len(res.gate.results)
        out["errors"] = [f"{r.table_name}: {r.expectation}" for r in res.gate.errors]
    out["seconds"] = time.perf_counter() - t
    return out


def warehouse_summary(a: dict) -> dict:
    """Row counts that show the run's result (read-only)."""
    import duckdb

    s = _settings(a)
    out: dict = {}
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        for src in ("register", "contributions", "claims", "city_report"):
            out[f"raw.{src}"] = con.execute(f"select count(*) from raw.{src}").fetchone()[0]
        out["quarantine.rows"] = con.execute("select count(*) from quarantine.rows").fetchone()[0]
        out["loads"] = dict(con.execute("select status, count(*) from audit.loads group by 1").fetchall())
        out["balance_violations"] = con.execute(
            "select count(*) from audit.loads where status = 'loaded' "
            "and rows_in <> rows_loaded + rows_quarantined").fetchone()[0]
    if s.published_db.exists():
        with duckdb.connect(str(s.published_db), read_only=True) as con:
            for (t,) in con.execute("select table_name from information_schema.tables "
                                    "where table_schema = 'marts' order by 1").fetchall():
                out[f"published.{t}"] = con.execute(f"select count(*) from marts.{t}").fetchone()[0]
    out["work_db_mb"] = round(s.work_db.stat().st_size / 2**20, 1)
    return out


def dag_import(a: dict) -> dict:
    """Time one DAG file's import in the state Airflow parses it in: the DAG processor forks each parse process
    from its manager (`airflow.dag_processing.manager`, which has Airflow's models loaded) after importing the
    Airflow modules the file names (`parsing_pre_import_modules`, on by default). `bare`: with only
    `airflow.sdk` imported (a plain interpreter; the figure this phase reported before 2026-12-04 session 22)."""
    import runpy

    t0 = time.perf_counter()
    if a.get("bare"):
        import airflow.sdk
    else:
        import importlib

        import airflow.dag_processing.manager  # noqa: F401
        from airflow.utils.file import iter_airflow_imports

        for module in iter_airflow_imports(a["path"]):
            importlib.import_module(module)
    warm = time.perf_counter() - t0
    t = time.perf_counter()
    runpy.run_path(a["path"], run_name="__bench_dag__")
    # the warm-up's own import time ("airflow_sdk_import" in reports written before the bare figure existed)
    return {"seconds": time.perf_counter() - t, "warm_import": warm, "bare": bool(a.get("bare"))}


def noop(a: dict) -> dict:
    return {"seconds": 0.0}


def profile(a: dict) -> dict:
    """Run another phase under pyinstrument; write the text profile and return the top functions."""
    from pyinstrument import Profiler

    target = PHASES[a["phase"]]
    prof = Profiler(interval=0.005)
    prof.start()
    result = target(a["args"])
    prof.stop()
    Path(a["out"]).write_text(prof.output_text(unicode=False, color=False, show_all=False), encoding="utf-8")
    return {"seconds": result.get("seconds"), "result": result, "top": top_functions(prof.last_session)}


def top_functions(session, limit: int = 14) -> list[dict]:
    """Inclusive time per project function (cakupan.*, recursion counted once), largest first."""
    root = session.root_frame()
    total = root.time or 1e-9
    acc: dict[str, float] = {}

    def ident(f) -> str | None:
        path = f.file_path or ""
        if "/cakupan/" not in path or f.function in ("<listcomp>", "<genexpr>", "<dictcomp>", "<lambda>"):
            return None
        return f"{path.split('/cakupan/')[-1]}:{f.function}"

    def walk(f, seen: frozenset) -> None:
        k = ident(f)
        if k is not None and k not in seen:
            acc[k] = acc.get(k, 0.0) + f.time
            seen = seen | {k}
        for c in f.children:
            walk(c, seen)

    walk(root, frozenset())
    rows = sorted(acc.items(), key=lambda kv: -kv[1])
    return [{"function": k, "seconds": round(v, 2), "share": round(v / total, 3)} for k, v in rows[:limit]]


def _quiet_dbt() -> None:
    os.environ.setdefault("DBT_QUIET", "True")
    os.environ.setdefault("DBT_PRINTER_WIDTH", "120")


PHASES = {"duckdb_csv": duckdb_csv, "ingest_file": ingest_file, "xlsx_read": xlsx_read, "step": step,
          "warehouse_summary": warehouse_summary, "dag_import": dag_import, "noop": noop, "profile": profile}


def peak_rss_mb() -> float | None:
    """This process's peak RSS (VmHWM): unlike ru_maxrss it is not inherited from the parent across fork+exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main() -> None:
    name, args = sys.argv[1], json.loads(sys.argv[2])
    import logging

    logging.basicConfig(level=logging.ERROR)
    result = PHASES[name](args)
    result["vmhwm_mb"] = peak_rss_mb()
    sys.stdout.flush()
    print("\n" + json.dumps(result, default=str))


if __name__ == "__main__":
    main()
