"""The chain through a real Airflow deployment against `cakupan run`, on the same national inbox.

    python -m bench.scheduler [--months 1] [--regencies N] [--workers 160] [--workdir var/bench-scheduler]
                              [--out BENCHMARKS.md]

Both sides get a copy of the same inbox (same bytes, same mtimes). `cakupan run` is timed as a process; the
Airflow side is the four components (cakupan_dev.airflow_stack: LocalExecutor, PostgreSQL metadata) started
beforehand and not timed, then the time from the ingest run's start (unpausing it) to the end of the
transform/publish run its Asset event started, as the metadata database records them. The goal (issue 20) is
Airflow ≤ 2× `cakupan run`. `make bench` measures a national month; the national year is measured by hand
(`--months 12`) and recorded in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KEY = "bench-only-pseudonym-key"
INGEST, TRANSFORM = "cakupan_ingest", "cakupan_transform_publish"
SECTION = "## Through a real Airflow scheduler"
YEAR_FILE = Path(__file__).resolve().parent / "scheduler_year.json"   # the national year, measured once by hand


def run(workdir: Path, months: int, regencies: int | None, workers: int, dbt_tasks: str = "model") -> dict:
    from cakupan_dev.airflow_stack import AirflowStack
    from cakupan_dev.pgcluster import PgCluster

    from bench import data

    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    codes = data.all_regency_codes()[:regencies] if regencies else data.all_regency_codes()
    month_list = [f"2025-{m:02d}" for m in range(1, months + 1)]
    cfg = data.make_config(workdir / "config", codes)
    cli_home, af_home = workdir / "cli", workdir / "airflow-home"
    data.synth_inbox(cli_home / "inbox", codes, month_list, workers, seed=1, formats=("csv", "xlsx"),
                     scenarios=("late_payment", "partial_payment", "correction", "bad_rows"))
    shutil.copytree(cli_home / "inbox", af_home / "inbox")          # copy2: same mtimes, same received_at
    files = sum(1 for p in (cli_home / "inbox").rglob("*") if p.is_file())
    out: dict = {"regencies": len(codes), "months": months, "files": files, "dbt_tasks": dbt_tasks,
                 "inbox_mb": round(sum(p.stat().st_size for p in (cli_home / "inbox").rglob("*") if p.is_file())
                                   / 2**20, 1)}

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAKUPAN_", "AIRFLOW"))}
    env.update(CAKUPAN_HOME=str(cli_home), CAKUPAN_CONFIG=str(cfg), CAKUPAN_PSEUDONYM_KEY=KEY,
               DBT_SEND_ANONYMOUS_USAGE_STATS="False", GX_ANALYTICS_ENABLED="False", NO_COLOR="1")
    out["load_average"] = {"before cakupan run": _load()}
    t = time.perf_counter()
    proc = subprocess.run([str(BIN / "cakupan"), "run"], env=env, capture_output=True, text=True, check=False)
    out["cakupan_run_seconds"] = round(time.perf_counter() - t, 1)
    if proc.returncode != 0:
        raise RuntimeError(f"cakupan run failed: {proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")

    out["load_average"]["after cakupan run"] = _load()
    with PgCluster.start() as pg:
        pg.create_database("airflow")
        with AirflowStack(workdir / "stack", pg, af_home, BIN, CAKUPAN_CONFIG=str(cfg),
                          CAKUPAN_PSEUDONYM_KEY=KEY, CAKUPAN_DBT_TASKS=dbt_tasks) as stack:
            stack.wait_serialized([INGEST, TRANSFORM])
            stack.airflow("dags", "unpause", TRANSFORM)
            cpu0 = stack.cpu_seconds()
            stack.airflow("dags", "unpause", INGEST)
            ingest = stack.wait_run_finished(INGEST, 0, 6 * 3600, every=5)
            stack.airflow("dags", "pause", INGEST)
            transform = stack.wait_run_finished(TRANSFORM, 0, 6 * 3600, every=5)
            out["load_average"]["after Airflow"] = _load()
            out["component_cpu_seconds"] = {k: round(v - cpu0.get(k, 0), 1) for k, v in stack.cpu_seconds().items()}
            if ingest[2] != "success" or transform[2] != "success":
                raise RuntimeError(f"Airflow runs did not succeed: {ingest}, {transform}")
            (i_start, i_end), = stack.query("select start_date, end_date from dag_run where run_id = %s", [ingest[0]])
            (t_start, t_end), = stack.query("select start_date, end_date from dag_run where run_id = %s",
                                            [transform[0]])
            (published_at,), = stack.query("select end_date from task_instance where run_id = %s and task_id = "
                                           "'gate_and_publish'", [transform[0]])
            tasks = stack.query("select dag_id, count(*) from task_instance group by dag_id order by dag_id")
            batches = stack.query("select count(*) from task_instance where task_id = 'load_batch'")[0][0]
            out["airflow_task_times"] = task_times(stack, ingest[0], transform[0])
    out["cakupan_run_phases"] = run_phases(cli_home, None)
    out["airflow_phases"] = run_phases(af_home, ingest[0])
    out.update(airflow_seconds=round((t_end - i_start).total_seconds(), 1),
               airflow_ingest_seconds=round((i_end - i_start).total_seconds(), 1),
               airflow_transform_seconds=round((t_end - t_start).total_seconds(), 1),
               airflow_published_seconds=round((published_at - i_start).total_seconds(), 1),
               airflow_tasks=dict(tasks), ingest_batches=batches)
    out["ratio"] = round(out["airflow_seconds"] / out["cakupan_run_seconds"], 2)
    return out


def _load() -> str:
    """The machine's 1/5/15-minute load averages (2 cores shared with other work: say how busy it was)."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def task_times(stack, ingest_run: str, transform_run: str) -> list[dict]:
    """Each task instance of the two runs, in start order: seconds queued (queued → start), running (start → end),
    and the gap since the previous task of its run ended (the scheduler's polling and start-up lag), as the
    metadata database records them. The transform run's first task measures from the end of the ingest task that
    emitted the raw-zone Asset event (announce_raw): event → a new run → its first task."""
    rows = stack.query(
        "select ti.run_id, ti.task_id, ti.map_index, ti.queued_dttm, ti.start_date, ti.end_date, ti.state "
        "from task_instance ti where ti.run_id in (%s, %s) order by ti.start_date nulls last",
        [ingest_run, transform_run])
    (i_start,), = stack.query("select start_date from dag_run where run_id = %s", [ingest_run])
    event = next(end for run_id, task, _, _, _, end, _ in rows if run_id == ingest_run and task == "announce_raw")
    last_end = {ingest_run: i_start, transform_run: event}
    out = []
    for run_id, task, idx, queued, start, end, state in rows:
        if start is None or end is None:
            continue
        dag = INGEST if run_id == ingest_run else TRANSFORM
        log = (stack.airflow_home / "logs" / f"dag_id={dag}" / f"run_id={run_id}" / f"task_id={task}"
               / (f"map_index={idx}" if idx >= 0 else "") / "attempt=1.log")
        out.append({"dag": dag, "task": f"{task}[{idx}]" if idx >= 0 else task, "state": state,
                    "queued_s": round((start - queued).total_seconds(), 1) if queued else None,
                    "run_s": round((end - start).total_seconds(), 1), "startup_s": _startup(log),
                    "gap_s": round((start - last_end[run_id]).total_seconds(), 1)})
        last_end[run_id] = max(last_end[run_id], end)
    return out


