"""The gate's reach, measured: one small built warehouse (synthetic, two regencies, three months), damaged in many
ways a real bug or delivery can, each damage on its own copy and followed by a real publish (GX, DuckDB, dbt where a
build is part of the story). Every case must be blocked (not published, published bytes unchanged, candidate kept,
the intended check failing with a sample naming where) or warned as intended (published, the intended warning
failing where it did not fail on the undamaged warehouse). Nothing may publish silently.

Cases: the 12 kinds the gate published silently (issue 26, "Published silently today"), the damages it already
blocked, and the warnings. Each damage says which rows it touched, so the words a sample must hold come from the
damage, not from the gate's output.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from _support import TEST_KEY
from cakupan import pipeline
from cakupan.core.settings import Settings
from cakupan.quality import texts as gate_texts

pytestmark = pytest.mark.integration

NIK = "7372014501900001"      # synthetic, NIK-shaped (7372 Parepare, 05-01-1990 female, serial 0001)

# the checks' names (suites.py): what each case expects to fail
HORIZON_MONTHS = "no month after the horizon (config/gate.yml)"
HORIZON_LOADS = "no delivery for a month after the horizon (config/gate.yml)"
CEILING = "promises within the regency's employed population and the ceiling (config/gate.yml)"
LINEAGE = "figures agree with their lineage"
DROP = "no large month-over-month drop (config/gate.yml)"
DELIVERED = "every month with figures has its own register delivery"
MANIFEST = "raw and quarantined rows equal the manifest, per load"
NULL_PROTECTED = "protected is NULL where enrolled is NULL"
NULL_SHORTFALL = "shortfall = enrolled - protected, NULL when either is NULL"
NULL_GAP = "gap to promise = promised - protected, NULL when either is NULL"
DBT_SHORTFALL = "dbt rule: shortfall is null or shortfall = enrolled - protected"
PSEUDONYMS = "every participant_key of every published table is a pseudonym"
NIK_TEXT = "no NIK-shaped number in any published text column"
BUILD = "the last dbt build succeeded"
NEW_ERRORS = "no new error-severity findings since the last publish"
SEVERITIES = "audit finding severities known"


@dataclass(frozen=True)
class Case:
    id: str
    damage: Callable[[duckdb.DuckDBPyConnection], list[str]]   # returns words the failing check's sample must hold
    verdict: str                                                # blocked | warned
    table: str
    check: str


def settings(home: Path) -> Settings:
    return Settings.from_env(home=home, pseudonym_key=TEST_KEY, config_dir=Path(__file__).parents[2] / "config")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def failed(out) -> set[tuple[str, str]]:
    return {(r.table_name, r.expectation) for r in out.gate.results if not r.success}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The undamaged warehouse, published twice (so a previous publish exists and every raw load is validated),
    and the checks that fail on it (warnings only)."""
    from cakupan_dev.synth import SynthSpec, generate

    with pytest.MonkeyPatch.context() as mp:
        for k in [k for k in __import__("os").environ if k.startswith("CAKUPAN_")]:
            mp.delenv(k)
        home = tmp_path_factory.mktemp("gate_base") / "home"
        generate(SynthSpec(regencies=["73.72", "73.73"], months=["2025-03", "2025-04", "2025-05"], workers=20,
                           seed=7, scenarios=("bad_rows", "late_payment", "partial_payment"),
                           sources=("city_report", "narrative")), home / "inbox")
        # Sidrap's May delivery never arrives: its April register governs May (domain.md), with a warning
        generate(SynthSpec(regencies=["73.14"], months=["2025-03", "2025-04"], workers=12, seed=8),
                 home / "inbox" / "late")
        shutil.move(home / "inbox" / "late" / "73.14", home / "inbox" / "73.14")
        shutil.rmtree(home / "inbox" / "late")
        s = settings(home)
        assert pipeline.run_all(s, "base-1").published
        out = pipeline.gate_and_publish(s, "base-2")
        assert out.published and not out.gate.errors
        yield home, failed(out), out


