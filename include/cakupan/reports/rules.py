"""One sentence's numbers into fact candidates or skipped records.

The rules, in order, for a number in an article sentence (titles, datelines and furniture are never read):
dates, years, times, ordinals and legal references are ignored; ranges ("3.000 hingga 3.500") and bounds
("lebih dari 600") are skipped; the regency comes from the number's clause, else its sentence, else the
article (dateline and title weigh more); a figure for several regencies or the province is skipped; the kind
follows the unit (persen → participation rate, Rp → budget, people → count); the segment follows the noun
after the number, a list of segments, the word before it, the clause, the sentence, else the topic; counts
equal to the sum of others become parts of that total; a repeated fact is skipped as a duplicate.

Confidence starts at 0.90 for a number whose role a cue word states ("sebelumnya", "total", "ditargetkan",
"saat ini", "terdiri atas") and loses points for each guess: role by default in an MoU or target article, or
from a list of segments, -0.05; segment taken from the article's topic -0.05; "sekitar" -0.05; a regency the
article names only in passing -0.15; one of several regencies in the clause -0.10; a regency from elsewhere in
the sentence that is not the article's -0.20; event date from a date without weekday -0.05, or missing -0.15;
a weekday that does not match its date -0.20. A sector part inferred without an exact sum is capped at 0.65, a
vulnerable-worker percentage at 0.70, a branch not matching config/regencies at 0.70. The review step
(``review.py``) auto-accepts facts at or above the configured threshold; the rest wait for a person.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cakupan.core import regions
from cakupan.ingest.parsing import parse_number
from cakupan.reports.article import Context
from cakupan.reports.facts import (
    ALL_SEGMENTS,
    MOU_SIGNED,
    PEKERJA_RENTAN,
    SKIP_REASONS,
    TARGET_ANNOUNCED,
    Skipped,
)
from cakupan.reports.lexicon import (
    MONEY,
    NUMBER,
    NUMBER_WORDS,
    effective_start,
    find_dates,
    find_month_years,
    parse_number_words,
    target_year,
)
from cakupan.reports.vocabulary import (
    BECOMES,
    BOUND_AFTER,
    BOUND_BEFORE,
    BRANCH,
    BUDGET,
    CHANGE,
    CLAUSE_BREAK,
    COUNT_LEAD,
    CROSS_REGENCY,
    EVERY_SEGMENT,
    FILLERS,
    HEDGE,
    NOT_COVERAGE,
    PART,
    PARTICIPATION,
    PER_PERSON,
    PERCENT_AFTER,
    PERCENT_OTHER,
    PERSON,
    PERSON_BEFORE,
    PREMIUM,
    PREVIOUS,
    PROTECTION,
    RANGE_BETWEEN,
    RENTAN,
    SILENT_LEAD,
    STATED,
    TARGET,
    TOTAL,
)


@dataclass
class Candidate:
    """A fact before ids, dedupe and the part/total pass."""

    regency_code: str
    fact_kind: str
    segment: str | None
    role: str
    value: int | Decimal | str
    unit: str
    effective_month: date | None
    sentence: str
    start: int
    end: int
    confidence: float
    role_by_default: bool = False

    def key(self) -> tuple:
        return (self.regency_code, self.fact_kind, self.segment, self.role, self.value, self.effective_month)


# --- clauses -------------------------------------------------------------------------------------------------
def _clauses(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """Split a sentence into clause spans; a clause of one or two words joins the next ("Sebelumnya, ...")."""
    cuts = [s] + [m.start() for m in CLAUSE_BREAK.finditer(text, s, e)] + [e]
    spans = [(a, b) for a, b in itertools.pairwise(cuts) if text[a:b].strip(" ,;\"“”'—–-")]
    merged: list[tuple[int, int]] = []
    carry: int | None = None
    for a, b in spans:
        a = carry if carry is not None else a
        carry = None
        if len(re.findall(r"\w+", text[a:b])) <= 2:
            carry = a
            continue
        merged.append((a, b))
    if carry is not None:
        if merged:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((carry, e))
    return merged


def _clause_of(clauses: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for a, b in clauses:
        if a <= pos < b:
            return a, b
    return clauses[-1] if clauses else (pos, pos)


# --- numbers in a sentence -----------------------------------------------------------------------------------
@dataclass
class _Number:
    start: int
    end: int
    value: Decimal
    kind: str  # count | percent | money | ambiguous


def _masked(text: str, s: int, e: int) -> list[tuple[int, int]]:
    chunk = text[s:e]
    spans = [(d.start, d.end) for d in find_dates(chunk, s)]
    spans += [(a + s, b + s) for a, b in find_month_years(chunk)]
    spans += [
        (m.start() + s, m.end() + s) for m in re.finditer(r"\b\d{1,2}[:.]\d{2}\s*(?:WITA|WIB|WIT)\b", chunk)
    ]
    return spans


def _numbers(text: str, s: int, e: int) -> list[_Number]:
    """Find money, percentages and counts in text[s:e] (absolute offsets), skipping dates and times."""
    taken = _masked(text, s, e)
    out: list[_Number] = []

    def free(a: int, b: int) -> bool:
        return not any(a < y and x < b for x, y in taken)

    for m in MONEY.finditer(text, s, e):
        if not free(m.start(), m.end()):
            continue
        out.append(_Number(m.start(), m.end(), parse_number(m.group()), "money"))  # "Rp1,2 miliar"
        taken.append((m.start(), m.end()))
    for m in NUMBER.finditer(text, s, e):
        if not free(m.start(), m.end()):
            continue
        end = m.end()
        after = text[end:e]
        pct = PERCENT_AFTER.match(after)
        scale = None if pct else re.match(r"\s*(?:ribu|juta|miliar|milyar)\b", after, re.IGNORECASE)
        if scale:
            end += scale.end()
        if not scale and re.fullmatch(r"\d{1,3},\d{3}", m.group()):
            kind = "ambiguous"  # "1,234": a decimal comma (1.234) or an English thousands mark (1234)?
        else:
            kind = "percent" if pct else "count"
        value = parse_number(text[m.start() : end])
        if pct:
            end += pct.end()
        out.append(_Number(m.start(), end, value, kind))
        taken.append((m.start(), end))
    for m in NUMBER_WORDS.finditer(text, s, e):
        if not free(m.start(), m.end()):
            continue
        value = parse_number_words(m.group())
        if value is None:
            continue
        end = m.end()
        pct = PERCENT_AFTER.match(text[end:e])
        kind = "count"
        if pct:
            end += pct.end()
            kind = "percent"
        out.append(_Number(m.start(), end, Decimal(value), kind))
        taken.append((m.start(), end))
    return sorted(out, key=lambda n: n.start)


def _is_year(text: str, n: _Number, s: int, e: int) -> bool:
    raw = text[n.start : n.end]
    if n.kind != "count" or not re.fullmatch(r"(?:19|20)\d{2}", raw):
        return False
    return not PERSON.match(text[n.end : e].lstrip())


# --- segment words -------------------------------------------------------------------------------------------
def _groups(text: str, sectors: list[tuple[str, list[str]]]) -> list[tuple[int, int, str]]:
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


# --- the rules -----------------------------------------------------------------------------------------------
def _noun_after(
    text: str, pos: int, clause_end: int, sectors: list[tuple[str, list[str]]]
) -> tuple[bool, str]:
    """Return (counts people, the noun phrase) after a number: "750 orang", "2.000 data nelayan"."""
    words = re.findall(r"[\w\-]+", text[pos:clause_end])[:6]
    i = 0
    while i < len(words) and words[i].lower() in FILLERS:
        i += 1
    core = words[i : i + 3]
    explicit_unit = bool(words) and words[0].lower() in ("orang", "jiwa")
    is_person = explicit_unit or (
        bool(core) and (bool(PERSON.match(core[0])) or bool(_groups(core[0], sectors)))
    )
    return is_person, " ".join(core)


def _segment(
    ctx: Context, text: str, n: _Number, clause: tuple[int, int], sentence: tuple[int, int], noun_phrase: str
) -> tuple[str | None, bool, bool]:
    """Return (segment, union of several segments, guessed from the article's topic)."""
    after = _groups(noun_phrase, ctx.sectors)
    if after:
        return after[0][2], False, False
    cl = text[clause[0] : clause[1]]
    groups = _groups(cl, ctx.sectors)
    if re.match(r"(?:orang\s+)?peserta\b", noun_phrase, re.IGNORECASE) and not {g[2] for g in groups} - {
        ALL_SEGMENTS
    }:
        return ALL_SEGMENTS, False, False  # "25.000 peserta" with no vulnerable group named: all participants
    distinct = {g[2] for g in groups} - {ALL_SEGMENTS}
    if len(distinct) >= 2:
        between = cl[groups[0][1] : groups[-1][0]]
        if re.search(r"\b(?:dan|serta|maupun|juga)\b|,", between, re.IGNORECASE):
            return PEKERJA_RENTAN, True, False
    before_words = re.findall(r"[\w\-]+", text[clause[0] : n.start])
    while before_words and before_words[-1].lower() in {
        "sebanyak",
        "sejumlah",
        "berjumlah",
        "mencapai",
        "yakni",
        "yaitu",
        "sekitar",
        "ada",
    }:
        before_words.pop()
    if before_words:
        tail = _groups(" ".join(before_words[-2:]), ctx.sectors)
        if tail:
            return tail[-1][2], False, False
    if distinct:
        sector = [g[2] for g in groups if g[2] != PEKERJA_RENTAN and g[2] != ALL_SEGMENTS]
        return (sector[0] if sector else PEKERJA_RENTAN), False, False
    if groups:
        return ALL_SEGMENTS, False, False
    sent_groups = {g[2] for g in _groups(text[sentence[0] : sentence[1]], ctx.sectors)}
    if len(sent_groups) == 1:
        return next(iter(sent_groups)), False, False
    if sent_groups:
        return None, False, False
    return ctx.default_segment, False, True


def _role(
    ctx: Context, text: str, n: _Number, clause: tuple[int, int], sentence: tuple[int, int], union: bool
) -> tuple[str | None, bool]:
    """Return (role, decided by default) for a count, or (None, _) if no rule applies."""
    cl = text[clause[0] : clause[1]]
    if PREVIOUS.search(cl):
        return "previous", False
    if PART.search(text[sentence[0] : n.start]) or PART.search(text[n.end : min(n.end + 30, clause[1])]):
        return "part", False
    if TOTAL.search(cl):
        return "total", False
    if TARGET.search(cl):
        return "target", False
    if BECOMES.search(text[clause[0] : n.start]):
        return "total", False
    if STATED.search(cl):
        return "stated", False
    if union:
        return "total", True
    if ctx.event_kind in (MOU_SIGNED, TARGET_ANNOUNCED) and PROTECTION.search(
        text[sentence[0] : sentence[1]]
    ):
        return "total", True
    return None, False


def _regency(
    ctx: Context, n: _Number, clause: tuple[int, int], sentence: tuple[int, int]
) -> tuple[str | None, float, bool, str]:
    """Return (code, penalty, explicit in the clause, skip code) for the regency a number is about."""
    regular = [m for m in ctx.mentions if not m.office]
    in_clause = [m for m in regular if clause[0] <= m.start < clause[1]]
    codes = {m.code for m in in_clause}
    if codes:
        before = [m for m in in_clause if m.start < n.start]
        pick = before[-1] if before else in_clause[0]
        penalty = 0.0 if len(codes) == 1 else 0.1
        if pick.code not in ctx.main:
            penalty += 0.15  # a regency the article mentions only in passing ("Pemkab Maros", "Bupati Gowa")
        return pick.code, penalty, True, ""
    in_sentence = {m.code for m in regular if sentence[0] <= m.start < sentence[1]}
    if len(in_sentence) == 1:
        code = next(iter(in_sentence))
        return code, (0.0 if code == ctx.primary else 0.2), False, ""
    if len(in_sentence) > 1:
        if ctx.primary in in_sentence:
            return ctx.primary, 0.1, False, ""
        return None, 0.0, False, "REGENCY_UNCLEAR"
    if ctx.primary is None:
        return None, 0.0, False, "REGENCY_UNCLEAR"
    return ctx.primary, 0.0, False, ""


def _skip(ctx: Context, sentence: str, start: int, end: int, code: str, detail: str = "") -> Skipped:
    words = SKIP_REASONS[code] + (f" ({detail})" if detail else "")
    return Skipped(ctx.doc.source_file, sentence, start, end, f"'{ctx.doc.text[start:end]}': {words}", code)


def _effective(
    ctx: Context, text: str, clause: tuple[int, int], sentence: tuple[int, int], role: str
) -> date | None:
    """Return the stated start ("mulai Juli 2025"; a target's later year), else the event month."""
    month, _ = effective_start(text[clause[0] : clause[1]], ctx.event_date)
    if month is None:
        month, _ = effective_start(text[sentence[0] : sentence[1]], ctx.event_date)
    if month is None and role == "target":
        month = target_year(text[sentence[0] : sentence[1]], ctx.event_date)
    if month is None and ctx.event_date is not None:
        month = ctx.event_date.replace(day=1)
    return month


@dataclass(frozen=True)
class _Site:
    """Where a number sits: its clause and sentence spans, the sentence text, its regency, starting confidence."""

    n: _Number
    clause: tuple[int, int]
    sent: tuple[int, int]
    sentence: str
    code: str | None
    conf: float

    def skip(self, ctx: Context, code: str, detail: str = "") -> Skipped:
        return _skip(ctx, self.sentence, self.n.start, self.n.end, code, detail)

    def candidate(
        self,
        fact_kind: str,
        segment: str | None,
        role: str,
        value,
        unit: str,
        month: date | None,
        conf: float,
        by_default: bool = False,
    ) -> Candidate:
        return Candidate(
            self.code or "",
            fact_kind,
            segment,
            role,
            value,
            unit,
            month,
            self.sentence,
            self.n.start,
            self.n.end,
            conf,
            by_default,
        )


def sentence_facts(ctx: Context, s: int, e: int) -> tuple[list[Candidate], list[Skipped]]:
    """Turn the numbers of one sentence into fact candidates or skipped records."""
    text = ctx.doc.text
    sentence = text[s:e].strip()
    cands: list[Candidate] = []
    skipped: list[Skipped] = []
    clauses = _clauses(text, s, e)
    numbers = [
        n
        for n in _numbers(text, s, e)
        if not _is_year(text, n, s, e) and not SILENT_LEAD.search(text[max(s, n.start - 20) : n.start])
    ]
    in_range: set[int] = set()
    for a, b in itertools.pairwise(numbers):
        if a.kind == b.kind and RANGE_BETWEEN.match(text[a.end : b.start]):
            in_range.update((a.start, b.start))
    base = 0.9 - ctx.date_penalty
    for n in numbers:
        clause = _clause_of(clauses, n.start)
        before = text[clause[0] : n.start]
        after = text[n.end : clause[1]]
        if n.start in in_range:
            skipped.append(_skip(ctx, sentence, n.start, n.end, "RANGE"))
            continue
        if BOUND_BEFORE.search(before) or (n.kind == "count" and BOUND_AFTER.match(after)):
            skipped.append(_skip(ctx, sentence, n.start, n.end, "BOUND"))
            continue
        hedge = 0.05 if HEDGE.search(before) else 0.0
        code, reg_penalty, explicit, reg_skip = _regency(ctx, n, clause, (s, e))
        cross = CROSS_REGENCY.search(text[clause[0] : clause[1]]) or CROSS_REGENCY.search(sentence)
        if cross and not explicit:
            skipped.append(_skip(ctx, sentence, n.start, n.end, "SEVERAL_REGENCIES", cross.group()))
            continue
        site = _Site(n, clause, (s, e), sentence, code, base - hedge - reg_penalty)
        if n.kind == "ambiguous":
            skipped.append(_skip(ctx, sentence, n.start, n.end, "AMBIGUOUS_NUMBER"))
            continue
        rule = {"percent": _percent, "money": _money}.get(n.kind, _count)
        cand = rule(ctx, site, skipped)
        if cand is None:
            continue
        if code is None:
            skipped.append(site.skip(ctx, reg_skip or "REGENCY_UNCLEAR"))
            continue
        cands.append(cand)
    return cands, skipped


def _percent(ctx: Context, site: _Site, skipped: list[Skipped]) -> Candidate | None:
    """A participation percentage ("kepesertaan ... 48 persen"), or a skipped record."""
    text, n = ctx.doc.text, site.n
    cl = text[site.clause[0] : site.clause[1]]
    if CHANGE.search(text[site.clause[0] : n.start]):
        skipped.append(site.skip(ctx, "PERCENT_CHANGE"))
        return None
    if PERCENT_OTHER.search(cl) or not (PARTICIPATION.search(cl) or PARTICIPATION.search(site.sentence)):
        skipped.append(site.skip(ctx, "PERCENT_UNCLEAR"))
        return None
    rentan = RENTAN.search(cl) or RENTAN.search(site.sentence)
    conf = min(site.conf, 0.7) if rentan else site.conf  # a vulnerable-worker share is unusual: review it
    segment = PEKERJA_RENTAN if rentan else ALL_SEGMENTS
    return site.candidate("participation_rate", segment, "stated", n.value, "percent", None, conf)


def _money(ctx: Context, site: _Site, skipped: list[Skipped]) -> Candidate | None:
    """A budget ("menganggarkan Rp1,2 miliar"), or a skipped record (premiums per person, unclear amounts)."""
    text, n = ctx.doc.text, site.n
    after = text[n.end : site.sent[1]]
    if PER_PERSON.match(after) or (PREMIUM.search(site.sentence) and n.value < 1_000_000):
        skipped.append(site.skip(ctx, "PER_PERSON_AMOUNT"))
        return None
    if not (BUDGET.search(text[site.clause[0] : site.clause[1]]) or BUDGET.search(site.sentence)):
        skipped.append(site.skip(ctx, "AMOUNT_UNCLEAR"))
        return None
    named = bool(RENTAN.search(site.sentence))
    segment = PEKERJA_RENTAN if named else ctx.default_segment
    if segment is None:
        skipped.append(site.skip(ctx, "SEGMENT_UNCLEAR"))
        return None
    conf = site.conf - (0.0 if named else 0.05)
    return site.candidate("budget", segment, "stated", n.value, "IDR", None, conf)


def _count(ctx: Context, site: _Site, skipped: list[Skipped]) -> Candidate | None:
    """A count of workers with its segment, role and effective month, or a skipped record."""
    text, n, clause, sent = ctx.doc.text, site.n, site.clause, site.sent
    if NOT_COVERAGE.search(text[clause[0] : clause[1]]):
        skipped.append(site.skip(ctx, "NOT_COVERAGE"))
        return None
    is_person, phrase = _noun_after(text, n.end, clause[1], ctx.sectors)
    if not is_person:
        before = text[clause[0] : n.start]
        if not (COUNT_LEAD.search(before) and PERSON_BEFORE.search(before)):
            skipped.append(site.skip(ctx, "NOT_WORKERS"))
            return None
        phrase = ""  # "masyarakat rentan ... sebanyak 2.000"
    segment, union, guessed = _segment(ctx, text, n, clause, sent, phrase)
    if segment is None:
        skipped.append(site.skip(ctx, "SEGMENT_UNCLEAR"))
        return None
    role, by_default = _role(ctx, text, n, clause, sent, union)
    if role is None:
        skipped.append(site.skip(ctx, "ROLE_UNCLEAR"))
        return None
    if segment == ALL_SEGMENTS and role in ("total", "part"):
        role = "stated"  # all BPJS participants: a level reported, never the vulnerable-worker promise
    conf = site.conf - (0.05 if by_default else 0.0) - (0.05 if guessed else 0.0)
    month = _effective(ctx, text, clause, sent, role) if role in ("total", "target", "part") else None
    value: int | Decimal = int(n.value) if n.value == n.value.to_integral_value() else n.value
    return site.candidate("count", segment, role, value, "workers", month, conf, by_default and not union)


def branches(ctx: Context, s: int, e: int) -> list[Candidate]:
    text = ctx.doc.text
    out = []
    for m in BRANCH.finditer(text, s, e):
        g = "name" if m.group("name") else "name2"
        code = None
        words = m.group(g).split()
        for k in (len(words), 1):  # "Makassar Sujana" → "Makassar"
            name_end = m.start(g) + len(" ".join(words[:k]))
            code = ctx.config.names.resolve(text[m.start(g) : name_end], text[: m.start(g)])
            if code:
                break
        if code is None or ctx.primary is None:
            continue
        short = re.sub(r"^(?:Kabupaten|Kota)\s+", "", regions.regency_name(code))
        value = f"Kantor Cabang {short}"
        conf = 0.9 if ctx.config.branches.get(ctx.primary) == value else 0.7
        out.append(
            Candidate(
                ctx.primary,
                "branch",
                None,
                "stated",
                value,
                "text",
                None,
                text[s:e].strip(),
                m.start(),
                name_end,
                conf - ctx.date_penalty,
            )
        )
    return out