def _startup(log: Path) -> float | None:
    """A task's start-up as its log shows it: its first line to "DAG bundles loaded" (the task process asking the
    api-server to start it, then loading the DAG bundle), before the DAG file is parsed and the task runs."""
    import datetime as dt

    try:
        lines = log.read_text(errors="replace").splitlines()
        first = json.loads(lines[0])["timestamp"]
        loaded = next(json.loads(x)["timestamp"] for x in lines if "DAG bundles loaded" in x)
    except (OSError, ValueError, KeyError, IndexError, StopIteration):
        return None
    return round((dt.datetime.fromisoformat(loaded) - dt.datetime.fromisoformat(first)).total_seconds(), 1)


def run_phases(home: Path, ingest_run: str | None) -> dict:
    """The work a side did, from its warehouse's own audit records: ingest (first load started → last load
    finished), then for the one `cakupan run` (ingest_run None) prepare (→ build started), the dbt build
    (audit.builds) and gate + publish (build finished → publish record). The Airflow side's other phases are its
    tasks' running times."""
    import duckdb

    con = duckdb.connect(str(home / "warehouse" / "work.duckdb"), read_only=True)
    try:
        if ingest_run is None:
            (ingest_run,), = con.execute("select run_id from audit.runs").fetchall()
        l0, l1 = con.execute("select min(started_at), max(finished_at) from audit.loads where run_id = ?",
                             [ingest_run]).fetchone()
        out = {"ingest_s": round((l1 - l0).total_seconds(), 1)}
        if ingest_run.startswith("cli"):
            b0, b1 = con.execute("select started_at, finished_at from audit.builds where build_id = ?",
                                 [ingest_run]).fetchone()
            (p1,) = con.execute("select max(published_at) from audit.publishes where run_id = ?",
                                [ingest_run]).fetchone()
            out.update(prepare_s=round((b0 - l1).total_seconds(), 1), build_s=round((b1 - b0).total_seconds(), 1),
                       gate_publish_s=round((p1 - b1).total_seconds(), 1))
    finally:
        con.close()
    return out


