"""Benchmark inputs: a national inbox from the synthetic generator, plus claims and city reports, and the two big
single files of the ingestion issue (a 1,000,000-row register CSV and a 200,000-row register XLSX).

Everything is deterministic (seeded) and synthetic: NIK-shaped numbers that belong to nobody.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import re
import shutil
from pathlib import Path

from cakupan.core.regions import regencies
from cakupan.core.settings import PROJECT_ROOT
from cakupan_dev.synth import SynthSpec, generate, regency_slug

SHARED = Path(__file__).resolve().parents[2] / "shared"
EXCEL_EPOCH = dt.date(1899, 12, 30)


def all_regency_codes() -> list[str]:
    """Every Kemendagri regency code (514)."""
    return sorted(regencies())


def make_config(config_dir: Path, codes: list[str]) -> Path:
    """Copy the project's config folder and write one regency YAML per code (code, name, default funding)."""
    if config_dir.exists():
        shutil.rmtree(config_dir)
    shutil.copytree(PROJECT_ROOT / "config", config_dir)
    reg_dir = config_dir / "regencies"
    known = regencies()
    have = {p.stem for p in reg_dir.glob("*.yml")}
    for code in codes:
        if code in have:
            continue
        name = known[code][1].replace('"', "'")
        (reg_dir / f"{code}.yml").write_text(f'code: "{code}"\nname: "{name}"\ndefault_funding_source: APBD\n',
                                             encoding="utf-8")
    for p in reg_dir.glob("*.yml"):   # only the benchmark's regencies
        if p.stem not in codes:
            p.unlink()
    return config_dir


def synth_inbox(inbox: Path, codes: list[str], months: list[str], workers: int, seed: int = 1,
                formats: tuple[str, ...] = ("csv", "xlsx"), scenarios: tuple[str, ...] = ()) -> dict:
    """Registers + contributions from cakupan_dev.synth; returns the ground truth."""
    return generate(SynthSpec(regencies=codes, months=months, workers=workers, seed=seed, formats=formats,
                              scenarios=scenarios), inbox)


# ------------------------------------------------------------------------------ claims and city reports ----
def _rupiah(n: int) -> str:
    return "Rp" + f"{n:,}".replace(",", ".")