@pytest.fixture
def home(base, tmp_path, monkeypatch):
    for k in [k for k in __import__("os").environ if k.startswith("CAKUPAN_")]:
        monkeypatch.delenv(k)
    copy = tmp_path / "home"
    shutil.copytree(base[0], copy)
    return copy


# ------------------------------------------------------------------------------------------ damages --------
def damage(*statements: str, words: tuple[str, ...] = ()) -> Callable[[duckdb.DuckDBPyConnection], list[str]]:
    """A damage made of SQL statements alone, and the words its sample must hold."""
    def run(con):
        for sql in statements:
            con.execute(sql)
        return list(words)
    return run


def _one(con, sql: str, params=None):
    row = con.execute(sql, params or []).fetchone()
    assert row is not None, sql
    return row


def _register_row(con, regency: str, period: str):
    """(load_id, source_row, file) of one register row of a regency's delivery."""
    return _one(con, "select r.load_id, min(r.source_row), any_value(r.source_file) from raw.register r "
                     "join audit.loads l using (load_id) where l.regency_code = ? and l.period = ? group by 1",
                [regency, f"{period}-01"])


def future_delivery(con):
    lid, _, _file = _register_row(con, "73.72", "2025-05")
    con.execute("update audit.loads set period = '2031-01-01' where load_id = ?", [lid])
    con.execute("update raw.register set period = '2031-01-01' where load_id = ?", [lid])
    return [f"load {lid}", "2031-01"]


invented_future_months = damage(
    """insert into marts.mart_coverage_monthly select * replace (cast(m.month_start as date) as month_start)
       from marts.mart_coverage_monthly c, (select unnest(generate_series(date '2025-06-01', date '2030-12-01',
       interval 1 month)) as month_start) m where c.regency_code = '73.72' and c.month_start = '2025-05-01'""",
    words=("Kota Parepare (73.72) 20", "from register 73.72/register_parepare_2025-05"))


absurd_promise = damage(
    "update marts.mart_coverage_monthly set promised = 10000000, gap_to_promise = 10000000 - protected "
    "where regency_code = '73.72' and month_start = '2025-05-01'",
    words=("Kota Parepare (73.72) 2025-05", "10000000 workers"))


def promise_above_employed(con):
    employed = _one(con, "select max(employed_population) from raw.city_report where regency_code = '73.73'")[0]
    con.execute("update marts.mart_promise_vs_delivery set promised_count = ? where regency_code = '73.73' and "
                "effective_month = '2025-04-01'", [employed + 1])
    return ["Kota Palopo (73.73) 2025-04", f"{employed} people employed"]


lineage_rows_missing = damage(
    "delete from marts.mart_lineage where regency_code = '73.73' and month_start = '2025-04-01' and "
    "measure = 'enrolled' and source_row % 3 = 0", words=("Kota Palopo (73.73) 2025-04", "but the lineage holds"))


def figure_plus_five(con):
    (n,) = _one(con, "select enrolled from marts.mart_coverage_monthly where regency_code = '73.72' and "
                     "month_start = '2025-04-01'")
    con.execute("update marts.mart_coverage_monthly set enrolled = enrolled + 5, shortfall = shortfall + 5 "
                "where regency_code = '73.72' and month_start = '2025-04-01'")
    return [f"Kota Parepare (73.72) 2025-04: enrolled is {n + 5} but the lineage holds {n} enrolled workers"]


def drop_ninety_percent(con):
    """Palopo's May shrinks to 2 workers, consistently across the coverage mart and its lineage."""
    (april,) = _one(con, "select enrolled from marts.mart_coverage_monthly where regency_code = '73.73' and "
                         "month_start = '2025-04-01'")
    con.execute("""delete from marts.mart_lineage where regency_code = '73.73' and month_start = '2025-05-01'
                   and measure = 'enrolled' and participant_key not in (select participant_key from marts.mart_lineage
                   where regency_code = '73.73' and month_start = '2025-05-01' and measure = 'enrolled'
                   order by participant_key limit 2)""")
    con.execute("update marts.mart_coverage_monthly set enrolled = 2, enrolled_apbd = 2, protected = 2, "
                "protected_apbd = 2, shortfall = 0, gap_to_promise = promised - 2 "
                "where regency_code = '73.73' and month_start = '2025-05-01'")
    return ["Kota Palopo (73.73) 2025-05", f"enrolled fell from {april} in 2025-04 to 2"]


