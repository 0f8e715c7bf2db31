"""The published coverage figures against an independent calculation written from ../shared/domain.md alone.

The inbox is the synthetic generator's (two regencies, March to August, two funding sources, a person funded twice),
then a second delivery round of what happens in real regency offices:

- Parepare sends a corrected March register in September (one worker dropped, one added), after April to August;
- the original March register is sent again byte for byte, later still;
- Palopo's premium for February is paid while no register of Palopo governs February;
- Palopo corrects July's contributions: the person listed under two funding sources is now paid by both;
- Palopo's structured city report states a target of 0 for April, none for May and 1,200 from June.

`expected_coverage` below reads only the accepted raw rows and the manifest (what was delivered and when) and
applies the definitions of domain.md "Coverage, defined once" in plain Python; it never reads a dbt model.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
from _support import run_cli
from cakupan import pipeline
from cakupan.auditor.trace import Tracer, trace
from cakupan_dev.synth import SynthSpec, generate
from cakupan_dev.synth.people import make_nik

pytestmark = pytest.mark.integration

MONTHS = ("2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08")
UNIT = 16_800


def _month(d: dt.date) -> dt.date:
    return d.replace(day=1)


def _last_day(m: dt.date) -> dt.date:
    nxt = (m.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return nxt - dt.timedelta(days=1)


# ------------------------------------------------------------------------------ the independent calculation ----
def expected_coverage(work_db: Path, keys: set[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], dict]:
    """Every figure of every (regency, month) in `keys`, from domain.md: governing register, enrolled, protected,
    shortfall, promised and gap to promise."""
    with duckdb.connect(str(work_db), read_only=True) as con:
        loads = {lid: (rcv, status) for lid, rcv, status in con.execute(
            "select load_id, received_at, status from audit.loads").fetchall()}
        register = con.execute("select load_id, regency_code, period, participant_key, coverage_start, "
                               "coverage_end, funding_source from raw.register").fetchall()
        payments = con.execute("select load_id, regency_code, period, funding_source, participants_billed, "
                               "amount_billed, amount_paid from raw.contributions").fetchall()
        targets = con.execute("select regency_code, period, vulnerable_target from raw.city_report").fetchall()
    # a delivery is an accepted load (a byte-identical re-send is not loaded: it is no delivery)
    deliveries: dict[int, dict] = {}
    for lid, reg, period, key, start, end, fs in register:
        if loads[lid][1] != "loaded":
            continue
        d = deliveries.setdefault(lid, {"regency": reg, "period": _month(period), "rows": []})
        d["rows"].append((key, start, end, fs))
    # contributions supersede per (regency, period): the latest received delivery holding that period
    latest_pay: dict[tuple[str, dt.date], int] = {}
    for lid, reg, period, *_ in payments:
        k = (reg, _month(period))
        if loads[lid][1] == "loaded" and (k not in latest_pay or (loads[lid][0], lid) > (loads[latest_pay[k]][0],
                                                                                          latest_pay[k])):
            latest_pay[k] = lid
    paid_by_fs: dict[tuple[str, dt.date], dict[str, int]] = defaultdict(dict)
    for lid, reg, period, fs, billed_n, billed, paid in payments:
        if latest_pay.get((reg, _month(period))) == lid:
            unit = float(billed) / billed_n
            paid_by_fs[(reg, _month(period))][fs] = int(float(paid) // unit + 1e-9)
    out = {}
    for reg, m in keys:
        # governing register: latest period <= M, then most recently received, then load id
        cands = [(d["period"], loads[lid][0], lid) for lid, d in deliveries.items()
                 if d["regency"] == reg and d["period"] <= m]
        gov = max(cands)[2] if cands else None
        enrolled = protected = None
        if gov is not None:
            by_fs: dict[str, set] = defaultdict(set)
            for key, start, end, fs in deliveries[gov]["rows"]:
                if start <= _last_day(m) and (end is None or end >= m):
                    by_fs[fs].add(key)
            people = set().union(*by_fs.values()) if by_fs else set()
            enrolled = len(people)
            paid = paid_by_fs.get((reg, m))
            if paid:
                per_fs = [min(len(by_fs.get(fs, ())), workers) for fs, workers in paid.items()]
                protected = min(enrolled, sum(per_fs))
        stated = [(p, t) for r, p, t in targets if r == reg and _month(p) <= m and t]   # 0 or empty: no target
        promised = max(stated)[1] if stated else None
        out[(reg, m)] = {
            "governing_load_id": gov, "enrolled": enrolled, "protected": protected,
            "shortfall": None if enrolled is None or protected is None else enrolled - protected,
            "promised": promised,
            "gap_to_promise": None if promised is None or protected is None else promised - protected,
        }
    return out


# ------------------------------------------------------------------------------------------ the inbox ---------
def _write_csv(path: Path, rows: list[list], received: dt.datetime) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter=";").writerows(rows)
    os.utime(path, (received.timestamp(), received.timestamp()))


def second_round(home: Path, work_db: Path) -> dict:
    """Write the second round of deliveries (module docstring); return what the tests need to know of them."""
    inbox = home / "inbox"
    with duckdb.connect(str(work_db), read_only=True) as con:
        march = con.execute(
            "select r.nik, r.full_name, r.occupation, r.programs, r.coverage_start, r.coverage_end, "
            "r.monthly_contribution, r.funding_source, l.source_file from raw.register r join audit.loads l "
            "using (load_id) where r.regency_code = '73.72' and r.period = '2025-03-01' order by r.source_row"
        ).fetchall()
        july = con.execute("select funding_source, participants_billed, amount_billed, amount_paid, paid_date "
                           "from raw.contributions where regency_code = '73.73' and period = '2025-07-01' "
                           "order by funding_source").fetchall()
    assert len(march) >= 5 and "APBDES" in {r[0] for r in july}      # the person funded twice (double_funding)
    header = ["NIK", "Nama", "Pekerjaan", "Program", "TMT", "Tgl Berakhir", "Iuran", "Sumber Dana"]
    kept = [[r[0], r[1], r[2], r[3], r[4].isoformat(), r[5].isoformat() if r[5] else "", str(int(r[6])), r[7]]
            for r in march[1:]]
    joiner = make_nik("73.72.01", dt.date(1984, 5, 17), False, 7001)
    kept.append([joiner, "Syamsul Baso", "NELAYAN", "JKK, JKM", "2025-03-01", "", "16800", "APBD"])
    _write_csv(inbox / "73.72" / "register_parepare_2025-03_koreksi.csv", [header, *kept],
               dt.datetime(2025, 9, 15, 10))
    original = inbox / march[0][8]
    resend = original.with_name(original.stem + " (kirim ulang)" + original.suffix)
    shutil.copyfile(original, resend)
    os.utime(resend, (dt.datetime(2025, 9, 20).timestamp(),) * 2)
    pay_header = ["Bulan", "Kab/Kota", "Sumber Dana", "Jumlah Peserta", "Jumlah Tagihan", "Jumlah Dibayar",
                  "Tgl Bayar"]
    _write_csv(inbox / "73.73" / "iuran_palopo_2025-02.csv",
               [pay_header, ["2025-02", "73.73", "APBD", "10", str(10 * UNIT), str(10 * UNIT), "2025-03-10"]],
               dt.datetime(2025, 3, 12))
    # both rows of July again (a period is superseded whole), each now paid in full
    fixed = [["2025-07", "73.73", fs, str(n), str(int(billed)), str(int(billed)), "2025-08-10"]
             for fs, n, billed, _, _ in july]
    _write_csv(inbox / "73.73" / "iuran_palopo_2025-07_koreksi.csv", [pay_header, *fixed],
               dt.datetime(2025, 10, 20))    # after the yearly file (received 1 October)
    report_header = ["Periode", "Kabupaten/Kota", "Jumlah Penduduk Bekerja", "Peserta Aktif BPJS Ketenagakerjaan",
                     "Target Pekerja Rentan"]
    _write_csv(inbox / "73.73" / "laporan_palopo_2025.csv",
               [report_header, ["2025-04", "Kota Palopo", "90000", "30000", "0"],
                ["2025-05", "Kota Palopo", "90000", "31000", ""],
                ["2025-06", "Kota Palopo", "90000", "32000", "1200"]], dt.datetime(2025, 7, 5))
    return {"dropped": march[0][0], "joiner": joiner, "resend": resend.relative_to(inbox).as_posix()}


@pytest.fixture(scope="module")
def edited(tmp_path_factory):
    """(settings, facts about the second round) after two full runs: the generator's inbox, then the edits."""
    from _support import TEST_KEY
    from cakupan.core.settings import Settings

    home = tmp_path_factory.mktemp("definitions")
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("CAKUPAN_")}
    try:
        s = Settings.from_env(home=home, pseudonym_key=TEST_KEY)
        generate(SynthSpec(regencies=["73.72", "73.73"], months=list(MONTHS), workers=8, seed=5,
                           scenarios=("double_funding",), funding_sources=("APBD", "CSR")), home / "inbox")
        assert pipeline.run_all(s, run_id="round-1").published
        facts = second_round(home, s.work_db)
        out = pipeline.run_all(s, run_id="round-2")
        assert out.published, out.message
        yield s, facts
    finally:
        os.environ.update(saved)


