"""Facts from narrative city reports (press releases, meeting reports): offline rules and dictionaries.

A fact is a number (or a branch name) a report states about one regency, with what it counts (segment), what
role it plays in the promise (previous / total / part / target / stated), and from when it applies. Numbers the
rules cannot place with confidence become ``Skipped`` records with a reason: a wrong fact is worse than a
missing one. Page furniture (menus, related-article lists, footers) is never read for facts; see ``document``.

Offsets (``start``/``end``) are character offsets into the original file text for TXT, and into the extracted
body text (``document.html_to_text``) for HTML.

Confidence starts at 0.90 for a number whose role a cue word states ("sebelumnya", "total", "ditargetkan",
"saat ini", "terdiri atas") and loses points for each guess: role by default in an MoU or target article, or
from a list of segments, -0.05; segment taken from the article's topic -0.05; "sekitar" -0.05; a regency the
article names only in passing -0.15; one of several regencies in the clause -0.10; a regency from elsewhere in
the sentence that is not the article's -0.20; event date from a date without weekday -0.05, or missing -0.15;
a weekday that does not match its date -0.20. A sector part inferred without an exact sum is capped at 0.65, a
vulnerable-worker percentage at 0.70, a branch not matching config/regencies at 0.70. The review step
(``review.py``) auto-accepts facts at or above the configured threshold; the rest wait for a person.

The rules, in order, for a number in an article sentence (titles, datelines and furniture are never read):
dates, years, times, ordinals and legal references are ignored; ranges ("3.000 hingga 3.500") and bounds
("lebih dari 600") are skipped; the regency comes from the number's clause, else its sentence, else the
article (dateline and title weigh more); a figure for several regencies or the province is skipped; the kind
follows the unit (persen → participation rate, Rp → budget, people → count); the segment follows the noun
after the number, a list of segments, the word before it, the clause, the sentence, else the topic; counts
equal to the sum of others become parts of that total; a repeated fact is skipped as a duplicate.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from cakupan.core import regions
from cakupan.core.config import alias_index, load_regencies, load_sectors
from cakupan.ingest.parsing import parse_number
from cakupan.reports.document import (
    BODY,
    DATELINE,
    TITLE,
    Document,
    decode,
    detect_format,
    document_from_text,
    split_sentences,
)
from cakupan.reports.lexicon import (
    MONEY,
    NUMBER,
    NUMBER_WORDS,
    effective_start,
    find_dates,
    find_month_years,
    find_weekday_day_months,
    parse_number_words,
    target_year,
    weekday_matches,
)

REPORT_SUFFIXES = (".txt", ".html", ".htm")

# event kinds
MOU_SIGNED = "mou_signed"
TARGET_ANNOUNCED = "target_announced"
AUDIENCE_REPORT = "audience_report"
OTHER_EVENT = "other"

# segments that are not sectors
PEKERJA_RENTAN = "pekerja_rentan"
ALL_SEGMENTS = "all_segments"

# skip reason codes (stable) → words for a data clerk
SKIP_REASONS: dict[str, str] = {
    "RANGE": "a range or alternatives, not one figure",
    "AMBIGUOUS_NUMBER": "the comma could be a decimal mark or a thousands mark",
    "BOUND": "a lower or upper bound ('lebih dari', 'hampir'), not an exact figure",
    "NOT_WORKERS": "does not count workers or participants",
    "ROLE_UNCLEAR": "cannot tell whether this is a previous figure, a total, a part or a target",
    "SEGMENT_UNCLEAR": "cannot tell which workers this counts",
    "REGENCY_UNCLEAR": "cannot tell which regency this figure is about",
    "SEVERAL_REGENCIES": "the figure covers several regencies or the province",
    "CONFLICTING_TOTALS": "several different totals for the same regency and month that do not add up",
    "DUPLICATE": "repeats a figure already extracted",
    "PERCENT_UNCLEAR": "a percentage of something other than BPJS participation",
    "NOT_COVERAGE": "counts claims, accidents or benefit recipients, not covered workers",
    "PERCENT_CHANGE": "a change, not a level",
    "PER_PERSON_AMOUNT": "an amount per person or per month (a premium), not a budget",
    "AMOUNT_UNCLEAR": "an amount of money whose purpose is not stated",
    "FORMAT_UNSUPPORTED": "this kind of file is not read (send TXT or HTML)",
}


@dataclass(frozen=True)
class Fact:
    """One fact stated by a narrative report, with the sentence and offsets it came from."""

    fact_id: str
    source_file: str
    regency_code: str
    event_date: date | None
    event_kind: str
    fact_kind: str  # count | participation_rate | budget | branch
    segment: (
        str | None
    )  # pekerja_rentan | all_segments | a sector code (nelayan, petani, ...); None for branch
    role: str  # previous | total | part | target | stated
    value: int | Decimal | str
    unit: str  # workers | percent | IDR | text
    effective_month: date | None
    sentence: str
    start: int
    end: int
    confidence: float


@dataclass(frozen=True)
class Skipped:
    """A number the rules saw but did not turn into a fact, and why."""

    source_file: str
    sentence: str
    start: int
    end: int
    reason: str
    code: str = ""


@dataclass
class Extraction:
    """Facts and skipped numbers from one or more reports."""

    facts: list[Fact] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def extend(self, other: Extraction) -> None:
        """Append another extraction's facts and skipped records."""
        self.facts.extend(other.facts)
        self.skipped.extend(other.skipped)