def raw_row_deleted(con):
    lid, row, _ = _register_row(con, "73.73", "2025-04")
    con.execute("delete from raw.register where load_id = ? and source_row = ?", [lid, row])
    return [f"load {lid}", "raw zone holds"]


def quarantine_row_deleted(con):
    lid, row = _one(con, "select load_id, min(source_row) from quarantine.rows group by 1 order by 1 limit 1")
    con.execute("delete from quarantine.rows where load_id = ? and source_row = ?", [lid, row])
    return [f"load {lid}", "the quarantine holds"]


enrolled_null = damage("update marts.mart_coverage_monthly set enrolled = null where regency_code = '73.72' "
                       "and month_start = '2025-04-01'", words=("Kota Parepare (73.72) 2025-04",))
# shortfall left over a figure that is now NULL: dbt's own rule `shortfall is null or shortfall = enrolled -
# protected` passes it (NULL is not false); the gate's copy of the rule does not
enrolled_and_protected_null = damage(
    "update marts.mart_coverage_monthly set enrolled = null, protected = null, protected_apbd = null "
    "where regency_code = '73.73' and month_start = '2025-04-01'", words=("Kota Palopo (73.73) 2025-04",))


shortfall_wrong = damage("update marts.mart_coverage_monthly set shortfall = shortfall + 3 where regency_code = "
                         "'73.73' and month_start = '2025-05-01'", words=("Kota Palopo (73.73) 2025-05",))
gap_wrong = damage("update marts.mart_coverage_monthly set gap_to_promise = gap_to_promise + 3 "
                   "where regency_code = '73.72' and month_start = '2025-03-01'", words=("Kota Parepare (73.72) 2025-03",))


def coverage_end_before_start(con):
    lid, row, file = _register_row(con, "73.72", "2025-03")
    con.execute("update raw.register set coverage_end = coverage_start - interval 30 day "
                "where load_id = ? and source_row = ?", [lid, row])
    return [f"row {row}, sheet 'Peserta', of register {file}", "Kota Parepare (73.72)"]


def paid_six_years_early(con):
    lid, row, file = _one(con, "select load_id, source_row, source_file from raw.contributions where "
                               "regency_code = '73.73' order by source_row limit 1")
    con.execute("update raw.contributions set paid_date = period - interval 6 year where load_id = ? and "
                "source_row = ?", [lid, row])
    return [f"row {row}, of contributions {file}"]


def billed_nobody(con):
    lid, row, file = _one(con, "select load_id, source_row, source_file from raw.contributions where "
                               "regency_code = '73.72' order by source_row desc limit 1")
    con.execute("update raw.contributions set participants_billed = 0 where load_id = ? and source_row = ?",
                [lid, row])
    return [f"row {row}, of contributions {file}"]


def regency_rewritten(con):
    lid, _, file = _register_row(con, "73.72", "2025-04")
    con.execute("update raw.register set regency_code = '73.73' where load_id = ?", [lid])
    return [file]


def nik_in_quarantine(con):
    lid, row, file = _one(con, "select load_id, source_row, source_file from quarantine.rows order by all limit 1")
    con.execute("update quarantine.rows set participant_key = ? where load_id = ? and source_row = ?", [NIK, lid, row])
    return ["audit.quarantine_rows.participant_key", f"{file}", f"row {row}"]


def nik_in_evidence(con):
    fid, row = _one(con, "select finding_id, min(source_row) from marts.mart_findings_evidence where "
                         "participant_key is not null group by 1 order by 1 limit 1")
    con.execute("update marts.mart_findings_evidence set participant_key = ? where finding_id = ? and "
                "source_row = ? and participant_key is not null", [NIK, fid, row])
    return ["marts.mart_findings_evidence.participant_key", f"finding {fid[:12]}", f"row {row}"]


