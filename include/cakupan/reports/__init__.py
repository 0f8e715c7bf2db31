"""Narrative city reports (press releases, meeting reports) into reviewed facts.

A report is read as a `document` (format, page furniture, title / dateline / body blocks), then as an
`article` (the regencies it names, its event date and kind), then sentence by sentence by the `rules`, whose
cue words and configured dictionaries are in `vocabulary`; `extract` runs them over files and yields the
`facts`. `review` applies the human decisions in config/report_facts.yml, `warehouse` flattens the reviewed
facts into raw.report_facts rows, `cli` prints them (`cakupan reports extract`).
"""

import importlib

# the public names, imported on first use (PEP 562): the rules compile ~200 regular expressions, which every
# `cakupan` command would otherwise pay through the `reports` sub-command's import
_WHERE = {
    "extract_file": "extract", "extract_paths": "extract", "extract_text": "extract",
    "Extraction": "facts", "Fact": "facts", "Skipped": "facts",
    "ReviewedFact": "review", "ReviewFileError": "review", "apply_review": "review",
    "ExtractionConfig": "vocabulary",
}


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


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