# --- configuration -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExtractionConfig:
    """Dictionaries the rules use: regency aliases, branches, sector keywords, provinces to look for."""

    aliases: dict[str, str] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    sectors: list[tuple[str, list[str]]] = field(default_factory=list)
    provinces: frozenset[str] | None = None  # None: the provinces of the configured regencies (or all)

    @classmethod
    def from_dir(cls, config_dir: Path) -> ExtractionConfig:
        """Load the dictionaries from a config folder (regencies/*.yml and sectors.yml, each optional)."""
        config_dir = Path(config_dir)
        regs = load_regencies(config_dir) if (config_dir / "regencies").is_dir() else {}
        sectors: list[tuple[str, list[str]]] = []
        if (config_dir / "sectors.yml").exists():
            for sector in load_sectors(config_dir)[0]:
                words = [k for k in sector.keywords if len(k) > 2]  # "rt", "rw": too short to read in prose
                if words:
                    sectors.append((sector.code, words))
        return cls(
            aliases=alias_index(regs),
            branches={code: str(r.branch).strip() for code, r in regs.items() if r.branch},
            sectors=sectors,
        )

    def allowed_provinces(self) -> frozenset[str] | None:
        """Return the province codes whose regencies are looked for by bare name."""
        if self.provinces is not None:
            return self.provinces
        codes = set(self.aliases.values()) | set(self.branches)
        return frozenset(c.split(".")[0] for c in codes) or None

    @cached_property
    def names(self) -> regions.RegencyNames:
        """The regency name matcher for these aliases and provinces."""
        return regions.RegencyNames(self.aliases, self.allowed_provinces())