def nik_in_lineage(con):
    con.execute("update marts.mart_lineage set participant_key = ? where participant_key = (select min("
                "participant_key) from marts.mart_lineage where regency_code = '73.73')", [NIK])
    return ["marts.mart_lineage.participant_key", "73.73"]


nik_in_finding_text = damage(
    f"update marts.mart_audit_findings set detail = detail || ' NIK {NIK}' where code = 'PAYMENT_LATE'",
    words=("marts.mart_audit_findings.detail: one value holds a 16-digit number",))


new_error_finding = damage(
    "insert into marts.mart_audit_findings select * replace ('ffff' || substr(finding_id, 5) as finding_id, "
    "'error' as severity) from marts.mart_audit_findings where code = 'PAYMENT_LATE'",
    words=("finding ffff", "Kota Parepare (73.72) 2025-04"))


unknown_severity = damage("update marts.mart_audit_findings set severity = 'critical' where code = 'PAYMENT_LATE'",
                          words=("PAYMENT_LATE", "severity critical"))


# the damages the gate already blocked before the reconciliations existed
protected_above_enrolled = damage(
    "update marts.mart_coverage_monthly set protected = enrolled + 7 where month_start = '2025-04-01'",
    words=("2025-04", "protected"))


negative_enrolled = damage("update marts.mart_coverage_monthly set enrolled = -1 where regency_code = '73.73' and "
                           "month_start = '2025-03-01'", words=("Kota Palopo (73.73) 2025-03",))


duplicate_row = damage("insert into marts.mart_coverage_monthly select * from marts.mart_coverage_monthly "
                       "where regency_code = '73.72' and month_start = '2025-03-01'")


null_regency = damage("update marts.mart_coverage_monthly set regency_code = null where regency_code = '73.73' "
                      "and month_start = '2025-05-01'")


coverage_emptied = damage("delete from marts.mart_coverage_monthly")


rows_unbalanced = damage("update marts.mart_load_quality set rows_loaded = rows_loaded - 1 where load_id = (select "
                         "min(load_id) from marts.mart_load_quality where status = 'loaded')", words=("load ",))


promise_status_unknown = damage("update marts.mart_promise_vs_delivery set status = 'excellent' where "
                                "regency_code = '73.72'", words=("promise ",))


findings_mart_missing = damage("drop table marts.mart_audit_findings")


promised_missing = damage("update marts.mart_coverage_monthly set promised = null, gap_to_promise = null "
                          "where regency_code = '73.73' and month_start = '2025-05-01'",
                          words=("Kota Palopo (73.73) 2025-05",))


def raw_nik_bad_shape(con):
    lid, row, file = _register_row(con, "73.73", "2025-05")
    con.execute("update raw.register set nik = '12345' where load_id = ? and source_row = ?", [lid, row])
    return [f"row {row}", file]


def raw_occupation_missing(con):
    lid, row, file = _register_row(con, "73.72", "2025-05")
    con.execute("update raw.register set occupation = null where load_id = ? and source_row = ?", [lid, row])
    return [f"row {row}, sheet 'Peserta'", file]


def raw_start_1900(con):
    lid, row, file = _register_row(con, "73.73", "2025-03")
    con.execute("update raw.register set coverage_start = '1900-01-01' where load_id = ? and source_row = ?",
                [lid, row])
    return [f"row {row}", file]


def raw_negative_payment(con):
    lid, row, file = _one(con, "select load_id, source_row, source_file from raw.contributions order by all limit 1")
    con.execute("update raw.contributions set amount_paid = -5 where load_id = ? and source_row = ?", [lid, row])
    return [f"row {row}", file]


paid_far_above_billed = damage("update marts.mart_coverage_monthly set premium_paid = premium_billed * 1.5 "
                               "where regency_code = '73.72' and month_start = '2025-05-01'",
                               words=("Kota Parepare (73.72) 2025-05",))


load_quality_shrunk = damage("delete from marts.mart_load_quality where load_id % 4 <> 0")


