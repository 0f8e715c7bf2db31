"""Published states with known figures, published through the real swap (real DuckDB files, real renames)."""

from __future__ import annotations

import datetime as dt
import os
from contextlib import closing
from pathlib import Path

import duckdb
from cakupan.core.files import sha256_file
from cakupan.core.settings import Settings
from cakupan.targets import history
from cakupan.targets.published_file import swap_in

COLUMNS = ("regency_code varchar, regency_name varchar, month_start date, enrolled bigint, enrolled_apbd bigint, "
           "protected bigint, protected_apbd bigint, promised bigint, participants_billed bigint, "
           "premium_billed decimal(18,2), premium_paid decimal(18,2)")


def write_state(path: Path, run_id: str, enrolled: dict[tuple[str, str], int], padding_rows: int = 0) -> None:
    """A published file whose coverage is `enrolled` per (regency, YYYY-MM); protected = enrolled - 1, paid =
    protected * 16,800 (each row's figures follow from the one number); its own publish record names `run_id`."""
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema audit")
        con.execute(f"create table marts.mart_coverage_monthly ({COLUMNS})")
        for (reg, month), n in enrolled.items():
            con.execute("insert into marts.mart_coverage_monthly values (?, 'X', ?, ?, 0, ?, 0, 100, ?, ?, ?)",
                        [reg, dt.date.fromisoformat(month + "-01"), n, n - 1, n, n * 16800, (n - 1) * 16800])
        con.execute("create table marts.padding as select range as i, md5(range::varchar) as h "
                    f"from range({padding_rows})")
        con.execute("create table audit.publishes (run_id varchar, published_at timestamp, status varchar, "
                    "candidate_sha256 varchar, published_sha256 varchar, input_loads varchar, gate_success boolean, "
                    "errors bigint, warnings bigint, message varchar)")
        con.execute("insert into audit.publishes values (?, now(), 'published', null, null, '1,2', true, 0, 1, "
                    "'12 checks, 1 warnings')", [run_id])


def snapshot(path: Path) -> dict:
    """Every table of a DuckDB file: its columns with their types (in order) and its rows, sorted."""
    with closing(duckdb.connect(str(path), read_only=True)) as con:
        out = {}
        for s, t in con.execute("select table_schema, table_name from information_schema.tables "
                                "where table_catalog = current_database() order by 1, 2").fetchall():
            cols = con.execute("select column_name, data_type from information_schema.columns where table_schema = ? "
                               "and table_name = ? order by ordinal_position", [s, t]).fetchall()
            rows = con.execute(f'select * from "{s}"."{t}"').fetchall()
            out[f"{s}.{t}"] = (cols, sorted(rows, key=repr))
    return out


def publish(settings: Settings, run_id: str, enrolled: dict[tuple[str, str], int], **kw) -> history.Entry:
    """Publish a state through `swap_in` (the publish's own rename and history record)."""
    settings.ensure_dirs()
    cand = settings.candidate_db(run_id)
    write_state(cand, run_id, enrolled, **kw)
    sha = swap_in(settings, cand, run_id)
    assert sha == sha256_file(settings.published_db)
    return history.find(settings, run_id)


def publish_at(settings: Settings, run_id: str, when: dt.datetime, enrolled: dict | None = None,
               **kw) -> history.Entry:
    """A publish whose stored time is `when` (the clock retention reads), without waiting for it."""
    settings.ensure_dirs()
    cand = settings.candidate_db(run_id)
    write_state(cand, run_id, enrolled or {("73.72", "2025-01"): 10}, **kw)
    os.replace(cand, settings.published_db)
    return history.record(settings, run_id, sha256_file(settings.published_db), now=when)
