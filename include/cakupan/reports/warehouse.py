"""Narrative facts for the warehouse: extract every report, apply the review file, flatten to raw.report_facts rows."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

from cakupan.reports.extract import extract_paths
from cakupan.reports.review import ReviewedFact, apply_review
from cakupan.reports.vocabulary import ExtractionConfig

log = logging.getLogger("cakupan.reports")

# skip codes that stand for a whole report read to no avail (the others are single numbers in a sentence)
WHOLE_FILE = ("FILE_UNREADABLE", "REPORT_NOT_TEXT", "FORMAT_UNSUPPORTED")


def facts_for_warehouse(paths: list[Path], config_dir: Path, root: Path | None = None) -> list[dict]:
    """Return the reviewed facts of these narrative reports as rows (status accepted / proposed / rejected); each
    report is named by its path relative to `root` (the inbox). A report that cannot be read gives no facts and a
    warning naming it and why; it never stops the others."""
    if not paths:
        return []
    extraction = extract_paths(list(paths), ExtractionConfig.from_dir(Path(config_dir)),
                               roots=[root] if root is not None else None)
    for s in extraction.skipped:
        if s.code in WHOLE_FILE:
            log.warning("report %s skipped: %s", s.source_file, s.reason)
    reviewed = apply_review(extraction.facts, Path(config_dir) / "report_facts.yml")
    return facts_to_rows(reviewed)


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def facts_to_rows(reviewed_facts: list[ReviewedFact]) -> list[dict]:
    """Flatten reviewed facts into JSON-serialisable dicts, one per fact (the raw.report_facts rows)."""
    rows = []
    for r in reviewed_facts:
        f = r.fact
        numeric = not isinstance(r.value, str)
        rows.append(
            {
                "fact_id": f.fact_id,
                "source_file": f.source_file,
                "regency_code": f.regency_code,
                "event_date": _iso(f.event_date),
                "event_kind": f.event_kind,
                "fact_kind": f.fact_kind,
                "segment": f.segment,
                "role": f.role,
                "value": float(r.value) if numeric else None,
                "value_text": None if numeric else str(r.value),
                "unit": f.unit,
                "effective_month": _iso(r.effective_month),
                "sentence": f.sentence,
                "start": f.start,
                "end": f.end,
                "confidence": float(f.confidence),
                "status": r.status,
                "reviewed_by": r.reviewed_by,
                "reviewed_at": _iso(r.reviewed_at),
                "review_why": r.review_why,
            }
        )
    return rows