COV = "marts.mart_coverage_monthly"
CASES = [
    # 1-12: published silently before (issue 26)
    Case("future-delivery", future_delivery, "blocked", "check.periods_in_horizon", HORIZON_LOADS),
    Case("invented-future-months", invented_future_months, "blocked", COV, HORIZON_MONTHS),
    Case("absurd-promise", absurd_promise, "blocked", "check.promise_ceiling", CEILING),
    Case("promise-above-employed", promise_above_employed, "blocked", "check.promise_ceiling", CEILING),
    Case("lineage-rows-missing", lineage_rows_missing, "blocked", "check.lineage_figures", LINEAGE),
    Case("figure-plus-five", figure_plus_five, "blocked", "check.lineage_figures", LINEAGE),
    Case("drop-90-percent", drop_ninety_percent, "warned", "check.month_over_month", DROP),
    Case("raw-row-deleted", raw_row_deleted, "blocked", "check.raw_manifest", MANIFEST),
    Case("quarantine-row-deleted", quarantine_row_deleted, "blocked", "check.raw_manifest", MANIFEST),
    Case("enrolled-null", enrolled_null, "blocked", COV, NULL_PROTECTED),
    Case("shortfall-over-null", enrolled_and_protected_null, "blocked", COV, NULL_SHORTFALL),
    Case("shortfall-wrong", shortfall_wrong, "blocked", COV, DBT_SHORTFALL),      # dbt's rule, run by the gate
    Case("gap-wrong", gap_wrong, "blocked", COV, NULL_GAP),
    Case("coverage-end-before-start", coverage_end_before_start, "blocked", "raw.register",
         "coverage end on or after start"),
    # rules the loader does not enforce yet warn (as errors one clerk's row would stop every regency's publish)
    Case("paid-six-years-early", paid_six_years_early, "warned", "raw.contributions",
         "paid at most 12 months before the billing month"),
    Case("billed-nobody", billed_nobody, "warned", "raw.contributions",
         "participants billed > 0 where an amount is billed"),
    Case("regency-rewritten", regency_rewritten, "blocked", "raw.register", "regency is the load's regency"),
    Case("nik-in-quarantine", nik_in_quarantine, "blocked", "check.pseudonyms", PSEUDONYMS),
    Case("nik-in-evidence", nik_in_evidence, "blocked", "check.pseudonyms", PSEUDONYMS),
    Case("nik-in-lineage", nik_in_lineage, "blocked", "check.pseudonyms", PSEUDONYMS),
    Case("nik-in-finding-text", nik_in_finding_text, "blocked", "check.nik_shaped_text", NIK_TEXT),
    Case("new-error-finding", new_error_finding, "warned", "check.new_error_findings", NEW_ERRORS),
    Case("unknown-severity", unknown_severity, "blocked", "marts.mart_audit_findings", SEVERITIES),
    # blocked before
    Case("protected-above-enrolled", protected_above_enrolled, "blocked", COV, "protected <= enrolled"),
    Case("negative-enrolled", negative_enrolled, "blocked", COV, "enrolled non-negative"),
    Case("duplicate-row", duplicate_row, "blocked", COV, "one row per regency and month"),
    Case("null-regency", null_regency, "blocked", COV, "regency present"),
    Case("coverage-emptied", coverage_emptied, "blocked", COV, "coverage not empty"),
    Case("rows-unbalanced", rows_unbalanced, "blocked", "marts.mart_load_quality", "rows in = loaded + quarantined"),
    Case("promise-status-unknown", promise_status_unknown, "blocked", "marts.mart_promise_vs_delivery",
         "promise status closed list"),
    Case("findings-mart-missing", findings_mart_missing, "blocked", "marts.mart_audit_findings", "finding rules ran"),
    Case("promised-missing", promised_missing, "blocked", "check.promises",
         "promised present where an accepted promise is in force"),
    Case("raw-nik-bad-shape", raw_nik_bad_shape, "blocked", "raw.register", "nik shape"),
    Case("raw-occupation-missing", raw_occupation_missing, "blocked", "raw.register", "occupation required"),
    Case("raw-start-1900", raw_start_1900, "blocked", "raw.register", "coverage_start in range"),
    Case("raw-negative-payment", raw_negative_payment, "blocked", "raw.contributions", "amount_paid non-negative"),
    # warnings
    Case("paid-above-billed", paid_far_above_billed, "warned", COV, "paid <= billed within tolerance"),
    Case("load-quality-shrunk", load_quality_shrunk, "warned", "marts.mart_load_quality",
         "row count within tolerance of previous"),
]