# --- vocabulary ----------------------------------------------------------------------------------------------
_FALLBACK_SECTORS = [
    ("nelayan", ["nelayan"]),
    ("buruh_tani", ["buruh tani"]),
    ("petani", ["petani", "pekebun", "peternak"]),
    ("pedagang", ["pedagang"]),
]
_RENTAN = re.compile(
    r"\brentan\b|\bmiskin\b|\bpekerja informal\b|\bbukan penerima upah\b|\bBPU\b", re.IGNORECASE
)
_ALL_SEGMENTS = re.compile(
    r"\bkepesertaan\b|\bpeserta aktif\b|\bseluruh (?:peserta|segmen)\b|\bsemua segmen\b", re.IGNORECASE
)
_PERSON = re.compile(
    r"^(?:orang|jiwa|warga|masyarakat|peserta|pekerja|tenaga|buruh|karyawan|pegawai|anggota|penerima|"
    r"nelayan|petani|pedagang|data)\b",
    re.IGNORECASE,
)
_FILLERS = {"orang", "jiwa", "data", "di", "antaranya", "diantaranya", "merupakan", "adalah", "yang"}
_COUNT_LEAD = re.compile(
    r"(?:sebanyak|sejumlah|berjumlah|mencapai|total|sampai|hingga|menjadi|sekitar|kepada|untuk|bagi|yakni|"
    r"yaitu|sebesar)\s*:?\s*$",
    re.IGNORECASE,
)
_SILENT_LEAD = re.compile(
    r"(?:\b(?:nomor|no|pp|uu|perpres|permenaker|permen|pergub|perwali|perbup|perda|inpres|keppres|pasal|ayat|"
    r"tahun|lantai|ruang|jalan|jl|jln|rt|rw|km|pukul|jam|tanggal|tgl|halaman|hal|nomer|kode|gedung|blok|"
    r"periode|edisi|versi|tahap|gelombang|angkatan)\.?|\bke-?)\s*$",
    re.IGNORECASE,
)
_PERSON_BEFORE = re.compile(
    r"\b(?:orang|warga|masyarakat|peserta|pekerja|nelayan|petani|pedagang|buruh|tenaga kerja)\b",
    re.IGNORECASE,
)
_HEDGE = re.compile(r"(?:sekitar|kira-kira|kurang lebih|lebih kurang|sekira|±|\+/-)\s*$", re.IGNORECASE)
_BOUND_BEFORE = re.compile(
    r"(?<!kurang )(?:lebih dari|lebih|di atas|diatas|kurang dari|di bawah|dibawah|hampir|nyaris|minimal|maksimal|"
    r"paling sedikit|paling banyak|setidaknya|sedikitnya|sekurang-kurangnya|sebanyak-banyaknya|puluhan|"
    r"ratusan|ribuan|tak kurang dari|tidak kurang dari|lebih dari)\s*$",
    re.IGNORECASE,
)
_BOUND_AFTER = re.compile(r"^\s*(?:orang\s+)?(?:lebih|lebihan|an\b|-an\b)", re.IGNORECASE)
_RANGE_BETWEEN = re.compile(
    r"^\s*(?:[a-z]+\s+)?(?:-|–|—|hingga|sampai|s\.?d\.?|sd|atau|ke)\s*$", re.IGNORECASE
)
_CLAUSE_BREAK = re.compile(
    r"(?<!\d)[,;]|[,;](?!\d)|\s[—–]\s|\s--\s|[“”\"]|''"
    r"|\s(?=(?:kemudian|lalu|namun|tetapi|tapi|sedangkan|sementara|dimana|di mana|yang mana|sehingga)\b)",
    re.IGNORECASE,
)
_CROSS_REGENCY = re.compile(
    r"\b(?:dua|kedua|tiga|ketiga|empat|keempat|beberapa|seluruh|semua|sejumlah|24)\s+(?:kabupaten|kota|daerah|"
    r"wilayah|kabupaten/kota|pemda|pemerintah daerah)\b|\bse-?sulsel\b|\bse-?sulawesi\b|\bsulawesi selatan\b|"
    r"\bprovinsi\b|\bnasional\b|\bse-?indonesia\b",
    re.IGNORECASE,
)