def published(s) -> dict[tuple[str, dt.date], dict]:
    with duckdb.connect(str(s.published_db), read_only=True) as con:
        cur = con.execute("select * from marts.mart_coverage_monthly")
        cols = [d[0] for d in cur.description]
        return {(r[0], r[2]): dict(zip(cols, r)) for r in cur.fetchall()}


FIGURES = ("governing_load_id", "enrolled", "protected", "shortfall", "promised", "gap_to_promise")


# ------------------------------------------------------------------------------------------ the tests ---------
def test_every_published_coverage_figure_equals_the_independent_calculation(edited):
    s, _ = edited
    got = published(s)
    want = expected_coverage(s.work_db, set(got))
    assert ("73.73", dt.date(2025, 2, 1)) in got and len(got) >= 13
    diffs = {k: {f: (got[k][f], want[k][f]) for f in FIGURES if got[k][f] != want[k][f]} for k in sorted(got)}
    assert not {k: v for k, v in diffs.items() if v}


def test_one_tracer_traces_every_figure_to_the_independent_calculation(edited):
    """The auditor site traces every figure through one Tracer (a regency's rows read once): visiting the regencies
    in turn, each figure's rows are its own regency's and its counts are the calculated ones."""
    from cakupan.auditor.published import open_published

    s, _ = edited
    want = expected_coverage(s.work_db, set(published(s)))
    keys = sorted(want, key=lambda k: (k[1], k[0]))              # 73.72, 73.73, 73.72, … : a reload each time
    assert len({k[0] for k in keys}) == 2
    with open_published(s.published_db) as con:
        tracer = Tracer(con, "mart_coverage_monthly")
        for regency, month in keys:
            t = tracer.trace(regency, month, "protected")
            exp = want[(regency, month)]
            assert t.counts["enrolled"] == exp["enrolled"], (regency, month)
            assert t.counts["protected"] == exp["protected"], (regency, month)
            assert all(r["source_file"].startswith(f"{regency}/") for r in t.rows), (regency, month)


