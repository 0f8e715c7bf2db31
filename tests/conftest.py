"""Shared fixtures: a Cakupan home with synthetic deliveries and an Airflow home (helpers in _support.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from _support import BIN, TEST_KEY, cakupan_env

# every test sees the default language (Bahasa Indonesia) unless it sets CAKUPAN_LANG itself: a developer's own
# CAKUPAN_LANG=en must not change what the tests expect
os.environ.pop("CAKUPAN_LANG", None)

HEAVY_MARKERS = ("integration", "postgres", "browser")


def pytest_collection_modifyitems(config, items):
    """Run the files holding end-to-end tests (integration, postgres, browser) first, each file's tests in their
    order. `make test` hands whole files to its two workers in collection order (`--dist loadfile
    --no-loadscope-reorder`). xdist's default order, files with the most tests first, handed out the long files of
    one test (the bench smoke test, 80 s; restatements, 42 s) last: one worker ran them alone while the other had
    finished (CPU samples every 5 s: ~50 % busy over the last ~90 s of a 19-minute run). Now the many short files
    end the run on both workers."""
    heavy = {item.path for item in items if any(item.get_closest_marker(m) for m in HEAVY_MARKERS)}
    items.sort(key=lambda item: item.path not in heavy)     # stable: the order within each group is kept


@pytest.fixture
def settings_factory(tmp_path, monkeypatch):
    """Return a function making Settings for a fresh home under tmp_path (environment cleaned)."""
    for k in list(os.environ):
        if k.startswith("CAKUPAN_"):
            monkeypatch.delenv(k)

    def make(name: str = "home", **overrides):
        from cakupan.core.settings import Settings

        return Settings.from_env(home=tmp_path / name, pseudonym_key=TEST_KEY, **overrides)

    return make


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    """A project-local Airflow home with a migrated SQLite metadata DB and the writer pool."""
    home = tmp_path_factory.mktemp("airflow")
    env = cakupan_env(home / "unused", AIRFLOW_HOME=str(home))
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    subprocess.run([str(BIN / "airflow"), "pools", "set", "cakupan_duckdb_writer", "1", "one writer"], env=env,
                   check=True, capture_output=True, timeout=120)
    return home






@pytest.fixture
def synth_inbox():
    """Return a function writing synthetic deliveries into <home>/inbox and returning the ground truth."""
    from cakupan_dev.synth import SynthSpec, generate

    def make(home: Path, regencies=("73.72", "73.73", "73.14"), months=("2025-03", "2025-04", "2025-05"),
             workers: int = 20, seed: int = 11, scenarios=(), formats=("xlsx", "csv")) -> dict:
        return generate(SynthSpec(regencies=list(regencies), months=list(months), workers=workers, seed=seed,
                                  scenarios=tuple(scenarios), formats=tuple(formats)), home / "inbox")

    return make