def extra_sources(inbox: Path, codes: list[str], months: list[str], seed: int = 1) -> dict[str, int]:
    """Write one claims CSV per regency (cp1252, ';', NIK or KPJ, Indonesian dates and money) and one structured
    city report per regency (XLSX for even, CSV for odd regencies); copy the narrative reports. Returns row counts."""
    import xlsxwriter

    rng = random.Random(f"bench/{seed}/extra")
    year = months[0][:4]
    n_claims = n_reports = 0
    for i, code in enumerate(codes):
        slug = regency_slug(code)
        folder = inbox / code
        folder.mkdir(parents=True, exist_ok=True)
        short = re.sub(r"^(Kabupaten|Kota)\s+", "", regencies()[code][1])
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        w.writerow(["No Klaim", "NIK", "No KPJ", "Jenis Klaim", "Tanggal Kejadian/Meninggal", "Tgl Bayar",
                    "Manfaat (Rp)", "Kab/Kota"])
        for k in range(rng.randint(8, 24)):
            m = rng.choice(months)
            ev = dt.date(int(m[:4]), int(m[5:7]), rng.randint(1, 28))
            paid = ev + dt.timedelta(days=rng.randint(3, 40))
            prog = rng.choice(("JKK", "JKM"))
            nik = kpj = ""
            if rng.random() < 0.8:
                birth = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(14000))
                nik = f"{code.replace('.', '')}{rng.randint(1, 9):02d}{birth.day:02d}{birth.month:02d}" \
                      f"{birth.year % 100:02d}{rng.randint(1, 9000):04d}"
            else:
                kpj = str(rng.randint(10**10, 10**11 - 1))
            ev_s = ev.strftime("%d/%m/%Y") if rng.random() < 0.5 else f"{ev.day:02d} {ev.strftime('%b')} {ev.year}"
            amount = 42_000_000 if prog == "JKM" else rng.randint(5, 400) * 10_000
            w.writerow([f"KLM-{year}-{i:03d}{k:03d}", nik, kpj, prog, ev_s, paid.strftime("%d/%m/%Y"),
                        _rupiah(amount), short])
            n_claims += 1
        (folder / f"claims_{slug}_{year}.csv").write_bytes(buf.getvalue().encode("cp1252", errors="replace"))

        header = ["Periode", "Kabupaten/Kota", "Jumlah Penduduk Bekerja", "Peserta Aktif BPJS Ketenagakerjaan",
                  "Target Pekerja Rentan", "Pekerja Rentan Terlindungi", "Anggaran (Rp)", "Realisasi (Rp)"]
        employed = rng.randint(20_000, 900_000)
        rows = []
        for m in months[2::3]:   # quarterly: the last month of each quarter
            active = int(employed * rng.uniform(0.3, 0.7))
            target = rng.randint(500, 5000)
            rows.append([m, regencies()[code][1], f"{employed:,}".replace(",", "."), f"{active:,}".replace(",", "."),
                         str(target), str(rng.randint(0, target)), _rupiah(target * 16800 * 12),
                         _rupiah(rng.randint(0, target) * 16800)])
            n_reports += 1
        name = f"city_report_{slug}_{year}"
        if i % 2 == 0:
            wb = xlsxwriter.Workbook(str(folder / f"{name}.xlsx"), {"in_memory": True, "strings_to_numbers": False})
            ws = wb.add_worksheet("Laporan")
            ws.write_string(0, 0, f"LAPORAN TRIWULAN {year} — PERLINDUNGAN JAMINAN SOSIAL KETENAGAKERJAAN")
            for c, h in enumerate(header):
                ws.write_string(2, c, h)
            for r, row in enumerate(rows, start=3):
                for c, v in enumerate(row):
                    ws.write_string(r, c, v)
            wb.close()
        else:
            with open(folder / f"{name}.csv", "w", encoding="utf-8-sig", newline="") as f:
                csv.writer(f, delimiter=",").writerows([header, *rows])
    narrative = inbox / "reports"
    if (SHARED / "city_reports").is_dir():
        narrative.mkdir(parents=True, exist_ok=True)
        for p in sorted((SHARED / "city_reports").glob("*.txt")):
            shutil.copy2(p, narrative / p.name)
    return {"claims": n_claims, "city_report": n_reports}