def test_a_correction_of_march_received_in_september_governs_march_only(edited):
    """Workers who joined in April to August stay enrolled in those months; March shows the corrected list."""
    s, facts = edited
    got = published(s)
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        loads = con.execute("select file_name, period, load_id from audit.loads where source = 'register' "
                            "and regency_code = '73.72' and status = 'loaded'").fetchall()
        joiner_key, dropped_key = (con.execute("select participant_key from raw.register where nik = ?", [n])
                                   .fetchone()[0] for n in (facts["joiner"], facts["dropped"]))
    correction = next(lid for name, _, lid in loads if name == "register_parepare_2025-03_koreksi.csv")
    assert got[("73.72", dt.date(2025, 3, 1))]["governing_load_id"] == correction
    for month in MONTHS[1:]:     # each month keeps its own register, received months before the correction
        m = dt.date.fromisoformat(month + "-01")
        (own,) = [lid for _, period, lid in loads if period == m]
        assert got[("73.72", m)]["governing_load_id"] == own, month
    with duckdb.connect(str(s.published_db), read_only=True) as con:
        march = {k for (k,) in con.execute(
            "select participant_key from marts.mart_lineage where regency_code = '73.72' and measure = 'enrolled' "
            "and month_start = '2025-03-01'").fetchall()}
        later = {k for (k,) in con.execute(
            "select participant_key from marts.mart_lineage where regency_code = '73.72' and measure = 'enrolled' "
            "and month_start = '2025-04-01'").fetchall()}
    assert joiner_key in march and dropped_key not in march and joiner_key not in later