_PREVIOUS = re.compile(
    r"\bsebelumnya\b|\bsebelum ini\b|\bselama ini\b|\btahun lalu\b|\btahun sebelumnya\b|\bsemula\b|\bawalnya\b",
    re.IGNORECASE,
)
_PART = re.compile(
    r"\bterdiri (?:atas|dari)\b|\bdi ?antaranya\b|\bmeliputi\b|\bmasing-masing\b|\bsebagian\b|\brinciannya\b",
    re.IGNORECASE,
)
_TOTAL = re.compile(r"\btotal\b|\bseluruhnya\b|\bkeseluruhan\b", re.IGNORECASE)
_TARGET = re.compile(
    r"\btarget\w*|\bditargetkan\b|\bmenargetkan\b|\bsasaran\b|\bakan\b|\brencana\w*|\bdirencanakan\b|"
    r"\bdiharapkan\b|\bdiproyeksikan\b",
    re.IGNORECASE,
)
_BECOMES = re.compile(r"\bmenjadi\b", re.IGNORECASE)
_STATED = re.compile(
    r"\bsaat ini\b|\bhingga kini\b|\bsampai kini\b|\bkini\b|\btercatat\b|\bmencapai\b|\bterdaftar\b|"
    r"\b(?:telah|sudah) (?:ter|di)lindungi\b|\bsejauh ini\b|\bper hari ini\b",
    re.IGNORECASE,
)
_PROTECTION = re.compile(
    r"perlindung|lindungi|\bcover\b|\bjaminan\b|daftar|kepesertaan|\bpeserta\b|\bmou\b|"
    r"menanggung|ditanggung|\biuran|dibayarkan|kerja ?sama",
    re.IGNORECASE,
)
# counts of claims, accidents or beneficiaries of benefits are not counts of covered workers
_NOT_COVERAGE = re.compile(
    r"\bklaim\b|\bmeninggal\b|\bkorban\b|\bahli waris\b|\bsantunan\b|\bbeasiswa\b|mengalami kecelakaan|"
    r"\btewas\b|\bcedera\b|\bluka\b",
    re.IGNORECASE,
)
_PARTICIPATION = re.compile(
    r"kepesertaan|partisipasi|cakupan|coverage|terlindungi|peserta aktif|universal coverage", re.IGNORECASE
)
# a percentage of a premium, a budget or a payment is not a participation rate
_PERCENT_OTHER = re.compile(
    r"ditanggung|dibayar|\biuran|anggaran|realisasi|serapan|apbd|subsidi|diskon|bunga|inflasi", re.IGNORECASE
)
_CHANGE = re.compile(
    r"\b(?:naik|turun|meningkat|menurun|bertambah|berkurang|kenaikan|penurunan|pertumbuhan|tumbuh)(?:nya)?\b",
    re.IGNORECASE,
)
_BUDGET = re.compile(
    r"\banggaran\b|\bapbd\w*|\bdialokasikan\b|\balokasi\b|\bmenganggarkan\b|\bdianggarkan\b|\bdana\b|"
    r"\bbiaya\b|\bdisiapkan\b|\bpagu\b",
    re.IGNORECASE,
)
_PER_PERSON = re.compile(
    r"^\s*(?:per|/|tiap|setiap)\s*(?:orang|peserta|pekerja|bulan|jiwa|kepala|tenaga)", re.IGNORECASE
)
_PREMIUM = re.compile(r"\biuran\b|\bpremi\b", re.IGNORECASE)
_PERCENT_AFTER = re.compile(r"^\s*(?:persen|prosen|%)", re.IGNORECASE)

_MOU = re.compile(
    r"\bmou\b|memorandum of understanding|nota kesepahaman|perjanjian kerja ?sama|\bpks\b|penandatanganan|"
    r"menandatangani|ditandatangani|\bteken\b|\bmeneken\b|\bditeken\b",
    re.IGNORECASE,
)
_AUDIENCE = re.compile(
    r"\baudiensi\b|\bkunjungan\b|\bsilaturahmi\b|\bmelaporkan\b|\bmenerima\b.*\bkepala\b", re.IGNORECASE
)
_TARGET_EVENT = re.compile(r"\btargetkan\b|\bmenargetkan\b|\bditargetkan\b|\btarget\b", re.IGNORECASE)

_OFFICE_BEFORE = re.compile(
    r"(?:BPJS\s*(?:Ketenagakerjaan|TK|Naker)|BPJamsostek|Jamsostek|Cabang|KCP|Kacab)\s*$", re.IGNORECASE
)
_BRANCH = re.compile(
    r"\b(?:Kantor\s+Cabang|Kepala\s+Cabang|Kacab|KC)\s+(?:(?:Utama\s+)?(?:BPJS\s+Ketenagakerjaan|BPJS\s+TK|"
    r"BPJamsostek)\s+)?(?:(?:Kota|Kabupaten|Kab\.)\s+)?(?P<name>[A-Z][\w\-]+(?:\s+[A-Z][\w\-]+)?)"
    r"|\b(?:BPJS\s+Ketenagakerjaan|BPJamsostek)\s+Cabang\s+(?:(?:Kota|Kabupaten|Kab\.)\s+)?"
    r"(?P<name2>[A-Z][\w\-]+(?:\s+[A-Z][\w\-]+)?)",
)


