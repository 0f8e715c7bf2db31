"""Contributions files: what each regency was billed and paid per month and funding source."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from cakupan_dev.synth.regency import Regency
from cakupan_dev.synth.scenarios import EXTRA_BILLED, Plan, payment_code
from cakupan_dev.synth.spec import DUE_DAY, SynthSpec, add_months, last_day, ym_str
from cakupan_dev.synth.text import MONTHS_ID, fmt_date, id_date, rupiah, write_csv
from cakupan_dev.synth.truth import finding, record_delivery


def write_contributions(reg: Regency, spec: SynthSpec, plan: Plan, months: list[tuple[int, int]],
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
            ym_s = ym_str(ym)
            scen = plan.payment.get((reg.code, mi))
            month_end = last_day(ym)
            nxt = add_months(ym, 1)
            due = date(nxt[0], nxt[1], DUE_DAY)
            if scen == "late_payment":
                late = add_months(ym, 2)
                paid_date: date | None = date(late[0], late[1], rng.randint(20, 28))
            elif scen == "unpaid_month":
                paid_date = None
            else:
                paid_date = date(nxt[0], nxt[1], rng.randint(5, DUE_DAY))
            month_rows = []
            rm = {"regency_code": reg.code, "month": ym_s, "enrolled": persons_by_month[mi], "protected": 0,
                  "participants_billed": 0, "amount_billed": 0, "amount_paid": 0}
            status[mi] = {}
            if plan.billing_missing == (reg.code, mi):
                _missing_bill(reg, ym, billing[mi], rm, truth)
                continue
            overridden = False
            cells = [(fs, enrolled, False) for fs, enrolled in billing[mi].items() if enrolled > 0]
            if plan.billing_extra == (reg.code, mi):
                cells.append((plan.extra_fs, 0, True))  # EXTRA_BILLED people billed under a source nobody is in
            for fs, enrolled, extra in cells:
                billed, unit, mismatch = enrolled, premium, None
                if extra:
                    billed, mismatch = EXTRA_BILLED, "extra_source"
                elif not overridden and plan.billing_count == (reg.code, mi):
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
                if scen == "partial_payment":
                    # half a premium more than whole premiums: floor(paid / unit premium) protects paid_workers,
                    # rounding up would protect one more (domain.md: floor)
                    amount_paid += unit // 2
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
                    # the amount billed differs from enrolled x premium in every kind; the count in two
                    codes = (["BILLED_COUNT_MISMATCH"] if billed != enrolled else []) + ["BILLED_AMOUNT_MISMATCH"]
                    truth["injected"].append({
                        "scenario": "billing_mismatch", "kind": mismatch, "regency_code": reg.code, "month": ym_s,
                        "funding_source": fs, "enrolled": enrolled, "participants_billed": billed,
                        "amount_billed": amount_billed, "enrolled_x_premium": enrolled * premium,
                        "findings": [finding(code, reg.code, ym) for code in codes]
                        + ([finding(c, reg.code, ym)] if (c := payment_code(amount_paid, amount_billed)) else []),
                    })
                if doubled:
                    truth["injected"].append({
                        "scenario": "double_funding", "kind": "two_sources", "regency_code": reg.code,
                        "month": ym_s, "nik": double["nik"], "funding_sources": double["funding_sources"],
                        "findings": [finding("DOUBLE_FUNDED_TWO_SOURCES", reg.code, ym)]
                        + ([finding(c, reg.code, ym)] if (c := payment_code(amount_paid, amount_billed)) else []),
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
                billed_txt = str(amount_billed) if plain else rupiah(amount_billed, "rp")
                paid_txt = str(amount_paid) if plain else rupiah(amount_paid, "rp")
                if row_paid_date is None:
                    date_txt = ""
                else:
                    date_txt = (id_date(row_paid_date), row_paid_date.isoformat(),
                                fmt_date(row_paid_date, "dmy/"))[mi % 3]
                rows.append([period_txt, region_txt, fs, str(billed), billed_txt, paid_txt, date_txt])
                tot_billed += billed
                tot_amount += amount_billed
                tot_paid += amount_paid
            truth["coverage_by_regency_month"].append(rm)
            if scen is not None and month_rows:
                if scen == "late_payment":
                    found = [finding("PAYMENT_LATE", reg.code, ym) for c in month_rows if c["amount_paid"] > 0]
                else:
                    found = [finding(code, reg.code, ym) for c in month_rows
                             if (code := payment_code(c["amount_paid"], c["amount_billed"]))]
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
        header = ["Periode", "Kab/Kota", "Sumber Dana", "Jumlah Tenaga Kerja", "Tagihan (Rp)", "Pembayaran (Rp)",
                  "Tanggal Pembayaran"]
        total = ["JUMLAH", "", "", str(tot_billed), rupiah(tot_amount, "rp"), rupiah(tot_paid, "rp"), ""]
        write_csv(path, [header, *rows, total], ",", bom=True)
        last_ym = months[idxs[-1]]
        rec = datetime(*add_months(last_ym, 3 if any(
            plan.payment.get((reg.code, i)) == "late_payment" for i in idxs) else 2), 1, 9, 0, 0)
        record_delivery(truth, path, f"{reg.code}/{fname}", "contributions", reg.code, rec, rows_in=len(rows),
                        periods=[ym_str(months[i]) for i in idxs])
    return status


def _missing_bill(reg: Regency, ym: tuple[int, int], enrolled_by_fs: dict[str, int], rm: dict, truth: dict) -> None:
    """billing_mismatch, kind "missing": workers enrolled and no contributions row for the month at all. Nothing is
    billed or paid, so protected is no data (NULL), not 0 (domain.md), per funding source and for the month."""
    ym_s = ym_str(ym)
    for fs, enrolled in enrolled_by_fs.items():
        if enrolled == 0:
            continue
        truth["coverage"].append({
            "regency_code": reg.code, "month": ym_s, "funding_source": fs, "enrolled": enrolled,
            "participants_billed": None, "amount_billed": None, "amount_paid": None, "paid_workers": None,
            "protected": None, "paid_date": None, "days_late": None, "days_after_month_end": None,
            "payment_status": None,
        })
    rm.update(protected=None, participants_billed=None, amount_billed=None, amount_paid=None)
    truth["coverage_by_regency_month"].append(rm)
    truth["injected"].append({
        "scenario": "billing_mismatch", "kind": "missing", "regency_code": reg.code, "month": ym_s,
        "funding_source": None, "enrolled": rm["enrolled"], "participants_billed": 0, "amount_billed": 0,
        # no contributions row about the month: the calendar (config/deliveries.yml) counts its delivery missing
        "findings": [finding("BILLING_MISSING", reg.code, ym), finding("DELIVERY_MISSING", reg.code, ym)],
    })
