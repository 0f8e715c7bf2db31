"""Fixtures for the ingest tests: a fresh Cakupan home with a real DuckDB work warehouse per test."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def initialised_warehouse(tmp_path_factory):
    """A work.duckdb with every zone and the reference tables created once (copied into each test's home)."""
    from cakupan.core.settings import Settings
    from cakupan.targets.zones import connect_work

    s = Settings.from_env(home=tmp_path_factory.mktemp("template"), pseudonym_key="unused")
    connect_work(s).close()
    return s.work_db


@pytest.fixture
def home_factory(settings_factory, initialised_warehouse):
    """Return a function making Settings for a fresh home whose empty warehouse is already initialised."""

    def make(name: str = "home", **overrides):
        s = settings_factory(name, **overrides)
        s.ensure_dirs()
        shutil.copyfile(initialised_warehouse, s.work_db)
        return s

    return make


@pytest.fixture
def home(home_factory):
    """Settings for a fresh home under tmp_path (default config: 73.72, 73.73, 73.14) with an empty warehouse."""
    return home_factory()


@pytest.fixture
def loader(home):
    """A Loader on the home's work warehouse, closed after the test."""
    from cakupan.ingest.loader import Loader

    ld = Loader(home)
    yield ld
    ld.con.close()