@dataclass(frozen=True)
class Mention:
    """A regency named in the text; ``office`` for "BPJS Ketenagakerjaan Parepare" or "Cabang Makassar"."""

    start: int
    end: int
    code: str
    office: bool


@dataclass(frozen=True)
class _Context:
    doc: Document
    config: ExtractionConfig
    mentions: list[Mention]
    primary: str | None
    main: frozenset[str]
    event_date: date | None
    date_penalty: float
    event_kind: str
    default_segment: str | None
    sectors: list[tuple[str, list[str]]]


@dataclass
class _Candidate:
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


# --- regencies -----------------------------------------------------------------------------------------------
def find_regency_mentions(text: str, start: int, end: int, config: ExtractionConfig) -> list[Mention]:
    """Find regency names in text[start:end] ("Kota Palopo", "PAREPARE", "Sidrap"), marking BPJS-office ones."""
    out: list[Mention] = []
    for m in config.names.mentions(text, start, end):
        line_start = text.rfind("\n", 0, m.start) + 1
        office = bool(_OFFICE_BEFORE.search(text[max(line_start, m.start - 45) : m.start]))
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
    ranked = scores.most_common()
    if not ranked:
        return None, frozenset()
    main = frozenset(code for code, score in ranked if score * 2 >= ranked[0][1])
    if len(ranked) >= 2 and ranked[0][1] == ranked[1][1]:
        return None, main
    return ranked[0][0], main


# --- document-level context ----------------------------------------------------------------------------------
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
        scores[MOU_SIGNED] += weight * len(_MOU.findall(chunk))
        scores[AUDIENCE_REPORT] += weight * len(_AUDIENCE.findall(chunk))
        scores[TARGET_ANNOUNCED] += weight * len(_TARGET_EVENT.findall(chunk))
    best = max((MOU_SIGNED, AUDIENCE_REPORT, TARGET_ANNOUNCED), key=lambda k: scores[k])  # ties: MoU first
    return best if scores[best] else OTHER_EVENT


def _groups(text: str, sectors: list[tuple[str, list[str]]]) -> list[tuple[int, int, str]]:
    """Return (start, end, segment) for segment words in text: sectors, 'rentan', 'kepesertaan'."""
    found: list[tuple[int, int, str]] = []
    for code, words in sectors:
        for w in words:
            for m in re.finditer(rf"\b{re.escape(w)}\b", text, re.IGNORECASE):
                found.append((m.start(), m.end(), code))
    for m in _RENTAN.finditer(text):
        found.append((m.start(), m.end(), PEKERJA_RENTAN))
    for m in _ALL_SEGMENTS.finditer(text):
        found.append((m.start(), m.end(), ALL_SEGMENTS))
    found.sort(key=lambda g: (g[0], -(g[1] - g[0])))
    kept: list[tuple[int, int, str]] = []
    for g in found:  # longest match wins where keywords overlap ("buruh tani" over "buruh")
        if kept and g[0] < kept[-1][1]:
            continue
        kept.append(g)
    return kept


def _context(doc: Document, config: ExtractionConfig) -> _Context:
    spans = [(b.start, b.end) for b in doc.of_kind(BODY, TITLE, DATELINE)]
    mentions = [m for s, e in spans for m in find_regency_mentions(doc.text, s, e, config)]
    event_date, penalty = _event_date(doc)
    sectors = config.sectors or _FALLBACK_SECTORS
    body = " ".join(doc.text[b.start : b.end] for b in doc.of_kind(BODY, TITLE))
    default_segment = PEKERJA_RENTAN if _RENTAN.search(body) else None
    primary, main = _primary_regency(doc, mentions)
    return _Context(
        doc,
        config,
        mentions,
        primary,
        main,
        event_date,
        penalty,
        _event_kind(doc),
        default_segment,
        sectors,
    )