def _assert_blocked(home: Path, out, before: str, run_id: str) -> None:
    s = settings(home)
    assert not out.published, "published a damaged warehouse"
    assert sha(s.published_db) == before, "the published file changed"
    assert out.candidate == s.candidate_db(run_id) and out.candidate.exists(), "the candidate was not kept"
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        assert con.execute("select status from audit.publishes where run_id = ?", [run_id]).fetchone() == ("blocked",)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_damage_is_blocked_or_warned(case, home, base):
    s = settings(home)
    before = sha(s.published_db)
    with duckdb.connect(str(s.work_db)) as con:
        words = case.damage(con)
    run_id = f"damaged-{case.id}"
    out = pipeline.gate_and_publish(s, run_id)
    hits = [r for r in out.gate.results if not r.success and r.table_name == case.table
            and r.expectation.startswith(case.check)]
    assert hits, f"{case.check} on {case.table} did not fail; failed: {sorted(failed(out))}"
    if case.verdict == "blocked":
        assert all(r.severity == "error" for r in hits)
        _assert_blocked(home, out, before, run_id)
    else:
        assert out.published, out.message
        assert all(r.severity == "warn" for r in hits)
        assert (case.table, hits[0].expectation) not in base[1], "the warning fails on the undamaged warehouse too"
        assert sha(s.published_db) != before
    sample = " | ".join(r.unexpected_sample or "" for r in hits) + " ".join(r.details or "" for r in hits)
    for w in words:
        assert w in sample, f"{w!r} not in the sample: {sample}"
    for r in hits:   # stored in English, read in Indonesian: every sentence's problem has a gate.problem.* entry
        for item in gate_texts.sample(r.unexpected_sample, "en") or []:
            _, sep, said = item.partition(": ")
            assert not sep or gate_texts.sample_item(item, "id").split(": ", 1)[1] != said, item
    assert NIK not in json.dumps([r.__dict__ for r in out.gate.results], default=str)


# ------------------------------------------------------------------------------------------ with dbt ---------
def test_publish_after_a_failed_build_is_refused(home):
    """`cakupan publish` after a dbt build that failed: exit 2, nothing published, the failed build named."""
    from _support import run_cli
    from cakupan.transform import DbtError

    s = settings(home)
    before = sha(s.published_db)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAKUPAN_DUCKDB_MEMORY_LIMIT", "lots")       # dbt-duckdb cannot open the warehouse with it
        with pytest.raises(DbtError):
            pipeline.build(s, build_id="broken-build")
    proc = run_cli(home, "publish", "--run-id", "after-broken-build", "--json", check=False,
                   CAKUPAN_CONFIG=str(s.config_dir))
    assert proc.returncode == 2, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    (failure,) = [f for f in out["failed"] if f["check"] == BUILD]
    assert failure["severity"] == "error" and not out["published"]
    assert sha(s.published_db) == before and s.candidate_db("after-broken-build").exists()
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        sample = con.execute("select unexpected_sample from audit.checks where run_id = 'after-broken-build' and "
                             "expectation = ?", [BUILD]).fetchone()[0]
    assert "broken-build" in sample and "failed" in sample


