"""One regency while its deliveries are generated: its names, its clerks' template style (headers, title
block, delimiters, date and money formats), its random streams and the rendering of its register rows.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cakupan.core import regions

from cakupan_dev.synth.people import (
    FAMILY,
    GIVEN_FEMALE,
    GIVEN_MALE,
    OCCUPATIONS,
    SERIAL_MAX,
    Worker,
    kpj_of,
    make_nik,
    spaced_nik,
)
from cakupan_dev.synth.spec import SynthSpec, add_months, first_day, parse_month
from cakupan_dev.synth.text import excel_serial, fmt_date, rupiah

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


def regency_slug(code: str) -> str:
    """Short lowercase file-name slug of a regency ("73.72" → "parepare", "73.14" → "sidenrengrappang")."""
    name = regions.regency_name(code)
    name = re.sub(r"^(kabupaten|kota)\s+", "", name.strip(), flags=re.IGNORECASE)
    return re.sub(r"[^a-z0-9]", "", name.lower())


def short_name(code: str) -> str:
    return re.sub(r"^(Kabupaten|Kota)\s+", "", regions.regency_name(code))


def _regency_alias(code: str) -> str:
    """An alias a clerk would write ("PAREPARE", "Kab. Sidenreng Rappang", "KOTA BEKASI" when ambiguous)."""
    name = regions.regency_name(code)
    short = short_name(code)
    if regions.resolve_regency(short) == code:
        return short.upper()
    return ("KOTA " if name.startswith("Kota") else "KAB. ") + short.upper()


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


class Regency:
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
        self.short = short_name(code)
        self.alias = _regency_alias(code)
        self.style = _make_style(self.rng)
        dists = regions.districts()
        self.district_codes = [c for c, (rc, _) in dists.items() if rc == code]
        self.district_names = {c: dists[c][1] for c in self.district_codes}
        vbd = regions.villages_by_district()
        self.villages = {c: [n for _, n in vbd.get(c, [])] or [dists[c][1]] for c in self.district_codes}
        self.serial = 0  # ordinary workers count up from 1
        self.top_serial = SERIAL_MAX + 1  # scenario people (junk rows, corrections) count down from 9998
        self.birth_base_year = parse_month(spec.months[0])[0] - 63
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
                   rng: random.Random | None = None) -> Worker:
        """A new synthetic person; scenario people (rng given) take serials from the top of the range."""
        top = rng is not None
        rng = rng or self.rng
        female = rng.random() < 0.45
        # 19 to 63 years old in the first month (1962 … 2005 for 2025): inside the scheme's age limits
        birth = date(self.birth_base_year, 1, 1) + timedelta(days=rng.randrange(16000))
        dcode = rng.choice(self.district_codes)
        serial = self.next_serial(top) if serial is None else serial
        nik = make_nik(dcode, birth, female, serial)
        given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
        if rng.random() < 0.12:
            given = "Andi " + given
        name = given if rng.random() < 0.3 else f"{given} {rng.choice(FAMILY)}"
        # most live in the district that issued the NIK; some moved within the regency
        home = dcode if rng.random() < 0.85 else rng.choice(self.district_codes)
        village = rng.choice(self.villages[home])
        funding = rng.choices(self.spec.funding_sources, weights=self.fs_weights)[0]
        return Worker(
            nik=nik, name=name, birth=birth, female=female, occupation=self.occupation(rng), village=village,
            district=self.district_names[home], start=start, funding=funding,
            excel_dates=rng.random() < 0.5, spaced=rng.random() < self.style.nik_spaced_share, tag=tag,
        )

    def occupation(self, rng: random.Random) -> str:
        """A free-text occupation: from the whole list, or (a demo's `fisher_share`) a fisher that often."""
        share = self.spec.fisher_share.get(self.code)
        if share is None:
            return rng.choice(OCCUPATIONS)
        fishers = [o for o in OCCUPATIONS if "nelayan" in o.lower()]
        return rng.choice(fishers if rng.random() < share else [o for o in OCCUPATIONS if o not in fishers])

    def start_in(self, ym: tuple[int, int], rng: random.Random | None = None) -> date:
        """A coverage start in month ym: usually the 1st, sometimes a mid-month day."""
        rng = rng or self.rng
        if rng.random() < 0.75:
            return first_day(ym)
        return date(ym[0], ym[1], rng.randint(2, 28))

    def initial_start(self, ym: tuple[int, int]) -> date:
        """Start for a worker enrolled in the first month: some were enrolled months before."""
        r = self.rng.random()
        if r < 0.25:
            return first_day(add_months(ym, -self.rng.randint(1, 14)))
        return self.start_in(ym)

    # rendering (cached per worker: only the row number and coverage end change month to month)
    def csv_row(self, no: int, w: Worker, period: tuple[int, int]) -> list[str]:
        st = self.style
        cells = w.csv_cells
        if cells is None:
            nik = spaced_nik(w.nik) if w.spaced else w.nik
            sex = ("Perempuan" if w.female else "Laki-laki") if st.sex_long else ("P" if w.female else "L")
            start = w.start if isinstance(w.start, str) else fmt_date(w.start, st.csv_date)
            cells = ["", nik, w.name, fmt_date(w.birth, st.csv_date), sex, w.occupation, w.village, w.district,
                     st.program, start, "", rupiah(self.spec.unit_premium, st.csv_amount), w.funding]
            if self.with_kpj:
                cells.append(kpj_of(w.nik))
            w.csv_cells = cells
        row = list(cells)
        row[0] = str(no)
        if w.end is not None:
            row[COL_END] = fmt_date(w.end, st.csv_date)
        return row

    def xlsx_row(self, w: Worker) -> list[tuple[str, Any]]:
        """Cells as (kind, value): kind s=string, n=number, d=date serial, nn=NIK as number."""
        cells = w.xlsx_cells
        if cells is None:
            st = self.style
            sex = ("Perempuan" if w.female else "Laki-laki") if st.sex_long else ("P" if w.female else "L")
            if w.tag == "junk:NIK_PRECISION_LOST":
                nik_cell: tuple[str, Any] = ("nn", float(int(w.nik[:15] + "0")))
            else:
                nik_cell = ("s", spaced_nik(w.nik) if w.spaced else w.nik)

            def dcell(d: date | str) -> tuple[str, Any]:
                if isinstance(d, str):
                    return ("s", d)
                return ("d", excel_serial(d)) if w.excel_dates else ("s", fmt_date(d, "dmy-"))

            amount = (("n", self.spec.unit_premium) if st.xlsx_amount_number
                      else ("s", rupiah(self.spec.unit_premium, "dots")))
            cells = [("n", 0), nik_cell, ("s", w.name), dcell(w.birth), ("s", sex), ("s", w.occupation),
                     ("s", w.village), ("s", w.district), ("s", st.program), dcell(w.start), ("", None), amount,
                     ("s", w.funding)]
            if self.with_kpj:
                cells.append(("s", kpj_of(w.nik)))
            w.xlsx_cells = cells
        return cells
