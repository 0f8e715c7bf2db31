"""Narrative city reports (press releases, meeting reports) into reviewed facts.

`narrative` extracts facts with offline rules, `review` applies the human decisions in
config/report_facts.yml, `cli` prints them (`cakupan reports extract`).
"""

from cakupan.reports.narrative import (
    Extraction,
    ExtractionConfig,
    Fact,
    Skipped,
    extract_file,
    extract_paths,
    extract_text,
)
from cakupan.reports.review import ReviewedFact, ReviewFileError, apply_review

__all__ = [
    "Extraction",
    "ExtractionConfig",
    "Fact",
    "ReviewFileError",
    "ReviewedFact",
    "Skipped",
    "apply_review",
    "extract_file",
    "extract_paths",
    "extract_text",
]
