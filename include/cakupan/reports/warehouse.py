"""Narrative facts for the warehouse: extract every report, apply the review file, flatten to raw.report_facts rows."""

from __future__ import annotations

from pathlib import Path

from cakupan.reports.cli import facts_to_rows
from cakupan.reports.narrative import ExtractionConfig, extract_paths
from cakupan.reports.review import apply_review


def facts_for_warehouse(paths: list[Path], config_dir: Path) -> list[dict]:
    """Return the reviewed facts of these narrative reports as rows (status accepted / proposed / rejected)."""
    if not paths:
        return []
    extraction = extract_paths(list(paths), ExtractionConfig.from_dir(Path(config_dir)))
    reviewed = apply_review(extraction.facts, Path(config_dir) / "report_facts.yml")
    return facts_to_rows(reviewed)
