"""The publish history in PostgreSQL, for BI tools that read the server: schema `publish_history`, keyed by run id.

After each publish, `keep_published_state` appends the published coverage and restatements (the figures auditors
ask about) to `publish_history.<mart>` with the run id, and one row to `publish_history.publishes` (run id,
time, sha256 of the exported published file), in one transaction; the BI role may read it. Whole past states (every
mart, the audit tables) are the published files `targets.history` keeps, which `cakupan coverage --as-of`,
`trace --as-of` and `diff` read on both targets. No retention here: coverage is one row per regency and month.
"""

from __future__ import annotations

import datetime as dt

from cakupan.targets.postgres.params import q, qt
from cakupan.targets.postgres.zones import PUBLISH_HISTORY as HISTORY
from cakupan.targets.postgres.zones import PUBLISHED, best_effort, bi_role, columns

KEPT_MARTS = ("mart_coverage_monthly", "mart_restatements")


def keep_published_state(con, run_id: str, published_sha256: str | None, when: dt.datetime | None = None) -> int:
    """Append the published state's coverage and restatements under `run_id` (again: replaced); return the rows."""
    when = when or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = 0
    with con.cursor() as cur:
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
    con.commit()
    role = bi_role()
    best_effort(con, f"grant usage on schema {q(HISTORY)} to {q(role)}")
    best_effort(con, f"grant select on all tables in schema {q(HISTORY)} to {q(role)}")
    return rows
