"""Connection settings (environment, DSN, Airflow connection), the dbt profile, and the generated docs section."""

from __future__ import annotations

import json

import pytest
from cakupan.core.settings import Settings
from cakupan.targets.postgres.docs import DOCS_FILE, docs_with_tables, model_docs
from cakupan.targets.postgres.params import pg_env, pg_params

pytestmark = pytest.mark.postgres


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    import os

    for k in list(os.environ):
        if k.startswith(("CAKUPAN_", "AIRFLOW_CONN_", "AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER")):
            monkeypatch.delenv(k)
    monkeypatch.setenv("CAKUPAN_HOME", str(tmp_path))
    return monkeypatch


def test_defaults(clean_env):
    p = pg_params(Settings.from_env())
    assert (p.host, p.port, p.user, p.dbname, p.password) == ("127.0.0.1", 5432, "cakupan", "cakupan", "")


def test_variables(clean_env):
    clean_env.setenv("CAKUPAN_PG_HOST", "db.example")
    clean_env.setenv("CAKUPAN_PG_PORT", "6543")
    clean_env.setenv("CAKUPAN_PG_PASSWORD", "s3cret")
    p = pg_params(Settings.from_env())
    assert (p.host, p.port, p.user, p.password, p.dbname) == ("db.example", 6543, "cakupan", "s3cret", "cakupan")
    assert "s3cret" not in repr(p)


@pytest.mark.parametrize("dsn", ["postgresql://etl:p%40ss@db.example:6000/wh?sslmode=require",
                                 "host=db.example port=6000 user=etl password=p@ss dbname=wh sslmode=require"])
def test_dsn_wins_over_variables(clean_env, dsn):
    clean_env.setenv("CAKUPAN_PG_HOST", "ignored")
    clean_env.setenv("CAKUPAN_PG_DSN", dsn)
    s = Settings.from_env(target="postgres")
    p = pg_params(s)
    assert (p.host, p.port, p.user, p.password, p.dbname, p.sslmode) == ("db.example", 6000, "etl", "p@ss", "wh",
                                                                         "require")
    env = pg_env(s)
    assert env == {"CAKUPAN_PG_HOST": "db.example", "CAKUPAN_PG_PORT": "6000", "CAKUPAN_PG_USER": "etl",
                   "CAKUPAN_PG_PASSWORD": "p@ss", "CAKUPAN_PG_DB": "wh", "CAKUPAN_PG_SSLMODE": "require"}
    assert p.sqlalchemy_url() == "postgresql+psycopg2://etl:p%40ss@db.example:6000/wh?sslmode=require"


@pytest.mark.parametrize("value", [
    "postgres://etl:pw@af-db:5433/warehouse",
    json.dumps({"conn_type": "postgres", "host": "af-db", "port": 5433, "login": "etl", "password": "pw",
                "schema": "warehouse"}),
])
def test_airflow_connection(clean_env, value):
    clean_env.setenv("AIRFLOW_CONN_CAKUPAN_POSTGRES", value)
    p = pg_params(Settings.from_env())
    assert (p.host, p.port, p.user, p.password, p.dbname) == ("af-db", 5433, "etl", "pw", "warehouse")
    assert "AIRFLOW_CONN_CAKUPAN_POSTGRES" in p.source


def test_dbt_env_for_the_postgres_target(clean_env):
    from cakupan.transform import dbt_env

    clean_env.setenv("CAKUPAN_PG_DSN", "host=h port=1 user=u dbname=d")
    env = dbt_env(Settings.from_env(target="postgres"))
    assert env["CAKUPAN_TARGET"] == "postgres"
    assert (env["CAKUPAN_PG_HOST"], env["CAKUPAN_PG_PORT"], env["CAKUPAN_PG_USER"], env["CAKUPAN_PG_DB"]) == (
        "h", "1", "u", "d")


def test_docs_list_every_published_mart_from_the_dbt_yaml():
    """docs/postgres.md's table section is generated from the dbt YAML: regenerate with
    `python -m cakupan.targets.postgres docs --write` when a published model or its description changes."""
    text = DOCS_FILE.read_text(encoding="utf-8")
    assert docs_with_tables(text) == text, "docs/postgres.md is stale: run `python -m cakupan.targets.postgres docs --write`"
    for m in model_docs():
        if m.startswith("mart_"):
            assert f"`published.{m}`" in text
