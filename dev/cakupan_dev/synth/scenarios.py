"""Where the scenarios happen (regency and month cells, drawn from the seed) and the people they add: junk
rows, identity anomalies, the person registered in two regencies.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from cakupan.core import regions

from cakupan_dev.synth.people import SERIAL_MAX, Worker, make_nik
from cakupan_dev.synth.regency import Regency
from cakupan_dev.synth.spec import FUNDING_SOURCES, SynthSpec, first_day, parse_month

EXTRA_BILLED = 5  # billing_mismatch: people billed on an extra row under a funding source nobody is enrolled under
# Reason codes (contracts/reasons.yml) for the rows the bad_rows scenario injects.
BAD_ROW_REASONS = ("NIK_17_DIGITS", "NIK_15_DIGITS", "OCCUPATION_MISSING", "DATE_INVALID")
XLSX_ONLY_REASON = "NIK_PRECISION_LOST"


@dataclass
class Plan:
    payment: dict[tuple[str, int], str] = field(default_factory=dict)  # (code, month idx) → scenario
    correction: tuple[str, int] | None = None
    dup_in_file: tuple[str, int] | None = None
    cross: tuple[str, str, int] | None = None  # (issuing regency A, other regency B, month idx)
    cross_scenario: str = "duplicate_worker"  # the scenario that asked for the cross-regency person
    bad_rows: bool = False
    # finding scenarios: (code, month idx) cells
    billing_count: tuple[str, int] | None = None  # participants billed = enrolled + 2
    billing_amount: tuple[str, int] | None = None  # amount billed at premium + 2,000 per worker
    billing_extra: tuple[str, int] | None = None  # an extra row billing EXTRA_BILLED people under `extra_fs`: nobody
    extra_fs: str = ""
    billing_missing: tuple[str, int] | None = None  # workers enrolled, no contributions row for the month at all
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


def place_scenarios(spec: SynthSpec) -> Plan:
    rng = random.Random(f"cakupan-synth/{spec.seed}/plan")
    plan = Plan()
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


def _plan_findings(spec: SynthSpec, plan: Plan, rng: random.Random, cells: list[tuple[str, int]]) -> None:
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
    if "billing_mismatch" in scen:
        # drawn last, so the cells above stay where they were. The month with no bill stays out of the promise-gap
        # regency (a month with no payment data breaks a run of months below the promise) and the overstated report
        plan.extra_fs = next((f for f in FUNDING_SOURCES if f not in spec.funding_sources and f != plan.double_fs),
                             "")
        plan.billing_extra = pick(cells) if plan.extra_fs else None
        plan.billing_missing = pick([c for c in cells if c != plan.report_covered and not (
            plan.promise_gap and c[0] == plan.promise_gap[0])])


def junk_rows(reg: Regency, period: tuple[int, int], xlsx: bool) -> list[Worker]:
    """Rows a correct reader must quarantine (one reason each); junk people, never enrolled."""
    out: list[Worker] = []
    start = first_day(period)
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


def identity_people(reg: Regency, ym: tuple[int, int]) -> dict[str, Worker]:
    """Four joiners with identity anomalies: a NIK from another regency, a birth-date column that disagrees with
    the NIK, a worker aged 70 (scheme limits: config/findings.yml), and a birth-date column a year after the month
    (age -1: an impossible date, which also disagrees with the NIK; still within the row rule's 1900-to-next-year
    range, so it loads and is a finding, not a quarantined row). They stay on like anyone else."""
    rng = reg.frng
    first = first_day(ym)
    out = {}
    dists = regions.districts()
    foreign = sorted(c for c, (rc, _) in dists.items() if rc != reg.code and rc[:2] == reg.code[:2]) or sorted(
        c for c, (rc, _) in dists.items() if rc != reg.code)
    w = reg.new_person(first, tag="identity", rng=rng)
    w.nik = make_nik(rng.choice(foreign), w.birth, w.female, int(w.nik[12:]))
    out["region"] = w
    w = reg.new_person(first, tag="identity", rng=rng)
    w.birth = w.birth + timedelta(days=400)  # the NIK keeps the true date; the column is wrong
    out["birth_date"] = w
    w = reg.new_person(first, tag="identity", rng=rng)
    w.birth = date(ym[0] - 70, ym[1], 1) - timedelta(days=10)  # 70 on the first day of the month
    w.nik = make_nik(f"{w.nik[:2]}.{w.nik[2:4]}.{w.nik[4:6]}", w.birth, w.female, int(w.nik[12:]))
    out["age"] = w
    w = reg.new_person(first, tag="identity", rng=rng)
    w.birth = date(ym[0] + 1, ym[1], 1)  # the NIK keeps the true date; the column is in the future
    out["impossible"] = w
    return out


def payment_code(amount_paid: int, amount_billed: int) -> str | None:
    if amount_paid >= amount_billed:
        return None
    return "PAYMENT_UNPAID" if amount_paid == 0 else "PAYMENT_SHORTFALL"


def make_cross_person(spec: SynthSpec, plan: Plan) -> Worker | None:
    if plan.cross is None:
        return None
    a, _, mi = plan.cross
    helper = Regency(a, spec.regencies.index(a), spec)
    helper.rng = random.Random(f"cakupan-synth/{spec.seed}/cross")
    w = helper.new_person(first_day(parse_month(spec.months[mi])), serial=SERIAL_MAX + 1)
    w.tag = ""
    w.spaced = False
    return w