NATIONAL_REGENCIES = 514
DBT_TASKS_TEXT = {"model": "a cosmos task per model", "build": "one dbt build task"}


def _table(r: dict) -> str:
    scope = "national year" if r["months"] == 12 else f"national {r['months']}-month inbox" if r["months"] > 1 \
        else "national month"
    if r["regencies"] < NATIONAL_REGENCIES:
        scope = f"{r['months']}-month inbox of the first {r['regencies']} regencies, not national"
    flags = f" --regencies {r['regencies']}" if r["regencies"] < NATIONAL_REGENCIES else ""
    return (f"`python -m bench.scheduler --months {r['months']}{flags}` ({scope}: {r['regencies']} regencies, {r['files']} "
            f"files, {r['inbox_mb']} MB), measured {r.get('measured', '')}; ingest in {r['ingest_batches']} batch "
            f"task(s); dbt as {DBT_TASKS_TEXT[r.get('dbt_tasks', 'model')]} (`CAKUPAN_DBT_TASKS="
            f"{r.get('dbt_tasks', 'model')}`).\n\n"
            "| | seconds |\n|---|---|\n"
            f"| `cakupan run` (one process) | {r['cakupan_run_seconds']} |\n"
            f"| Airflow: ingest run | {r['airflow_ingest_seconds']} |\n"
            f"| Airflow: transform/publish run | {r['airflow_transform_seconds']} |\n"
            + (f"| Airflow: unpause → published file in place (gate_and_publish ended; the auditor report follows) | "
               f"{r['airflow_published_seconds']} |\n" if "airflow_published_seconds" in r else "")
            + f"| Airflow: unpause → published (the run's end, auditor report written) | {r['airflow_seconds']} |\n"
            f"| **ratio Airflow / `cakupan run`** (goal ≤ 2) | **{r['ratio']}** |\n"
            + (f"\nLoad average (1/5/15 min) {'; '.join(f'{k}: {v}' for k, v in r['load_average'].items())}.\n"
               if r.get("load_average") else "") + _breakdown(r))


