"""What a whole report says before its numbers are read: the regencies it names and the one it is about,
its event date and kind, and the segment its topic implies.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

from cakupan.core.regions import NameMatch
from cakupan.reports.document import BODY, DATELINE, TITLE, Document, split_sentences
from cakupan.reports.facts import AUDIENCE_REPORT, MOU_SIGNED, OTHER_EVENT, PEKERJA_RENTAN, TARGET_ANNOUNCED
from cakupan.reports.lexicon import effective_start, find_dates, find_weekday_day_months, weekday_matches
from cakupan.reports.vocabulary import (
    AUDIENCE,
    FALLBACK_SECTORS,
    MOU,
    OFFICE_BEFORE,
    RENTAN,
    TARGET_EVENT,
    ExtractionConfig,
)


@dataclass(frozen=True)
class Mention:
    """A regency named in the text; ``office`` for "BPJS Ketenagakerjaan Parepare" or "Cabang Makassar"."""

    start: int
    end: int
    code: str
    office: bool


@dataclass(frozen=True)
class Context:
    """What the rules know of the whole report when they read one of its sentences."""

    doc: Document
    config: ExtractionConfig
    mentions: list[Mention]
    provinces: list[NameMatch]  # province names in the text ("Sulawesi Selatan", "Provinsi Kaltim", "Sulut")
    primary: str | None
    main: frozenset[str]
    event_date: date | None
    date_penalty: float
    event_kind: str
    default_segment: str | None
    sectors: list[tuple[str, list[str]]]
    stated_start: date | None = None  # the one start the article states for its programme, if only one


# --- regencies -----------------------------------------------------------------------------------------------
def find_regency_mentions(text: str, start: int, end: int, config: ExtractionConfig) -> list[Mention]:
    """Find regency names in text[start:end] ("Kota Palopo", "PAREPARE", "Sidrap"), marking BPJS-office ones."""
    out: list[Mention] = []
    for m in config.names.mentions(text, start, end):
        line_start = text.rfind("\n", 0, m.start) + 1
        office = bool(OFFICE_BEFORE.search(text[max(line_start, m.start - 45) : m.start]))
        out.append(Mention(m.start, m.end, m.code, office))
    return out


def _primary_regency(doc: Document, mentions: list[Mention]) -> tuple[str | None, frozenset[str]]:
    """Return the regency the article is about and its main regencies (at least half the top score).

    Dateline and title mentions weigh more than body ones; a tie leaves the primary regency unknown.
    """
    scores: Counter[str] = Counter()
    for m in mentions:
        if m.office:
            continue
        block = next((b for b in doc.blocks if b.start <= m.start < b.end), None)
        if block is None:
            continue
        weight = 1
        if block.kind == DATELINE:
            weight = 3
        elif block.kind == TITLE:
            weight = 2
        elif m.start - block.start < 80 and doc.text[m.start : m.end].isupper():
            weight = 3  # "LINISULSEL.COM, PAREPARE –": the place line of a press release
        scores[m.code] += weight
    lead = [b for b in doc.blocks if b.kind in (TITLE, DATELINE)] + doc.of_kind(BODY)[:1]
    named_early = {m.code for m in mentions if not m.office and any(b.start <= m.start < b.end for b in lead)}
    ranked = [(code, score) for code, score in scores.most_common() if code in named_early]
    if not ranked:
        return None, frozenset()
    main = frozenset(code for code, score in ranked if score * 2 >= ranked[0][1])
    if len(ranked) >= 2 and ranked[0][1] == ranked[1][1]:
        return None, main
    return ranked[0][0], main


# --- the event -----------------------------------------------------------------------------------------------
def _event_date(doc: Document) -> tuple[date | None, float]:
    """Return the event date and its confidence penalty: weekday date in the body, else dateline, else any."""
    body_dates = [d for b in doc.of_kind(BODY) for d in find_dates(doc.text[b.start : b.end], b.start)]
    with_weekday = [d for d in body_dates if d.weekday]
    if with_weekday:
        d = with_weekday[0]
        return d.value, (0.0 if d.weekday_matches else 0.2)
    dateline = [d for b in doc.of_kind(DATELINE) for d in find_dates(doc.text[b.start : b.end], b.start)]
    reference = (dateline or body_dates or [None])[0]
    partial = [
        p for b in doc.of_kind(BODY) for p in find_weekday_day_months(doc.text[b.start : b.end], b.start)
    ]
    if partial and reference is not None:
        _, _, day, month, weekday = partial[0]
        try:
            value = date(reference.value.year, month, day)
        except ValueError:
            value = None
        if value is not None:
            return value, (0.0 if weekday_matches(weekday, value) else 0.2)
    if dateline:
        return dateline[0].value, 0.0
    if body_dates:
        return body_dates[0].value, 0.05
    return None, 0.15


def _event_kind(doc: Document) -> str:
    """Return mou_signed, target_announced, audience_report or other from cue words in title and body."""
    scores: Counter[str] = Counter()
    for b in doc.of_kind(TITLE, BODY):
        weight = 3 if b.kind == TITLE else 1
        chunk = doc.text[b.start : b.end]
        scores[MOU_SIGNED] += weight * len(MOU.findall(chunk))
        scores[AUDIENCE_REPORT] += weight * len(AUDIENCE.findall(chunk))
        scores[TARGET_ANNOUNCED] += weight * len(TARGET_EVENT.findall(chunk))
    best = max((MOU_SIGNED, AUDIENCE_REPORT, TARGET_ANNOUNCED), key=lambda k: scores[k])  # ties: MoU first
    return best if scores[best] else OTHER_EVENT


_PROGRAMME = re.compile(
    r"kerja ?sama|program|\bmou\b|\bpks\b|perjanjian|perlindungan|kepesertaan|iuran", re.IGNORECASE
)


def _stated_start(doc: Document, event_date: date | None) -> date | None:
    """Return the start the article states for its programme ("terhitung mulai 1 Oktober 2025") if it states one."""
    found = set()
    for b in doc.of_kind(BODY):
        for s, e in split_sentences(doc.text, b.start, b.end):
            sentence = doc.text[s:e]
            if _PROGRAMME.search(sentence):
                month, _ = effective_start(sentence, event_date)
                if month is not None:
                    found.add(month)
    return found.pop() if len(found) == 1 else None


def _topic_segment(doc: Document, sectors: list[tuple[str, list[str]]]) -> str | None:
    """Return the workers the article is about: vulnerable workers if it says so, else the one sector (or the
    several sectors, all vulnerable workers) its title and first paragraph name, else None."""
    body = " ".join(doc.text[b.start : b.end] for b in doc.of_kind(BODY, TITLE))
    if RENTAN.search(body):
        return PEKERJA_RENTAN
    lead = " ".join(doc.text[b.start : b.end] for b in (doc.of_kind(TITLE) + doc.of_kind(BODY)[:1]))
    named = {code for code, words in sectors for w in words if re.search(rf"\b{re.escape(w)}\b", lead, re.IGNORECASE)}
    if len(named) == 1:
        return named.pop()
    return PEKERJA_RENTAN if named else None


def article_context(doc: Document, config: ExtractionConfig) -> Context:
    """Read a document as an article: its regency mentions, primary regency, event date and kind, topic."""
    spans = [(b.start, b.end) for b in doc.of_kind(BODY, TITLE, DATELINE)]
    mentions = [m for s, e in spans for m in find_regency_mentions(doc.text, s, e, config)]
    provinces = [p for s, e in spans for p in config.names.province_mentions(doc.text, s, e)]
    event_date, penalty = _event_date(doc)
    sectors = config.sectors or FALLBACK_SECTORS
    default_segment = _topic_segment(doc, sectors)
    primary, main = _primary_regency(doc, mentions)
    return Context(
        doc,
        config,
        mentions,
        provinces,
        primary,
        main,
        event_date,
        penalty,
        _event_kind(doc),
        default_segment,
        sectors,
        _stated_start(doc, event_date),
    )
