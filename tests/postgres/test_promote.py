"""Promoting published_next when a table's structure changed (a model change) and the publish lock.

A model change switches every published table at once, and only when no reader's snapshot predates the new
tables' rows: a REPEATABLE READ reader held open across the publish sees one state (the old), the publisher waits
for it, with progress lines and then one error naming it when the wait runs out. Publishers are serialised by a
lock the BI role cannot take."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import closing

import pytest
from cakupan.targets.postgres import publish
from cakupan.targets.postgres.params import PgError, connect
from cakupan.targets.postgres.publish import build_next, promote_next, publish_lock
from cakupan.targets.postgres.zones import DEFAULT_BI_ROLE
from pg_support import PUBLISHED_MARTS, cli
from psycopg2 import errors

pytestmark = pytest.mark.postgres

TABLES = ("mart_coverage_monthly", "mart_claims_summary", "mart_load_quality", "mart_lineage")


def _next_with_a_model_change(con) -> None:
    """published_next = the marts, with one more column in mart_load_quality (a model change)."""
    build_next(con, PUBLISHED_MARTS)
    with con.cursor() as cur:
        cur.execute("alter table published_next.mart_load_quality add column note varchar default 'v2'")
        cur.execute("delete from published_next.mart_claims_summary where month_start = "
                    "(select max(month_start) from published_next.mart_claims_summary)")
    con.commit()


def _state(cur) -> dict:
    """What a reader sees: row counts of four published tables and mart_load_quality's columns."""
    out = {}
    for t in TABLES:
        cur.execute(f"select count(*) from published.{t}")
        out[t] = cur.fetchone()[0]
    cur.execute("select count(*) from information_schema.columns where table_schema = 'published' "
                "and table_name = 'mart_load_quality' and column_name = 'note'")
    out["note"] = cur.fetchone()[0]
    return out


def _with_reader(chains, tmp_path, name: str, **kw):
    """A private copy of the published warehouse and a REPEATABLE READ BI connection to it: (settings, bi)."""
    settings, db = chains.clone(tmp_path, name)
    bi = chains.pg.connect(user=DEFAULT_BI_ROLE, dbname=db, **kw)
    bi.set_session(isolation_level="REPEATABLE READ", readonly=True)
    return settings, bi


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
    # a model change switches every published table, not only the changed ones (see publish.py)
    assert t["published.mart_coverage_monthly"] == "table replaced"
    assert t["published_audit.checks"] == "rows replaced"     # the audit pair did not change: rows, as always
    bi = chains.pg.connect(user=DEFAULT_BI_ROLE, dbname=db)
    with closing(bi), bi.cursor() as cur:
        cur.execute("select distinct note from published.mart_load_quality")
        assert cur.fetchall() == [("v2",)]
        cur.execute("select x from published.mart_extra")
        assert cur.fetchall() == [(1,)]


@pytest.mark.parametrize("first_read", ["a published table", "nothing published yet"])
def test_a_reader_held_open_across_a_model_change_sees_one_state(chains, tmp_path, caplog, monkeypatch, first_read):
    """A REPEATABLE READ reader's snapshot predates the new tables' rows: it must see the old state in every table,
    before and after the publisher is ready, whether it had read a published table or only taken its snapshot.
    (Before issue 24 the second kind saw the moved-in tables empty beside the others: a mix.)"""
    monkeypatch.setattr(publish, "PROGRESS_EVERY_S", 0.5)
    settings, bi = _with_reader(chains, tmp_path, "reader_across")
    with closing(connect(settings)) as con, closing(bi):
        with bi.cursor() as cur:
            old = _state(cur)
        bi.commit()
        with bi.cursor() as cur:   # the reader's transaction: its snapshot is taken now
            cur.execute("select count(*) from published.mart_lineage" if first_read == "a published table"
                        else "select 1")
        _next_with_a_model_change(con)
        result: dict = {}
        publisher = threading.Thread(target=lambda: result.update(promote_next(con)))
        with caplog.at_level(logging.WARNING, logger="cakupan.targets.postgres.publish"):
            publisher.start()
            time.sleep(2.0)
            assert publisher.is_alive(), "the publisher must wait for the older reader"
            with bi.cursor() as cur:
                assert _state(cur) == old      # one state: the old one, in every table
            bi.commit()
            publisher.join(timeout=60)
        assert not publisher.is_alive() and result["tables"]["published.mart_load_quality"] == "table replaced"
        # the progress line, in the default language (catalogue error.pg.wait_old_readers, error.pg.session)
        waits = [r.getMessage() for r in caplog.records if "penerbitan (model berubah) menunggu" in r.getMessage()]
        assert waits and f"peran {DEFAULT_BI_ROLE}" in waits[0], waits
        with bi.cursor() as cur:
            new = _state(cur)
        bi.commit()
    assert new["note"] == 1 and old["note"] == 0
    assert new["mart_claims_summary"] < old["mart_claims_summary"]
    assert new["mart_coverage_monthly"] == old["mart_coverage_monthly"] > 0


