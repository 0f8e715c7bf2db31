"""A count of workers in one sentence: what it counts (segment) and what role it plays in the promise.

The sentence model: a report states a figure from before (*previous*: "sebelumnya 750", a year before the
article's), a new level (*total*: "ditambah menjadi 5.000", "akan mengikutsertakan 1.600", "menanggung iuran
1.000"), pieces of that total (*part*: "terdiri atas 600 nelayan", "sisanya 400"), an aim (*target*:
"ditargetkan 3.000") or a level reached so far (*stated*: "kini telah terdaftar 953"). An addition
("ditambah 500") is no level at all. The effective month is only ever the one the text states ("berlaku mulai
Februari 2025", "periode November dan Desember 2025", "Tahun Anggaran 2026"); otherwise it stays empty and the
ledger's documented rule (the event month) decides.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from cakupan.reports.facts import ALL_SEGMENTS, MOU_SIGNED, PEKERJA_RENTAN, TARGET_ANNOUNCED
from cakupan.reports.lexicon import effective_start, target_year
from cakupan.reports.vocabulary import (
    BECOMES,
    BUDGET,
    ENROL,
    EVERY_SEGMENT,
    FILLERS,
    INCREMENT,
    PART,
    PERSON,
    PREVIOUS,
    PROTECTION,
    RENTAN,
    STATED,
    STATED_NOW,
    TARGET,
    TARGET_NEAR,
    TOTAL,
)

if TYPE_CHECKING:
    from cakupan.reports.article import Context

_SHARE_OF = re.compile(r"^\s*dari jumlah\s+(?:pekerja|peserta|tenaga kerja)\b[^.]*\b(?:itu|tersebut)\b", re.IGNORECASE)
# "Dari 6.000 itu, 2.100 adalah nelayan": a share of a figure just given; "1.050 orang ..., sisanya 750": a piece
_OF_THAT = re.compile(r"\bdari\s+(?:jumlah\s+)?(?:itu|tersebut|[\d.]+\s+(?:orang\s+)?(?:itu|tersebut))\b", re.IGNORECASE)
_REST_LATER = re.compile(r"[^.]*?\b(?:sisanya|selebihnya)\b", re.IGNORECASE)
_LEAD_WORDS = {"sebanyak", "sejumlah", "berjumlah", "mencapai", "yakni", "yaitu", "sekitar", "ada"}
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_LEGAL_BEFORE = re.compile(
    r"(?:nomor|no\.?|perbup|perda|perwal|perwali|pergub|pp|uu|inpres|permen\w*|peraturan)\s*[\w./]*\s*"
    r"(?:tahun\s*)?$",
    re.IGNORECASE,
)


def groups(text: str, sectors: list[tuple[str, list[str]]]) -> list[tuple[int, int, str]]:
    """Return (start, end, segment) for segment words in text: sectors, 'rentan', 'kepesertaan'."""
    found: list[tuple[int, int, str]] = []
    for code, words in sectors:
        for w in words:
            for m in re.finditer(rf"\b{re.escape(w)}\b", text, re.IGNORECASE):
                found.append((m.start(), m.end(), code))
    for m in RENTAN.finditer(text):
        found.append((m.start(), m.end(), PEKERJA_RENTAN))
    for m in EVERY_SEGMENT.finditer(text):
        found.append((m.start(), m.end(), ALL_SEGMENTS))
    found.sort(key=lambda g: (g[0], -(g[1] - g[0])))
    kept: list[tuple[int, int, str]] = []
    for g in found:  # longest match wins where keywords overlap ("buruh tani" over "buruh")
        if kept and g[0] < kept[-1][1]:
            continue
        kept.append(g)
    return kept


def noun_after(text: str, pos: int, clause_end: int, sectors: list[tuple[str, list[str]]]) -> tuple[bool, str]:
    """Return (counts people, the noun phrase) after a number: "750 orang", "2.000 data nelayan"."""
    words = re.findall(r"[\w\-]+", text[pos:clause_end])[:6]
    i = 0
    while i < len(words) and words[i].lower() in FILLERS:
        i += 1
    core = words[i : i + 3]
    explicit_unit = bool(words) and words[0].lower() in ("orang", "jiwa")
    # "800 mama-mama pedagang": a word before the workers' noun
    is_person = explicit_unit or any(PERSON.match(w) or groups(w, sectors) for w in core[:2])
    return is_person, " ".join(core)


def segment(
    ctx: Context, text: str, n_start: int, clause: tuple[int, int], sentence: tuple[int, int], noun_phrase: str
) -> tuple[str | None, bool, bool]:
    """Return (segment, union of several segments, guessed from the article's topic)."""
    after = groups(noun_phrase, ctx.sectors)
    if len({g[2] for g in after}) >= 2 and re.search(r"\b(?:dan|serta)\b|,", noun_phrase, re.IGNORECASE):
        return PEKERJA_RENTAN, True, False  # "7.000 nelayan dan petani": every vulnerable worker of the programme
    if after:
        return after[0][2], False, False
    cl = text[clause[0] : clause[1]]
    found = groups(cl, ctx.sectors)
    if re.match(r"(?:orang\s+)?peserta\b", noun_phrase, re.IGNORECASE) and not {g[2] for g in found} - {
        ALL_SEGMENTS
    }:
        return ALL_SEGMENTS, False, False  # "25.000 peserta" with no vulnerable group named: all participants
    distinct = {g[2] for g in found} - {ALL_SEGMENTS}
    if len(distinct) >= 2:
        between = cl[found[0][1] : found[-1][0]]
        if re.search(r"\b(?:dan|serta|maupun|juga)\b|,", between, re.IGNORECASE):
            return PEKERJA_RENTAN, True, False
    before_words = re.findall(r"[\w\-]+", text[clause[0] : n_start])
    while before_words and before_words[-1].lower() in _LEAD_WORDS:
        before_words.pop()
    if before_words:
        tail = groups(" ".join(before_words[-2:]), ctx.sectors)
        if tail:
            return tail[-1][2], False, False
    if distinct:
        sector = [g[2] for g in found if g[2] not in (PEKERJA_RENTAN, ALL_SEGMENTS)]
        return (sector[0] if sector else PEKERJA_RENTAN), False, False
    if found:
        return ALL_SEGMENTS, False, False
    sent_groups = {g[2] for g in groups(text[sentence[0] : sentence[1]], ctx.sectors)} - {ALL_SEGMENTS}
    if len(sent_groups) == 1:
        return next(iter(sent_groups)), False, False
    if sent_groups:
        return None, False, False
    # "953 buruh tani terdaftar. ... target awalnya 1.000 orang": the workers the paragraph last named
    paragraph = text[max(ctx_block_start(ctx, sentence[0]), sentence[0] - 300) : sentence[0]]
    earlier = [g for g in groups(paragraph, ctx.sectors) if g[2] != ALL_SEGMENTS]
    if earlier:
        return earlier[-1][2], False, False
    return ctx.default_segment, False, True


def ctx_block_start(ctx: Context, pos: int) -> int:
    """Return the start of the document block holding pos."""
    return next((b.start for b in ctx.doc.blocks if b.start <= pos < b.end), pos)


def _years(text: str) -> list[int]:
    """Return the calendar years a text names, leaving out legal references ("Perbup Nomor 33 Tahun 2024")."""
    return [int(m.group()) for m in _YEAR.finditer(text) if not _LEGAL_BEFORE.search(text[: m.start()])]


def is_increment(text: str, n_start: int, clause: tuple[int, int]) -> bool:
    """Return True for an addition to an earlier figure ("ditambah 5 ribu"); "ditambah menjadi 5.000" is a level."""
    before = text[clause[0] : n_start]
    m = None
    for m in INCREMENT.finditer(before):
        pass
    if m is None or len(re.findall(r"\w+", before[m.end() :])) > 3:
        return False
    return not BECOMES.search(before[m.end() :])


def _previous(text: str, clause: tuple[int, int], n_start: int, n_end: int) -> bool:
    """Return True if a word of the past governs this number: before it with no other number between
    ("dari sebelumnya 4.250", "yang tahun lalu melindungi 2.500"), or just after it ("750 orang sebelumnya")."""
    before = text[clause[0] : n_start]
    last = None
    for last in PREVIOUS.finditer(before):
        pass
    if last is not None and not re.search(r"\d", before[last.end() :]):
        return True
    return bool(PREVIOUS.match(re.sub(r"^\s*(?:orang|jiwa|pekerja(?: rentan)?)?\s*", "", text[n_end : clause[1]])))


def role(
    ctx: Context, text: str, n_start: int, n_end: int, clause: tuple[int, int], sentence: tuple[int, int],
    union: bool, sector: bool = False,
) -> tuple[str | None, bool]:
    """Return (role, decided by default) for a count of all vulnerable workers or (sector) of one sector, or
    (None, _) if no rule applies."""
    cl = text[clause[0] : clause[1]]
    lead = text[sentence[0] : n_start]
    if PART.search(lead) or PART.search(text[n_end : min(n_end + 30, clause[1])]):
        return "part", False
    rest = _REST_LATER.match(text, n_end, sentence[1])
    if sector and (_OF_THAT.search(lead) or (rest and not re.search(r"\d", rest.group()))):
        return "part", False  # a sector's share of a figure just given, or the first piece before "sisanya"
    if TARGET_NEAR.search(text[clause[0] : n_start]):
        return "target", False
    event_year = ctx.event_date.year if ctx.event_date else None
    years = _years(text[clause[0] : n_start]) or _years(lead)
    if _previous(text, clause, n_start, n_end) or (event_year and years and max(years) < event_year):
        return "previous", False
    if STATED_NOW.search(cl) and not BECOMES.search(text[clause[0] : n_start]):
        return "stated", False
    if _SHARE_OF.search(lead):
        return "stated", False  # "Dari jumlah pekerja bukan penerima upah itu, 3.120 ...": a share of a workforce
    if TOTAL.search(cl):
        return "total", False
    if TARGET.search(cl):
        return "target", False
    if BECOMES.search(text[clause[0] : n_start]):
        return "total", False
    if STATED.search(cl):
        return "stated", False
    whole = text[sentence[0] : sentence[1]]
    if ENROL.search(text[clause[0] : n_start]) and (PROTECTION.search(whole) or BUDGET.search(whole)):
        return "total", False
    if union:
        return "total", True
    if ctx.event_kind in (MOU_SIGNED, TARGET_ANNOUNCED) and PROTECTION.search(whole):
        return "total", True
    return None, False


def effective_month(
    ctx: Context, text: str, clause: tuple[int, int], sentence: tuple[int, int], role_: str
) -> date | None:
    """Return the start the text states ("mulai Juli 2025"; a target's later year), else None (never invented)."""
    month, _ = effective_start(text[clause[0] : clause[1]], ctx.event_date)
    if month is None:
        month, _ = effective_start(text[sentence[0] : sentence[1]], ctx.event_date)
    if month is None and role_ in ("target", "total", "part"):
        month = target_year(text[sentence[0] : sentence[1]], ctx.event_date)
    if month is None and role_ in ("total", "part"):
        month = ctx.stated_start  # "Program tersebut mulai berjalan pada bulan Oktober 2023": the article's one start
    return month
