"""One sentence's numbers into fact candidates or skipped records.

The rules, in order, for a number in an article sentence (titles, datelines and furniture are never read):
dates, years, times, ordinals and legal references are ignored; a number repeated in words ("2.000 (dua ribu)")
is one number, two that disagree are skipped; vague amounts ("ratusan pekerja") are skipped; ranges ("3.000 hingga
3.500") and bounds ("lebih dari 600") are skipped; the regency comes from the number's clause, else its sentence,
else the article (dateline and title weigh more); a figure for several regencies, a province or the whole
country ("target nasional 49 persen") is skipped; the kind follows the unit (persen → participation rate, Rp →
budget, people → count); families, households and workforce totals (wage earners, construction, the employed
population) are not vulnerable workers; the segment and role follow the sentence model in ``roles``; counts
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

from cakupan.core.regions import fold_name
from cakupan.ingest.parsing import parse_number
from cakupan.reports.article import Context
from cakupan.reports.facts import ALL_SEGMENTS, PEKERJA_RENTAN, Skipped, skip_message
from cakupan.reports.lexicon import (
    MONEY,
    NUMBER,
    NUMBER_WORDS,
    find_dates,
    find_month_years,
    parse_number_words,
)
from cakupan.reports.roles import effective_month, groups, is_increment, noun_after, role, segment
from cakupan.reports.vocabulary import (
    BENEFIT,
    BOUND_AFTER,
    BOUND_BEFORE,
    BRANCH,
    BUDGET,
    CHANGE,
    CLAUSE_BREAK,
    COUNT_LEAD,
    CROSS_REGENCY,
    HEDGE,
    NATIONAL_AFTER,
    NATIONAL_BEFORE,
    NOT_COVERAGE,
    NOT_PEOPLE_AFTER,
    PARTICIPATION,
    PER_PERSON,
    PERCENT_AFTER,
    PERCENT_OTHER,
    PERSON,
    PERSON_BEFORE,
    PREMIUM,
    PREVIOUS,
    RANGE_BETWEEN,
    RENTAN,
    SILENT_LEAD,
    TARGET,
    TARGET_NEAR,
    VAGUE,
    WORKFORCE,
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
    segment_named: bool = True  # False: a budget's segment taken from the article (extract settles it)

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


# "NABIRE, PAPUATENGAHNEWS.COM - ", "BREBES -": the place line of a press release, before its first sentence
_PLACE_LINE = re.compile(r"\s*[A-Z][A-Z .'’\-]+(?:,\s*[\w.]+)?(?:\s*\([^)]*\))?\s*(?:-|–|—|--)\s+")
# "Kalau ingin 100 persen, ...": a condition or a wish, not a figure
_CONDITION = re.compile(r"[\s\"“”']*(?:kalau|jika|apabila|bila|seandainya|andaikan)\b", re.IGNORECASE)
_PAREN_WORDS = re.compile(r"\s*\(\s*([a-z\s]+?)\s*\)", re.IGNORECASE)


def _masked(text: str, s: int, e: int) -> list[tuple[int, int]]:
    chunk = text[s:e]
    spans = [(d.start, d.end) for d in find_dates(chunk, s)]
    spans += [(a + s, b + s) for a, b in find_month_years(chunk)]
    spans += [
        (m.start() + s, m.end() + s) for m in re.finditer(r"\b\d{1,2}[:.]\d{2}\s*(?:WITA|WIB|WIT)\b", chunk)
    ]
    return spans


def _repeat_in_words(text: str, end: int, e: int, value: Decimal) -> tuple[int, bool | None]:
    """Read "(dua ribu)" after a number: (its end, True if it repeats the value, False if it differs, None)."""
    m = _PAREN_WORDS.match(text, end, e)
    if not m:
        return end, None
    words = parse_number_words(m.group(1))
    if words is None:
        return end, None
    return m.end(), Decimal(words) == value


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
        elif kind == "count":
            end, same = _repeat_in_words(text, end, e, value)  # "2.000 (dua ribu)": one number, said twice
            if same is False:
                kind = "ambiguous"
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


# --- where a number belongs ----------------------------------------------------------------------------------
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


def _wider_scope(
    ctx: Context, text: str, n: _Number, clause: tuple[int, int], sentence: tuple[int, int], explicit: bool
) -> str | None:
    """Return the words that make a figure national, provincial or about several regencies, else None."""
    before = text[max(clause[0], n.start - 60) : n.start]
    national = NATIONAL_BEFORE.search(before) or NATIONAL_AFTER.match(text[n.end : clause[1]])
    if national:
        return national.group().strip()
    if explicit:
        return None
    cross = CROSS_REGENCY.search(text[clause[0] : clause[1]])
    if cross:
        return cross.group()
    province = [p for p in ctx.provinces if clause[0] <= p.start < clause[1]]
    if not province and not any(sentence[0] <= m.start < sentence[1] for m in ctx.mentions if not m.office):
        province = [p for p in ctx.provinces if sentence[0] <= p.start < sentence[1]]
    return ctx.doc.text[province[0].start : province[0].end] if province else None


def _skip(ctx: Context, sentence: str, start: int, end: int, code: str, detail: str = "") -> Skipped:
    return Skipped(ctx.doc.source_file, sentence, start, end, skip_message(code, ctx.doc.text[start:end], detail),
                   code)


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


def _vague(ctx: Context, s: int, e: int, sentence: str) -> list[Skipped]:
    """Skip "ratusan pekerja", "ribuan nelayan": amounts of people without a figure."""
    text = ctx.doc.text
    out = []
    for m in VAGUE.finditer(text, s, e):
        is_person, _ = noun_after(text, m.end(), e, ctx.sectors)
        if is_person:
            out.append(_skip(ctx, sentence, m.start(), m.end(), "VAGUE_NUMBER"))
    return out


def sentence_facts(ctx: Context, s: int, e: int) -> tuple[list[Candidate], list[Skipped]]:
    """Turn the numbers of one sentence into fact candidates or skipped records."""
    text = ctx.doc.text
    sentence = text[s:e].strip()
    cands: list[Candidate] = []
    skipped: list[Skipped] = _vague(ctx, s, e, sentence)
    place = _PLACE_LINE.match(text, s, e)
    clauses = _clauses(text, place.end() if place else s, e)
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
        if _CONDITION.match(text, clause[0]):
            skipped.append(_skip(ctx, sentence, n.start, n.end, "ROLE_UNCLEAR", "a condition, not a figure"))
            continue
        hedge = 0.05 if HEDGE.search(before) else 0.0
        code, reg_penalty, explicit, reg_skip = _regency(ctx, n, clause, (s, e))
        scope = _wider_scope(ctx, text, n, clause, (s, e), explicit)
        if scope:
            skip_code = "PERCENT_NATIONAL" if n.kind == "percent" else "SEVERAL_REGENCIES"
            skipped.append(_skip(ctx, sentence, n.start, n.end, skip_code, scope))
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
    context = text[max(0, site.sent[0] - 400) : site.sent[0]]  # "Angka itu ...": the sentence before says of what
    if not PARTICIPATION.search(cl) and (
        PERCENT_OTHER.search(cl) or not (PARTICIPATION.search(site.sentence) or PARTICIPATION.search(context))
    ):
        skipped.append(site.skip(ctx, "PERCENT_UNCLEAR"))
        return None
    if RENTAN.search(cl) or RENTAN.search(text[site.sent[0] : n.start]):
        # the share of informal or vulnerable workers is not the participation rate (all segments)
        skipped.append(site.skip(ctx, "PERCENT_UNCLEAR", "the share of one segment"))
        return None
    lead = text[site.clause[0] : n.start]
    role_ = "target" if TARGET_NEAR.search(lead) or TARGET.search(lead) else "stated"  # a level, or the aim
    return site.candidate("participation_rate", ALL_SEGMENTS, role_, n.value, "percent", None, site.conf)


def _past_year(ctx: Context, text: str) -> bool:
    """Return True if text names a month or year before the article's year ("posisi Desember 2024")."""
    if ctx.event_date is None:
        return False
    years = [int(y) for y in re.findall(r"\b(?:19|20)\d{2}\b", text)]
    return bool(years) and max(years) < ctx.event_date.year