def test_the_wait_is_bounded_and_names_the_reader(chains, tmp_path, monkeypatch):
    monkeypatch.setenv("CAKUPAN_LANG", "en")        # the message is read in English here (Indonesian: test_cli)
    settings, bi = _with_reader(chains, tmp_path, "reader_bounded", application_name="Metabase")
    with closing(connect(settings)) as con, closing(bi):
        with bi.cursor() as cur:
            before = _state(cur)
        _next_with_a_model_change(con)
        started = time.monotonic()
        with pytest.raises(PgError) as exc:
            promote_next(con, deadline_s=2)
        assert time.monotonic() - started < 30
        msg = str(exc.value)
        assert f"role {DEFAULT_BI_ROLE} (Metabase)" in msg and "published is unchanged" in msg, msg
        bi.rollback()
        with bi.cursor() as cur:
            assert _state(cur) == before


def test_the_bi_role_cannot_take_or_block_the_publish_lock(chains, tmp_path):
    settings, db = chains.clone(tmp_path, "publish_lock")
    bi = chains.pg.connect(user=DEFAULT_BI_ROLE, dbname=db)
    with closing(bi):
        with bi.cursor() as cur, pytest.raises(errors.InsufficientPrivilege):
            cur.execute("set transaction read write")
            cur.execute(f"lock table {publish.PUBLISH_LOCK_TABLE} in access exclusive mode")
        bi.rollback()
        bi.autocommit = True
        with bi.cursor() as cur:   # the advisory key the publisher used before issue 24
            cur.execute("select pg_advisory_lock(%s)", [0x43414B55])
        started = time.monotonic()
        with publish_lock(settings, wait_s=5):
            assert time.monotonic() - started < 5


def test_a_held_publish_lock_gives_one_clear_line(chains, tmp_path, monkeypatch):
    """Another publisher holds the lock: `cakupan publish` waits CAKUPAN_PG_PUBLISH_WAIT seconds, then says who
    holds it, in one line, exit 1, no traceback; nothing changed. (Read in English.)"""
    monkeypatch.setenv("CAKUPAN_LANG", "en")
    settings, db = chains.clone(tmp_path, "publish_lock_cli")
    with publish_lock(settings, wait_s=5):
        out = cli(settings.home, "publish", target="postgres", pg=chains.pg, dbname=db, check=False,
                  env={"CAKUPAN_PG_PUBLISH_WAIT": "2", "CAKUPAN_LANG": "en"})
        with pytest.raises(PgError, match="another publish holds the publish lock"), publish_lock(settings, wait_s=1):
            pass
    assert out.returncode == 1, out.stdout + out.stderr
    errs = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errs) == 1 and "Traceback" not in out.stderr, out.stderr
    assert "another publish holds the publish lock" in errs[0] and "cakupan-publish-lock" in errs[0], errs[0]
    assert "published is unchanged" in errs[0]


def test_readers_of_an_ordinary_publish_never_wait(chains, tmp_path):
    """No model change: rows are replaced under MVCC, the publisher does not wait for an open reader."""
    settings, bi = _with_reader(chains, tmp_path, "rows_publish")
    with closing(connect(settings)) as con, closing(bi):
        with bi.cursor() as cur:
            before = _state(cur)
        build_next(con, PUBLISHED_MARTS)
        with con.cursor() as cur:
            cur.execute("delete from published_next.mart_lineage")
        con.commit()
        started = time.monotonic()
        out = promote_next(con, deadline_s=5)
        assert time.monotonic() - started < 5 and out["attempts"] == 1
        with bi.cursor() as cur:
            assert _state(cur) == before
        bi.commit()
        with bi.cursor() as cur:
            assert _state(cur)["mart_lineage"] == 0
        bi.commit()
