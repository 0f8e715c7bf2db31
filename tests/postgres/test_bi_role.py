"""The read-only BI role (cakupan_bi): reads the published marts, and nothing else; writes nothing anywhere, even in
a read-write transaction; no large objects, no other database — with the DBA's one-time SQL of docs/postgres.md."""

from __future__ import annotations

import re
from contextlib import closing

import psycopg2
import pytest
from cakupan.targets.postgres.docs import DOCS_FILE
from cakupan.targets.postgres.params import connect
from cakupan.targets.postgres.zones import DEFAULT_BI_ROLE, bi_role_gaps, ensure_bi_role, ensure_zones
from cakupan_dev.pgcluster import PgCluster
from pg_support import PUBLISHED_MARTS
from psycopg2 import errors

pytestmark = pytest.mark.postgres

FORBIDDEN = [
    "raw.register", "raw.contributions", "raw.report_facts", "quarantine.rows", "audit.loads", "audit.checks",
    "audit.runs", "reference.configured_regencies", "staging.stg_register__enrollments", "marts.fct_enrollment_spells",
    "marts.mart_coverage_monthly", "intermediate.int_enrollments_by_month", "published_audit.quarantine_rows",
    "published_audit.loads_published",
]


@pytest.fixture
def bi(chains):
    con = chains.pg.connect(user=DEFAULT_BI_ROLE, dbname=chains.dbname)
    con.autocommit = True
    yield con
    con.close()


def _fails(con, sql: str, *kinds) -> str:
    with con.cursor() as cur, pytest.raises(kinds or (errors.InsufficientPrivilege,)) as exc:
        cur.execute(sql)
    return str(exc.value)


def test_bi_reads_every_published_mart(chains, bi):
    with closing(connect(chains.settings())) as owner, owner.cursor() as cur:
        expected = {}
        for t in PUBLISHED_MARTS:
            cur.execute(f"select count(*) from published.{t}")
            expected[t] = cur.fetchone()[0]
    with bi.cursor() as cur:
        for t in PUBLISHED_MARTS:
            cur.execute(f"select count(*) from published.{t}")
            assert cur.fetchone()[0] == expected[t]
        cur.execute("select regency_code, month_start, enrolled, protected from published.mart_coverage_monthly "
                    "where enrolled is not null order by 1, 2 limit 1")
        assert cur.fetchone()[2] > 0
        # BI tools list the schema and read the dbt descriptions stored as comments
        cur.execute("select table_name from information_schema.tables where table_schema = 'published'")
        assert {t for (t,) in cur.fetchall()} == set(PUBLISHED_MARTS)
        cur.execute("select col_description('published.mart_coverage_monthly'::regclass, "
                    "(select attnum from pg_attribute where attrelid = 'published.mart_coverage_monthly'::regclass "
                    "and attname = 'protected'))")
        assert "premium" in cur.fetchone()[0]


@pytest.mark.parametrize("table", FORBIDDEN)
def test_bi_cannot_read_outside_published(bi, table):
    msg = _fails(bi, f"select * from {table} limit 1")
    assert "permission denied" in msg


def test_bi_sees_no_other_schema(bi):
    with bi.cursor() as cur:
        cur.execute("select table_schema, table_name from information_schema.tables "
                    "where table_schema not in ('pg_catalog', 'information_schema')")
        # published marts, and what was published at each past run (issue 21): nothing else
        assert {s for s, _ in cur.fetchall()} == {"published", "publish_history"}


@pytest.mark.parametrize("sql", [
    "insert into published.mart_claims_summary (regency_code) values ('99.99')",
    "update published.mart_coverage_monthly set enrolled = 0",
    "delete from published.mart_lineage",
    "truncate published.mart_load_quality",
    "drop table published.mart_coverage_monthly",
    "alter table published.mart_coverage_monthly add column x int",
    "create table published.bi_scratch (x int)",
    "create table public.bi_scratch (x int)",
    "create temporary table bi_scratch (x int)",
    "create schema bi_scratch",
    "create view published.v as select 1 as x",
    "set role cakupan",
])
def test_bi_cannot_write_even_in_a_read_write_transaction(bi, sql):
    """Privileges deny it, not only the role's default read-only transactions."""
    bi.autocommit = False
    try:
        with bi.cursor() as cur:
            cur.execute("set transaction read write")
            with pytest.raises(psycopg2.Error) as exc:
                cur.execute(sql)
        assert isinstance(exc.value, (errors.InsufficientPrivilege, errors.WrongObjectType)) or \
            "permission denied" in str(exc.value) or "must be owner" in str(exc.value) or \
            "must be member" in str(exc.value), str(exc.value)
    finally:
        bi.rollback()
        bi.autocommit = True


def test_bi_sessions_are_read_only_by_default(bi):
    with bi.cursor() as cur:
        cur.execute("show default_transaction_read_only")
        assert cur.fetchone()[0] == "on"
    _fails(bi, "create temporary table t (x int)", errors.ReadOnlySqlTransaction, errors.InsufficientPrivilege)


