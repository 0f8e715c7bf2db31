"""Claims paid (source "claims"): clean claims and the claims_unprotected cases."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

from cakupan_dev.synth.people import kpj_of
from cakupan_dev.synth.regency import Regency
from cakupan_dev.synth.scenarios import Plan
from cakupan_dev.synth.spec import SynthSpec, add_months, first_day, last_day, ym_str
from cakupan_dev.synth.text import fmt_date, rupiah, write_csv
from cakupan_dev.synth.truth import finding, record_delivery

CLAIM_HEADERS = ["No Klaim", "NIK", "No KPJ", "Program", "Tgl Kejadian", "Tgl Bayar", "Manfaat (Rp)", "Kab/Kota"]


def _event_day(rng: random.Random, start: date, end: date | None, ym: tuple[int, int]) -> date | None:
    """A random day of month ym inside the spell [start, end], or None when they do not overlap."""
    lo = max(start, first_day(ym))
    hi = min(end or last_day(ym), last_day(ym))
    if lo > hi:
        return None
    return lo + timedelta(days=rng.randint(0, (hi - lo).days))


def write_claims(reg: Regency, spec: SynthSpec, plan: Plan, months: list[tuple[int, int]], ctx: dict,
                  status: dict[int, dict[str, str]], folder: Path, truth: dict) -> None:
    """Claims paid: a few per month by workers enrolled and paid for in full in the event month (clean), plus the
    claims_unprotected cases: a claim before a joiner's coverage start, a leaver's claim after the coverage ended, a
    NIK and a KPJ in no register, and claims in the partial / unpaid payment cells. One file per calendar year; some
    claims carry only a KPJ."""
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
                add(ym, None if kpj_only else nik, kpj_of(nik) if kpj_only or rng.random() < 0.5 else None, event,
                    None)
    injected: list[dict] = []
    if plan.claim_not_enrolled is not None and plan.claim_not_enrolled[0] == reg.code:
        start_mi = plan.claim_not_enrolled[1]
        # a joiner's claim dated before the joiner's coverage starts (the only start on any register): in the
        # start month before a mid-month start when there is one, else in the month before
        order = [i for i in range(start_mi, len(months)) if i >= 1] + [i for i in range(1, start_mi)]
        late = [(mi, j) for mi in order for j in ctx["joiners"].get(mi, []) if j[1] > first_day(months[mi])]
        if late:
            mi, (nik, start) = late[0]
            add(months[mi], nik, None, _event_day(rng, first_day(months[mi]), start - timedelta(days=1), months[mi]),
                "CLAIM_BEFORE_START")
        else:
            for mi in order:
                joiners = [j for j in ctx["joiners"].get(mi, []) if j[1] >= first_day(months[mi])]
                if joiners:
                    nik, _start = rng.choice(joiners)
                    ym = months[mi - 1]
                    add(ym, nik, None, _event_day(rng, first_day(ym), None, ym), "CLAIM_BEFORE_START")
                    break
        # a leaver's claim in a month after the coverage ended (registered, not enrolled then)
        order = list(range(start_mi, len(months) - 1)) + list(range(start_mi))
        for mi in order:
            leavers = [x for x in ctx["leavers"].get(mi, []) if x[0] != ctx.get("cross_nik")]
            if leavers and mi + 1 < len(months):
                nik, _end = rng.choice(leavers)
                ym = months[mi + 1]
                add(ym, nik, None, _event_day(rng, first_day(ym), None, ym), "CLAIM_NOT_ENROLLED")
                break
    if plan.claim_unknown_nik is not None and plan.claim_unknown_nik[0] == reg.code:
        ym = months[plan.claim_unknown_nik[1]]
        stranger = reg.new_person(first_day(ym), tag="claim_only", rng=rng)
        add(ym, stranger.nik, None, _event_day(rng, first_day(ym), None, ym), "CLAIM_UNKNOWN_PERSON")
    if plan.claim_unknown_kpj is not None and plan.claim_unknown_kpj[0] == reg.code:
        ym = months[plan.claim_unknown_kpj[1]]
        add(ym, None, kpj_of(f"unknown/{reg.code}/{ym_str(ym)}"), _event_day(rng, first_day(ym), None, ym),
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
            ym_s = ym_str(c["ym"])
            seq[ym_s] = seq.get(ym_s, 0) + 1
            claim_id = f"KLM/{reg.code.replace('.', '')}/{ym_s.replace('-', '')}/{seq[ym_s]:03d}"
            program = "JKM" if rng.random() < 0.4 else "JKK"
            amount = 42_000_000 if program == "JKM" else rng.randint(20, 400) * 50_000
            paid = c["event"] + timedelta(days=rng.randint(10, 45))
            rows.append([claim_id, c["nik"] or "", c["kpj"] or "", program, fmt_date(c["event"], "dmy/"),
                         fmt_date(paid, "dmy/"), rupiah(amount, "rp"), reg.name])
            entry = {"claim_id": claim_id, "regency_code": reg.code, "month": ym_s, "program": program,
                     "by": "nik" if c["nik"] else "kpj", "expected_finding": c["expected"]}
            truth["claims"].append(entry)
            if c["expected"]:
                injected.append({"scenario": "claims_unprotected", "regency_code": reg.code, "month": ym_s,
                                 "claim_id": claim_id, "kind": c["expected"],
                                 "findings": [finding(c["expected"], reg.code, c["ym"])]})
        fname = f"klaim_{reg.slug}_{year}.csv"
        path = folder / fname
        write_csv(path, [CLAIM_HEADERS, *rows], ";", bom=True)
        rec = datetime(*add_months(months[-1], 2), 2, 9, 0, 0)
        record_delivery(truth, path, f"{reg.code}/{fname}", "claims", reg.code, rec, rows_in=len(rows))
    truth["injected"].extend(injected)