def _breakdown(r: dict) -> str:
    """Where each side spends its time: the same phases from both warehouses' audit records, then every task."""
    if "cakupan_run_phases" not in r:
        return ""
    c, tasks = r["cakupan_run_phases"], r.get("airflow_task_times") or []

    def ran(*names: str) -> float:
        return round(sum(t["run_s"] for t in tasks if t["task"].split("[")[0].split(".")[0] in names), 1)

    a = {"ingest_s": r["airflow_phases"]["ingest_s"], "prepare_s": ran("prepare"),
         "build_s": ran("dbt_build", "dbt"), "gate_publish_s": ran("gate_and_publish"),
         "export_s": ran("export_rejections"), "report_s": ran("auditor_report")}
    c = {**c, "export_s": "—", "report_s": "—"}
    rows = (("ingest_s", "ingest: every file's load (first started → last finished)"), ("prepare_s", "prepare"),
            ("build_s", "dbt build"), ("gate_publish_s", "gate + publish"),
            ("export_s", "rejection workbooks (export_rejections)"), ("report_s", "auditor report"))
    c_rest = round(r["cakupan_run_seconds"] - sum(c[k] for k, _ in rows if isinstance(c[k], float)), 1)
    a_rest = round(r["airflow_seconds"] - sum(a[k] for k, _ in rows), 1)
    text = ("\nWhere each side's time goes (`cakupan run`: its warehouse's audit records; Airflow: the loads' audit "
            "records, then each task's running time):\n\n| phase | `cakupan run` | Airflow |\n|---|---|---|\n"
            + "".join(f"| {name} | {c[k]} | {a[k]} |\n" for k, name in rows)
            + f"| the rest (process or task start-ups, discovery, scheduling gaps, small tasks) | {c_rest} | {a_rest} |\n")
    if tasks:
        text += ("\nEvery Airflow task, in start order (metadata DB: `gap` = since the previous task of its run ended, "
                 "for the first transform task since the raw-zone Asset event (announce_raw) ended; `queued` = queued → "
                 "running; start-up = the task log's first line → \"DAG bundles loaded\"):\n\n"
                 "| DAG | task | gap | queued | running | of which start-up |\n|---|---|---|---|---|---|\n"
                 + "".join(f"| {t['dag'].removeprefix('cakupan_')} | {t['task']} | {t['gap_s']} | {t['queued_s']} | "
                           f"{t['run_s']} | {t.get('startup_s')} |\n" for t in tasks))
    cpu = r.get("component_cpu_seconds")
    if cpu:
        text += ("\nCPU seconds the Airflow components themselves used from unpausing to the end (main process and "
                 "its ended children; the tasks are not in these): "
                 + ", ".join(f"{k} {v}" for k, v in cpu.items()) + ".\n")
    return text


def markdown(r: dict | None) -> str:
    """This benchmark's section: the run just measured and the national year measured once (YEAR_FILE)."""
    parts = [(f"{SECTION}\n\nThe four Airflow components (LocalExecutor, PostgreSQL metadata; "
             "cakupan_dev.airflow_stack) started beforehand; the time runs from unpausing the ingest to the end of "
             "the transform/publish run its Asset event started, as the metadata database records them. "
             "`make bench` measures a national month; the national year takes too long for it and is measured "
             "once by hand (`python -m bench.scheduler --months 12 --record-year`).\n")]
    if r and r["months"] != 12:
        parts.append("### This run\n\n" + _table(r))
    year = json.loads(YEAR_FILE.read_text()) if YEAR_FILE.exists() else None
    parts.append("### National year (measured once)\n\n" + (_table(year) if year else "Not measured yet.\n"))
    return "\n".join(parts)


def write_section(text: str, out: Path) -> None:
    """Replace (or append) this benchmark's section of BENCHMARKS.md."""
    old = out.read_text() if out.exists() else ""
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    new = pattern.sub(lambda _: text + "\n", old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text
    out.write_text(new)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--months", type=int, default=1)
    ap.add_argument("--regencies", type=int, default=None, help="first N regencies (default: all 514)")
    ap.add_argument("--workers", type=int, default=160, help="workers per regency (make bench's full scale: 160)")
    ap.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench-scheduler")
    ap.add_argument("--out", type=Path, default=None, help="write the section into this file (BENCHMARKS.md)")
    ap.add_argument("--dbt-tasks", choices=sorted(DBT_TASKS_TEXT), default="model",
                    help="the transform DAG's dbt tasks (CAKUPAN_DBT_TASKS)")
    ap.add_argument("--record-year", action="store_true", help=f"keep this (12-month) result in {YEAR_FILE.name}")
    a = ap.parse_args(argv)
    r = run(a.workdir.resolve(), a.months, a.regencies, a.workers, a.dbt_tasks)
    r["measured"] = time.strftime("%Y-%m-%d")
    (a.workdir / "scheduler.json").write_text(json.dumps(r, indent=1, default=str))
    if a.record_year and a.months == 12 and not a.regencies:      # the national year only
        YEAR_FILE.write_text(json.dumps(r, indent=1, default=str) + "\n")
    print(markdown(r))
    if a.out:
        write_section(markdown(r), a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
