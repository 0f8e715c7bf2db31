"""The read-only BI role (cakupan_bi): reads the published marts, and nothing else; writes nothing anywhere."""

from __future__ import annotations

from contextlib import closing

import psycopg2
import pytest
from cakupan.targets.postgres.params import connect
from cakupan.targets.postgres.zones import DEFAULT_BI_ROLE
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
        assert {s for s, _ in cur.fetchall()} == {"published"}


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
    """Grants live on tables, and a model change brings new ones: they are given at every publish, on `published` only."""
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
    assert grants == {("published", "SELECT")}
    assert usable == {"published"}
    assert not create_db and not temp and not create_public
