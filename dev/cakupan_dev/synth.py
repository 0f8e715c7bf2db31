"""Synthetic regency deliveries (registers + contributions) and the ground truth they were generated from.

Everything here is synthetic: NIKs have the right shape (real Kemendagri district codes, a valid birth date with
day + 40 for women, a serial) but belong to nobody. The generator is deterministic: every random draw comes from
`random.Random` instances seeded from `SynthSpec.seed` (one per regency, seeded with a string so the result does
not depend on PYTHONHASHSEED or on the order of `regencies`), never from the global `random` module or the clock.

Layout written under ``out_dir``::

    <regency code>/register_<slug>_<YYYY-MM>.xlsx|.csv          one delivery per regency per month
    <regency code>/register_<slug>_<YYYY-MM>_koreksi.<ext>      "correction" scenario: supersedes the one above
    <regency code>/contributions_<slug>_<YYYY>.csv              one per regency per calendar year
    <regency code>/klaim_<slug>_<YYYY>.csv                      claims paid (source "claims", see below)
    <regency code>/laporan_<slug>_<YYYY>.csv                    structured city report (source "city_report")
    berita/<NN>_<slug>_<YYYY-MM>.txt                            narrative press releases (source "narrative")
    ground_truth.json                                           what was generated (see `generate`)

Registers and contributions are always written; claims, city reports and narrative reports only when asked for
(`SynthSpec.sources`) or when a scenario needs them. With claims, registers carry a KPJ column too.

Scenarios: SCENARIOS are the delivery problems (late or partial payment, corrections, duplicates, bad rows);
FINDING_SCENARIOS inject the discrepancies the audit findings must catch (fct_audit_findings). Every injected
entry lists the findings a correct pipeline raises for it under "findings" ({code, regency_code, month}); a run
with no scenario raises none (payments are on time, NIKs belong to the regency, reports agree with the data).

The ground truth is the generator's *intent*, computed from its own worker lists, never by reading files back.
"""

from __future__ import annotations

import calendar
import csv
import hashlib
import itertools
import json
import os
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cakupan.core import regions

SCENARIOS = ("late_payment", "partial_payment", "unpaid_month", "correction", "duplicate_worker", "bad_rows")
FINDING_SCENARIOS = ("billing_mismatch", "double_funding", "claims_unprotected", "identity_anomaly", "promise_gap",
                     "report_mismatch")
ALL_SCENARIOS = SCENARIOS + FINDING_SCENARIOS
EXTRA_SOURCES = ("claims", "city_report", "narrative")
SCENARIO_SOURCES = {"claims_unprotected": ("claims",), "promise_gap": ("city_report", "narrative"),
                    "report_mismatch": ("city_report", "narrative")}
NARRATIVE_DIR = "berita"  # narrative reports: outside the regency inboxes, read by the report extractor
FORMATS = ("xlsx", "csv")
FUNDING_SOURCES = ("APBD", "APBDes", "CSR", "BAZNAS", "Mandiri")
GROUND_TRUTH_NAME = "ground_truth.json"
DUE_DAY = 15  # contributions for month M are due on the 15th of M+1; days_late counts from there

MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)

# --- synthetic people ----------------------------------------------------------------------------------------
GIVEN_MALE = (
    "Muh.", "Muhammad", "Ahmad", "Abdul Rahman", "Syamsul", "Jamaluddin", "Kamaruddin", "Sudirman", "Takdir",
    "Lukman", "Arsyad", "Yusuf", "Hasan", "Rahmat", "Baharuddin", "Anwar", "Irwan", "Agus", "Budi", "Joko",
    "Slamet", "Bambang", "Heru", "Supriadi", "Darwis", "Ramli", "Mansyur", "Haeruddin", "Firman", "Akbar",
    "Fadli", "Ilham", "Rudi", "Sulaiman", "Yunus", "Idris", "Saharuddin", "Nasrullah", "Hendra", "Wahyu",
    "Hamzah", "Muh. Arsyad",
)
GIVEN_FEMALE = (
    "Hasmawati", "Nurhayati", "Ramlah", "Marwah", "Asriani", "Hasnah", "Nurjannah", "Sitti Aisyah", "Rosmini",
    "Fatimah", "Jumriah", "Hasniah", "Darmawati", "Rahmawati", "Suryani", "Nurlina", "Haslinda", "Murni",
    "Ernawati", "Sri Wahyuni", "Siti Aminah", "Sumarni", "Kartini", "Rosdiana", "Irawati", "Nurbaya", "Wahidah",
    "Halijah", "Mardiana", "Syamsiah", "Dewi", "Indah", "Rina", "Sartika", "Mulyani", "Asmawati", "Hartati",
    "Nurfadillah", "Rismawati", "St. Hadijah",
)
FAMILY = (
    "Syamsuddin", "Hasanuddin", "Nurdin", "Rahman", "Amiruddin", "Baso", "Dg. Ngalle", "Dg. Tompo", "Dg. Sese",
    "Dg. Bani", "Latif", "Mappa", "Mappiare", "Tahir", "Sulaiman", "Hamid", "Kadir", "Saleh", "Haris", "Arifin",
    "Makmur", "Lamba", "Paturusi", "Palallo", "Mattalatta", "Ambo Dalle", "Ambo Tang", "La Tunru", "Yunus",
    "Said", "Rasyid", "Mahmud", "Jufri", "Husain", "Ismail", "Bakri", "Ridwan", "Halim", "Majid", "Samad",
    "Santoso", "Wibowo", "Susanto", "Prasetyo", "Hidayat", "Setiawan", "Nugroho", "Purnomo", "Kurniawan",
    "Wijaya", "Saputra", "Gunawan", "Hartono", "Sutrisno", "Suryadi", "Rahayu", "Lestari", "Wulandari",
    "Pratama", "Ramadhan",
)
OCCUPATIONS = (
    "NELAYAN", "Nelayan", "nelayan tangkap", "Nelayan Tangkap", "Nelayan Budidaya", "pembudidaya rumput laut",
    "PETANI", "petani", "Petani Penggarap", "Petani Sawah", "pekebun kakao", "peternak", "buruh tani",
    "Buruh Tani Harian", "pedagang kaki lima", "Pedagang Pasar", "PEDAGANG KELILING", "penjual sayur",
    "tukang ojek", "Tukang Ojek", "ojol", "Ojek Online", "pengemudi becak", "Tukang Becak", "sopir angkot",
    "marbot masjid", "Marbot", "imam masjid", "Guru Ngaji", "buruh harian", "Buruh Harian Lepas",
    "kuli bangunan", "tukang batu", "Kader Posyandu", "Linmas", "pemulung", "penjahit", "buruh pelabuhan",
)

# Header aliases: one choice per regency (index into each tuple).
HEADER_CHOICES: tuple[tuple[str, ...], ...] = (
    ("No", "No.", "NO"),
    ("NIK", "No. KTP", "Nomor NIK"),
    ("Nama", "Nama Lengkap", "Nama Tenaga Kerja"),
    ("Tgl Lahir",),
    ("JK", "L/P", "Jenis Kelamin"),
    ("Pekerjaan", "Profesi"),
    ("Desa", "Kelurahan"),
    ("Kecamatan", "Kec"),
    ("Program",),
    ("TMT", "Mulai Kepesertaan"),
    ("Tgl Berakhir",),
    ("Iuran", "Iuran/Bulan"),
    ("Sumber Dana",),
)
COL_NO, COL_NIK, COL_NAME, COL_BIRTH, COL_SEX, COL_OCC, COL_VILLAGE, COL_DISTRICT, COL_PROGRAM, COL_START, \
    COL_END, COL_AMOUNT, COL_FUNDING = range(13)

# Reason codes (contracts/reasons.yml) for the rows the bad_rows scenario injects.
BAD_ROW_REASONS = ("NIK_17_DIGITS", "NIK_15_DIGITS", "OCCUPATION_MISSING", "DATE_INVALID")
XLSX_ONLY_REASON = "NIK_PRECISION_LOST"

XLSX_STREAM_ROWS = 2000  # registers longer than this are written in xlsxwriter constant_memory mode
_SERIAL_MAX = 9998  # 9999 is reserved for the cross-regency duplicate person
_EXCEL_EPOCH = date(1899, 12, 30)
_FIXED_CREATED = datetime(2025, 1, 1, 0, 0, 0)


