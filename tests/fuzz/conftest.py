"""A work warehouse shared by the examples of one property test (each example writes its own file)."""

from __future__ import annotations

import itertools

import pytest


@pytest.fixture(scope="module")
def fuzz_loader(tmp_path_factory):
    """(settings, Loader) on a fresh warehouse with the default configuration (73.72, 73.73, 73.14)."""
    from cakupan.core.settings import PROJECT_ROOT, Settings
    from cakupan.ingest.loader import Loader

    home = tmp_path_factory.mktemp("fuzz")
    settings = Settings.from_env(home=home, inbox=home / "inbox", config_dir=PROJECT_ROOT / "config",
                                 pseudonym_key="fuzz-only-key")
    loader = Loader(settings, run_id="fuzz")
    yield settings, loader
    loader.con.close()


@pytest.fixture(scope="module")
def counter():
    """A module-wide counter that makes every example's file name unique."""
    return itertools.count(1)
