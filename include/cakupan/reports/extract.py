"""Facts from narrative city reports (press releases, meeting reports): offline rules and dictionaries.

A report is read as a document (``document``: format, furniture, blocks), then as an article (``article``:
its regencies, event date and kind), then sentence by sentence (``rules``); here the candidates of a whole
report are deduplicated, settled into totals and parts, and numbered (``facts``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cakupan.core import regions
from cakupan.core.messages import os_error
from cakupan.core.personal import mask_personal
from cakupan.reports.article import Context, article_context
from cakupan.reports.document import (
    BODY,
    Document,
    decode,
    detect_format,
    document_from_text,
    split_sentences,
)
from cakupan.reports.facts import (
    ALL_SEGMENTS,
    PEKERJA_RENTAN,
    Extraction,
    Fact,
    Skipped,
    fact_id,
    skip_message,
)
from cakupan.reports.rules import Candidate, branches, sentence_facts
from cakupan.reports.vocabulary import ExtractionConfig

REPORT_SUFFIXES = (".txt", ".html", ".htm")


def _settle_totals(cands: list[Candidate], ctx: Context) -> tuple[list[Candidate], list[Skipped]]:
    """Mark counts that add up to a larger total as parts; skip totals that conflict.

    Per regency and effective month, among counts in the role total or target: counts that add up exactly
    to the largest become its parts; sector counts below a total that a cue word (or a list of segments)
    made firm become parts too. Otherwise two values for one segment, or a vulnerable-worker figure beside
    sector figures that do not add up, cannot be told apart: all of them are skipped.
    """
    broad = (PEKERJA_RENTAN, ALL_SEGMENTS)
    skipped: list[Skipped] = []
    groups: dict[tuple, list[Candidate]] = {}
    for c in cands:
        if c.fact_kind == "count" and c.role in ("total", "target"):
            groups.setdefault((c.regency_code, c.effective_month), []).append(c)
    drop: list[Candidate] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        largest = max(members, key=lambda c: c.value)
        rest = [c for c in members if c is not largest]
        if all(c.value < largest.value for c in rest) and sum(c.value for c in rest) == largest.value:
            for c in rest:
                c.role = "part"
            continue
        if (
            largest.segment in broad
            and not largest.role_by_default
            and all(c.segment not in broad for c in rest)
        ):
            for c in rest:
                c.role = "part"
                c.confidence = min(c.confidence, 0.65)
            continue
        conflicted: list[Candidate] = []
        for segment in {c.segment for c in members}:
            same = [c for c in members if c.segment == segment]
            if len({c.value for c in same}) > 1:
                conflicted.extend(same)
        if any(c.segment in broad for c in members) and any(c.segment not in broad for c in members):
            conflicted = list(members)
        drop.extend(c for c in conflicted if c not in drop)
    for c in drop:
        words = skip_message("CONFLICTING_TOTALS", ctx.doc.text[c.start : c.end])
        skipped.append(Skipped(ctx.doc.source_file, c.sentence, c.start, c.end, words, "CONFLICTING_TOTALS"))
    dropped = {id(c) for c in drop}
    return [c for c in cands if id(c) not in dropped], skipped


def _settle_budget_segments(cands: list[Candidate]) -> None:
    """Give a budget whose sentence names no workers the segment of the programme it pays for: the one segment
    of the regency's totals and targets ("anggaran Rp254 juta" in an article about 1.500 nelayan is theirs)."""
    for c in cands:
        if c.fact_kind != "budget" or c.segment_named:
            continue
        promised = {p.segment for p in cands if p.fact_kind == "count" and p.role in ("total", "target")
                    and p.regency_code == c.regency_code}
        if len(promised) == 1:
            c.segment = promised.pop()