def test_bi_grants_survive_a_publish_and_nothing_more(chains):
    """Grants live on tables, and a model change brings new ones: they are given at every publish, on `published` and `publish_history` only."""
    with closing(connect(chains.settings())) as con, con.cursor() as cur:
        cur.execute("select table_schema, privilege_type from information_schema.role_table_grants "
                    "where grantee = %s", [DEFAULT_BI_ROLE])
        grants = set(cur.fetchall())
        cur.execute("select nspname from pg_namespace where has_schema_privilege(%s, oid, 'USAGE') and nspname not in "
                    "('pg_catalog', 'information_schema', 'public') and nspname not like 'pg_%%'",
                    [DEFAULT_BI_ROLE])
        usable = {s for (s,) in cur.fetchall()}
        cur.execute("select has_database_privilege(%s, current_database(), 'CREATE'), "
                    "has_database_privilege(%s, current_database(), 'TEMP'), "
                    "has_schema_privilege(%s, 'public', 'CREATE')", [DEFAULT_BI_ROLE] * 3)
        create_db, temp, create_public = cur.fetchone()
    assert grants == {("published", "SELECT"), ("publish_history", "SELECT")}
    assert usable == {"published", "publish_history"}
    assert not create_db and not temp and not create_public


WRITES_THAT_MATTER = [
    "insert into published.mart_claims_summary (regency_code) values ('99.99')",
    "create temporary table bi_scratch (x int)",
    "create table public.bi_scratch (x int)",
    "select lo_from_bytea(0, 'written by BI')",
    "select lo_creat(-1)",
    "select lo_create(0)",
]


def _dba_blocks() -> tuple[str, str]:
    """The two SQL blocks of docs/postgres.md 'Setting up the server (once, as a DBA)', passwords filled in."""
    text = DOCS_FILE.read_text(encoding="utf-8")
    section = text[text.index("## Setting up the server"):text.index("## The BI role")]
    blocks = re.findall(r"```sql\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 2, "the DBA section has one block for the server and one for the warehouse database"
    return tuple(b.replace("'change-me'", "'pw'").replace("'change-me-too'", "'pw'") for b in blocks)


def _run_as_dba(con, block: str) -> None:
    """Run a block as psql would: statement by statement (CREATE DATABASE refuses a transaction block)."""
    sql = re.sub(r"--[^\n]*", "", block)
    with con.cursor() as cur:
        for statement in filter(None, (x.strip() for x in sql.split(";"))):
            cur.execute(statement)


def test_only_what_a_dba_must_do_is_reported_on_a_server_without_the_dba_steps(chains):
    """The shared test server skipped the DBA's SQL: the pipeline (not a superuser) did all it may, and reports
    exactly the two gaps only a DBA can close."""
    with closing(connect(chains.settings())) as con:
        gaps = bi_role_gaps(con)
    assert len(gaps) == 2, gaps
    assert gaps[0].startswith("it may create large objects") and "lo_from_bytea" in gaps[0]
    assert gaps[1] == "it may connect to other databases (postgres, template1: CONNECT granted to PUBLIC)"


def test_the_dba_steps_of_the_docs_leave_a_bi_role_that_writes_nothing_anywhere(tmp_path):
    """A fresh server where the DBA ran docs/postgres.md's SQL and the pipeline role is neither superuser nor
    createrole: after the pipeline's own steps, no gap is left, and BI writes nothing even after switching its
    sessions to read-write, and reaches no other database."""
    server, database = _dba_blocks()
    with PgCluster.start(bootstrap=False) as pg:
        su = pg.connect(user="postgres", dbname="postgres")
        su.autocommit = True
        with closing(su):
            _run_as_dba(su, server)
        su = pg.connect(user="postgres", dbname="cakupan")
        su.autocommit = True
        with closing(su):
            _run_as_dba(su, database)
        owner = pg.connect()
        with closing(owner):
            owner.autocommit = True
            ensure_zones(owner)
            owner.autocommit = False
            ensure_bi_role(owner)
            assert bi_role_gaps(owner) == []
            with owner.cursor() as cur:
                cur.execute("create schema if not exists published; create table published.mart_claims_summary "
                            "(regency_code varchar); grant usage on schema published to cakupan_bi; "
                            "grant select on published.mart_claims_summary to cakupan_bi")
            owner.commit()
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            pg.connect(user=DEFAULT_BI_ROLE, dbname="postgres").close()
        bi = pg.connect(user=DEFAULT_BI_ROLE, dbname="cakupan")
        with closing(bi):
            bi.autocommit = True
            with bi.cursor() as cur:
                cur.execute("show default_transaction_read_only")
                assert cur.fetchone() == ("on",)
                cur.execute("set default_transaction_read_only = off")
                cur.execute("select count(*) from published.mart_claims_summary")
            for sql in WRITES_THAT_MATTER:
                msg = _fails(bi, sql)
                assert "permission denied" in msg, (sql, msg)
            with bi.cursor() as cur:
                cur.execute("select count(*) from pg_largeobject_metadata")
                assert cur.fetchone() == (0,)


@pytest.mark.parametrize("sql", WRITES_THAT_MATTER[:3])
def test_bi_cannot_write_after_switching_read_only_off(bi, sql):
    """`default_transaction_read_only` is only a default any session may switch off: privileges do the work."""
    with bi.cursor() as cur:
        cur.execute("set default_transaction_read_only = off")
    try:
        assert "permission denied" in _fails(bi, sql)
    finally:
        with bi.cursor() as cur:
            cur.execute("reset default_transaction_read_only")
