"""Helpers for the fault tests: real `cakupan` processes against throwaway homes, and mart comparisons."""

from __future__ import annotations

import csv
import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from faults_corpus import HEADER, register_row

BIN = Path(sys.executable).parent
KEY = "test-only-pseudonym-key"
# columns that differ between two correct runs: load ids (a killed load consumed one) and wall-clock times
VOLATILE = re.compile(r"(^|_)load_id$|^duplicate_of$|_at$|^error_message$")


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAKUPAN_", "AIRFLOW"))}
    env.update({"CAKUPAN_HOME": str(home), "CAKUPAN_PSEUDONYM_KEY": KEY, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
                "GX_ANALYTICS_ENABLED": "False", "NO_COLOR": "1", "COLUMNS": "200"})
    env.update(extra)
    return env


def cakupan(home: Path, *args: str, check: bool = True, timeout: float = 900, **popen) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(BIN / "cakupan"), *args], env=env_for(home), capture_output=True, text=True,
                          timeout=timeout, check=False, **popen)
    if check and proc.returncode != 0:
        raise AssertionError(f"cakupan {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-5000:]}")
    return proc


def big_register_csv(path: Path, rows: int, start: int = 100_000) -> Path:
    """A register CSV with `rows` well-formed rows (unique synthetic NIKs), big enough that loading takes seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";", lineterminator="\r\n")
        w.writerow(HEADER)
        for i in range(rows):
            w.writerow(register_row(start + i))
    return path


def big_register_xlsx(path: Path, rows: int, start: int = 100_000) -> Path:
    """A register workbook with `rows` well-formed rows: a workbook loads about 30 times slower per row than a CSV,
    so a load lasts seconds while the warehouse built from it stays small."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet("Peserta")
    ws.write_row(0, 0, HEADER)
    for i in range(rows):
        ws.write_row(i + 1, 0, [str(v) for v in register_row(start + i)])
    wb.close()
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def open_ro(db: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(db), read_only=True)


def mart_rows(db: Path, drop_status: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every published mart's rows (volatile columns dropped), sorted, keyed by table."""
    out = {}
    with open_ro(db) as con:
        tables = [t for (t,) in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'marts' order by 1").fetchall()]
        for t in tables:
            cols = [c for (c,) in con.execute("select column_name from information_schema.columns where "
                                              "table_schema = 'marts' and table_name = ? order by ordinal_position",
                                              [t]).fetchall()]
            keep = [c for c in cols if not VOLATILE.search(c)]
            where = ""
            if drop_status and "status" in cols:
                where = " where status not in (" + ", ".join(f"'{s}'" for s in drop_status) + ")"
            sel = ", ".join(f'"{c}"' for c in keep)
            out[t] = con.execute(f"select {sel} from marts.{t}{where} order by all").fetchall()
    return out


def wait_for(predicate, timeout: float, interval: float = 0.002) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return False