@dataclass
class SynthSpec:
    """What to generate. `months` are consecutive "YYYY-MM" strings."""

    regencies: list[str]
    months: list[str]
    workers: int = 40
    seed: int = 42
    formats: tuple[str, ...] = ("xlsx", "csv")
    scenarios: tuple[str, ...] = ()
    funding_sources: tuple[str, ...] = ("APBD",)
    unit_premium: int = 16800
    sources: tuple[str, ...] = ()  # extra sources to write: claims, city_report, narrative (see EXTRA_SOURCES)

    def extra_sources(self) -> tuple[str, ...]:
        """Return the extra sources written: those asked for plus those the scenarios need, in EXTRA_SOURCES order."""
        want = set(self.sources) | {x for s in self.scenarios for x in SCENARIO_SOURCES.get(s, ())}
        return tuple(x for x in EXTRA_SOURCES if x in want)

    def validate(self) -> None:
        """Raise ValueError when the spec cannot be generated."""
        if not self.regencies:
            raise ValueError("regencies is empty")
        known = regions.regencies()
        for code in self.regencies:
            if code not in known:
                raise ValueError(f"unknown Kemendagri regency code {code!r}")
        if len(set(self.regencies)) != len(self.regencies):
            raise ValueError("regencies contains a duplicate code")
        if not self.months:
            raise ValueError("months is empty")
        parsed = [_parse_month(m) for m in self.months]
        for a, b in itertools.pairwise(parsed):
            if _add_months(a, 1) != b:
                raise ValueError(f"months must be consecutive: {self.months}")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.workers > 4000:
            raise ValueError("workers must be at most 4000 per regency (4-digit NIK serials)")
        if not self.formats or any(f not in FORMATS for f in self.formats):
            raise ValueError(f"formats must be drawn from {FORMATS}, not {self.formats}")
        bad = [s for s in self.scenarios if s not in ALL_SCENARIOS]
        if bad:
            raise ValueError(f"unknown scenario(s) {bad}; choose from {ALL_SCENARIOS}")
        bad = [s for s in self.sources if s not in EXTRA_SOURCES]
        if bad:
            raise ValueError(f"unknown source(s) {bad}; choose from {EXTRA_SOURCES}")
        if not self.funding_sources:
            raise ValueError("funding_sources is empty")
        if self.unit_premium <= 0:
            raise ValueError("unit_premium must be positive")


# --- small helpers -------------------------------------------------------------------------------------------
def _parse_month(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"not a YYYY-MM month: {text!r}")
    return int(m.group(1)), int(m.group(2))


def _add_months(ym: tuple[int, int], n: int) -> tuple[int, int]:
    i = ym[0] * 12 + ym[1] - 1 + n
    return i // 12, i % 12 + 1


def _first_day(ym: tuple[int, int]) -> date:
    return date(ym[0], ym[1], 1)


def _last_day(ym: tuple[int, int]) -> date:
    return date(ym[0], ym[1], calendar.monthrange(ym[0], ym[1])[1])


def _ym_str(ym: tuple[int, int]) -> str:
    return f"{ym[0]:04d}-{ym[1]:02d}"


def month_range(start: str, count: int) -> list[str]:
    """Return `count` consecutive months from `start` ("2025-03", 3 → ["2025-03", "2025-04", "2025-05"])."""
    ym = _parse_month(start)
    return [_ym_str(_add_months(ym, i)) for i in range(count)]


def regency_slug(code: str) -> str:
    """Short lowercase file-name slug of a regency ("73.72" → "parepare", "73.14" → "sidenrengrappang")."""
    name = regions.regency_name(code)
    name = re.sub(r"^(kabupaten|kota)\s+", "", name.strip(), flags=re.IGNORECASE)
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _short_name(code: str) -> str:
    return re.sub(r"^(Kabupaten|Kota)\s+", "", regions.regency_name(code))


def _regency_alias(code: str) -> str:
    """An alias a clerk would write ("PAREPARE", "Kab. Sidenreng Rappang", "KOTA BEKASI" when ambiguous)."""
    name = regions.regency_name(code)
    short = _short_name(code)
    if regions.resolve_regency(short) == code:
        return short.upper()
    return ("KOTA " if name.startswith("Kota") else "KAB. ") + short.upper()


def _id_date(d: date) -> str:
    return f"{d.day} {MONTHS_ID[d.month - 1]} {d.year}"


def _rupiah(n: int, style: str) -> str:
    """Indonesian money text: style "dots" → "16.800", "rp" → "Rp 16.800,00"."""
    s = f"{n:,}".replace(",", ".")
    return f"Rp {s},00" if style == "rp" else s


def _fmt_date(d: date, style: str) -> str:
    if style == "dmy-":
        return f"{d.day:02d}-{d.month:02d}-{d.year:04d}"
    if style == "dmy/":
        return f"{d.day:02d}/{d.month:02d}/{d.year:04d}"
    return d.isoformat()


def _excel_serial(d: date) -> int:
    return (d - _EXCEL_EPOCH).days


# --- per-regency template style ------------------------------------------------------------------------------
@dataclass
class _Style:
    headers: list[str]
    title_lines: int
    blank_after_title: int
    sheet_name: str
    sex_long: bool
    program: str
    xlsx_amount_number: bool
    xlsx_date_fmt: str
    csv_delimiter: str
    csv_bom: bool
    csv_amount: str
    csv_date: str
    nik_spaced_share: float
    dinas: str


def _make_style(rng: random.Random) -> _Style:
    headers = [rng.choice(choices) for choices in HEADER_CHOICES]
    return _Style(
        headers=headers,
        title_lines=rng.randint(1, 6),
        blank_after_title=rng.randint(0, 2),
        sheet_name=rng.choice(("Peserta", "Sheet1", "Daftar Peserta", "DATA")),
        sex_long=rng.random() < 0.5,
        program=rng.choice(("JKK, JKM", "JKK+JKM", "JKK/JKM")),
        xlsx_amount_number=rng.random() < 0.5,
        xlsx_date_fmt=rng.choice(("dd-mm-yyyy", "dd/mm/yyyy", "d mmm yyyy")),
        csv_delimiter=rng.choice((";", ",")),
        csv_bom=rng.random() < 0.5,
        csv_amount=rng.choice(("dots", "rp")),
        csv_date=rng.choice(("dmy-", "dmy/", "iso")),
        nik_spaced_share=rng.choice((0.0, 0.0, 0.0, 0.1)),
        dinas=rng.choice(("DINAS TENAGA KERJA", "DINAS KETENAGAKERJAAN", "DINAS TENAGA KERJA DAN TRANSMIGRASI")),
    )


# --- people --------------------------------------------------------------------------------------------------
class _Worker:
    __slots__ = (
        "birth",
        "csv_cells",
        "district",
        "end",
        "excel_dates",
        "female",
        "funding",
        "name",
        "nik",
        "occupation",
        "spaced",
        "start",
        "tag",
        "village",
        "xlsx_cells",
    )

    def __init__(self, nik: str, name: str, birth: date, female: bool, occupation: str, village: str,
                 district: str, start: date, funding: str, excel_dates: bool, spaced: bool, tag: str = "") -> None:
        self.nik = nik
        self.name = name
        self.birth = birth
        self.female = female
        self.occupation = occupation
        self.village = village
        self.district = district
        self.start = start
        self.end: date | None = None
        self.funding = funding
        self.excel_dates = excel_dates
        self.spaced = spaced
        self.tag = tag  # "", "prereg", "cross", "correction_added", "junk:<REASON>"
        self.csv_cells: list[str] | None = None
        self.xlsx_cells: list[tuple[str, Any]] | None = None

    def copy(self) -> _Worker:
        w = _Worker(self.nik, self.name, self.birth, self.female, self.occupation, self.village, self.district,
                    self.start, self.funding, self.excel_dates, self.spaced, self.tag)
        w.end = self.end
        return w


def _nik(district_code: str, birth: date, female: bool, serial: int) -> str:
    day = birth.day + (40 if female else 0)
    nik = f"{district_code.replace('.', '')}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"
    assert len(nik) == 16 and nik.isdigit(), nik
    return nik


def _kpj(nik: str) -> str:
    """The person's synthetic KPJ card number: 11 digits derived from the NIK (no random draw)."""
    return str(int(hashlib.sha256(f"kpj/{nik}".encode()).hexdigest(), 16))[:11]


def _spaced(nik: str) -> str:
    return " ".join(nik[i:i + 4] for i in range(0, len(nik), 4))