def extract_document(doc: Document, config: ExtractionConfig | None = None) -> Extraction:
    """Extract facts from a classified document."""
    config = config or ExtractionConfig()
    ctx = article_context(doc, config)
    cands: list[Candidate] = []
    skipped: list[Skipped] = []
    for block in doc.of_kind(BODY):
        for s, e in split_sentences(doc.text, block.start, block.end):
            c, sk = sentence_facts(ctx, s, e)
            cands.extend(c)
            skipped.extend(sk)
            cands.extend(branches(ctx, s, e))
    unique: list[Candidate] = []
    seen: dict[tuple, Candidate] = {}
    for c in cands:
        k = c.key()
        if k in seen:
            first = seen[k]
            skipped.append(
                Skipped(
                    doc.source_file,
                    c.sentence,
                    c.start,
                    c.end,
                    skip_message("DUPLICATE", doc.text[c.start : c.end], f"at offset {first.start}"),
                    "DUPLICATE",
                )
            )
            continue
        seen[k] = c
        unique.append(c)
    unique, conflicts = _settle_totals(unique, ctx)
    skipped.extend(conflicts)
    _settle_budget_segments(unique)
    facts = []
    for i, c in enumerate(sorted(unique, key=lambda c: (c.start, c.end)), start=1):
        facts.append(
            Fact(
                fact_id=fact_id(doc.source_file, i),
                source_file=doc.source_file,
                regency_code=c.regency_code,
                event_date=ctx.event_date,
                event_kind=ctx.event_kind,
                fact_kind=c.fact_kind,
                segment=c.segment,
                role=c.role,
                value=c.value,
                unit=c.unit,
                effective_month=c.effective_month,
                sentence=mask_personal(c.sentence),   # a NIK or a phone number quoted in a release: masked
                start=c.start,
                end=c.end,
                confidence=round(max(0.0, min(1.0, c.confidence)), 2),
                regency_configured=ctx.config.is_configured(c.regency_code),
            )
        )
    skipped = [dataclasses.replace(k, sentence=mask_personal(k.sentence), reason=mask_personal(k.reason))
               for k in sorted(skipped, key=lambda k: (k.start, k.end))]
    return Extraction(facts, skipped, _not_configured_notes(doc, facts))


def _not_configured_notes(doc: Document, facts: list[Fact]) -> list[Skipped]:
    """One REGENCY_NOT_CONFIGURED note per regency of the report that has facts but no config/regencies file."""
    notes = []
    for code in sorted({f.regency_code for f in facts if not f.regency_configured}):
        first = next(f for f in facts if f.regency_code == code)
        words = skip_message("REGENCY_NOT_CONFIGURED", f"{regions.regency_name(code)} ({code})", column=code)
        notes.append(Skipped(doc.source_file, first.sentence, first.start, first.end, words,
                             "REGENCY_NOT_CONFIGURED"))
    return notes


def extract_text(
    text: str, source_file: str, config: ExtractionConfig | None = None, fmt: str = "txt"
) -> Extraction:
    """Extract facts from report text ("txt") or HTML source ("html") given as a string."""
    return extract_document(document_from_text(text, source_file, fmt), config)


def extract_file(path: Path, config: ExtractionConfig | None = None, name: str | None = None) -> Extraction:
    """Extract facts from one TXT or HTML report; other formats, and a file that cannot be read or is not text,
    give one skipped record saying why (never an exception: one report must not stop the others).

    `name` is the report's source name (its path relative to the inbox, `source_name`): facts are numbered by
    it, so two `laporan.txt` in two folders have different fact ids."""
    path = Path(path)
    name = name or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _unread(name, skip_message("FILE_UNREADABLE", name, str(os_error(exc, path))), "FILE_UNREADABLE")
    text = decode(data)
    if text is None:
        return _unread(name, skip_message("REPORT_NOT_TEXT", name), "REPORT_NOT_TEXT")
    fmt = detect_format(path, text)
    if fmt not in ("txt", "html"):
        return _unread(name, skip_message("FORMAT_UNSUPPORTED", name), "FORMAT_UNSUPPORTED")
    return extract_document(document_from_text(text, name, fmt), config)


def _unread(name: str, words: str, code: str) -> Extraction:
    """A report that gave nothing: one skipped record for the whole file."""
    return Extraction([], [Skipped(name, "", 0, 0, words, code)])


def source_name(path: Path, roots: list[Path]) -> str:
    """A report's stable name: its path relative to the first root holding it (the inbox, or a folder given on the
    command line), with / as separator; a report under no root is its file name."""
    path = Path(path).absolute()
    for root in roots:
        try:
            return path.relative_to(Path(root).absolute()).as_posix()
        except ValueError:
            continue
    return path.name


def report_files(paths: list[Path]) -> list[Path]:
    """Expand folders into their report files (TXT, HTML), sorted; files are kept as given."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in REPORT_SUFFIXES))
        else:
            out.append(p)
    return out


def extract_paths(paths: list[Path], config: ExtractionConfig | None = None,
                  roots: list[Path] | None = None) -> Extraction:
    """Extract facts from files and folders of reports; each is named relative to the first of `roots` holding it
    (default: the folders given)."""
    paths = [Path(p) for p in paths]
    roots = list(roots or []) + [p for p in paths if p.is_dir()]
    result = Extraction()
    for path in report_files(paths):
        result.extend(extract_file(path, config, source_name(path, roots)))
    return result
