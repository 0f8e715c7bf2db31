"""The generator core: each regency's monthly rosters (joiners, leavers, corrections, duplicates) into
register deliveries, then its contributions, claims and reports; `generate` runs every regency.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cakupan_dev.synth.claims import write_claims
from cakupan_dev.synth.contributions import write_contributions
from cakupan_dev.synth.people import Worker
from cakupan_dev.synth.regency import Regency
from cakupan_dev.synth.registers import write_register_csv, write_register_xlsx
from cakupan_dev.synth.reports import write_city_reports, write_narratives
from cakupan_dev.synth.scenarios import Plan, identity_people, junk_rows, make_cross_person, place_scenarios
from cakupan_dev.synth.spec import (
    ALL_SCENARIOS,
    FORMATS,
    SynthSpec,
    add_months,
    as_list,
    first_day,
    last_day,
    parse_month,
    parse_months,
    parse_regencies,
    ym_str,
)
from cakupan_dev.synth.truth import GROUND_TRUTH_NAME, finding, record_delivery, write_ground_truth


def _overlaps(w: Worker, first: date, last: date) -> bool:
    if isinstance(w.start, str):
        return False
    return w.start <= last and (w.end is None or w.end >= first)


def _insert_spread(rng: random.Random, rows: list[Worker], extra: list[Worker]) -> list[Worker]:
    out = list(rows)
    for w in extra:
        out.insert(rng.randint(0, len(out)), w)
    return out


def _generate_regency(reg: Regency, spec: SynthSpec, plan: Plan, cross_person: Worker | None,
                      out_dir: Path, truth: dict) -> None:
    rng, srng = reg.rng, reg.srng
    months = [parse_month(m) for m in spec.months]
    folder = out_dir / reg.code
    folder.mkdir(parents=True, exist_ok=True)
    roster: dict[str, Worker] = {}  # insertion-ordered: NIK → worker (current delivery's rows)
    billing: dict[int, dict[str, int]] = {}  # month idx → funding source → enrolled
    persons_by_month: dict[int, int] = {}
    # what later writers (claims, city reports, the press release) need: month idx → enrolled people and joiners
    ctx: dict[str, Any] = {"enrolled": {}, "joiners": {}, "leavers": {}, "double": None,
                           "cross_nik": cross_person.nik if cross_person is not None else None}
    for mi, ym in enumerate(months):
        first, last = first_day(ym), last_day(ym)
        joiners: list[Worker] = []
        if mi == 0:
            for _ in range(spec.workers_by_regency.get(reg.code, spec.workers)):
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
            grow = spec.grow_to.get(reg.code)
            while grow is not None and ym_str(ym) == grow[0] and len(roster) < grow[1]:   # demo: a promise met
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
        removed: Worker | None = None
        added: list[Worker] = []
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
            ident = identity_people(reg, ym)
            for w in ident.values():
                roster[w.nik] = w
            truth["injected"].append({
                "scenario": "identity_anomaly", "regency_code": reg.code, "month": ym_str(ym),
                "niks": {k: w.nik for k, w in ident.items()},
                "findings": [finding(c, reg.code, ym) for c in
                             ("NIK_REGION_MISMATCH", "NIK_BIRTHDATE_MISMATCH", "AGE_OUT_OF_RANGE",
                              "BIRTH_DATE_IMPOSSIBLE")],
            })
        # pre-registration: someone listed already, starting next month (loaded but not enrolled this month)
        if mi < len(months) - 1 and rng.random() < 0.3:
            w = reg.new_person(first_day(add_months(ym, 1)), tag="prereg")
            roster[w.nik] = w
        rows: list[Worker] = list(roster.values())
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
        junk = junk_rows(reg, ym, fmt == "xlsx") if plan.bad_rows else []
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
        ctx["leavers"][mi] = [(w.nik, w.end) for w in rows if w.tag == "" and w.end is not None]
        # write the deliveries (first delivery, then the correction)
        ym_s = ym_str(ym)
        base = f"register_{reg.slug}_{ym_s}"
        received = datetime(*add_months(ym, 1), 3, 9, 0, 0)
        deliveries: list[tuple[str, list[Worker], bool, datetime]] = []
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
                write_register_xlsx(path, reg, frows, ym, koreksi)
            else:
                write_register_csv(path, reg, frows, ym)
            reasons = [w.tag.split(":", 1)[1] for w in frows if w.tag.startswith("junk:")]
            rel = f"{reg.code}/{fname}"
            record_delivery(truth, path, rel, "register", reg.code, rec, period=ym_s, fmt=fmt, rows_in=len(frows),
                            reasons=reasons, supersedes=prev_rel)
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
    status = write_contributions(reg, spec, plan, months, billing, persons_by_month, folder, truth, ctx)
    extra = spec.extra_sources()
    if "claims" in extra:
        write_claims(reg, spec, plan, months, ctx, status, folder, truth)
    if "city_report" in extra:
        write_city_reports(reg, spec, plan, months, folder, truth)


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
    plan = place_scenarios(spec)
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
    cross_person = make_cross_person(spec, plan)
    for idx, code in enumerate(spec.regencies):
        reg = Regency(code, idx, spec)
        truth["regencies"][code] = {"name": reg.name, "slug": reg.slug, "folder": code,
                                    "csv_delimiter": reg.style.csv_delimiter, "csv_bom": reg.style.csv_bom}
        _generate_regency(reg, spec, plan, cross_person, out_dir, truth)
    if plan.cross is not None and cross_person is not None:
        a, b, mi = plan.cross
        ym = parse_month(spec.months[mi])
        truth["injected"].append({
            "scenario": plan.cross_scenario, "kind": "cross_regency", "month": spec.months[mi],
            "nik": cross_person.nik, "regency_codes": [a, b],
            "files": [truth["_cross_files"].get(a), truth["_cross_files"].get(b)], "counted_per_regency": 1,
            # funded by both regencies that month; B registers a NIK issued by A
            "findings": [finding("DOUBLE_FUNDED_CROSS_REGENCY", a, ym), finding("DOUBLE_FUNDED_CROSS_REGENCY", b, ym),
                         finding("NIK_REGION_MISMATCH", b, ym)],
        })
    if "narrative" in spec.extra_sources():
        write_narratives(spec, plan, out_dir, truth)
    bad = truth.pop("_bad")
    truth.pop("_cross_files")
    truth.pop("_city_reports")
    if plan.bad_rows:
        truth["injected"].append({"scenario": "bad_rows", **bad, "findings": []})
    order = {s: i for i, s in enumerate(ALL_SCENARIOS)}
    truth["injected"].sort(key=lambda e: order[e["scenario"]])
    write_ground_truth(truth, out_dir / GROUND_TRUTH_NAME)
    return truth


def synth_main(out_dir: str | Path, regencies: str | Iterable[str] = "73.72,73.73,73.14",
               months: str | Iterable[str] = "2025-03:6", workers: int = 40, seed: int = 42,
               scenarios: str | Iterable[str] = (), formats: str | Iterable[str] = ("xlsx", "csv"),
               funding_sources: str | Iterable[str] | None = None, unit_premium: int = 16800,
               sources: str | Iterable[str] = ()) -> dict:
    """Generate from CLI-style arguments ("all" scenarios/regencies, month ranges, comma lists); return truth."""
    scen = as_list(scenarios)
    if [s.lower() for s in scen] == ["all"]:
        scen = list(ALL_SCENARIOS)
    fs = as_list(funding_sources) or ["APBD"]
    spec = SynthSpec(
        regencies=parse_regencies(regencies), months=parse_months(months), workers=int(workers), seed=int(seed),
        formats=tuple(as_list(formats)) or FORMATS, scenarios=tuple(scen), funding_sources=tuple(fs),
        unit_premium=int(unit_premium), sources=tuple(as_list(sources)),
    )
    return generate(spec, Path(out_dir))
