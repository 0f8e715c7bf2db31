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


@pytest.fixture(scope="session")
def big_register(tmp_path_factory):
    """A generated 4,000-row Parepare register CSV (the big-CSV tests load it in parts of a few hundred lines)."""
    from cakupan_dev.synth import SynthSpec, generate

    tmp = tmp_path_factory.mktemp("big_register")
    generate(SynthSpec(regencies=["73.72"], months=["2025-06"], workers=4000, seed=11, formats=("csv",)), tmp)
    return tmp / "73.72" / "register_parepare_2025-06.csv"
