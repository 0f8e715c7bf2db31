"""A BI reader during publishes never errors and never sees a mix of the old and the new published state.

Two published states that differ in two tables at once: A (everything) and B (the newest month removed from both
mart_coverage_monthly and mart_lineage). The publisher alternates A and B — full publishes (GX gate included) and
bare promotions of published_next in between for many more publishes — while BI readers loop:
- a REPEATABLE READ transaction counting both tables in two statements (with a pause between them, so a publish
  commits while readers are inside their transactions),
- one statement counting both tables,
- the same in the opposite table order (the order that deadlocks a lock-based schema swap).
Every observed pair must be A's or B's; both must have been observed; no reader may get any error.
"""

from __future__ import annotations

import random
import threading
import time
from contextlib import closing

import pytest
from cakupan import pipeline
from cakupan.targets.postgres.params import connect
from cakupan.targets.postgres.publish import build_next, promote_next
from cakupan.targets.postgres.zones import DEFAULT_BI_ROLE
from pg_support import PUBLISHED_MARTS

pytestmark = pytest.mark.postgres

COUNT_BOTH = ("select (select count(*) from published.mart_coverage_monthly), "
              "(select count(*) from published.mart_lineage)")


def _set_state(con, state: str) -> None:
    """Make marts.mart_coverage_monthly / mart_lineage hold state A (all rows) or B (without the newest month)."""
    with con.cursor() as cur:
        for t in ("mart_coverage_monthly", "mart_lineage"):
            cur.execute(f"truncate marts.{t}")
            cur.execute(f"insert into marts.{t} select * from keep.{t}")
        if state == "B":
            cur.execute("delete from marts.mart_coverage_monthly where month_start = (select max(month_start) "
                        "from keep.mart_coverage_monthly)")
            cur.execute("delete from marts.mart_lineage where month_start = (select max(month_start) "
                        "from keep.mart_coverage_monthly)")
    con.commit()


def _counts(con) -> tuple[int, int]:
    with con.cursor() as cur:
        cur.execute(COUNT_BOTH)
        return cur.fetchone()


class Reader(threading.Thread):
    def __init__(self, cluster, db: str, mode: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.cluster, self.db, self.mode, self.stop = cluster, db, mode, stop
        self.seen: list[tuple] = []
        self.errors: list[str] = []

    def run(self) -> None:
        try:
            con = self.cluster.connect(user=DEFAULT_BI_ROLE, dbname=self.db)
        except Exception as exc:  # noqa: BLE001 - any failure is a finding
            self.errors.append(f"connect: {exc}")
            return
        rnd = random.Random(self.mode)
        with closing(con):
            while not self.stop.is_set():
                try:
                    if self.mode == "statement":
                        con.autocommit = True
                        self.seen.append(_counts(con))
                        continue
                    con.autocommit = False
                    con.set_session(isolation_level="REPEATABLE READ", readonly=True)
                    with con.cursor() as cur:
                        if self.mode == "two-statements":
                            cur.execute("select count(*) from published.mart_coverage_monthly")
                            a = cur.fetchone()[0]
                            time.sleep(rnd.uniform(0, 0.05))
                            cur.execute("select count(*) from published.mart_lineage")
                            self.seen.append((a, cur.fetchone()[0]))
                        else:  # lineage first, then coverage: the opposite lock order
                            cur.execute("select count(*) from published.mart_lineage")
                            b = cur.fetchone()[0]
                            time.sleep(rnd.uniform(0, 0.05))
                            cur.execute("select count(*) from published.mart_coverage_monthly")
                            self.seen.append((cur.fetchone()[0], b))
                    con.commit()
                except Exception as exc:  # noqa: BLE001 - any failure is a finding
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                    try:
                        con.rollback()
                    except Exception:  # noqa: BLE001
                        return


def test_reader_sees_old_or_new_never_a_mix(chains, tmp_path):
    settings, db = chains.clone(tmp_path, "concurrent")
    con = connect(settings)
    with closing(con):
        with con.cursor() as cur:
            cur.execute("create schema keep")
            for t in ("mart_coverage_monthly", "mart_lineage"):
                cur.execute(f"create table keep.{t} as select * from marts.{t}")
        con.commit()
        _set_state(con, "B")
        build_next(con, PUBLISHED_MARTS)
        promote_next(con)
        state_b = _counts(con)
        _set_state(con, "A")
        build_next(con, PUBLISHED_MARTS)
        promote_next(con)
        state_a = _counts(con)
        assert state_a[0] > state_b[0] and state_a[1] > state_b[1]
        allowed = {state_a, state_b}

        stop = threading.Event()
        readers = [Reader(chains.pg, db, m, stop) for m in ("two-statements", "reversed", "statement")]
        for r in readers:
            r.start()
        try:
            time.sleep(0.3)
            published = []
            for i, state in enumerate("BABABABABABABABABABABA"):
                _set_state(con, state)
                if i in (0, 1):  # the full publish path: gate included
                    out = pipeline.gate_and_publish(settings, pipeline.new_run_id(f"concurrent{i}"))
                    assert out.published, out.message
                else:
                    build_next(con, PUBLISHED_MARTS)
                    promoted = promote_next(con)
                    # rows replaced under MVCC: the publisher never waited for a reader, nor retried
                    assert promoted["attempts"] == 1
                    assert set(promoted["tables"].values()) == {"rows replaced"}
                published.append(_counts(con))
                time.sleep(0.05)
        finally:
            stop.set()
            for r in readers:
                r.join(timeout=60)

    assert published == [state_b if s == "B" else state_a for s in "BABABABABABABABABABABA"]
    for r in readers:
        assert not r.errors, f"{r.mode} reader errors: {r.errors[:5]}"
        assert len(r.seen) > 20, f"{r.mode} reader read only {len(r.seen)} times"
        mixed = [p for p in r.seen if p not in allowed]
        assert not mixed, f"{r.mode} reader saw a mix of states: {mixed[:5]} (allowed {allowed})"
        assert {state_a, state_b} <= set(r.seen), f"{r.mode} reader never saw both states: {set(r.seen)}"