class _Regency:
    """All state for one regency while its deliveries are generated (O(workers) memory)."""

    def __init__(self, code: str, index: int, spec: SynthSpec) -> None:
        self.code = code
        self.index = index
        self.spec = spec
        # independent streams: the population does not depend on formats, scenarios or payment draws
        self.rng = random.Random(f"cakupan-synth/{spec.seed}/{code}")
        self.srng = random.Random(f"cakupan-synth/{spec.seed}/{code}/scenarios")
        self.prng = random.Random(f"cakupan-synth/{spec.seed}/{code}/payments")
        # finding scenarios and the extra sources draw from their own streams: adding them leaves the rest as is
        self.frng = random.Random(f"cakupan-synth/{spec.seed}/{code}/findings")
        self.crng = random.Random(f"cakupan-synth/{spec.seed}/{code}/claims")
        self.rrng = random.Random(f"cakupan-synth/{spec.seed}/{code}/city_report")
        self.name = regions.regency_name(code)
        self.slug = regency_slug(code)
        self.short = _short_name(code)
        self.alias = _regency_alias(code)
        self.style = _make_style(self.rng)
        dists = regions.districts()
        self.district_codes = [c for c, (rc, _) in dists.items() if rc == code]
        self.district_names = {c: dists[c][1] for c in self.district_codes}
        vbd = regions.villages_by_district()
        self.villages = {c: [n for _, n in vbd.get(c, [])] or [dists[c][1]] for c in self.district_codes}
        self.serial = 0  # ordinary workers count up from 1
        self.top_serial = _SERIAL_MAX + 1  # scenario people (junk rows, corrections) count down from 9998
        self.birth_base_year = _parse_month(spec.months[0])[0] - 63
        self.with_kpj = "claims" in spec.extra_sources()  # registers carry KPJ numbers claims can be matched by
        weights = [1.0] * len(spec.funding_sources)
        if len(weights) > 1:
            weights = [0.7] + [0.3 / (len(weights) - 1)] * (len(weights) - 1)
        self.fs_weights = weights

    # people
    def next_serial(self, top: bool = False) -> int:
        if top:
            self.top_serial -= 1
        else:
            self.serial += 1
        if self.serial >= self.top_serial:
            raise ValueError(f"{self.code}: ran out of 4-digit NIK serials; lower workers or months")
        return self.top_serial if top else self.serial

    def new_person(self, start: date, tag: str = "", serial: int | None = None,
                   rng: random.Random | None = None) -> _Worker:
        """A new synthetic person; scenario people (rng given) take serials from the top of the range."""
        top = rng is not None
        rng = rng or self.rng
        female = rng.random() < 0.45
        # 19 to 63 years old in the first month (1962 … 2005 for 2025): inside the scheme's age limits
        birth = date(self.birth_base_year, 1, 1) + timedelta(days=rng.randrange(16000))
        dcode = rng.choice(self.district_codes)
        serial = self.next_serial(top) if serial is None else serial
        nik = _nik(dcode, birth, female, serial)
        given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
        if rng.random() < 0.12:
            given = "Andi " + given
        name = given if rng.random() < 0.3 else f"{given} {rng.choice(FAMILY)}"
        # most live in the district that issued the NIK; some moved within the regency
        home = dcode if rng.random() < 0.85 else rng.choice(self.district_codes)
        village = rng.choice(self.villages[home])
        funding = rng.choices(self.spec.funding_sources, weights=self.fs_weights)[0]
        return _Worker(
            nik=nik, name=name, birth=birth, female=female, occupation=rng.choice(OCCUPATIONS), village=village,
            district=self.district_names[home], start=start, funding=funding,
            excel_dates=rng.random() < 0.5, spaced=rng.random() < self.style.nik_spaced_share, tag=tag,
        )

    def start_in(self, ym: tuple[int, int], rng: random.Random | None = None) -> date:
        """A coverage start in month ym: usually the 1st, sometimes a mid-month day."""
        rng = rng or self.rng
        if rng.random() < 0.75:
            return _first_day(ym)
        return date(ym[0], ym[1], rng.randint(2, 28))

    def initial_start(self, ym: tuple[int, int]) -> date:
        """Start for a worker enrolled in the first month: some were enrolled months before."""
        r = self.rng.random()
        if r < 0.25:
            return _first_day(_add_months(ym, -self.rng.randint(1, 14)))
        return self.start_in(ym)

    # rendering (cached per worker: only the row number and coverage end change month to month)
    def csv_row(self, no: int, w: _Worker, period: tuple[int, int]) -> list[str]:
        st = self.style
        cells = w.csv_cells
        if cells is None:
            nik = _spaced(w.nik) if w.spaced else w.nik
            sex = ("Perempuan" if w.female else "Laki-laki") if st.sex_long else ("P" if w.female else "L")
            start = w.start if isinstance(w.start, str) else _fmt_date(w.start, st.csv_date)
            cells = ["", nik, w.name, _fmt_date(w.birth, st.csv_date), sex, w.occupation, w.village, w.district,
                     st.program, start, "", _rupiah(self.spec.unit_premium, st.csv_amount), w.funding]
            if self.with_kpj:
                cells.append(_kpj(w.nik))
            w.csv_cells = cells
        row = list(cells)
        row[0] = str(no)
        if w.end is not None:
            row[COL_END] = _fmt_date(w.end, st.csv_date)
        return row

    def xlsx_row(self, w: _Worker) -> list[tuple[str, Any]]:
        """Cells as (kind, value): kind s=string, n=number, d=date serial, nn=NIK as number."""
        cells = w.xlsx_cells
        if cells is None:
            st = self.style
            sex = ("Perempuan" if w.female else "Laki-laki") if st.sex_long else ("P" if w.female else "L")
            if w.tag == "junk:NIK_PRECISION_LOST":
                nik_cell: tuple[str, Any] = ("nn", float(int(w.nik[:15] + "0")))
            else:
                nik_cell = ("s", _spaced(w.nik) if w.spaced else w.nik)

            def dcell(d: date | str) -> tuple[str, Any]:
                if isinstance(d, str):
                    return ("s", d)
                return ("d", _excel_serial(d)) if w.excel_dates else ("s", _fmt_date(d, "dmy-"))

            amount = (("n", self.spec.unit_premium) if st.xlsx_amount_number
                      else ("s", _rupiah(self.spec.unit_premium, "dots")))
            cells = [("n", 0), nik_cell, ("s", w.name), dcell(w.birth), ("s", sex), ("s", w.occupation),
                     ("s", w.village), ("s", w.district), ("s", st.program), dcell(w.start), ("", None), amount,
                     ("s", w.funding)]
            if self.with_kpj:
                cells.append(("s", _kpj(w.nik)))
            w.xlsx_cells = cells
        return cells


# --- scenario placement --------------------------------------------------------------------------------------
@dataclass
class _Plan:
    payment: dict[tuple[str, int], str] = field(default_factory=dict)  # (code, month idx) → scenario
    correction: tuple[str, int] | None = None
    dup_in_file: tuple[str, int] | None = None
    cross: tuple[str, str, int] | None = None  # (issuing regency A, other regency B, month idx)
    cross_scenario: str = "duplicate_worker"  # the scenario that asked for the cross-regency person
    bad_rows: bool = False
    # finding scenarios: (code, month idx) cells
    billing_count: tuple[str, int] | None = None  # participants billed = enrolled + 2
    billing_amount: tuple[str, int] | None = None  # amount billed at premium + 2,000 per worker
    double_sources: tuple[str, int] | None = None  # one worker listed again under `double_fs`
    double_fs: str = ""
    identity: tuple[str, int] | None = None  # three joiners: foreign NIK, wrong birth date, age 70
    claim_not_enrolled: tuple[str, int] | None = None  # claim dated the month before a joiner's start
    claim_unknown_nik: tuple[str, int] | None = None  # claim by a NIK in no register
    claim_unknown_kpj: tuple[str, int] | None = None  # claim by a KPJ only, in no register
    claim_in_payment_cells: bool = False  # claims in the partial / unpaid payment cells
    narrative: tuple[str, int] | None = None  # the press release's regency and month
    promise_gap: tuple[str, int] | None = None  # report targets far above protected from this month on
    report_covered: tuple[str, int] | None = None  # report states more covered workers than protected
    no_data_regency: str | None = None  # a promise (press release) for a regency with no register


def _plan(spec: SynthSpec) -> _Plan:
    rng = random.Random(f"cakupan-synth/{spec.seed}/plan")
    plan = _Plan()
    n_months = len(spec.months)
    cells = [(c, i) for c in spec.regencies for i in range(n_months)]
    for scen in ("late_payment", "partial_payment", "unpaid_month"):
        if scen in spec.scenarios:
            free = [c for c in cells if c not in plan.payment] or cells
            cell = rng.choice(free)
            plan.payment[cell] = scen
    if "correction" in spec.scenarios:
        later = [c for c in cells if c[1] >= 1] or cells
        plan.correction = rng.choice(later)
    if "duplicate_worker" in spec.scenarios:
        plan.dup_in_file = rng.choice(cells)
        if len(spec.regencies) >= 2:
            a, b = rng.sample(list(spec.regencies), 2)
            plan.cross = (a, b, rng.randrange(n_months))
    plan.bad_rows = "bad_rows" in spec.scenarios
    _plan_findings(spec, plan, rng, cells)
    return plan


def _plan_findings(spec: SynthSpec, plan: _Plan, rng: random.Random, cells: list[tuple[str, int]]) -> None:
    """Place the finding scenarios (drawn after the delivery scenarios, so those keep their cells)."""
    scen = set(spec.scenarios)
    n_months = len(spec.months)
    taken = set(plan.payment)

    def pick(pool: list[tuple[str, int]]) -> tuple[str, int] | None:
        free = [c for c in pool if c not in taken]
        if not free:
            return None
        cell = rng.choice(free)
        taken.add(cell)
        return cell

    if "billing_mismatch" in scen:
        plan.billing_count = pick(cells)
        plan.billing_amount = pick(cells)
    if "double_funding" in scen:
        plan.double_sources = pick(cells)
        plan.double_fs = next((f for f in FUNDING_SOURCES if f not in spec.funding_sources),
                              spec.funding_sources[-1])
        if plan.cross is None and len(spec.regencies) >= 2:
            a, b = rng.sample(list(spec.regencies), 2)
            plan.cross = (a, b, rng.randrange(n_months))
            plan.cross_scenario = "double_funding"
    if "identity_anomaly" in scen:
        plan.identity = rng.choice(cells)
    if "claims_unprotected" in scen:
        later = [c for c in cells if c[1] >= 1]
        plan.claim_not_enrolled = rng.choice(later) if later else None
        plan.claim_unknown_nik = rng.choice(cells)
        plan.claim_unknown_kpj = rng.choice(cells)
        plan.claim_in_payment_cells = True
    if "narrative" in spec.extra_sources():
        later = [c for c in cells if c[1] >= 1] or cells
        plan.narrative = rng.choice(later)
    if "promise_gap" in scen:
        # the run of months below the promise must not cross the press release's month in its regency (the MoU
        # figure would be the promise in force there), and must last at least two months
        pool = [c for c in cells if c[1] <= n_months - 2 and not (
            plan.narrative and c[0] == plan.narrative[0] and c[1] <= plan.narrative[1])]
        plan.promise_gap = rng.choice(pool) if pool else None
        known = regions.regencies()
        province = spec.regencies[0][:2]
        others = [c for c in known if c[:2] == province and c not in spec.regencies]
        plan.no_data_regency = "73.15" if "73.15" in others else (others[0] if others else None)
    if "report_mismatch" in scen:
        plan.report_covered = rng.choice(cells)


