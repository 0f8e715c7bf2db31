"""The synthetic delivery generator: determinism, NIK shape, and a ground truth that matches the written files.

The files are read back here with a small independent reader (python_calamine / csv) and the overlap rule of
domain.md is applied in the test, so the ground truth is checked against the bytes, not against itself.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest
from cakupan.core import regions
from cakupan_dev.synth import (
    ALL_SCENARIOS,
    DUE_DAY,
    EXTRA_SOURCES,
    FINDING_SCENARIOS,
    SCENARIOS,
    SynthSpec,
    generate,
    load_ground_truth,
    month_range,
    parse_months,
    parse_regencies,
    regency_slug,
    synth_main,
)
from python_calamine import CalamineWorkbook

REGS = ["73.72", "73.73", "73.14"]
MONTHS = month_range("2025-03", 5)  # 2025-03 … 2025-07

# --- an independent mini reader ------------------------------------------------------------------------------
ALIASES = {
    "nik": {"nik", "noktp", "nomornik"},
    "full_name": {"nama", "namalengkap", "namatenagakerja"},
    "birth_date": {"tgllahir"},
    "sex": {"jk", "lp", "jeniskelamin"},
    "occupation": {"pekerjaan", "profesi"},
    "village": {"desa", "kelurahan"},
    "district": {"kecamatan", "kec"},
    "programs": {"program"},
    "coverage_start": {"tmt", "mulaikepesertaan"},
    "coverage_end": {"tglberakhir"},
    "monthly_contribution": {"iuran", "iuranbulan"},
    "funding_source": {"sumberdana"},
    "no": {"no"},
}
CANON = {alias: canon for canon, names in ALIASES.items() for alias in names}
MONTHS_ID = ["januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus", "september", "oktober",
             "november", "desember"]


def _norm(h: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(h or "").lower())


def _parse_date(v: object) -> date:
    """Parse a date cell; raise ValueError when it is not a real date."""
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = str(v).strip()
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    m = re.fullmatch(r"(\d{1,2}) ([A-Za-z]+) (\d{4})", s)
    if m and m.group(2).lower() in MONTHS_ID:
        return date(int(m.group(3)), MONTHS_ID.index(m.group(2).lower()) + 1, int(m.group(1)))
    raise ValueError(s)


def _money(v: object) -> int:
    if isinstance(v, (int, float)):
        return int(v)
    s = str(v).strip().replace("Rp", "").strip()
    s = re.sub(r",00$", "", s).replace(".", "")
    return int(s)


def read_rows(path: Path) -> list[dict]:
    """Data rows of a register file as dicts of canonical columns (raw cell values)."""
    if path.suffix == ".xlsx":
        table = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        hdr = next(i for i, r in enumerate(table[:15]) if any(_norm(c) in ALIASES["nik"] for c in r))
        cols = [CANON.get(_norm(c)) for c in table[hdr]]
        out = []
        for r in table[hdr + 1:]:
            first = str(r[0]).strip().upper()
            if first in ("TOTAL", "JUMLAH") or all(c in ("", None) for c in r):
                break
            out.append({k: v for k, v in zip(cols, r) if k})
        return out
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    delim = ";" if ";" in text.splitlines()[0] else ","
    rows = list(csv.reader(text.splitlines(), delimiter=delim))
    cols = [CANON.get(_norm(c)) for c in rows[0]]
    return [{k: v for k, v in zip(cols, r) if k} for r in rows[1:]]


def classify(row: dict) -> str | None:
    """Return the quarantine reason of a row, or None when it loads."""
    nik = row["nik"]
    if isinstance(nik, (int, float)):
        return "NIK_PRECISION_LOST"
    digits = re.sub(r"\s", "", str(nik))
    if len(digits) == 17:
        return "NIK_17_DIGITS"
    if len(digits) == 15:
        return "NIK_15_DIGITS"
    assert len(digits) == 16 and digits.isdigit(), digits
    if not str(row["occupation"]).strip():
        return "OCCUPATION_MISSING"
    try:
        _parse_date(row["coverage_start"])
        if str(row.get("coverage_end", "")).strip():
            _parse_date(row["coverage_end"])
    except ValueError:
        return "DATE_INVALID"
    return None


def nik_of(row: dict) -> str:
    return re.sub(r"\s", "", str(row["nik"]))


def month_bounds(ym: str) -> tuple[date, date]:
    y, m = map(int, ym.split("-"))
    nxt = date(y + (m == 12), m % 12 + 1, 1)
    return date(y, m, 1), date.fromordinal(nxt.toordinal() - 1)


def overlaps(row: dict, ym: str) -> bool:
    first, last = month_bounds(ym)
    start = _parse_date(row["coverage_start"])
    end = _parse_date(row["coverage_end"]) if str(row.get("coverage_end", "")).strip() else None
    return start <= last and (end is None or end >= first)


def governing_files(out: Path, code: str) -> dict[str, Path]:
    """month → the final register delivery (the _koreksi one when present)."""
    found: dict[str, Path] = {}
    for p in sorted((out / code).glob("register_*")):
        m = re.search(r"_(\d{4}-\d{2})(_koreksi)?\.(xlsx|csv)$", p.name)
        assert m, p.name
        if m.group(2) or m.group(1) not in found:
            found[m.group(1)] = p
    return found


def read_contributions(path: Path) -> tuple[list[list[str]], list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:4] == ["Periode", "Kab/Kota", "Sumber Dana", "Jumlah Tenaga Kerja"]
    assert rows[-1][0] == "JUMLAH"
    return rows[1:-1], rows[-1]


def parse_period(s: str) -> str:
    if m := re.fullmatch(r"(\d{4})-(\d{2})", s):
        return s
    if m := re.fullmatch(r"(\d{2})/(\d{4})", s):
        return f"{m.group(2)}-{m.group(1)}"
    name, year = s.split()
    return f"{year}-{MONTHS_ID.index(name.lower()) + 1:02d}"


# --- fixtures ------------------------------------------------------------------------------------------------
def _spec(**kw) -> SynthSpec:
    base = {"regencies": list(REGS), "months": list(MONTHS), "workers": 30, "seed": 7, "formats": ("xlsx", "csv"),
                "scenarios": SCENARIOS, "funding_sources": ("APBD", "APBDes", "CSR")}
    base.update(kw)
    return SynthSpec(**base)


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth_full")
    return out, generate(_spec(), out)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth_clean")
    return out, generate(_spec(scenarios=(), funding_sources=("APBD",), seed=11), out)


def _all_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _injected(truth: dict, scenario: str, kind: str | None = None) -> list[dict]:
    return [e for e in truth["injected"] if e["scenario"] == scenario and (kind is None or e.get("kind") == kind)]


# --- determinism ---------------------------------------------------------------------------------------------
def test_same_seed_same_bytes(full, tmp_path):
    out, truth = full
    again = generate(_spec(), tmp_path / "again")
    assert again == truth
    assert _all_files(tmp_path / "again") == _all_files(out)
    assert load_ground_truth(out) == truth == load_ground_truth(out / "ground_truth.json")


def test_same_seed_same_bytes_across_processes_and_hash_seeds(full, tmp_path):
    out, _ = full
    code = (
        "import sys; from pathlib import Path; from cakupan_dev.synth import *; "
        f"generate(SynthSpec(regencies={REGS!r}, months={MONTHS!r}, workers=30, seed=7, formats=('xlsx','csv'), "
        "scenarios=SCENARIOS, funding_sources=('APBD','APBDes','CSR')), Path(sys.argv[1]))"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "sub")], check=True, env=env)
    assert _all_files(tmp_path / "sub") == _all_files(out)


def test_different_seed_differs(full, tmp_path):
    out, truth = full
    other = generate(_spec(seed=8), tmp_path / "other")
    assert other["coverage"] != truth["coverage"]
    a, b = _all_files(out), _all_files(tmp_path / "other")
    common = set(a) & set(b)
    assert common and all(a[k] != b[k] for k in common if k.startswith("73.72/register"))


def test_population_does_not_depend_on_formats(tmp_path):
    a = generate(_spec(scenarios=(), formats=("csv",)), tmp_path / "a")
    b = generate(_spec(scenarios=(), formats=("xlsx",)), tmp_path / "b")
    assert a["coverage"] == b["coverage"]


# --- file layout ---------------------------------------------------------------------------------------------
def test_file_naming_and_layout(full):
    out, truth = full
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    listed = {f["path"] for f in truth["files"]}
    assert written == listed | {"ground_truth.json"}
    for code in REGS:
        slug = regency_slug(code)
        assert slug == {"73.72": "parepare", "73.73": "palopo", "73.14": "sidenrengrappang"}[code]
        months = governing_files(out, code)
        assert sorted(months) == MONTHS
        assert (out / code / f"contributions_{slug}_2025.csv").exists()
    # formats cycle per regency-month
    fmts = Counter(f["format"] for f in truth["files"] if f["source"] == "register")
    assert fmts["xlsx"] and fmts["csv"]


def test_xlsx_layout_title_header_total_signature(full):
    out, truth = full
    for f in truth["files"]:
        if not f["path"].endswith(".xlsx"):
            continue
        table = CalamineWorkbook.from_path(str(out / f["path"])).get_sheet_by_index(0).to_python()
        hdr = next(i for i, r in enumerate(table[:15]) if any(_norm(c) in ALIASES["nik"] for c in r))
        assert 1 <= hdr <= 14
        title = " ".join(str(c) for r in table[:hdr] for c in r)
        y, m = map(int, f["period"].split("-"))
        assert f"BULAN {MONTHS_ID[m - 1].upper()} {y}" in title
        assert regions.regency_name(f["regency_code"]).upper() in title
        assert _norm(table[hdr][0]) == "no"
        n = len(read_rows(out / f["path"]))
        total_row = table[hdr + 1 + n]
        assert str(total_row[0]).upper() == "TOTAL"
        assert _money(next(c for c in total_row[1:] if c not in ("", None))) == 16800 * n
        assert all(c in ("", None) for c in table[hdr + 2 + n])
        tail = " ".join(str(c) for r in table[hdr + 3 + n:] for c in r)
        assert "Kepala Dinas" in tail and str(y) in tail
        # dates: a mix of real Excel dates and "dd-mm-yyyy" text
        rows = read_rows(out / f["path"])
        kinds = {type(r["coverage_start"]).__name__ for r in rows} | {type(r["birth_date"]).__name__ for r in rows}
        assert {"date", "str"} <= kinds
        # NIKs are text cells except the one injected precision-loss row
        niks = [r["nik"] for r in rows]
        assert sum(isinstance(v, float) for v in niks) == f["reasons"].count("NIK_PRECISION_LOST")


def test_csv_register_encoding_and_delimiter(full):
    out, truth = full
    for f in truth["files"]:
        if f["source"] != "register" or not f["path"].endswith(".csv"):
            continue
        raw = (out / f["path"]).read_bytes()
        info = truth["regencies"][f["regency_code"]]
        assert raw.startswith(b"\xef\xbb\xbf") == info["csv_bom"]
        header = raw.decode("utf-8-sig").splitlines()[0]
        assert header.split(info["csv_delimiter"])[0] in ("No", "No.", "NO")
        assert len(read_rows(out / f["path"])) == f["rows_in"]


# --- NIK shape -----------------------------------------------------------------------------------------------
def test_nik_shape_and_consistency_with_row(full):
    out, truth = full
    cross = {e["nik"] for e in _injected(truth, "duplicate_worker", "cross_regency")}
    dists = regions.districts()
    villages = {(dc, n) for dc, vs in regions.villages_by_district().items() for _, n in vs}
    seen = 0
    for f in truth["files"]:
        if f["source"] != "register":
            continue
        code = f["regency_code"]
        reg_districts = {name: dc for dc, (rc, name) in dists.items() if rc == code}
        for row in read_rows(out / f["path"]):
            if classify(row) is not None:
                continue
            nik = nik_of(row)
            assert re.fullmatch(r"\d{16}", nik), nik
            issuing = f"{nik[:2]}.{nik[2:4]}"
            assert issuing == code or nik in cross
            assert f"{issuing}.{nik[4:6]}" in dists and dists[f"{issuing}.{nik[4:6]}"][0] == issuing
            dd, mm, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
            female = dd > 40
            birth = date(1900 + yy if yy > 25 else 2000 + yy, mm, dd - 40 if female else dd)
            assert _parse_date(row["birth_date"]) == birth
            assert str(row["sex"]) in (("P", "Perempuan") if female else ("L", "Laki-laki"))
            assert 1 <= int(nik[12:]) <= 9999
            # residence: a real district of this regency and a village of that district
            assert row["district"] in reg_districts
            assert (reg_districts[row["district"]], row["village"]) in villages
            assert row["programs"] in ("JKK, JKM", "JKK+JKM", "JKK/JKM")
            assert _money(row["monthly_contribution"]) == 16800
            assert row["funding_source"] in ("APBD", "APBDes", "CSR")
            seen += 1
    assert seen > 300


def test_serials_unique_within_regency(full):
    out, _truth = full
    for code in REGS:
        by_serial: dict[str, set[str]] = defaultdict(set)
        for p in governing_files(out, code).values():
            for row in read_rows(p):
                if classify(row) is None and nik_of(row)[:4] == code.replace(".", ""):
                    by_serial[nik_of(row)[12:]].add(nik_of(row))
        assert all(len(v) == 1 for v in by_serial.values())


# --- ground truth vs the files -------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["full", "clean"])
def test_truth_matches_files(which, request):
    out, truth = request.getfixturevalue(which)
    premium = truth["unit_premium"]
    # per-file counts and reasons
    for f in truth["files"]:
        assert f["rows_in"] == f["loaded"] + f["quarantined"]
        assert len(f["reasons"]) == f["quarantined"]
        if f["source"] != "register":
            continue
        rows = read_rows(out / f["path"])
        got = [classify(r) for r in rows]
        assert len(rows) == f["rows_in"]
        assert Counter(r for r in got if r) == Counter(f["reasons"])
    # enrolled per regency × month (× funding source) recomputed from the final deliveries
    by_rm = {(c["regency_code"], c["month"]): c for c in truth["coverage_by_regency_month"]}
    by_rmf = {(c["regency_code"], c["month"], c["funding_source"]): c for c in truth["coverage"]}
    assert len(by_rm) == len(REGS) * len(MONTHS)
    loaded_not_enrolled = 0
    for code in REGS:
        for ym, path in governing_files(out, code).items():
            persons: set[str] = set()
            per_fs: dict[str, set[str]] = defaultdict(set)
            for row in read_rows(path):
                if classify(row) is None and overlaps(row, ym):
                    persons.add(nik_of(row))
                    per_fs[row["funding_source"]].add(nik_of(row))
                elif classify(row) is None:
                    loaded_not_enrolled += 1  # pre-registered: starts next month
            assert by_rm[(code, ym)]["enrolled"] == len(persons), (code, ym)
            for fs, niks in per_fs.items():
                assert by_rmf[(code, ym, fs)]["enrolled"] == len(niks)
            assert {k[2] for k in by_rmf if k[:2] == (code, ym)} == set(per_fs)
    assert loaded_not_enrolled > 0  # the overlap rule matters, not just "row present"
    # coverage arithmetic
    for c in truth["coverage"]:
        assert c["participants_billed"] == c["enrolled"] > 0
        assert c["amount_billed"] == c["participants_billed"] * premium
        # whole premiums, and half a premium more in a partial payment: paid / unit premium is not a whole number
        assert c["amount_paid"] == c["paid_workers"] * premium + (premium // 2 if c["payment_status"] == "partial" else 0)
        assert c["protected"] == min(c["enrolled"], c["amount_paid"] // premium) <= c["enrolled"]
        assert (c["paid_date"] is None) == (c["amount_paid"] == 0)
    for rm in truth["coverage_by_regency_month"]:
        parts = [c for k, c in by_rmf.items() if k[:2] == (rm["regency_code"], rm["month"])]
        assert rm["protected"] == sum(c["protected"] for c in parts) <= rm["enrolled"]
        assert rm["amount_paid"] == sum(c["amount_paid"] for c in parts)
        assert rm["enrolled"] == sum(c["enrolled"] for c in parts)  # one funding source per person


@pytest.mark.parametrize("which", ["full", "clean"])
def test_contributions_match_truth(which, request):
    out, truth = request.getfixturevalue(which)
    by_rmf = {(c["regency_code"], c["month"], c["funding_source"]): c for c in truth["coverage"]}
    seen = set()
    for f in truth["files"]:
        if f["source"] != "contributions":
            continue
        code = f["regency_code"]
        rows, total = read_contributions(out / f["path"])
        assert len(rows) == f["rows_in"]
        forms = set()
        for period, region, fs, n, billed, paid, paid_date in rows:
            ym = parse_period(period)
            assert regions.resolve_regency(region) == code
            forms.add(region)
            c = by_rmf[(code, ym, fs)]
            assert int(n) == c["participants_billed"]
            assert _money(billed) == c["amount_billed"]
            assert _money(paid) == c["amount_paid"]
            assert (_parse_date(paid_date).isoformat() if paid_date else None) == c["paid_date"]
            seen.add((code, ym, fs))
        assert len(forms) == 3  # official name, alias and 4-digit code
        assert int(total[3]) == sum(int(r[3]) for r in rows)
        assert _money(total[4]) == sum(_money(r[4]) for r in rows)
        assert _money(total[5]) == sum(_money(r[5]) for r in rows)
    assert seen == set(by_rmf)


def test_clean_run_has_no_findings(clean):
    _, truth = clean
    assert truth["injected"] == []
    assert all(f["quarantined"] == 0 and f["supersedes"] is None for f in truth["files"])
    for c in truth["coverage"]:
        assert c["protected"] == c["enrolled"] and c["days_late"] == 0 and c["payment_status"] == "paid"


def test_dynamics_join_and_leave(clean):
    out, truth = clean
    joined = left = 0
    for code in REGS:
        files = governing_files(out, code)
        sets = {ym: {nik_of(r) for r in read_rows(p)} for ym, p in files.items()}
        ends = {ym: {nik_of(r) for r in read_rows(p) if str(r.get("coverage_end", "")).strip()}
                for ym, p in files.items()}
        for prev, cur in itertools.pairwise(MONTHS):
            joined += len(sets[cur] - sets[prev])
            gone = sets[prev] - sets[cur]
            left += len(gone)
            assert gone == ends[prev]  # a leaver's last row carries coverage_end; absent afterwards
            for r in read_rows(files[prev]):
                if nik_of(r) in gone:
                    first, last = month_bounds(prev)
                    assert first <= _parse_date(r["coverage_end"]) <= last
    assert joined > 0 and left > 0
    first_month = truth["coverage_by_regency_month"][0]
    assert first_month["month"] == MONTHS[0] and 25 <= first_month["enrolled"] <= 30


# --- scenarios -----------------------------------------------------------------------------------------------
def _cov(truth: dict, code: str, ym: str) -> list[dict]:
    return [c for c in truth["coverage"] if c["regency_code"] == code and c["month"] == ym]


def test_scenario_late_payment(full):
    _, truth = full
    (e,) = _injected(truth, "late_payment")
    _first, last = month_bounds(e["month"])
    for c in _cov(truth, e["regency_code"], e["month"]):
        assert c["amount_paid"] == c["amount_billed"] and c["protected"] == c["enrolled"]
        assert (date.fromisoformat(c["paid_date"]) - last).days >= 40
        assert c["days_late"] > 0


def test_scenario_partial_payment(full):
    _, truth = full
    (e,) = _injected(truth, "partial_payment")
    covs = _cov(truth, e["regency_code"], e["month"])
    assert all(0 < c["amount_paid"] < c["amount_billed"] for c in covs if c["enrolled"] >= 2)
    assert sum(c["protected"] for c in covs) < sum(c["enrolled"] for c in covs)
    assert all(c["payment_status"] == "partial" for c in covs if c["amount_paid"])
    # not a multiple of the unit premium: protected = floor(paid / unit) (domain.md); rounding up gives one more
    unit = truth["unit_premium"]
    assert covs and all(c["amount_paid"] % unit and c["protected"] == c["amount_paid"] // unit
                        and -(-c["amount_paid"] // unit) == c["protected"] + 1 for c in covs)


def test_scenario_unpaid_month(full):
    _out, truth = full
    (e,) = _injected(truth, "unpaid_month")
    covs = _cov(truth, e["regency_code"], e["month"])
    assert covs and all(c["amount_paid"] == 0 and c["paid_date"] is None and c["protected"] == 0 for c in covs)
    others = {(x["regency_code"], x["month"]) for x in _injected(truth, "late_payment") + _injected(truth, "partial_payment")}
    assert (e["regency_code"], e["month"]) not in others


def test_scenario_correction(full):
    out, truth = full
    (e,) = _injected(truth, "correction")
    orig, corr = out / e["supersedes"], out / e["file"]
    assert corr.name.endswith(f"_{e['month']}_koreksi{orig.suffix}")
    fentry = next(f for f in truth["files"] if f["path"] == e["file"])
    assert fentry["supersedes"] == e["supersedes"]
    assert fentry["received_at"] > next(f for f in truth["files"] if f["path"] == e["supersedes"])["received_at"]
    valid = lambda p: {nik_of(r) for r in read_rows(p) if classify(r) is None}
    a, b = valid(orig), valid(corr)
    assert a - b == set(e["removed_niks"]) and len(e["removed_niks"]) == 1
    assert b - a == set(e["added_niks"]) and len(e["added_niks"]) == 2
    # billing follows the corrected list
    covs = _cov(truth, e["regency_code"], e["month"])
    assert sum(c["participants_billed"] for c in covs) == e["enrolled_corrected"] == e["enrolled_first_delivery"] + 1
    # the removed worker is gone for good, the added ones carry on
    later = [p for ym, p in governing_files(out, e["regency_code"]).items() if ym > e["month"]]
    for p in later:
        assert not valid(p) & set(e["removed_niks"])


def test_scenario_duplicate_worker(full):
    out, truth = full
    (inf,) = _injected(truth, "duplicate_worker", "in_file")
    niks = [nik_of(r) for r in read_rows(out / inf["file"]) if classify(r) is None]
    assert niks.count(inf["nik"]) == 2
    fentry = next(f for f in truth["files"] if f["path"] == inf["file"])
    assert fentry["loaded"] == fentry["rows_in"] - fentry["quarantined"]  # the duplicate row loads
    (cr,) = _injected(truth, "duplicate_worker", "cross_regency")
    a, b = cr["regency_codes"]
    assert a != b and cr["nik"][:4] == a.replace(".", "")
    for code, path in zip(cr["regency_codes"], cr["files"]):
        assert path == governing_files(out, code)[cr["month"]].relative_to(out).as_posix()
        rows = [r for r in read_rows(out / path) if classify(r) is None and nik_of(r) == cr["nik"]]
        assert rows and all(overlaps(r, cr["month"]) for r in rows)


def test_scenario_bad_rows(full):
    out, truth = full
    (e,) = _injected(truth, "bad_rows")
    regs = [f for f in truth["files"] if f["source"] == "register"]
    assert e["files"] == len(regs) and e["rows"] == sum(f["quarantined"] for f in regs)
    for f in regs:
        want = {"NIK_17_DIGITS", "NIK_15_DIGITS", "OCCUPATION_MISSING", "DATE_INVALID"}
        if f["format"] == "xlsx":
            want.add("NIK_PRECISION_LOST")
        assert set(f["reasons"]) == want
        bad_dates = [r["coverage_start"] for r in read_rows(out / f["path"]) if classify(r) == "DATE_INVALID"]
        assert bad_dates == [f"31/02/{f['period'][:4]}"]


def test_cross_duplicate_needs_two_regencies(tmp_path):
    truth = generate(_spec(regencies=["73.72"], months=MONTHS[:2]), tmp_path)
    kinds = [e.get("kind") for e in _injected(truth, "duplicate_worker")]
    assert kinds == ["in_file"]


# --- scale and CLI -------------------------------------------------------------------------------------------
def test_every_regency_generates(tmp_path):
    codes = list(regions.regencies())
    truth = generate(SynthSpec(regencies=codes, months=["2025-01"], workers=3, formats=("csv",)), tmp_path)
    assert len(truth["coverage_by_regency_month"]) == len(codes) == 514
    assert all(rm["enrolled"] == 3 for rm in truth["coverage_by_regency_month"])
    for code in codes:
        rows, _ = read_contributions(tmp_path / code / f"contributions_{regency_slug(code)}_2025.csv")
        assert all(regions.resolve_regency(r[1]) == code for r in rows)


def test_spec_validation():
    with pytest.raises(ValueError, match="consecutive"):
        generate(_spec(months=["2025-03", "2025-05"]), Path("/nonexistent-never-written"))
    with pytest.raises(ValueError, match="scenario"):
        generate(_spec(scenarios=("flood",)), Path("/nonexistent-never-written"))
    with pytest.raises(ValueError, match="regency"):
        generate(_spec(regencies=["99.99"]), Path("/nonexistent-never-written"))


def test_synth_main_parses_cli_arguments(tmp_path):
    assert parse_months("2025-11..2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert parse_months("2025-03:3") == ["2025-03", "2025-04", "2025-05"]
    assert parse_regencies("7372, 73.73,Kabupaten Sidenreng Rappang") == ["73.72", "73.73", "73.14"]
    assert len(parse_regencies("73")) == 24
    truth = synth_main(tmp_path, regencies="73.72,73.73", months="2025-11..2026-02", workers=10, seed=3,
                       scenarios="all", formats="csv")
    assert truth["spec"]["scenarios"] == list(ALL_SCENARIOS)
    assert {f["path"] for f in truth["files"] if f["source"] == "contributions"} == {
        "73.72/contributions_parepare_2025.csv", "73.72/contributions_parepare_2026.csv",
        "73.73/contributions_palopo_2025.csv", "73.73/contributions_palopo_2026.csv",
    }
    assert json.loads((tmp_path / "ground_truth.json").read_text(encoding="utf-8")) == truth


def test_streaming_xlsx_mode_reads_the_same(tmp_path, monkeypatch):
    from cakupan_dev.synth import registers

    spec = _spec(regencies=["73.72"], months=MONTHS[:2], formats=("xlsx",))
    small = generate(spec, tmp_path / "mem")
    monkeypatch.setattr(registers, "XLSX_STREAM_ROWS", 5)  # force constant_memory for every workbook
    streamed = generate(spec, tmp_path / "s1")
    assert generate(spec, tmp_path / "s2") == streamed == small
    assert _all_files(tmp_path / "s1") == _all_files(tmp_path / "s2")
    for f in small["files"]:
        if f["format"] == "xlsx":
            a = CalamineWorkbook.from_path(str(tmp_path / "mem" / f["path"])).get_sheet_by_index(0).to_python()
            b = CalamineWorkbook.from_path(str(tmp_path / "s1" / f["path"])).get_sheet_by_index(0).to_python()
            assert a == b


# --- finding scenarios and the extra sources (claims, city reports, press releases) ------------------------------
# Each injected entry names the audit findings it must raise; the end-to-end test (tests/findings) checks the
# pipeline raises exactly those. Here the files are read back and checked against the entries.
def _finding_keys(truth: dict) -> set[tuple[str, str, str]]:
    return {(f["code"], f["regency_code"], f["month"]) for e in truth["injected"] for f in e["findings"]}


@pytest.fixture(scope="module")
def findings_set(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth_findings")
    return out, generate(_spec(scenarios=ALL_SCENARIOS, funding_sources=("APBD",), months=month_range("2025-03", 6),
                               seed=3), out)


@pytest.fixture(scope="module")
def clean_sources(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth_clean_sources")
    return out, generate(_spec(scenarios=(), funding_sources=("APBD",), sources=EXTRA_SOURCES, seed=3), out)


def _csv(path: Path, delimiter: str = ",") -> list[dict]:
    return list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=delimiter))


def _register_rows_with_kpj(out: Path, code: str) -> list[dict]:
    """Register rows (raw cells) with the KPJ column, from the governing deliveries."""
    rows = []
    for ym, p in governing_files(out, code).items():
        if p.suffix == ".xlsx":
            table = CalamineWorkbook.from_path(str(p)).get_sheet_by_index(0).to_python()
            hdr = next(i for i, r in enumerate(table[:15]) if any(_norm(c) in ALIASES["nik"] for c in r))
            names = [str(c) for c in table[hdr]]
            data = [r for r in table[hdr + 1:] if str(r[0]).strip() and str(r[0]).upper() != "TOTAL"]
        else:
            text = p.read_bytes().decode("utf-8-sig")
            delim = ";" if ";" in text.splitlines()[0] else ","
            lines = list(csv.reader(text.splitlines(), delimiter=delim))
            names, data = lines[0], lines[1:]
        for r in data:
            d = dict(zip(names, r))
            d["_month"] = ym
            rows.append(d)
    return rows


def test_every_finding_scenario_names_its_findings(findings_set):
    _, truth = findings_set
    assert all("findings" in e for e in truth["injected"])
    codes = {k[0] for k in _finding_keys(truth)}
    scenarios = {e["scenario"] for e in truth["injected"]}
    assert set(FINDING_SCENARIOS) <= scenarios
    # one code per finding rule in config/findings.yml
    import yaml
    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "config" / "findings.yml").read_text())
    # DELIVERY_LATE is judged on when Cakupan first saw a file, not on anything written into it: no synthetic
    # file can carry it (tests/deliveries/test_delivery_calendar.py sets arrival times instead)
    assert codes == set(config["codes"]) - {"DELIVERY_LATE"}
    assert config["payment"]["due_day_of_next_month"] == DUE_DAY  # truth days_late counts from the same day


def test_default_run_writes_no_extra_source(full):
    out, truth = full
    assert not list(out.rglob("klaim_*")) and not list(out.rglob("laporan_*")) and not (out / "berita").exists()
    assert truth["claims"] == [] and truth["spec"]["sources"] == []


def test_billing_mismatch_in_contributions_file(findings_set):
    out, truth = findings_set
    premium = truth["unit_premium"]
    kinds = set()
    for e in _injected(truth, "billing_mismatch"):
        kinds.add(e["kind"])
        rows, _ = read_contributions(out / e["regency_code"] / f"contributions_{regency_slug(e['regency_code'])}_2025.csv")
        if e["kind"] == "missing":  # workers enrolled, not one contributions row for the month
            assert e["enrolled"] > 0 and not [r for r in rows if parse_period(r[0]) == e["month"]]
            rm = next(r for r in truth["coverage_by_regency_month"]
                      if (r["regency_code"], r["month"]) == (e["regency_code"], e["month"]))
            assert rm["protected"] is None and rm["amount_billed"] is None  # no data, not 0
            # and the month's contributions delivery never came (config/deliveries.yml expects it)
            assert [f["code"] for f in e["findings"]] == ["BILLING_MISSING", "DELIVERY_MISSING"]
            continue
        (c,) = [c for c in truth["coverage"] if (c["regency_code"], c["month"], c["funding_source"])
                == (e["regency_code"], e["month"], e["funding_source"])]
        (row,) = [r for r in rows if parse_period(r[0]) == e["month"] and r[2] == e["funding_source"]]
        assert int(row[3]) == c["participants_billed"] and _money(row[4]) == c["amount_billed"]
        if e["kind"] == "count":
            assert c["participants_billed"] == c["enrolled"] + 2 and c["amount_billed"] == c["participants_billed"] * premium
        elif e["kind"] == "extra_source":  # billed for people nobody enrolled under that funding source
            assert c["enrolled"] == 0 < c["participants_billed"] and c["amount_billed"] == c["participants_billed"] * premium
        else:
            assert c["participants_billed"] == c["enrolled"] and c["amount_billed"] != c["enrolled"] * premium
        assert c["protected"] == c["enrolled"]  # paid in full: the mismatch protects nobody less
        # the amount differs from enrolled x premium in every kind, whatever the count explains
        assert c["amount_billed"] != c["enrolled"] * premium
        assert "BILLED_AMOUNT_MISMATCH" in {f["code"] for f in e["findings"]}
    assert kinds == {"count", "amount", "extra_source", "missing"}


def test_double_funding_lists_one_worker_under_two_sources(findings_set):
    out, truth = findings_set
    (e,) = _injected(truth, "double_funding", "two_sources")
    path = governing_files(out, e["regency_code"])[e["month"]]
    sources = {r["funding_source"] for r in read_rows(path) if classify(r) is None and nik_of(r) == e["nik"]}
    assert sources == set(e["funding_sources"]) and len(sources) == 2
    (c,) = [c for c in truth["coverage"] if (c["regency_code"], c["month"], c["funding_source"])
            == (e["regency_code"], e["month"], e["funding_sources"][1])]
    assert c["protected"] < c["enrolled"]  # the second source is billed but does not pay for the twin
    rm = next(r for r in truth["coverage_by_regency_month"] if (r["regency_code"], r["month"]) == (e["regency_code"], e["month"]))
    assert rm["protected"] <= rm["enrolled"]


def test_identity_anomalies_in_register(findings_set):
    out, truth = findings_set
    (e,) = _injected(truth, "identity_anomaly")
    code, ym = e["regency_code"], e["month"]
    rows = {nik_of(r): r for r in read_rows(governing_files(out, code)[ym]) if classify(r) is None}
    region, birth, age = (rows[e["niks"][k]] for k in ("region", "birth_date", "age"))
    assert nik_of(region)[:4] != code.replace(".", "")

    def nik_date(nik: str) -> date:
        dd, mm, yy = int(nik[6:8]) % 40, int(nik[8:10]), int(nik[10:12])
        return date(1900 + yy if yy > 25 else 2000 + yy, mm, dd)

    assert _parse_date(birth["birth_date"]) != nik_date(nik_of(birth))
    b = _parse_date(age["birth_date"])
    assert b == nik_date(nik_of(age))
    first, _ = month_bounds(ym)
    assert first.year - b.year - ((first.month, first.day) < (b.month, b.day)) == 70
    impossible = rows[e["niks"]["impossible"]]  # a birth-date column after the month: age -1, not under age
    assert _parse_date(impossible["birth_date"]) == first.replace(year=first.year + 1)
    assert nik_date(nik_of(impossible)) < first


def test_claims_file_and_kpj_column(findings_set, clean_sources):
    for out, truth in (findings_set, clean_sources):
        by_id = {c["claim_id"]: c for c in truth["claims"]}
        kpjs = {code: {r["No KPJ"] for r in _register_rows_with_kpj(out, code)} for code in truth["regencies"]}
        seen = 0
        for f in truth["files"]:
            if f["source"] != "claims":
                continue
            rows = _csv(out / f["path"], ";")
            assert len(rows) == f["rows_in"]
            for r in rows:
                c = by_id[r["No Klaim"]]
                assert (c["by"] == "kpj") == (not r["NIK"]) and (r["NIK"] or r["No KPJ"])
                if c["expected_finding"] is None and c["by"] == "kpj":
                    assert r["No KPJ"] in kpjs[f["regency_code"]]  # a KPJ-only claim matches a register row
                if c["expected_finding"] == "CLAIM_UNKNOWN_PERSON" and c["by"] == "kpj":
                    assert all(r["No KPJ"] not in k for k in kpjs.values())
                seen += 1
        assert seen == len(truth["claims"]) > 5
    _, clean = clean_sources
    assert all(c["expected_finding"] is None for c in clean["claims"])
    assert any(c["by"] == "kpj" for c in clean["claims"])


def test_city_reports_agree_with_truth_unless_injected(findings_set, clean_sources):
    for out, truth in (findings_set, clean_sources):
        prot = {(r["regency_code"], r["month"]): r["protected"] for r in truth["coverage_by_regency_month"]}
        covered = {(e["regency_code"], e["month"]) for e in _injected(truth, "report_mismatch", "covered")}
        gaps = {e["regency_code"]: e["month"] for e in _injected(truth, "promise_gap", "behind")}
        n = 0
        for f in truth["files"]:
            if f["source"] != "city_report":
                continue
            for r in _csv(out / f["path"]):
                key = (f["regency_code"], parse_period(r["Periode"]))
                if prot[key] is None:  # a month nothing was billed for: no protected figure to report
                    assert r["Pekerja Rentan Terlindungi"] == r["Target Pekerja Rentan"] == ""
                    n += 1
                    continue
                stated, target = int(r["Pekerja Rentan Terlindungi"]), int(r["Target Pekerja Rentan"])
                assert (stated != prot[key]) == (key in covered)
                if key[0] in gaps and key[1] >= gaps[key[0]]:
                    assert target > prot[key]
                else:
                    assert target <= prot[key]
                assert 0.25 < int(r["Peserta Aktif"]) / int(r["Jumlah Penduduk Bekerja"]) < 0.6
                n += 1
        assert n == len(truth["regencies"]) * len(truth["spec"]["months"])


def test_press_releases(findings_set, clean_sources):
    out, truth = findings_set
    (nd,) = _injected(truth, "promise_gap", "no_data")
    assert nd["regency_code"] not in truth["regencies"]
    assert "1.500 pekerja rentan" in (out / nd["file"]).read_text(encoding="utf-8")
    (nar,) = _injected(truth, "report_mismatch", "narrative")
    text = (out / nar["file"]).read_text(encoding="utf-8")
    months = truth["spec"]["months"]
    prev = next(r for r in truth["coverage_by_regency_month"] if r["regency_code"] == nar["regency_code"]
                and r["month"] == months[months.index(nar["month"]) - 1])
    assert f"Sebelumnya ada sekitar {2 * prev['enrolled'] + 7} orang" in text and "persen" in text
    out_c, clean = clean_sources
    (f,) = [f for f in clean["files"] if f["source"] == "narrative"]
    code, ym = f["regency_code"], f["period"]
    months = clean["spec"]["months"]
    before = next(r for r in clean["coverage_by_regency_month"]
                  if r["regency_code"] == code and r["month"] == months[months.index(ym) - 1])
    assert f"Sebelumnya ada sekitar {before['enrolled']} orang" in (out_c / f["path"]).read_text(encoding="utf-8")


def test_clean_run_with_every_source_injects_nothing(clean_sources):
    _, truth = clean_sources
    assert truth["injected"] == []
    assert {f["source"] for f in truth["files"]} == {"register", "contributions", "claims", "city_report", "narrative"}
    for c in truth["coverage"]:
        assert c["protected"] == c["enrolled"] == c["participants_billed"] and c["days_late"] == 0