# --- clauses -------------------------------------------------------------------------------------------------
def _clauses(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """Split a sentence into clause spans; a clause of one or two words joins the next ("Sebelumnya, ...")."""
    cuts = [s] + [m.start() for m in _CLAUSE_BREAK.finditer(text, s, e)] + [e]
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
        pct = _PERCENT_AFTER.match(after)
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
        pct = _PERCENT_AFTER.match(text[end:e])
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
    return not _PERSON.match(text[n.end : e].lstrip())


# --- the rules -----------------------------------------------------------------------------------------------
def _noun_after(
    text: str, pos: int, clause_end: int, sectors: list[tuple[str, list[str]]]
) -> tuple[bool, str]:
    """Return (counts people, the noun phrase) after a number: "750 orang", "2.000 data nelayan"."""
    words = re.findall(r"[\w\-]+", text[pos:clause_end])[:6]
    i = 0
    while i < len(words) and words[i].lower() in _FILLERS:
        i += 1
    core = words[i : i + 3]
    explicit_unit = bool(words) and words[0].lower() in ("orang", "jiwa")
    is_person = explicit_unit or (
        bool(core) and (bool(_PERSON.match(core[0])) or bool(_groups(core[0], sectors)))
    )
    return is_person, " ".join(core)


def _segment(
    ctx: _Context, text: str, n: _Number, clause: tuple[int, int], sentence: tuple[int, int], noun_phrase: str
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
    ctx: _Context, text: str, n: _Number, clause: tuple[int, int], sentence: tuple[int, int], union: bool
) -> tuple[str | None, bool]:
    """Return (role, decided by default) for a count, or (None, _) if no rule applies."""
    cl = text[clause[0] : clause[1]]
    if _PREVIOUS.search(cl):
        return "previous", False
    if _PART.search(text[sentence[0] : n.start]) or _PART.search(text[n.end : min(n.end + 30, clause[1])]):
        return "part", False
    if _TOTAL.search(cl):
        return "total", False
    if _TARGET.search(cl):
        return "target", False
    if _BECOMES.search(text[clause[0] : n.start]):
        return "total", False
    if _STATED.search(cl):
        return "stated", False
    if union:
        return "total", True
    if ctx.event_kind in (MOU_SIGNED, TARGET_ANNOUNCED) and _PROTECTION.search(
        text[sentence[0] : sentence[1]]
    ):
        return "total", True
    return None, False


def _regency(
    ctx: _Context, n: _Number, clause: tuple[int, int], sentence: tuple[int, int]
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


def _skip(ctx: _Context, sentence: str, start: int, end: int, code: str, detail: str = "") -> Skipped:
    words = SKIP_REASONS[code] + (f" ({detail})" if detail else "")
    return Skipped(ctx.doc.source_file, sentence, start, end, f"'{ctx.doc.text[start:end]}': {words}", code)


def _effective(
    ctx: _Context, text: str, clause: tuple[int, int], sentence: tuple[int, int], role: str
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

    def skip(self, ctx: _Context, code: str, detail: str = "") -> Skipped:
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
    ) -> _Candidate:
        return _Candidate(
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


def _sentence_facts(ctx: _Context, s: int, e: int) -> tuple[list[_Candidate], list[Skipped]]:
    """Turn the numbers of one sentence into fact candidates or skipped records."""
    text = ctx.doc.text
    sentence = text[s:e].strip()
    cands: list[_Candidate] = []
    skipped: list[Skipped] = []
    clauses = _clauses(text, s, e)
    numbers = [
        n
        for n in _numbers(text, s, e)
        if not _is_year(text, n, s, e) and not _SILENT_LEAD.search(text[max(s, n.start - 20) : n.start])
    ]
    in_range: set[int] = set()
    for a, b in itertools.pairwise(numbers):
        if a.kind == b.kind and _RANGE_BETWEEN.match(text[a.end : b.start]):
            in_range.update((a.start, b.start))
    base = 0.9 - ctx.date_penalty
    for n in numbers:
        clause = _clause_of(clauses, n.start)
        before = text[clause[0] : n.start]
        after = text[n.end : clause[1]]
        if n.start in in_range:
            skipped.append(_skip(ctx, sentence, n.start, n.end, "RANGE"))
            continue
        if _BOUND_BEFORE.search(before) or (n.kind == "count" and _BOUND_AFTER.match(after)):
            skipped.append(_skip(ctx, sentence, n.start, n.end, "BOUND"))
            continue
        hedge = 0.05 if _HEDGE.search(before) else 0.0
        code, reg_penalty, explicit, reg_skip = _regency(ctx, n, clause, (s, e))
        cross = _CROSS_REGENCY.search(text[clause[0] : clause[1]]) or _CROSS_REGENCY.search(sentence)
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


def _percent(ctx: _Context, site: _Site, skipped: list[Skipped]) -> _Candidate | None:
    """A participation percentage ("kepesertaan ... 48 persen"), or a skipped record."""
    text, n = ctx.doc.text, site.n
    cl = text[site.clause[0] : site.clause[1]]
    if _CHANGE.search(text[site.clause[0] : n.start]):
        skipped.append(site.skip(ctx, "PERCENT_CHANGE"))
        return None
    if _PERCENT_OTHER.search(cl) or not (_PARTICIPATION.search(cl) or _PARTICIPATION.search(site.sentence)):
        skipped.append(site.skip(ctx, "PERCENT_UNCLEAR"))
        return None
    rentan = _RENTAN.search(cl) or _RENTAN.search(site.sentence)
    conf = min(site.conf, 0.7) if rentan else site.conf  # a vulnerable-worker share is unusual: review it
    segment = PEKERJA_RENTAN if rentan else ALL_SEGMENTS
    return site.candidate("participation_rate", segment, "stated", n.value, "percent", None, conf)


def _money(ctx: _Context, site: _Site, skipped: list[Skipped]) -> _Candidate | None:
    """A budget ("menganggarkan Rp1,2 miliar"), or a skipped record (premiums per person, unclear amounts)."""
    text, n = ctx.doc.text, site.n
    after = text[n.end : site.sent[1]]
    if _PER_PERSON.match(after) or (_PREMIUM.search(site.sentence) and n.value < 1_000_000):
        skipped.append(site.skip(ctx, "PER_PERSON_AMOUNT"))
        return None
    if not (_BUDGET.search(text[site.clause[0] : site.clause[1]]) or _BUDGET.search(site.sentence)):
        skipped.append(site.skip(ctx, "AMOUNT_UNCLEAR"))
        return None
    named = bool(_RENTAN.search(site.sentence))
    segment = PEKERJA_RENTAN if named else ctx.default_segment
    if segment is None:
        skipped.append(site.skip(ctx, "SEGMENT_UNCLEAR"))
        return None
    conf = site.conf - (0.0 if named else 0.05)
    return site.candidate("budget", segment, "stated", n.value, "IDR", None, conf)


def _count(ctx: _Context, site: _Site, skipped: list[Skipped]) -> _Candidate | None:
    """A count of workers with its segment, role and effective month, or a skipped record."""
    text, n, clause, sent = ctx.doc.text, site.n, site.clause, site.sent
    if _NOT_COVERAGE.search(text[clause[0] : clause[1]]):
        skipped.append(site.skip(ctx, "NOT_COVERAGE"))
        return None
    is_person, phrase = _noun_after(text, n.end, clause[1], ctx.sectors)
    if not is_person:
        before = text[clause[0] : n.start]
        if not (_COUNT_LEAD.search(before) and _PERSON_BEFORE.search(before)):
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


def _branches(ctx: _Context, s: int, e: int) -> list[_Candidate]:
    text = ctx.doc.text
    out = []
    for m in _BRANCH.finditer(text, s, e):
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
            _Candidate(
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


def _settle_totals(cands: list[_Candidate], ctx: _Context) -> tuple[list[_Candidate], list[Skipped]]:
    """Mark counts that add up to a larger total as parts; skip totals that conflict.

    Per regency and effective month, among counts in the role total or target: counts that add up exactly
    to the largest become its parts; sector counts below a total that a cue word (or a list of segments)
    made firm become parts too. Otherwise two values for one segment, or a vulnerable-worker figure beside
    sector figures that do not add up, cannot be told apart: all of them are skipped.
    """
    broad = (PEKERJA_RENTAN, ALL_SEGMENTS)
    skipped: list[Skipped] = []
    groups: dict[tuple, list[_Candidate]] = {}
    for c in cands:
        if c.fact_kind == "count" and c.role in ("total", "target"):
            groups.setdefault((c.regency_code, c.effective_month), []).append(c)
    drop: list[_Candidate] = []
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
        conflicted: list[_Candidate] = []
        for segment in {c.segment for c in members}:
            same = [c for c in members if c.segment == segment]
            if len({c.value for c in same}) > 1:
                conflicted.extend(same)
        if any(c.segment in broad for c in members) and any(c.segment not in broad for c in members):
            conflicted = list(members)
        drop.extend(c for c in conflicted if c not in drop)
    for c in drop:
        words = SKIP_REASONS["CONFLICTING_TOTALS"]
        skipped.append(
            Skipped(
                ctx.doc.source_file,
                c.sentence,
                c.start,
                c.end,
                f"'{ctx.doc.text[c.start : c.end]}': {words}",
                "CONFLICTING_TOTALS",
            )
        )
    dropped = {id(c) for c in drop}
    return [c for c in cands if id(c) not in dropped], skipped


def extract_document(doc: Document, config: ExtractionConfig | None = None) -> Extraction:
    """Extract facts from a classified document."""
    config = config or ExtractionConfig()
    ctx = _context(doc, config)
    cands: list[_Candidate] = []
    skipped: list[Skipped] = []
    for block in doc.of_kind(BODY):
        for s, e in split_sentences(doc.text, block.start, block.end):
            c, sk = _sentence_facts(ctx, s, e)
            cands.extend(c)
            skipped.extend(sk)
            cands.extend(_branches(ctx, s, e))
    unique: list[_Candidate] = []
    seen: dict[tuple, _Candidate] = {}
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
                    f"'{doc.text[c.start : c.end]}': {SKIP_REASONS['DUPLICATE']} (at offset {first.start})",
                    "DUPLICATE",
                )
            )
            continue
        seen[k] = c
        unique.append(c)
    unique, conflicts = _settle_totals(unique, ctx)
    skipped.extend(conflicts)
    facts = []
    for i, c in enumerate(sorted(unique, key=lambda c: (c.start, c.end)), start=1):
        facts.append(
            Fact(
                fact_id=f"{doc.stem}#{i}",
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
                sentence=c.sentence,
                start=c.start,
                end=c.end,
                confidence=round(max(0.0, min(1.0, c.confidence)), 2),
            )
        )
    return Extraction(facts, sorted(skipped, key=lambda k: (k.start, k.end)))


def extract_text(
    text: str, source_file: str, config: ExtractionConfig | None = None, fmt: str = "txt"
) -> Extraction:
    """Extract facts from report text ("txt") or HTML source ("html") given as a string."""
    return extract_document(document_from_text(text, source_file, fmt), config)


def extract_file(path: Path, config: ExtractionConfig | None = None) -> Extraction:
    """Extract facts from one TXT or HTML report; other formats give one FORMAT_UNSUPPORTED skipped record."""
    path = Path(path)
    text = decode(path.read_bytes())
    fmt = detect_format(path, text)
    if fmt not in ("txt", "html"):
        return Extraction(
            [],
            [
                Skipped(
                    path.name,
                    "",
                    0,
                    0,
                    f"{path.name}: {SKIP_REASONS['FORMAT_UNSUPPORTED']}",
                    "FORMAT_UNSUPPORTED",
                )
            ],
        )
    return extract_document(document_from_text(text, path.name, fmt), config)


def report_files(paths: list[Path]) -> list[Path]:
    """Expand folders into their report files (TXT, HTML), sorted; files are kept as given."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in REPORT_SUFFIXES))
        else:
            out.append(p)
    return out


def extract_paths(paths: list[Path], config: ExtractionConfig | None = None) -> Extraction:
    """Extract facts from files and folders of reports."""
    result = Extraction()
    for path in report_files(paths):
        result.extend(extract_file(path, config))
    return result


__all__ = [
    "SKIP_REASONS",
    "Extraction",
    "ExtractionConfig",
    "Fact",
    "Skipped",
    "extract_document",
    "extract_file",
    "extract_paths",
    "extract_text",
    "report_files",
]
