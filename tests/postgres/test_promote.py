"""Promoting published_next when a table's structure changed (a model change): DDL under a short lock_timeout,
retried — the publisher waits for readers, readers never error and keep their snapshot."""

from __future__ import annotations

import threading
import time
from contextlib import closing

import pytest
from cakupan.targets.postgres.params import connect
from cakupan.targets.postgres.publish import build_next, promote_next
from cakupan.targets.postgres.zones import DEFAULT_BI_ROLE
from pg_support import PUBLISHED_MARTS

pytestmark = pytest.mark.postgres


def test_changed_table_is_replaced_and_granted(chains, tmp_path):
    settings, db = chains.clone(tmp_path, "restructure")
    with closing(connect(settings)) as con:
        build_next(con, PUBLISHED_MARTS)
        with con.cursor() as cur:
            cur.execute("alter table published_next.mart_load_quality add column note varchar default 'v2'")
            cur.execute("create table published_next.mart_extra as select 1 as x")
            cur.execute("drop table published_next.mart_lineage")
        con.commit()
        out = promote_next(con)
    t = out["tables"]
    assert t["published.mart_load_quality"] == "table replaced"
    assert t["published.mart_extra"] == "table added"
    assert t["published.mart_lineage"] == "dropped"
    assert t["published.mart_coverage_monthly"] == "rows replaced"
    bi = chains.pg.connect(user=DEFAULT_BI_ROLE, dbname=db)
    with closing(bi), bi.cursor() as cur:
        cur.execute("select distinct note from published.mart_load_quality")
        assert cur.fetchall() == [("v2",)]
        cur.execute("select x from published.mart_extra")
        assert cur.fetchall() == [(1,)]


def test_restructure_waits_for_a_reader_that_never_errors(chains, tmp_path):
    settings, db = chains.clone(tmp_path, "restructure_wait")
    bi = chains.pg.connect(user=DEFAULT_BI_ROLE, dbname=db)
    bi.set_session(isolation_level="REPEATABLE READ", readonly=True)
    with closing(connect(settings)) as con, closing(bi):
        build_next(con, PUBLISHED_MARTS)
        with con.cursor() as cur:
            cur.execute("alter table published_next.mart_load_quality add column note varchar default 'v2'")
        con.commit()
        with bi.cursor() as cur:
            cur.execute("select count(*) from published.mart_load_quality")
            before = cur.fetchone()[0]
        result: dict = {}
        publisher = threading.Thread(target=lambda: result.update(promote_next(con, lock_timeout_ms=200)))
        publisher.start()
        time.sleep(1.5)
        assert publisher.is_alive(), "the publisher must wait for the reader's lock"
        with bi.cursor() as cur:  # the reader's transaction still reads the old table, without error
            cur.execute("select count(*) from published.mart_load_quality")
            assert cur.fetchone()[0] == before
            cur.execute("select count(*) from published.mart_coverage_monthly")
        bi.commit()
        publisher.join(timeout=60)
        assert not publisher.is_alive()
        assert result["attempts"] > 1 and result["tables"]["published.mart_load_quality"] == "table replaced"
        with bi.cursor() as cur:
            cur.execute("select count(*) from published.mart_load_quality where note = 'v2'")
            assert cur.fetchone()[0] == before
        bi.commit()
