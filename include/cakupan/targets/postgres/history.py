"""The publish history in PostgreSQL, for BI tools that read the server: schema `publish_history`, keyed by run id.

After each publish, `keep_published_state` appends the published coverage and restatements (the figures auditors
ask about) to `publish_history.<mart>` with the run id, and one row to `publish_history.publishes` (run id,
time, sha256 of the exported published file), in one transaction; the BI role may read it. Whole past states (every
mart, the audit tables) are the published files `targets.history` keeps, which `cakupan coverage --as-of`,
`trace --as-of` and `diff` read on both targets. No retention here: coverage is one row per regency and month.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cakupan.targets.postgres.params import q, qt
from cakupan.targets.postgres.zones import PUBLISH_HISTORY as HISTORY
from cakupan.targets.postgres.zones import PUBLISHED, best_effort, bi_role, columns

KEPT_MARTS = ("mart_coverage_monthly", "mart_restatements")


def keep_published_state(con, run_id: str, published_sha256: str | None, when: dt.datetime | None = None) -> int:
    """Append the published state's coverage and restatements under `run_id` (again: replaced); return the rows."""
    with con.cursor() as cur:
        rows = append_state(cur, run_id, published_sha256, when)
    con.commit()
    grant_history(con)
    return rows


def append_state(cur, run_id: str, published_sha256: str | None, when: dt.datetime | None = None) -> int:
    """`keep_published_state` inside the caller's transaction (a rollback: the one that switches `published`)."""
    when = when or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = 0
    cur.execute(f"create schema if not exists {q(HISTORY)}")
    cur.execute(f"create table if not exists {qt(HISTORY, 'publishes')} (run_id varchar primary key, "
                "published_at timestamp not null, published_sha256 varchar)")
    for mart in KEPT_MARTS:
        have = [c for c, _ in columns(cur, PUBLISHED, mart)]
        if not have:
            continue
        cur.execute(f"create table if not exists {qt(HISTORY, mart)} as select cast(null as varchar) as run_id, "
                    f"* from {qt(PUBLISHED, mart)} with no data")
        kept = {c for c, _ in columns(cur, HISTORY, mart)}
        cols = ", ".join(q(c) for c in have if c in kept)   # columns added to a mart later are not kept
        cur.execute(f"delete from {qt(HISTORY, mart)} where run_id = %s", [run_id])
        cur.execute(f"insert into {qt(HISTORY, mart)} (run_id, {cols}) select %s, {cols} "
                    f"from {qt(PUBLISHED, mart)}", [run_id])
        rows += cur.rowcount
    cur.execute(f"delete from {qt(HISTORY, 'publishes')} where run_id = %s", [run_id])
    cur.execute(f"insert into {qt(HISTORY, 'publishes')} values (%s, %s, %s)", [run_id, when, published_sha256])
    return rows


def grant_history(con) -> None:
    role = bi_role()
    best_effort(con, f"grant usage on schema {q(HISTORY)} to {q(role)}")
    best_effort(con, f"grant select on all tables in schema {q(HISTORY)} to {q(role)}")


# ------------------------------------------------------------------------------------------------ restatements ----
FIGURE_COLUMNS = "run_id, published_at, regency_code, month_start, measure, value, caused_by, max_load_id"


def record_figures(records, published: Path, run_id: str, published_at: dt.datetime, loads: str,
                   caused_by: str | None = None) -> int:
    """`targets.history.record_figures` for the server's audit zone (`records`: `open_records`): the same SQL runs
    in an in-memory DuckDB holding what it reads from the server (the last stored figure of each regency, month
    and measure, the previous publish's loads, this publish's loads), and the changed figures it stores there are
    written to audit.published_figures in one transaction. Returns the rows stored."""
    import duckdb
    import pandas as pd
    from psycopg2.extras import execute_values

    from cakupan.targets.history import record_figures as changed_figures

    ids = sorted({int(x) for x in loads.split(",") if x.strip()})
    pg = records.pg
    with duckdb.connect() as duck, pg.cursor() as cur:
        duck.execute("create schema audit")
        duck.execute("create table audit.published_figures (run_id varchar, published_at timestamp, regency_code "
                     "varchar, month_start date, measure varchar, value decimal(18,2), caused_by varchar, "
                     "max_load_id bigint)")
        duck.execute("create table audit.publishes (run_id varchar, published_at timestamp, "
                     "published_sha256 varchar, input_loads varchar)")
        duck.execute("create table audit.loads (load_id bigint, regency_code varchar, file_name varchar)")
        cur.execute("select run_id, published_at, published_sha256, input_loads from audit.publishes "
                    "where published_sha256 is not null and run_id <> %s order by published_at desc limit 1",
                    [run_id])
        prev = cur.fetchall()
        for row in prev:
            duck.execute("insert into audit.publishes values (?, ?, ?, ?)", row)
        before = {int(x) for x in (prev[0][3] or "").split(",") if x.strip()} if prev else set()
        cur.execute("select load_id, regency_code, file_name from audit.loads where load_id = any(%s)",
                    [sorted(set(ids) - before)])
        for row in cur.fetchall():     # the loads new in this publish (the only ones that can be a cause)
            duck.execute("insert into audit.loads values (?, ?, ?)", row)
        cur.execute(f"select {FIGURE_COLUMNS.replace('value', 'value::text')} from (select f.*, row_number() over "
                    "(partition by regency_code, month_start, measure order by published_at desc) as latest "
                    "from audit.published_figures f where run_id <> %s) x where latest = 1", [run_id])
        last = pd.DataFrame(cur.fetchall(), columns=FIGURE_COLUMNS.split(", "), dtype=object)  # noqa: F841
        duck.execute("insert into audit.published_figures select run_id, published_at, regency_code, month_start, "
                     "measure, cast(value as decimal(18,2)), caused_by, max_load_id from last")
        stored = changed_figures(duck, published, run_id, published_at, loads, caused_by)
        rows = duck.execute(f"select {FIGURE_COLUMNS} from audit.published_figures where run_id = ?",
                            [run_id]).fetchall()
        pg.autocommit = False
        try:
            cur.execute("delete from audit.published_figures where run_id = %s", [run_id])
            if rows:
                execute_values(cur, f"insert into audit.published_figures ({FIGURE_COLUMNS}) values %s", rows)
            pg.commit()
        except BaseException:
            pg.rollback()
            raise
        finally:
            pg.autocommit = True
    return stored
