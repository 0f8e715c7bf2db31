"""Narrative city reports (press releases, meeting reports) into reviewed facts.

A report is read as a `document` (format, page furniture, title / dateline / body blocks), then as an
`article` (the regencies it names, its event date and kind), then sentence by sentence by the `rules`, whose
cue words and configured dictionaries are in `vocabulary`; `extract` runs them over files and yields the
`facts`. `review` applies the human decisions in config/report_facts.yml, `warehouse` flattens the reviewed
facts into raw.report_facts rows, `cli` prints them (`cakupan reports extract`).
"""

from cakupan.reports.extract import extract_file, extract_paths, extract_text
from cakupan.reports.facts import Extraction, Fact, Skipped
from cakupan.reports.review import ReviewedFact, ReviewFileError, apply_review
from cakupan.reports.vocabulary import ExtractionConfig

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
