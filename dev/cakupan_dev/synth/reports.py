"""What regencies say: the structured monthly city report (source "city_report") and press releases
(source "narrative") under berita/.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from cakupan.core import regions

from cakupan_dev.synth.regency import Regency, regency_slug, short_name
from cakupan_dev.synth.scenarios import Plan
from cakupan_dev.synth.spec import SynthSpec, add_months, parse_month, ym_str
from cakupan_dev.synth.text import MONTHS_ID, WEEKDAYS_ID, dots, write_csv
from cakupan_dev.synth.truth import finding, record_delivery

NARRATIVE_DIR = "berita"  # narrative reports: outside the regency inboxes, read by the report extractor
CITY_REPORT_HEADERS = ["Periode", "Kabupaten/Kota", "Jumlah Penduduk Bekerja", "Peserta Aktif",
                       "Target Pekerja Rentan", "Pekerja Rentan Terlindungi"]


def _round_down(n: int, step: int = 10) -> int:
    return n - n % step if n >= step else n


def write_city_reports(reg: Regency, spec: SynthSpec, plan: Plan, months: list[tuple[int, int]], folder: Path,
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
        ym_s = ym_str(ym)
        c = cov[ym_s]
        employed += rng.randint(0, 300)
        active = round(employed * (rate + rng.uniform(-0.005, 0.005)))
        protected = c["protected"]
        # a month with no bill (billing_mismatch "missing") has no protected figure: the clerk leaves both empty
        target = None if protected is None else _round_down(protected)
        covered = protected
        if gap_from is not None and mi >= gap_from:
            target = 2 * max(cov[ym_str(m)]["enrolled"] for m in months[gap_from:]) + 10
        if plan.report_covered == (reg.code, mi):
            covered = protected + max(10, protected // 2)
            truth["injected"].append({
                "scenario": "report_mismatch", "kind": "covered", "regency_code": reg.code, "month": ym_s,
                "stated_covered": covered, "protected": protected,
                "findings": [finding("REPORT_COVERED_MISMATCH", reg.code, ym)]})
        stats[ym_s] = {"rate_percent": 100.0 * active / employed, "target": target}
        period_txt = f"{MONTHS_ID[ym[1] - 1]} {ym[0]}" if mi % 2 else ym_s
        by_year.setdefault(ym[0], []).append([period_txt, reg.name, str(employed), str(active),
                                              "" if target is None else str(target),
                                              "" if covered is None else str(covered)])
    if gap_from is not None:
        ym = months[gap_from]
        truth["injected"].append({
            "scenario": "promise_gap", "kind": "behind", "regency_code": reg.code, "month": ym_str(ym),
            "months_behind": len(months) - gap_from,
            "findings": [finding("PROMISE_BEHIND", reg.code, ym)]})
    for year, rows in sorted(by_year.items()):
        fname = f"laporan_{reg.slug}_{year}.csv"
        path = folder / fname
        write_csv(path, [CITY_REPORT_HEADERS, *rows], ",", bom=False)
        rec = datetime(*add_months(months[-1], 1), 20, 9, 0, 0)
        record_delivery(truth, path, f"{reg.code}/{fname}", "city_report", reg.code, rec, rows_in=len(rows))


def _press_release(code: str, when: date, paragraphs: list[str]) -> str:
    name = regions.regency_name(code)
    short = short_name(code)
    kota = name.startswith("Kota")
    pem = "Pemkot" if kota else "Pemkab"
    head = f"{pem} {short} dan BPJS Ketenagakerjaan Perkuat Perlindungan Pekerja Rentan"
    lead = (f"{short.upper()} — Pemerintah {'Kota' if kota else 'Kabupaten'} {short} dan BPJS Ketenagakerjaan "
            f"menandatangani nota kesepahaman perlindungan jaminan sosial bagi pekerja rentan, "
            f"{WEEKDAYS_ID[when.weekday()]} ({when.day}/{when.month}/{when.year}).")
    return "\n\n".join([head, lead, *paragraphs]) + "\n"


def write_narratives(spec: SynthSpec, plan: Plan, out_dir: Path, truth: dict) -> None:
    """Press releases (TXT) under berita/: one about a regency of the run (the workers covered before, a total from
    the month, the participation rate), consistent with the data unless report_mismatch; and for promise_gap an
    MoU for a regency that delivers no register."""
    months = [parse_month(m) for m in spec.months]
    written = []
    if plan.narrative is not None:
        code, mi = plan.narrative
        ym = months[mi]
        when = date(ym[0], ym[1], 27)
        cov = {r["month"]: r for r in truth["coverage_by_regency_month"] if r["regency_code"] == code}
        mismatch = "report_mismatch" in spec.scenarios
        name = regions.regency_name(code)
        head = ("Wali Kota" if name.startswith("Kota") else "Bupati") + " " + short_name(code)
        paragraphs = [(f"{head} mengatakan pemerintah daerah menanggung iuran jaminan kecelakaan kerja dan "
                       f"jaminan kematian bagi pekerja rentan.")]
        total = _round_down(min(p for m in months[mi:] if (p := cov[ym_str(m)]["protected"]) is not None))
        month_name = MONTHS_ID[ym[1] - 1]
        found = []
        if mi >= 1:
            previous = cov[ym_str(months[mi - 1])]["enrolled"]
            stated = 2 * previous + 7 if mismatch else previous
            quote = f"Sebelumnya ada sekitar {dots(stated)} orang sudah kita cover"
            if total >= 10:
                quote += f", kemudian dimulai bulan {month_name} ini bisa ditambah menjadi total sampai {dots(total)} orang"
            paragraphs.append(f'"{quote}," ujarnya.')
            if mismatch:
                found.append(finding("REPORT_COUNT_MISMATCH", code, ym))
        report = truth["_city_reports"].get(code, {}).get(ym_str(ym))
        if report is not None:
            rate = round(report["rate_percent"]) + (10 if mismatch else 0)
            paragraphs.append(f"Kepala Kantor Cabang BPJS Ketenagakerjaan {short_name(code)} melaporkan kepesertaan "
                              f"BPJS Ketenagakerjaan di {name} baru {rate} persen.")
            if mismatch:
                found.append(finding("REPORT_RATE_MISMATCH", code, ym))
        rel = f"{NARRATIVE_DIR}/01_{regency_slug(code)}_{ym_str(ym)}.txt"
        written.append((rel, _press_release(code, when, paragraphs), code, ym))
        if found:
            truth["injected"].append({"scenario": "report_mismatch", "kind": "narrative", "regency_code": code,
                                      "month": ym_str(ym), "file": rel, "findings": found})
    if plan.no_data_regency is not None:
        code = plan.no_data_regency
        ym = months[0]
        when = date(ym[0], ym[1], 14)
        head = ("Wali Kota" if regions.regency_name(code).startswith("Kota") else "Bupati") + " " + short_name(code)
        promised = 1500
        paragraphs = [(f"{head} mengatakan melalui kerja sama ini pemerintah daerah menanggung iuran jaminan "
                       f"kecelakaan kerja dan jaminan kematian bagi {dots(promised)} pekerja rentan.")]
        rel = f"{NARRATIVE_DIR}/02_{regency_slug(code)}_{ym_str(ym)}.txt"
        written.append((rel, _press_release(code, when, paragraphs), code, ym))
        truth["injected"].append({"scenario": "promise_gap", "kind": "no_data", "regency_code": code,
                                  "month": ym_str(ym), "promised": promised, "file": rel,
                                  "findings": [finding("PROMISE_NO_DATA", code, ym)]})
    for rel, text, code, ym in written:
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        rec = datetime(*add_months(ym, 1), 1, 9, 0, 0)
        record_delivery(truth, path, rel, "narrative", code, rec, period=ym_str(ym), fmt="txt")