# ------------------------------------------------------------------------------ the two big files -----------
def big_register_csv(out: Path, rows: int, scratch: Path, seed: int = 2) -> int:
    """One register CSV of `rows` data rows, concatenated from a CSV-only synth run of many regencies (so every
    regency's date style, money style, spaced NIKs and header aliases are mixed in one file). Returns rows."""
    codes = all_regency_codes()
    per_regency = 160 * 12
    need = min(len(codes), rows // per_regency + 2)
    if scratch.exists():
        shutil.rmtree(scratch)
    generate(SynthSpec(regencies=codes[:need], months=[f"2025-{m:02d}" for m in range(1, 13)], workers=160,
                       seed=seed, formats=("csv",)), scratch)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(out, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, delimiter=";")
        header_done = False
        for p in sorted(scratch.glob("*/register_*.csv")):
            data = p.read_text(encoding="utf-8-sig")
            delim = ";" if data.split("\n", 1)[0].count(";") > data.split("\n", 1)[0].count(",") else ","
            recs = list(csv.reader(io.StringIO(data, newline=""), delimiter=delim))
            if not header_done:
                w.writerow(recs[0])
                header_done = True
            for rec in recs[1:]:
                if written >= rows:
                    break
                written += 1
                rec[0] = str(written)
                w.writerow(rec)
            if written >= rows:
                break
    shutil.rmtree(scratch, ignore_errors=True)
    return written


_DATE_RE = (re.compile(r"(\d{2})-(\d{2})-(\d{4})$"), re.compile(r"(\d{2})/(\d{2})/(\d{4})$"),
            re.compile(r"(\d{4})-(\d{2})-(\d{2})$"))


def _excel_date(text: str) -> int | None:
    for i, rx in enumerate(_DATE_RE):
        m = rx.match(text)
        if m:
            a, b, c = (int(x) for x in m.groups())
            d = dt.date(a, b, c) if i == 2 else dt.date(c, b, a)
            return (d - EXCEL_EPOCH).days
    return None


BIG_XLSX_HEADER_ROW = 3     # the big register workbook's header row (0-based: a title block of two rows above)


def big_register_xlsx(out: Path, source_csv: Path, rows: int, sheets: int = 1, shared_strings: bool = False) -> int:
    """A register workbook of `rows` data rows (from the big CSV): title block, NIK as text, dates as Excel
    serials with a date format (half of them) or text, money as numbers, a TOTAL row and a signature. `sheets`:
    the rows split over that many sheets (one a district, as offices send them), each with its own title, header,
    total and signature. Its texts are written in each cell (inline, as a streaming writer does), or with
    `shared_strings` once in the workbook's table of texts, each cell naming its text there (as Excel and
    LibreOffice save a workbook)."""
    import xlsxwriter

    out.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(out), {"constant_memory": not shared_strings, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    date_fmt = wb.add_format({"num_format": "dd-mm-yyyy"})
    money_fmt = wb.add_format({"num_format": "#,##0"})
    per_sheet = -(-rows // sheets)
    written = 0
    with open(source_csv, encoding="utf-8-sig", newline="") as f:
        rd = csv.reader(f, delimiter=";")
        header = next(rd)
        for k in range(sheets):
            ws = wb.add_worksheet("Peserta" if sheets == 1 else f"Kec {k + 1}")
            ws.write_string(0, 0, "PEMERINTAH KABUPATEN BENCHMARK")
            ws.write_string(1, 0, "DAFTAR PESERTA PEKERJA RENTAN — BULAN JUNI 2025")
            for c, h in enumerate(header):
                ws.write_string(BIG_XLSX_HEADER_ROW, c, h)
            r, total, end = BIG_XLSX_HEADER_ROW + 1, 0, min(rows, written + per_sheet)
            for rec in rd:
                ws.write_number(r, 0, written + 1)
                for c in range(1, len(rec)):
                    v = rec[c]
                    if not v:
                        continue
                    if c in (3, 9, 10) and written % 2 == 0 and (serial := _excel_date(v)) is not None:
                        ws.write_number(r, c, serial, date_fmt)
                    elif c == 11:
                        amount = int(re.sub(r"[^\d]", "", v.split(",")[0]))
                        total += amount
                        ws.write_number(r, c, amount, money_fmt)
                    else:
                        ws.write_string(r, c, v)
                written += 1
                r += 1
                if written >= end:
                    break
            ws.write_string(r, 0, "TOTAL")
            ws.write_number(r, 11, total, money_fmt)
            ws.write_string(r + 2, 9, "Kepala Dinas")
    wb.close()
    return written


def hold_back(inbox: Path, truth: dict, holdout_dir: Path) -> Path:
    """Move one regency-month register file out of the inbox (the 'new file' of the incremental run)."""
    regs = [f for f in truth["files"] if f["source"] == "register" and not f.get("supersedes")]
    last = max(f["period"] for f in regs)
    pick = min((f for f in regs if f["period"] == last), key=lambda f: f["path"])
    src = inbox / pick["path"]
    holdout_dir.mkdir(parents=True, exist_ok=True)
    dest = holdout_dir / pick["path"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dest)
    return dest