def test_a_paid_month_that_no_register_governs_publishes_no_protected_figure(edited):
    s, _ = edited
    feb = published(s)[("73.73", dt.date(2025, 2, 1))]
    assert float(feb["premium_paid"]) == 10 * UNIT
    assert {f: feb[f] for f in ("enrolled", "protected", "protected_apbd", "shortfall", "gap_to_promise")} == \
           dict.fromkeys(("enrolled", "protected", "protected_apbd", "shortfall", "gap_to_promise"))
    t = trace(s.published_db, "mart_coverage_monthly", ["73.73", "2025-02"], "protected")
    assert t.counts["enrolled"] is None and t.counts["protected"] is None and "no register" in t.note
    shown = run_cli(s.home, "trace", "mart_coverage_monthly", "73.73", "2025-02", "--measure", "protected").stdout
    assert "enrolled=0" not in shown and "enrolled=—" in shown and "no register delivery governs" in shown


def test_a_worker_paid_by_two_funding_sources_is_protected_once(edited):
    """Palopo July: Σ protected over funding sources exceeds the distinct workers; the total is their minimum."""
    s, _ = edited
    july = published(s)[("73.73", dt.date(2025, 7, 1))]
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        by_fs = dict(con.execute("select funding_source, protected from marts.fct_coverage_by_funding_source "
                                 "where regency_code = '73.73' and month_start = '2025-07-01'").fetchall())
    assert "APBDES" in by_fs and sum(by_fs.values()) == july["enrolled"] + 1
    assert july["protected"] == july["enrolled"]


def test_a_byte_identical_resend_is_not_a_delivery(edited):
    s, facts = edited
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        status, code = con.execute("select status, error_code from audit.loads where source_file = ?",
                                   [facts["resend"]]).fetchone()
        rows = con.execute("select count(*) from raw.register r join audit.loads l using (load_id) "
                           "where l.source_file = ?", [facts["resend"]]).fetchone()[0]
    assert code == "DUPLICATE_FILE" and status != "loaded" and rows == 0


def test_gap_is_promised_minus_protected_and_a_template_target_of_zero_or_empty_is_no_target(edited):
    s, _ = edited
    got = published(s)
    for month in ("2025-03", "2025-04", "2025-05"):
        row = got[("73.73", dt.date.fromisoformat(month + "-01"))]
        assert row["promised"] is None and row["gap_to_promise"] is None, month
    for month in ("2025-06", "2025-07", "2025-08"):
        row = got[("73.73", dt.date.fromisoformat(month + "-01"))]
        assert row["promised"] == 1200 and row["gap_to_promise"] == 1200 - row["protected"], month
