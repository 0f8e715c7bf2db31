"""Fixtures for the auditor report tests: one real published warehouse and its report per session."""

from __future__ import annotations

import pytest
from report_helpers import shared_site


@pytest.fixture(scope="session")
def report_site(tmp_path_factory):
    """(home, index.html): the samples run through the real pipeline, and the report written from the result."""
    return shared_site(tmp_path_factory)