# --- writers -------------------------------------------------------------------------------------------------
def _register_headers(reg: _Regency) -> list[str]:
    return reg.style.headers + (["No KPJ"] if reg.with_kpj else [])


def _write_register_csv(path: Path, reg: _Regency, rows: Sequence[_Worker], period: tuple[int, int]) -> None:
    st = reg.style
    with open(path, "w", encoding="utf-8-sig" if st.csv_bom else "utf-8", newline="") as f:
        wr = csv.writer(f, delimiter=st.csv_delimiter, quoting=csv.QUOTE_MINIMAL)
        wr.writerow(_register_headers(reg))
        wr.writerows(reg.csv_row(i, w, period) for i, w in enumerate(rows, start=1))


def _title_lines(reg: _Regency, period: tuple[int, int], koreksi: bool) -> list[str]:
    st = reg.style
    y, m = period
    name_up = reg.name.upper()
    daftar = f"DAFTAR PESERTA PEKERJA RENTAN {name_up} — BULAN {MONTHS_ID[m - 1].upper()} {y}"
    if koreksi:
        daftar += " (REVISI)"
    pool = [
        f"PEMERINTAH {name_up}",
        st.dinas,
        daftar,
        "PENERIMA BANTUAN IURAN BPJS KETENAGAKERJAAN",
        "Program Jaminan Kecelakaan Kerja (JKK) dan Jaminan Kematian (JKM)",
        f"Tahun Anggaran {y}",
    ]
    extras = (pool[:2] + pool[3:])[: st.title_lines - 1]
    # natural order: government and office first, then the title, then the rest
    return extras[:2] + [daftar] + extras[2:]