def test_a_month_without_a_register_delivery_warns_with_regency_and_month(base):
    """Sidrap's May register never arrived (the base warehouse): its April register governs May (domain.md),
    published with a warning naming the regency, the month and the register carried forward."""
    home, _, out = base
    assert out.published
    with duckdb.connect(str(settings(home).work_db), read_only=True) as con:
        april, april_file = _register_row(con, "73.14", "2025-04")[::2]
    (hit,) = [r for r in out.gate.warnings if r.expectation == DELIVERED]
    want = (f"Kabupaten Sidenreng Rappang (73.14) 2025-05: no register delivered for this month: enrolled carried "
            f"forward from the register of 2025-04 (load {april}, {april_file})")
    assert json.loads(hit.unexpected_sample) == [want]


# ------------------------------------------------------------------------------------------ personal data ----
def _text_of(db: Path) -> str:
    """Every value of every table of a DuckDB file, as text."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        return "\n".join(str(con.execute(f'select * from "{s_}"."{t}"').fetchall()) for s_, t in tables)


def test_a_blocked_nik_is_stored_nowhere_and_not_published_later(home):
    s = settings(home)
    with duckdb.connect(str(s.work_db)) as con:
        lid, row = _one(con, "select load_id, source_row from quarantine.rows order by all limit 1")
        key = _one(con, "select participant_key from quarantine.rows where load_id = ? and source_row = ?",
                   [lid, row])[0]
        con.execute("update quarantine.rows set participant_key = ? where load_id = ? and source_row = ?",
                    [NIK, lid, row])
        # a check result an older version stored with the value in its sample
        con.execute("insert into audit.checks select * replace ('older-run' as run_id, ? as unexpected_sample) "
                    "from audit.checks limit 1", [json.dumps([NIK])])
    out = pipeline.gate_and_publish(s, "nik-blocked")
    assert not out.published and any(r.expectation == PSEUDONYMS for r in out.gate.errors)
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        stored = con.execute("select * from audit.checks where run_id = 'nik-blocked'").fetchall()
    assert stored and NIK not in str(stored)
    docs = list((s.reports_dir / "gx" / "nik-blocked").rglob("*"))
    assert any(p.suffix == ".html" for p in docs)
    assert not [p for p in docs if p.is_file() and NIK in p.read_text(encoding="utf-8", errors="replace")]
    with duckdb.connect(str(out.candidate), read_only=True) as con:
        assert NIK not in str(con.execute("select * from audit.checks").fetchall())
    # the row is put right: the next publish is clean, and exports no trace of the NIK, whoever stored it
    with duckdb.connect(str(s.work_db)) as con:
        con.execute("update quarantine.rows set participant_key = ? where load_id = ? and source_row = ?",
                    [key, lid, row])
    assert pipeline.gate_and_publish(s, "nik-put-right").published
    published = _text_of(s.published_db)
    assert NIK not in published and "[16-digit number removed]" in published


def test_the_auditor_report_names_where_a_check_failed(home):
    """The checks page of the auditor report shows a failed check's rows in words: regency, month, file, row; in
    Bahasa Indonesia by default (the gate stores English: audit.checks' sample), in English on the switch."""
    import html

    from cakupan.auditor.report import write_report
    from cakupan.core.messages import using

    s = settings(home)
    with duckdb.connect(str(s.work_db)) as con:
        (words,) = figure_plus_five(con)
        lid, row, file = _register_row(con, "73.73", "2025-03")
        con.execute("update raw.register set coverage_end = coverage_start - interval 1 day where load_id = ? and "
                    "source_row = ?", [lid, row])
    assert not pipeline.gate_and_publish(s, "report-words").published
    with using("en"):
        page = html.unescape(write_report(s).read_text(encoding="utf-8"))
    assert words in page
    assert f"row {row}, of register {file} (load {lid}; Kota Palopo (73.73), 2025-03)" in page
    page = html.unescape(write_report(s).read_text(encoding="utf-8"))
    n = int(words.rsplit(" holds ", 1)[1].split()[0])    # the lineage's workers; the figure was made n + 5
    assert (f"Kota Parepare (73.72) 2025-04: angka terdaftar {n + 5} padahal asal-usul angka memuat {n} pekerja "
            "terdaftar") in page
    assert f"baris {row}, dari register peserta {file} (muatan {lid}; Kota Palopo (73.73), 2025-03)" in page
    assert words not in page