def _money(ctx: Context, site: _Site, skipped: list[Skipped]) -> Candidate | None:
    """A budget ("menganggarkan Rp1,2 miliar"), or a skipped record (premiums, benefits, unclear amounts)."""
    text, n = ctx.doc.text, site.n
    after = text[n.end : site.sent[1]]
    clause = text[site.clause[0] : site.clause[1]]
    if PER_PERSON.match(after) or (PREMIUM.search(site.sentence) and n.value < 1_000_000):
        skipped.append(site.skip(ctx, "PER_PERSON_AMOUNT"))
        return None
    near = text[max(site.clause[0], n.start - 45) : n.start]
    if BENEFIT.search(near) or ((BENEFIT.search(clause) or BENEFIT.search(site.sentence)) and not BUDGET.search(clause)):
        skipped.append(site.skip(ctx, "BENEFIT"))
        return None
    if not (BUDGET.search(clause) or BUDGET.search(site.sentence)):
        skipped.append(site.skip(ctx, "AMOUNT_UNCLEAR"))
        return None
    found = {g[2] for g in groups(site.sentence, ctx.sectors)} - {ALL_SEGMENTS}
    named = len(found) == 1
    segment_ = found.pop() if named else (PEKERJA_RENTAN if found else ctx.default_segment)
    if segment_ is None:
        skipped.append(site.skip(ctx, "SEGMENT_UNCLEAR"))
        return None
    conf = site.conf - (0.0 if named else 0.05)
    before = text[site.sent[0] : n.start]
    role_ = "stated"
    if TARGET.search(clause):
        role_ = "target"
    elif _past_year(ctx, before) or PREVIOUS.search(before):
        role_ = "previous"
    cand = site.candidate("budget", segment_, role_, n.value, "IDR", None, conf)
    cand.segment_named = named
    return cand