def _write_register_xlsx(path: Path, reg: _Regency, rows: Sequence[_Worker], period: tuple[int, int],
                         koreksi: bool) -> None:
    import xlsxwriter

    st = reg.style
    # Big sheets stream row by row (constant_memory: inline strings, temp files); a regency-month register is
    # usually a few hundred rows, and building those in memory avoids ~10 temp files per workbook (2-3x faster).
    mode = {"constant_memory": True} if len(rows) > XLSX_STREAM_ROWS else {"in_memory": True}
    wb = xlsxwriter.Workbook(str(path), {**mode, "strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.set_properties({"created": _FIXED_CREATED, "author": f"Dinas Tenaga Kerja {reg.name}", "title": ""})
    ws = wb.add_worksheet(st.sheet_name)
    date_fmt = wb.add_format({"num_format": st.xlsx_date_fmt})
    money_fmt = wb.add_format({"num_format": "#,##0"})
    bold = wb.add_format({"bold": True})
    r = 0
    for line in _title_lines(reg, period, koreksi):
        ws.write_string(r, 0, line, bold)
        r += 1
    r += st.blank_after_title
    for c, h in enumerate(_register_headers(reg)):
        ws.write_string(r, c, h, bold)
    r += 1
    ws_string, ws_number = ws.write_string, ws.write_number
    for no, w in enumerate(rows, start=1):
        cells = reg.xlsx_row(w)
        ws_number(r, 0, no)
        for c in range(1, len(cells)):
            kind, val = cells[c]
            if kind == "s":
                if val:
                    ws_string(r, c, val)
            elif kind == "d":
                ws_number(r, c, val, date_fmt)
            elif kind == "n":
                ws_number(r, c, val, money_fmt)
            elif kind == "nn":
                ws_number(r, c, val)
        if w.end is not None:
            if w.excel_dates:
                ws_number(r, COL_END, _excel_serial(w.end), date_fmt)
            else:
                ws_string(r, COL_END, _fmt_date(w.end, "dmy-"))
        r += 1
    total = reg.spec.unit_premium * len(rows)
    ws.write_string(r, 0, "TOTAL", bold)
    if st.xlsx_amount_number:
        ws.write_number(r, COL_AMOUNT, total, money_fmt)
    else:
        ws.write_string(r, COL_AMOUNT, _rupiah(total, "dots"))
    r += 2  # one blank row
    sign_col = 9
    ws.write_string(r, sign_col, f"{reg.short}, {_id_date(_last_day(period))}")
    ws.write_string(r + 1, sign_col, "Kepala Dinas")
    wb.close()


# --- generation ----------------------------------------------------------------------------------------------
def _overlaps(w: _Worker, first: date, last: date) -> bool:
    if isinstance(w.start, str):
        return False
    return w.start <= last and (w.end is None or w.end >= first)


def _junk_rows(reg: _Regency, period: tuple[int, int], xlsx: bool) -> list[_Worker]:
    """Rows a correct reader must quarantine (one reason each); junk people, never enrolled."""
    out: list[_Worker] = []
    start = _first_day(period)
    for reason in BAD_ROW_REASONS + ((XLSX_ONLY_REASON,) if xlsx else ()):
        w = reg.new_person(start, tag=f"junk:{reason}", rng=reg.srng)
        w.spaced = False
        if reason == "NIK_17_DIGITS":
            w.nik = w.nik + str(reg.srng.randint(0, 9))
        elif reason == "NIK_15_DIGITS":
            w.nik = w.nik[:15]
        elif reason == "OCCUPATION_MISSING":
            w.occupation = ""
        elif reason == "DATE_INVALID":
            w.start = f"31/02/{period[0]}"  # type: ignore[assignment]
        out.append(w)
    return out


def _insert_spread(rng: random.Random, rows: list[_Worker], extra: list[_Worker]) -> list[_Worker]:
    out = list(rows)
    for w in extra:
        out.insert(rng.randint(0, len(out)), w)
    return out


def _generate_regency(reg: _Regency, spec: SynthSpec, plan: _Plan, cross_person: _Worker | None,
                      out_dir: Path, truth: dict) -> None:
    rng, srng = reg.rng, reg.srng
    months = [_parse_month(m) for m in spec.months]
    folder = out_dir / reg.code
    folder.mkdir(parents=True, exist_ok=True)
    roster: dict[str, _Worker] = {}  # insertion-ordered: NIK → worker (current delivery's rows)
    billing: dict[int, dict[str, int]] = {}  # month idx → funding source → enrolled
    persons_by_month: dict[int, int] = {}
    # what later writers (claims, city reports, the press release) need: month idx → enrolled people and joiners
    ctx: dict[str, Any] = {"enrolled": {}, "joiners": {}, "double": None}
    for mi, ym in enumerate(months):
        first, last = _first_day(ym), _last_day(ym)
        joiners: list[_Worker] = []
        if mi == 0:
            for _ in range(spec.workers):
                w = reg.new_person(reg.initial_start(ym))
                roster[w.nik] = w
        else:
            # leavers of last month are gone; pre-registered workers are now ordinary
            for nik in [n for n, w in roster.items() if w.end is not None]:
                del roster[nik]
            for w in roster.values():
                if w.tag == "prereg":
                    w.tag = ""
            n = len(roster)
            eligible = [w for w in roster.values() if not isinstance(w.start, str) and w.start < first
                        and w.tag == ""]
            k_leave = min(len(eligible), rng.randint(0, max(2, round(n * 0.04))))
            for w in rng.sample(eligible, k_leave):
                w.end = date(ym[0], ym[1], rng.randint(1, last.day))  # rendered per row, caches stay valid
            for _ in range(rng.randint(0, max(2, round(n * 0.05)))):
                w = reg.new_person(reg.start_in(ym))
                roster[w.nik] = w
                joiners.append(w)
        cross_here = None
        if plan.cross is not None and plan.cross[2] == mi and cross_person is not None:
            a, b, _ = plan.cross
            if reg.code == a:
                w = cross_person.copy()
                w.start = first
                roster[w.nik] = w  # a joiner in the issuing regency, stays on like anyone else
            elif reg.code == b:
                cross_here = cross_person.copy()
                # lives/works in B this month: B's own district and village, one-month spell
                dcode = srng.choice(reg.district_codes)
                cross_here.district = reg.district_names[dcode]
                cross_here.village = srng.choice(reg.villages[dcode])
                cross_here.start = first
                cross_here.end = last
                cross_here.funding = spec.funding_sources[0]
                cross_here.tag = "cross"
        # correction: the true list drops one continuing worker and adds two new ones the first delivery missed
        correction = plan.correction == (reg.code, mi)
        removed: _Worker | None = None
        added: list[_Worker] = []
        if correction:
            cands = [w for w in roster.values() if w.tag == "" and w.end is None and w not in joiners
                     and (cross_person is None or w.nik != cross_person.nik)]
            if cands:
                removed = srng.choice(cands)
                del roster[removed.nik]
            for _ in range(2):
                w = reg.new_person(reg.start_in(ym, srng), tag="", rng=srng)
                roster[w.nik] = w
                added.append(w)
        if plan.identity == (reg.code, mi):
            ident = _identity_people(reg, ym)
            for w in ident.values():
                roster[w.nik] = w
            truth["injected"].append({
                "scenario": "identity_anomaly", "regency_code": reg.code, "month": _ym_str(ym),
                "niks": {k: w.nik for k, w in ident.items()},
                "findings": [_finding(c, reg.code, ym) for c in
                             ("NIK_REGION_MISMATCH", "NIK_BIRTHDATE_MISMATCH", "AGE_OUT_OF_RANGE")],
            })
        # pre-registration: someone listed already, starting next month (loaded but not enrolled this month)
        if mi < len(months) - 1 and rng.random() < 0.3:
            w = reg.new_person(_first_day(_add_months(ym, 1)), tag="prereg")
            roster[w.nik] = w
        rows: list[_Worker] = list(roster.values())
        if cross_here is not None:
            rows.insert(srng.randint(0, len(rows)), cross_here)
        dup_nik = None
        if plan.dup_in_file == (reg.code, mi):
            cands = [w for w in rows if w.tag == "" and w not in added]
            if cands:
                d = srng.choice(cands)
                dup_nik = d.nik
                pos = rows.index(d)
                rows.insert(min(len(rows), pos + srng.randint(1, 6)), d)
        if plan.double_sources == (reg.code, mi):
            # the same worker listed again this month under a second funding source (billed to both)
            cands = [w for w in rows if w.tag == "" and w.end is None and not isinstance(w.start, str)
                     and w.start < first and w.funding != plan.double_fs and w not in added
                     and (cross_person is None or w.nik != cross_person.nik)]
            if cands:
                d = reg.frng.choice(cands)
                twin = d.copy()
                twin.funding = plan.double_fs
                twin.tag = "double"
                rows.insert(min(len(rows), rows.index(d) + reg.frng.randint(1, 6)), twin)
                ctx["double"] = {"mi": mi, "nik": d.nik, "funding_sources": [d.funding, plan.double_fs]}
        fmt = spec.formats[(mi + reg.index) % len(spec.formats)]
        junk = _junk_rows(reg, ym, fmt == "xlsx") if plan.bad_rows else []
        final_rows = _insert_spread(srng, rows, junk)
        # ground truth for the month: distinct valid NIKs of the final delivery whose spell overlaps the month
        enrolled_by_fs: dict[str, set[str]] = {}
        persons: set[str] = set()
        for w in rows:
            if _overlaps(w, first, last):
                enrolled_by_fs.setdefault(w.funding, set()).add(w.nik)
                persons.add(w.nik)
        fs_order = list(spec.funding_sources) + sorted(set(enrolled_by_fs) - set(spec.funding_sources))
        billing[mi] = {fs: len(enrolled_by_fs.get(fs, ())) for fs in fs_order}
        persons_by_month[mi] = len(persons)
        ctx["enrolled"][mi] = [(w.nik, w.funding, w.start, w.end, w.tag) for w in rows
                               if w.tag in ("", "identity") and _overlaps(w, first, last)]
        ctx["joiners"][mi] = [(w.nik, w.start) for w in joiners]
        # write the deliveries (first delivery, then the correction)
        ym_s = _ym_str(ym)
        base = f"register_{reg.slug}_{ym_s}"
        received = datetime(*_add_months(ym, 1), 3, 9, 0, 0)
        deliveries: list[tuple[str, list[_Worker], bool, datetime]] = []
        if correction:
            original = [w for w in final_rows if w not in added]
            if removed is not None:
                original.insert(srng.randint(0, len(original)), removed)
            deliveries.append((f"{base}.{fmt}", original, False, received))
            deliveries.append((f"{base}_koreksi.{fmt}", final_rows, True, received + timedelta(days=7)))
        else:
            deliveries.append((f"{base}.{fmt}", final_rows, False, received))
        prev_rel = None
        for fname, frows, koreksi, rec in deliveries:
            path = folder / fname
            if fmt == "xlsx":
                _write_register_xlsx(path, reg, frows, ym, koreksi)
            else:
                _write_register_csv(path, reg, frows, ym)
            ts = rec.timestamp()
            os.utime(path, (ts, ts))
            reasons = [w.tag.split(":", 1)[1] for w in frows if w.tag.startswith("junk:")]
            rel = f"{reg.code}/{fname}"
            truth["files"].append({
                "path": rel, "source": "register", "regency_code": reg.code, "period": ym_s, "format": fmt,
                "rows_in": len(frows), "loaded": len(frows) - len(reasons), "quarantined": len(reasons),
                "reasons": reasons, "supersedes": prev_rel, "received_at": rec.isoformat(),
            })
            prev_rel = rel
        # injected facts
        if correction:
            truth["injected"].append({
                "scenario": "correction", "regency_code": reg.code, "month": ym_s,
                "file": f"{reg.code}/{deliveries[1][0]}", "supersedes": f"{reg.code}/{deliveries[0][0]}",
                "removed_niks": [removed.nik] if removed is not None else [],
                "added_niks": [w.nik for w in added],
                "enrolled_first_delivery": len({w.nik for w in deliveries[0][1]
                                                if not w.tag.startswith("junk:") and _overlaps(w, first, last)}),
                "enrolled_corrected": len(persons),
                "findings": [],  # billing follows the corrected list; the superseded delivery counts for nothing
            })
        if dup_nik is not None:
            truth["injected"].append({
                "scenario": "duplicate_worker", "kind": "in_file", "regency_code": reg.code, "month": ym_s,
                "file": f"{reg.code}/{deliveries[-1][0]}", "nik": dup_nik, "rows": 2, "counted": 1,
                "findings": [],  # listed twice under one funding source: counted once, not double funding
            })
        if cross_here is not None or (plan.cross and plan.cross[0] == reg.code and plan.cross[2] == mi):
            truth["_cross_files"][reg.code] = f"{reg.code}/{deliveries[-1][0]}"
        if junk:
            bad = truth["_bad"]
            bad["files"] += len(deliveries)
            for _, frows, _, _ in deliveries:
                for w in frows:
                    if w.tag.startswith("junk:"):
                        bad["rows"] += 1
                        r = w.tag.split(":", 1)[1]
                        bad["reasons"][r] = bad["reasons"].get(r, 0) + 1
    status = _write_contributions(reg, spec, plan, months, billing, persons_by_month, folder, truth, ctx)
    extra = spec.extra_sources()
    if "claims" in extra:
        _write_claims(reg, spec, plan, months, ctx, status, folder, truth)
    if "city_report" in extra:
        _write_city_reports(reg, spec, plan, months, folder, truth)


def _finding(code: str, regency: str, ym: tuple[int, int]) -> dict:
    """A finding the pipeline must raise: code, regency and month (fct_audit_findings)."""
    return {"code": code, "regency_code": regency, "month": _ym_str(ym)}


def _identity_people(reg: _Regency, ym: tuple[int, int]) -> dict[str, _Worker]:
    """Three joiners with identity anomalies: a NIK from another regency, a birth-date column that disagrees with
    the NIK, and a worker aged 70 (scheme limits: config/findings.yml). They stay on like anyone else."""
    rng = reg.frng
    first = _first_day(ym)
    out = {}
    dists = regions.districts()
    foreign = sorted(c for c, (rc, _) in dists.items() if rc != reg.code and rc[:2] == reg.code[:2]) or sorted(
        c for c, (rc, _) in dists.items() if rc != reg.code)
    w = reg.new_person(first, tag="identity", rng=rng)
    w.nik = _nik(rng.choice(foreign), w.birth, w.female, int(w.nik[12:]))
    out["region"] = w
    w = reg.new_person(first, tag="identity", rng=rng)
    w.birth = w.birth + timedelta(days=400)  # the NIK keeps the true date; the column is wrong
    out["birth_date"] = w
    w = reg.new_person(first, tag="identity", rng=rng)
    w.birth = date(ym[0] - 70, ym[1], 1) - timedelta(days=10)  # 70 on the first day of the month
    w.nik = _nik(f"{w.nik[:2]}.{w.nik[2:4]}.{w.nik[4:6]}", w.birth, w.female, int(w.nik[12:]))
    out["age"] = w
    return out


def _payment_code(amount_paid: int, amount_billed: int) -> str | None:
    if amount_paid >= amount_billed:
        return None
    return "PAYMENT_UNPAID" if amount_paid == 0 else "PAYMENT_SHORTFALL"


def _write_contributions(reg: _Regency, spec: SynthSpec, plan: _Plan, months: list[tuple[int, int]],
                         billing: dict[int, dict[str, int]], persons_by_month: dict[int, int], folder: Path,
                         truth: dict, ctx: dict) -> dict[int, dict[str, str]]:
    """Write the contributions files; return month idx → funding source → payment status (paid/partial/unpaid)."""
    rng = reg.prng
    premium = spec.unit_premium
    status: dict[int, dict[str, str]] = {}
    by_year: dict[int, list[int]] = {}
    for mi, ym in enumerate(months):
        by_year.setdefault(ym[0], []).append(mi)
    region_forms = (reg.name, reg.alias, reg.code.replace(".", ""))
    double = ctx.get("double")
    for year, idxs in by_year.items():
        rows: list[list[str]] = []
        tot_billed = tot_amount = tot_paid = 0
        for mi in idxs:
            ym = months[mi]
            ym_s = _ym_str(ym)
            scen = plan.payment.get((reg.code, mi))
            month_end = _last_day(ym)
            nxt = _add_months(ym, 1)
            due = date(nxt[0], nxt[1], DUE_DAY)
            if scen == "late_payment":
                late = _add_months(ym, 2)
                paid_date: date | None = date(late[0], late[1], rng.randint(20, 28))
            elif scen == "unpaid_month":
                paid_date = None
            else:
                paid_date = date(nxt[0], nxt[1], rng.randint(5, DUE_DAY))
            month_rows = []
            rm = {"regency_code": reg.code, "month": ym_s, "enrolled": persons_by_month[mi], "protected": 0,
                  "participants_billed": 0, "amount_billed": 0, "amount_paid": 0}
            status[mi] = {}
            overridden = False
            for fs, enrolled in billing[mi].items():
                if enrolled == 0:
                    continue
                billed, unit, mismatch = enrolled, premium, None
                if not overridden and plan.billing_count == (reg.code, mi):
                    billed, mismatch = enrolled + 2, "count"  # two workers billed who are not in the register
                elif not overridden and plan.billing_amount == (reg.code, mi):
                    unit, mismatch = premium + 2000, "amount"  # billed at a premium not in force
                overridden = overridden or mismatch is not None
                if scen == "unpaid_month":
                    paid_workers = 0
                elif scen == "partial_payment":
                    paid_workers = max(0, min(billed - 1, (billed * 6) // 10))
                else:
                    paid_workers = billed
                doubled = double is not None and double["mi"] == mi and fs == double["funding_sources"][1]
                if doubled:
                    paid_workers = min(paid_workers, billed - 1)  # the second source does not pay for the twin
                amount_billed = billed * unit
                amount_paid = paid_workers * unit
                # protected = min(enrolled, floor(paid / unit premium)), unit = billed amount / participants billed
                protected = min(enrolled, amount_paid * billed // amount_billed)
                row_paid_date = paid_date if amount_paid > 0 else None
                cov = {
                    "regency_code": reg.code, "month": ym_s, "funding_source": fs, "enrolled": enrolled,
                    "participants_billed": billed, "amount_billed": amount_billed, "amount_paid": amount_paid,
                    "paid_workers": paid_workers, "protected": protected,
                    "paid_date": row_paid_date.isoformat() if row_paid_date else None,
                    "days_late": max(0, (row_paid_date - due).days) if row_paid_date else None,
                    "days_after_month_end": (row_paid_date - month_end).days if row_paid_date else None,
                    "payment_status": ("unpaid" if amount_paid == 0 else
                                       "partial" if amount_paid < amount_billed else "paid"),
                }
                truth["coverage"].append(cov)
                month_rows.append(cov)
                status[mi][fs] = cov["payment_status"]
                for key in ("protected", "participants_billed", "amount_billed", "amount_paid"):
                    rm[key] += cov[key]
                if mismatch is not None:
                    truth["injected"].append({
                        "scenario": "billing_mismatch", "kind": mismatch, "regency_code": reg.code, "month": ym_s,
                        "funding_source": fs, "enrolled": enrolled, "participants_billed": billed,
                        "amount_billed": amount_billed, "enrolled_x_premium": enrolled * premium,
                        "findings": [_finding("BILLED_COUNT_MISMATCH" if mismatch == "count"
                                              else "BILLED_AMOUNT_MISMATCH", reg.code, ym)]
                        + ([_finding(c, reg.code, ym)] if (c := _payment_code(amount_paid, amount_billed)) else []),
                    })
                if doubled:
                    truth["injected"].append({
                        "scenario": "double_funding", "kind": "two_sources", "regency_code": reg.code,
                        "month": ym_s, "nik": double["nik"], "funding_sources": double["funding_sources"],
                        "findings": [_finding("DOUBLE_FUNDED_TWO_SOURCES", reg.code, ym)]
                        + ([_finding(c, reg.code, ym)] if (c := _payment_code(amount_paid, amount_billed)) else []),
                    })
                # the contributions row as a clerk writes it
                k = mi % 3
                if k == 0:
                    period_txt = f"{MONTHS_ID[ym[1] - 1]} {ym[0]}"
                elif k == 1:
                    period_txt = f"{ym[1]:02d}/{ym[0]}"
                else:
                    period_txt = ym_s
                region_txt = region_forms[(mi + len(rows)) % 3]
                plain = rng.random() < 0.2
                billed_txt = str(amount_billed) if plain else _rupiah(amount_billed, "rp")
                paid_txt = str(amount_paid) if plain else _rupiah(amount_paid, "rp")
                if row_paid_date is None:
                    date_txt = ""
                else:
                    date_txt = (_id_date(row_paid_date), row_paid_date.isoformat(),
                                _fmt_date(row_paid_date, "dmy/"))[mi % 3]
                rows.append([period_txt, region_txt, fs, str(billed), billed_txt, paid_txt, date_txt])
                tot_billed += billed
                tot_amount += amount_billed
                tot_paid += amount_paid
            truth["coverage_by_regency_month"].append(rm)
            if scen is not None and month_rows:
                if scen == "late_payment":
                    found = [_finding("PAYMENT_LATE", reg.code, ym) for c in month_rows if c["amount_paid"] > 0]
                else:
                    found = [_finding(code, reg.code, ym) for c in month_rows
                             if (code := _payment_code(c["amount_paid"], c["amount_billed"]))]
                inj = {"scenario": scen, "regency_code": reg.code, "month": ym_s,
                       "funding_sources": [c["funding_source"] for c in month_rows],
                       "participants_billed": sum(c["participants_billed"] for c in month_rows),
                       "paid_workers": sum(c["paid_workers"] for c in month_rows),
                       "amount_billed": sum(c["amount_billed"] for c in month_rows),
                       "amount_paid": sum(c["amount_paid"] for c in month_rows),
                       "paid_date": month_rows[0]["paid_date"],
                       "days_after_month_end": month_rows[0]["days_after_month_end"],
                       "days_late": month_rows[0]["days_late"],
                       "findings": found}
                truth["injected"].append(inj)
        fname = f"contributions_{reg.slug}_{year}.csv"
        path = folder / fname
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            wr = csv.writer(f, delimiter=",", quoting=csv.QUOTE_MINIMAL)
            wr.writerow(["Periode", "Kab/Kota", "Sumber Dana", "Jumlah Tenaga Kerja", "Tagihan (Rp)",
                         "Pembayaran (Rp)", "Tanggal Pembayaran"])
            wr.writerows(rows)
            wr.writerow(["JUMLAH", "", "", str(tot_billed), _rupiah(tot_amount, "rp"), _rupiah(tot_paid, "rp"), ""])
        last_ym = months[idxs[-1]]
        rec = datetime(*_add_months(last_ym, 3 if any(
            plan.payment.get((reg.code, i)) == "late_payment" for i in idxs) else 2), 1, 9, 0, 0)
        ts = rec.timestamp()
        os.utime(path, (ts, ts))
        truth["files"].append({
            "path": f"{reg.code}/{fname}", "source": "contributions", "regency_code": reg.code, "period": None,
            "format": "csv", "rows_in": len(rows), "loaded": len(rows), "quarantined": 0, "reasons": [],
            "supersedes": None, "received_at": rec.isoformat(),
            "periods": [_ym_str(months[i]) for i in idxs],
        })
    return status


# --- claims, city reports, press releases (extra sources) ----------------------------------------------------
CLAIM_HEADERS = ["No Klaim", "NIK", "No KPJ", "Program", "Tgl Kejadian", "Tgl Bayar", "Manfaat (Rp)", "Kab/Kota"]
CITY_REPORT_HEADERS = ["Periode", "Kabupaten/Kota", "Jumlah Penduduk Bekerja", "Peserta Aktif",
                       "Target Pekerja Rentan", "Pekerja Rentan Terlindungi"]
WEEKDAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


def _event_day(rng: random.Random, start: date, end: date | None, ym: tuple[int, int]) -> date | None:
    """A random day of month ym inside the spell [start, end], or None when they do not overlap."""
    lo = max(start, _first_day(ym))
    hi = min(end or _last_day(ym), _last_day(ym))
    if lo > hi:
        return None
    return lo + timedelta(days=rng.randint(0, (hi - lo).days))


def _write_claims(reg: _Regency, spec: SynthSpec, plan: _Plan, months: list[tuple[int, int]], ctx: dict,
                  status: dict[int, dict[str, str]], folder: Path, truth: dict) -> None:
    """Claims paid: a few per month by workers enrolled and paid for in full in the event month (clean), plus the
    claims_unprotected cases: a claim the month before a joiner's start, a NIK and a KPJ in no register, and claims
    in the partial / unpaid payment cells. One file per calendar year; some claims carry only a KPJ."""
    rng = reg.crng
    claims: list[dict] = []  # {ym, nik, kpj, expected}

    def add(ym: tuple[int, int], nik: str | None, kpj: str | None, event: date, expected: str | None) -> None:
        claims.append({"ym": ym, "nik": nik, "kpj": kpj, "event": event, "expected": expected})

    for mi, ym in enumerate(months):
        paid = {fs for fs, st in status.get(mi, {}).items() if st == "paid"}
        eligible = [e for e in ctx["enrolled"][mi] if e[1] in paid and e[4] == ""]
        for _ in range(rng.choice((0, 1, 1, 2))):
            if not eligible:
                break
            nik, _fs, start, end, _tag = rng.choice(eligible)
            event = _event_day(rng, start, end, ym)
            if event is not None:
                kpj_only = rng.random() < 0.3
                add(ym, None if kpj_only else nik, _kpj(nik) if kpj_only or rng.random() < 0.5 else None, event,
                    None)
    injected: list[dict] = []
    if plan.claim_not_enrolled is not None and plan.claim_not_enrolled[0] == reg.code:
        # a joiner's claim dated the month before the joiner's coverage starts (not enrolled anywhere then)
        start_mi = plan.claim_not_enrolled[1]
        order = [i for i in range(start_mi, len(months)) if i >= 1] + [i for i in range(1, start_mi)]
        for mi in order:
            joiners = [j for j in ctx["joiners"].get(mi, []) if j[1] >= _first_day(months[mi])]
            if joiners:
                nik, _start = rng.choice(joiners)
                ym = months[mi - 1]
                add(ym, nik, None, _event_day(rng, _first_day(ym), None, ym), "CLAIM_NOT_ENROLLED")
                break
    if plan.claim_unknown_nik is not None and plan.claim_unknown_nik[0] == reg.code:
        ym = months[plan.claim_unknown_nik[1]]
        stranger = reg.new_person(_first_day(ym), tag="claim_only", rng=rng)
        add(ym, stranger.nik, None, _event_day(rng, _first_day(ym), None, ym), "CLAIM_UNKNOWN_PERSON")
    if plan.claim_unknown_kpj is not None and plan.claim_unknown_kpj[0] == reg.code:
        ym = months[plan.claim_unknown_kpj[1]]
        add(ym, None, _kpj(f"unknown/{reg.code}/{_ym_str(ym)}"), _event_day(rng, _first_day(ym), None, ym),
            "CLAIM_UNKNOWN_PERSON")
    if plan.claim_in_payment_cells:
        for (code, mi), scen in sorted(plan.payment.items()):
            if code != reg.code or scen not in ("partial_payment", "unpaid_month"):
                continue
            cands = [e for e in ctx["enrolled"][mi] if e[4] == "" and e[1] in status.get(mi, {})]
            if cands:
                nik, fs, start, end, _tag = rng.choice(cands)
                st = status[mi][fs]
                expected = {"partial": "CLAIM_PREMIUM_PARTIAL", "unpaid": "CLAIM_PREMIUM_UNPAID"}.get(st)
                add(months[mi], nik, None, _event_day(rng, start, end, months[mi]), expected)
    claims.sort(key=lambda c: (c["event"], c["nik"] or "", c["kpj"] or ""))
    by_year: dict[int, list[dict]] = {}
    for c in claims:
        by_year.setdefault(c["ym"][0], []).append(c)
    seq: dict[str, int] = {}
    for year, items in sorted(by_year.items()):
        rows = []
        for c in items:
            ym_s = _ym_str(c["ym"])
            seq[ym_s] = seq.get(ym_s, 0) + 1
            claim_id = f"KLM/{reg.code.replace('.', '')}/{ym_s.replace('-', '')}/{seq[ym_s]:03d}"
            program = "JKM" if rng.random() < 0.4 else "JKK"
            amount = 42_000_000 if program == "JKM" else rng.randint(20, 400) * 50_000
            paid = c["event"] + timedelta(days=rng.randint(10, 45))
            rows.append([claim_id, c["nik"] or "", c["kpj"] or "", program, _fmt_date(c["event"], "dmy/"),
                         _fmt_date(paid, "dmy/"), _rupiah(amount, "rp"), reg.name])
            entry = {"claim_id": claim_id, "regency_code": reg.code, "month": ym_s, "program": program,
                     "by": "nik" if c["nik"] else "kpj", "expected_finding": c["expected"]}
            truth["claims"].append(entry)
            if c["expected"]:
                injected.append({"scenario": "claims_unprotected", "regency_code": reg.code, "month": ym_s,
                                 "claim_id": claim_id, "kind": c["expected"],
                                 "findings": [_finding(c["expected"], reg.code, c["ym"])]})
        fname = f"klaim_{reg.slug}_{year}.csv"
        path = folder / fname
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            wr = csv.writer(f, delimiter=";", quoting=csv.QUOTE_MINIMAL)
            wr.writerow(CLAIM_HEADERS)
            wr.writerows(rows)
        rec = datetime(*_add_months(months[-1], 2), 2, 9, 0, 0)
        os.utime(path, (rec.timestamp(), rec.timestamp()))
        truth["files"].append({
            "path": f"{reg.code}/{fname}", "source": "claims", "regency_code": reg.code, "period": None,
            "format": "csv", "rows_in": len(rows), "loaded": len(rows), "quarantined": 0, "reasons": [],
            "supersedes": None, "received_at": rec.isoformat(),
        })
    truth["injected"].extend(injected)


def _round_down(n: int, step: int = 10) -> int:
    return n - n % step if n >= step else n


def _write_city_reports(reg: _Regency, spec: SynthSpec, plan: _Plan, months: list[tuple[int, int]], folder: Path,
                        truth: dict) -> None:
    """The regency's structured monthly report: employed population, active participants (all segments), the
    vulnerable-worker target and the workers covered. Clean: covered = protected, target = protected rounded down
    to tens. promise_gap: targets far above protected from one month on; report_mismatch: covered overstated."""
    rng = reg.rrng
    cov = {r["month"]: r for r in truth["coverage_by_regency_month"] if r["regency_code"] == reg.code}
    employed = rng.randint(40_000, 200_000)
    rate = rng.uniform(0.30, 0.55)
    gap_from = plan.promise_gap[1] if plan.promise_gap and plan.promise_gap[0] == reg.code else None
    stats = truth["_city_reports"].setdefault(reg.code, {})
    by_year: dict[int, list[list[str]]] = {}
    for mi, ym in enumerate(months):
        ym_s = _ym_str(ym)
        c = cov[ym_s]
        employed += rng.randint(0, 300)
        active = round(employed * (rate + rng.uniform(-0.005, 0.005)))
        protected = c["protected"]
        target = _round_down(protected)
        covered = protected
        if gap_from is not None and mi >= gap_from:
            target = 2 * max(cov[_ym_str(m)]["enrolled"] for m in months[gap_from:]) + 10
        if plan.report_covered == (reg.code, mi):
            covered = protected + max(10, protected // 2)
            truth["injected"].append({
                "scenario": "report_mismatch", "kind": "covered", "regency_code": reg.code, "month": ym_s,
                "stated_covered": covered, "protected": protected,
                "findings": [_finding("REPORT_COVERED_MISMATCH", reg.code, ym)]})
        stats[ym_s] = {"rate_percent": 100.0 * active / employed, "target": target}
        period_txt = f"{MONTHS_ID[ym[1] - 1]} {ym[0]}" if mi % 2 else ym_s
        by_year.setdefault(ym[0], []).append([period_txt, reg.name, str(employed), str(active), str(target),
                                              str(covered)])
    if gap_from is not None:
        ym = months[gap_from]
        truth["injected"].append({
            "scenario": "promise_gap", "kind": "behind", "regency_code": reg.code, "month": _ym_str(ym),
            "months_behind": len(months) - gap_from,
            "findings": [_finding("PROMISE_BEHIND", reg.code, ym)]})
    for year, rows in sorted(by_year.items()):
        fname = f"laporan_{reg.slug}_{year}.csv"
        path = folder / fname
        with open(path, "w", encoding="utf-8", newline="") as f:
            wr = csv.writer(f, delimiter=",", quoting=csv.QUOTE_MINIMAL)
            wr.writerow(CITY_REPORT_HEADERS)
            wr.writerows(rows)
        rec = datetime(*_add_months(months[-1], 1), 20, 9, 0, 0)
        os.utime(path, (rec.timestamp(), rec.timestamp()))
        truth["files"].append({
            "path": f"{reg.code}/{fname}", "source": "city_report", "regency_code": reg.code, "period": None,
            "format": "csv", "rows_in": len(rows), "loaded": len(rows), "quarantined": 0, "reasons": [],
            "supersedes": None, "received_at": rec.isoformat(),
        })


def _dots(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _press_release(code: str, when: date, paragraphs: list[str]) -> str:
    name = regions.regency_name(code)
    short = _short_name(code)
    kota = name.startswith("Kota")
    pem = "Pemkot" if kota else "Pemkab"
    head = f"{pem} {short} dan BPJS Ketenagakerjaan Perkuat Perlindungan Pekerja Rentan"
    lead = (f"{short.upper()} — Pemerintah {'Kota' if kota else 'Kabupaten'} {short} dan BPJS Ketenagakerjaan "
            f"menandatangani nota kesepahaman perlindungan jaminan sosial bagi pekerja rentan, "
            f"{WEEKDAYS_ID[when.weekday()]} ({when.day}/{when.month}/{when.year}).")
    return "\n\n".join([head, lead, *paragraphs]) + "\n"


def _write_narratives(spec: SynthSpec, plan: _Plan, out_dir: Path, truth: dict) -> None:
    """Press releases (TXT) under berita/: one about a regency of the run (the workers covered before, a total from
    the month, the participation rate), consistent with the data unless report_mismatch; and for promise_gap an
    MoU for a regency that delivers no register."""
    months = [_parse_month(m) for m in spec.months]
    written = []
    if plan.narrative is not None:
        code, mi = plan.narrative
        ym = months[mi]
        when = date(ym[0], ym[1], 27)
        cov = {r["month"]: r for r in truth["coverage_by_regency_month"] if r["regency_code"] == code}
        mismatch = "report_mismatch" in spec.scenarios
        name = regions.regency_name(code)
        head = ("Wali Kota" if name.startswith("Kota") else "Bupati") + " " + _short_name(code)
        paragraphs = [(f"{head} mengatakan pemerintah daerah menanggung iuran jaminan kecelakaan kerja dan "
                       f"jaminan kematian bagi pekerja rentan.")]
        total = _round_down(min(cov[_ym_str(m)]["protected"] for m in months[mi:]))
        month_name = MONTHS_ID[ym[1] - 1]
        found = []
        if mi >= 1:
            previous = cov[_ym_str(months[mi - 1])]["enrolled"]
            stated = 2 * previous + 7 if mismatch else previous
            quote = f"Sebelumnya ada sekitar {_dots(stated)} orang sudah kita cover"
            if total >= 10:
                quote += f", kemudian dimulai bulan {month_name} ini bisa ditambah menjadi total sampai {_dots(total)} orang"
            paragraphs.append(f'"{quote}," ujarnya.')
            if mismatch:
                found.append(_finding("REPORT_COUNT_MISMATCH", code, ym))
        report = truth["_city_reports"].get(code, {}).get(_ym_str(ym))
        if report is not None:
            rate = round(report["rate_percent"]) + (10 if mismatch else 0)
            paragraphs.append(f"Kepala Kantor Cabang BPJS Ketenagakerjaan {_short_name(code)} melaporkan kepesertaan "
                              f"BPJS Ketenagakerjaan di {name} baru {rate} persen.")
            if mismatch:
                found.append(_finding("REPORT_RATE_MISMATCH", code, ym))
        rel = f"{NARRATIVE_DIR}/01_{regency_slug(code)}_{_ym_str(ym)}.txt"
        written.append((rel, _press_release(code, when, paragraphs), code, ym))
        if found:
            truth["injected"].append({"scenario": "report_mismatch", "kind": "narrative", "regency_code": code,
                                      "month": _ym_str(ym), "file": rel, "findings": found})
    if plan.no_data_regency is not None:
        code = plan.no_data_regency
        ym = months[0]
        when = date(ym[0], ym[1], 14)
        head = ("Wali Kota" if regions.regency_name(code).startswith("Kota") else "Bupati") + " " + _short_name(code)
        promised = 1500
        paragraphs = [(f"{head} mengatakan melalui kerja sama ini pemerintah daerah menanggung iuran jaminan "
                       f"kecelakaan kerja dan jaminan kematian bagi {_dots(promised)} pekerja rentan.")]
        rel = f"{NARRATIVE_DIR}/02_{regency_slug(code)}_{_ym_str(ym)}.txt"
        written.append((rel, _press_release(code, when, paragraphs), code, ym))
        truth["injected"].append({"scenario": "promise_gap", "kind": "no_data", "regency_code": code,
                                  "month": _ym_str(ym), "promised": promised, "file": rel,
                                  "findings": [_finding("PROMISE_NO_DATA", code, ym)]})
    for rel, text, code, ym in written:
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        rec = datetime(*_add_months(ym, 1), 1, 9, 0, 0)
        os.utime(path, (rec.timestamp(), rec.timestamp()))
        truth["files"].append({
            "path": rel, "source": "narrative", "regency_code": code, "period": _ym_str(ym), "format": "txt",
            "rows_in": 0, "loaded": 0, "quarantined": 0, "reasons": [], "supersedes": None,
            "received_at": rec.isoformat(),
        })


def _cross_person(spec: SynthSpec, plan: _Plan) -> _Worker | None:
    if plan.cross is None:
        return None
    a, _, mi = plan.cross
    helper = _Regency(a, spec.regencies.index(a), spec)
    helper.rng = random.Random(f"cakupan-synth/{spec.seed}/cross")
    w = helper.new_person(_first_day(_parse_month(spec.months[mi])), serial=_SERIAL_MAX + 1)
    w.tag = ""
    w.spaced = False
    return w


def generate(spec: SynthSpec, out_dir: Path) -> dict:
    """Write the deliveries under out_dir/<regency code>/ and out_dir/ground_truth.json; return the ground truth.

    Ground truth keys: spec, unit_premium, regencies, coverage (regency × month × funding source), coverage_by_
    regency_month, files (one per written delivery: rows_in = loaded + quarantined, reasons, supersedes), claims
    (one per claim written, with the finding it must raise or null) and injected (one entry per scenario
    occurrence, plus a bad_rows summary; each lists under "findings" the audit findings it must raise).
    """
    spec.validate()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = _plan(spec)
    spec_d = asdict(spec)
    for k in ("formats", "scenarios", "funding_sources", "sources"):
        spec_d[k] = list(spec_d[k])
    truth: dict[str, Any] = {
        "spec": spec_d,
        "unit_premium": spec.unit_premium,
        "regencies": {},
        "coverage": [],
        "coverage_by_regency_month": [],
        "files": [],
        "claims": [],
        "injected": [],
        "_bad": {"files": 0, "rows": 0, "reasons": {}},
        "_cross_files": {},
        "_city_reports": {},
    }
    cross_person = _cross_person(spec, plan)
    for idx, code in enumerate(spec.regencies):
        reg = _Regency(code, idx, spec)
        truth["regencies"][code] = {"name": reg.name, "slug": reg.slug, "folder": code,
                                    "csv_delimiter": reg.style.csv_delimiter, "csv_bom": reg.style.csv_bom}
        _generate_regency(reg, spec, plan, cross_person, out_dir, truth)
    if plan.cross is not None and cross_person is not None:
        a, b, mi = plan.cross
        ym = _parse_month(spec.months[mi])
        truth["injected"].append({
            "scenario": plan.cross_scenario, "kind": "cross_regency", "month": spec.months[mi],
            "nik": cross_person.nik, "regency_codes": [a, b],
            "files": [truth["_cross_files"].get(a), truth["_cross_files"].get(b)], "counted_per_regency": 1,
            # funded by both regencies that month; B registers a NIK issued by A
            "findings": [_finding("DOUBLE_FUNDED_CROSS_REGENCY", a, ym), _finding("DOUBLE_FUNDED_CROSS_REGENCY", b, ym),
                         _finding("NIK_REGION_MISMATCH", b, ym)],
        })
    if "narrative" in spec.extra_sources():
        _write_narratives(spec, plan, out_dir, truth)
    bad = truth.pop("_bad")
    truth.pop("_cross_files")
    truth.pop("_city_reports")
    if plan.bad_rows:
        truth["injected"].append({"scenario": "bad_rows", **bad, "findings": []})
    order = {s: i for i, s in enumerate(ALL_SCENARIOS)}
    truth["injected"].sort(key=lambda e: order[e["scenario"]])
    write_ground_truth(truth, out_dir / GROUND_TRUTH_NAME)
    return truth


def write_ground_truth(truth: dict, path: Path) -> Path:
    """Write the ground truth as UTF-8 JSON (stable key order, one entry per line for big lists)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(truth, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return path


def load_ground_truth(path: Path) -> dict:
    """Read a ground truth written by `generate` (a directory means its ground_truth.json)."""
    path = Path(path)
    if path.is_dir():
        path = path / GROUND_TRUTH_NAME
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# --- CLI-friendly entry point --------------------------------------------------------------------------------
def _as_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in re.split(r"[,;]", value) if p.strip()]
    out: list[str] = []
    for v in value:
        out.extend(_as_list(v))
    return out


def parse_regencies(value: str | Iterable[str]) -> list[str]:
    """"all" → every regency; "73" → every regency of province 73; "73.72,7373" → those codes."""
    out: list[str] = []
    known = regions.regencies()
    for item in _as_list(value):
        if item.lower() == "all":
            out.extend(known)
        elif re.fullmatch(r"\d{2}", item):
            out.extend(c for c, (p, _) in known.items() if p == item)
        elif re.fullmatch(r"\d{4}", item):
            out.append(f"{item[:2]}.{item[2:]}")
        else:
            code = item if item in known else regions.resolve_regency(item)
            if code is None:
                raise ValueError(f"unknown regency {item!r}")
            out.append(code)
    seen: dict[str, None] = {}
    for c in out:
        seen.setdefault(c, None)
    return list(seen)


def parse_months(value: str | Iterable[str]) -> list[str]:
    """"2025-03..2025-08" (inclusive), "2025-03:6" (start and count) or a list/comma list of months."""
    if isinstance(value, str):
        v = value.strip()
        m = re.fullmatch(r"(\d{4}-\d{2})\s*\.\.\s*(\d{4}-\d{2})", v)
        if m:
            a, b = _parse_month(m.group(1)), _parse_month(m.group(2))
            n = (b[0] * 12 + b[1]) - (a[0] * 12 + a[1]) + 1
            if n < 1:
                raise ValueError(f"empty month range {value!r}")
            return month_range(m.group(1), n)
        m = re.fullmatch(r"(\d{4}-\d{2})\s*:\s*(\d+)", v)
        if m:
            return month_range(m.group(1), int(m.group(2)))
    months = _as_list(value)
    for mo in months:
        _parse_month(mo)
    return months


def synth_main(out_dir: str | Path, regencies: str | Iterable[str] = "73.72,73.73,73.14",
               months: str | Iterable[str] = "2025-03:6", workers: int = 40, seed: int = 42,
               scenarios: str | Iterable[str] = (), formats: str | Iterable[str] = ("xlsx", "csv"),
               funding_sources: str | Iterable[str] | None = None, unit_premium: int = 16800,
               sources: str | Iterable[str] = ()) -> dict:
    """Generate from CLI-style arguments ("all" scenarios/regencies, month ranges, comma lists); return truth."""
    scen = _as_list(scenarios)
    if [s.lower() for s in scen] == ["all"]:
        scen = list(ALL_SCENARIOS)
    fs = _as_list(funding_sources) or ["APBD"]
    spec = SynthSpec(
        regencies=parse_regencies(regencies), months=parse_months(months), workers=int(workers), seed=int(seed),
        formats=tuple(_as_list(formats)) or FORMATS, scenarios=tuple(scen), funding_sources=tuple(fs),
        unit_premium=int(unit_premium), sources=tuple(_as_list(sources)),
    )
    return generate(spec, Path(out_dir))