def _count(ctx: Context, site: _Site, skipped: list[Skipped]) -> Candidate | None:
    """A count of workers with its segment, role and effective month, or a skipped record."""
    text, n, clause, sent = ctx.doc.text, site.n, site.clause, site.sent
    if NOT_COVERAGE.search(text[clause[0] : clause[1]]):
        skipped.append(site.skip(ctx, "NOT_COVERAGE"))
        return None
    if NOT_PEOPLE_AFTER.match(text[n.end : clause[1]]):
        skipped.append(site.skip(ctx, "NOT_WORKERS"))
        return None
    is_person, phrase = noun_after(text, n.end, clause[1], ctx.sectors)
    if not is_person:
        before = text[clause[0] : n.start]
        if not (COUNT_LEAD.search(before) and PERSON_BEFORE.search(text[sent[0] : n.start])):
            skipped.append(site.skip(ctx, "NOT_WORKERS"))
            return None
        phrase = ""  # "masyarakat rentan ... sebanyak 2.000"
    if WORKFORCE.search(phrase) or (WORKFORCE.search(site.sentence) and not RENTAN.search(phrase)
                                   and not RENTAN.search(text[clause[0] : n.start])):
        skipped.append(site.skip(ctx, "NOT_VULNERABLE"))
        return None
    if is_increment(text, n.start, clause):
        skipped.append(site.skip(ctx, "INCREMENT"))
        return None
    segment_, union, guessed = segment(ctx, text, n.start, clause, sent, phrase)
    if segment_ is None:
        skipped.append(site.skip(ctx, "SEGMENT_UNCLEAR"))
        return None
    sector = segment_ not in (PEKERJA_RENTAN, ALL_SEGMENTS)
    role_, by_default = role(ctx, text, n.start, n.end, clause, sent, union, sector)
    if role_ is None:
        skipped.append(site.skip(ctx, "ROLE_UNCLEAR"))
        return None
    if segment_ == ALL_SEGMENTS and role_ in ("total", "part"):
        role_ = "stated"  # all BPJS participants: a level reported, never the vulnerable-worker promise
    conf = site.conf - (0.05 if by_default else 0.0) - (0.05 if guessed else 0.0)
    month = effective_month(ctx, text, clause, sent, role_) if role_ in ("total", "target", "part") else None
    value: int | Decimal = int(n.value) if n.value == n.value.to_integral_value() else n.value
    return site.candidate("count", segment_, role_, value, "workers", month, conf, by_default and not union)


_BRANCH_TAIL = re.compile(r"\s+[A-Z][\w\-]+(?=\s*(?:[,.;:)\"”]|\s+[a-z]|$))")


def branches(ctx: Context, s: int, e: int) -> list[Candidate]:
    """Branch facts ("Kantor Cabang Makassar", "Kantor Cabang Bogor Kota") for the article's regency, named as the
    text writes the branch: a branch may be named after a town that is no regency (Tenggarong, Batulicin)."""
    text = ctx.doc.text
    out = []
    if ctx.primary is None:
        return out
    for m in BRANCH.finditer(text, s, e):
        g = "name" if m.group("name") else "name2"
        first = m.group(g).split()[0]
        name_end = m.start(g) + len(first)
        tail = _BRANCH_TAIL.match(text, name_end)
        if tail and not ctx.config.names.resolve(first, text[: m.start(g)]):
            name_end = tail.end()  # "Bogor Kota", "Tanjung Pandan": the first word alone names no regency
        name = re.sub(r"\s+", " ", text[m.start(g) : name_end])
        if fold_name(name) in _NOT_BRANCH_NAMES:
            continue
        value = f"Kantor Cabang {name}"
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


_NOT_BRANCH_NAMES = {"utama", "bpjs", "ketenagakerjaan", "pembantu", "kepala", "kantor", "wilayah"}
