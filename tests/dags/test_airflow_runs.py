"""Real Airflow runs (`airflow dags test`): ingest then transform/publish over synthetic files."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from _support import DBT_TASKS, ROOT, SHARED, airflow_dags_test, dag_run_succeeded

pytestmark = pytest.mark.integration


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def published_home(tmp_path_factory, airflow_home):
    """A home where ingest and transform/publish ran through Airflow over good files and one corrupt file."""
    from cakupan_dev.synth import SynthSpec, generate

    home = tmp_path_factory.mktemp("cakupan-airflow")
    # a regency the repository does not configure (Kabupaten Pinrang) is added by one YAML file, no code
    config = home / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "regencies" / "73.15.yml").write_text(
        'code: "73.15"\nname: Kabupaten Pinrang\naliases: [Pinrang, Kab. Pinrang]\ndefault_funding_source: APBD\n')
    truth = generate(SynthSpec(regencies=["73.72", "73.73", "73.15"], months=["2025-03", "2025-04", "2025-05"],
                               workers=15, seed=21, scenarios=("partial_payment", "correction")), home / "inbox")
    (home / "inbox" / "73.72" / "register_parepare_2025-06.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    # the real press releases: Parepare's MoU (1,000 from April 2025) and Palopo's (4,000 from March 2025)
    (home / "inbox" / "reports").mkdir()
    for article in (SHARED / "city_reports").glob("*.txt"):
        shutil.copy2(article, home / "inbox" / "reports" / article.name)
    ingest = airflow_dags_test(airflow_home, home, "cakupan_ingest", CAKUPAN_CONFIG=str(config))
    transform = airflow_dags_test(airflow_home, home, "cakupan_transform_publish", CAKUPAN_CONFIG=str(config))
    return home, truth, ingest, transform


def test_ingest_dag_quarantines_the_bad_file_and_loads_the_rest(published_home):
    home, truth, ingest, _ = published_home
    assert dag_run_succeeded(ingest), ingest.stdout[-3000:] + ingest.stderr[-3000:]
    with duckdb.connect(str(home / "warehouse" / "work.duckdb"), read_only=True) as con:
        loads = {r[0]: r[1:] for r in con.execute(
            "select file_name, status, error_code, rows_in, rows_loaded, rows_quarantined from audit.loads").fetchall()}
    assert loads["register_parepare_2025-06.xlsx"][:2] == ("rejected", "FILE_CORRUPT")
    assert any(name.startswith("register_pinrang_") for name in loads)      # the regency added by config only
    for f in truth["files"]:
        name = Path(f["path"]).name
        assert loads[name] == ("loaded", None, f["rows_in"], f["loaded"], f["quarantined"]), name


def test_transform_dag_publishes_marts_equal_to_ground_truth(published_home):
    home, truth, _, transform = published_home
    assert dag_run_succeeded(transform), transform.stdout[-4000:] + transform.stderr[-4000:]
    unit = truth["unit_premium"]
    expected: dict[tuple[str, str], list] = {}
    for r in truth["coverage"]:
        e = expected.setdefault((r["regency_code"], r["month"]), [0, 0, 0])
        e[1] += min(r["enrolled"], r["amount_paid"] // unit)
        e[2] += r["amount_paid"]
    for r in truth["coverage_by_regency_month"]:
        expected[(r["regency_code"], r["month"])][0] = r["enrolled"]
    with duckdb.connect(str(home / "published" / "cakupan.duckdb"), read_only=True) as con:
        got = {(r[0], r[1]): [r[2], r[3], float(r[4])] for r in con.execute(
            "select regency_code, strftime(month_start, '%Y-%m'), enrolled, protected, premium_paid "
            "from marts.mart_coverage_monthly").fetchall()}
        run = con.execute("select run_id, status from audit.publishes order by published_at desc limit 1").fetchone()
    assert got == {k: [v[0], v[1], float(v[2])] for k, v in expected.items()}
    assert run[0].startswith("manual__") and run[1] == "published"
    assert (home / "reports" / "site" / "index.html").exists()        # the auditor report task ran
    assert {k[0] for k in got} == {"73.72", "73.73", "73.15"}
    # no OpenLineage provider in this venv, so no reader of dbt's JSON artifacts: every cosmos task ran dbt without
    # writing them (orchestration.dbt_task_flags; with the provider, tests/dags/test_openlineage.py needs them)
    runs = [part.split("\n", 1)[0] for part in (transform.stdout + transform.stderr).split(
        "Trying to run dbtRunner with:\n")[1:]]                      # each cosmos task's dbt arguments
    assert len(runs) > 40 and all("'--no-write-json'" in args for args in runs), runs[:2]


def test_narrative_mou_facts_drive_promised_through_airflow(published_home):
    """domain.md: Parepare promised 1,000 from April 2025; Palopo 4,000 from March 2025 (MoU press releases)."""
    home, _, _, transform = published_home
    assert dag_run_succeeded(transform)
    with duckdb.connect(str(home / "published" / "cakupan.duckdb"), read_only=True) as con:
        promised = {(r[0], r[1]): r[2] for r in con.execute(
            "select regency_code, strftime(month_start, '%Y-%m'), promised from marts.mart_coverage_monthly"
        ).fetchall()}
        promises = con.execute("select regency_code, promised_count, effective_month, promise_source "
                               "from marts.mart_promise_vs_delivery where segment = 'pekerja_rentan' "
                               "and role in ('total', 'target') order by regency_code").fetchall()
    assert promised[("73.72", "2025-03")] is None                     # before the MoU took effect
    assert promised[("73.72", "2025-04")] == promised[("73.72", "2025-05")] == 1000
    assert promised[("73.73", "2025-03")] == 4000
    assert promised[("73.15", "2025-04")] is None                     # no promise for Pinrang
    assert [(r[0], r[1], r[2].isoformat(), r[3]) for r in promises] == [
        ("73.72", 1000, "2025-04-01", "narrative"), ("73.73", 4000, "2025-03-01", "narrative")]


# the incremental model a one-month backfill runs for real (its task: model + tests); every other dbt task is marked
BACKFILLED = "int_enrollments_by_month"


def test_a_one_month_backfill_reaches_dbt_and_the_gate_and_publishes_identical_marts(published_home, airflow_home):
    """A run with period_from = period_to = 2025-04 and recheck_raw: the period reaches the cosmos task's dbt (the
    model deletes and rebuilds April only: a stray April row goes, a stray March row stays), recheck_raw reaches the
    gate, and the marts published are the ones before. One incremental model's task runs for real, every other dbt
    task is marked done: the fixture's run built them all, and each costs a task start-up."""
    home, _, _, _ = published_home
    pub, work = home / "published" / "cakupan.duckdb", home / "warehouse" / "work.duckdb"
    query = "select * from marts.mart_coverage_monthly order by regency_code, month_start"
    table = f"intermediate.{BACKFILLED}"
    with duckdb.connect(str(pub), read_only=True) as con:
        before = con.execute(query).fetchall()
    with duckdb.connect(str(work)) as con:
        built = con.execute(f"select * from {table}").fetchall()
        march = con.execute(f"select * from {table} where month_start = date '2025-03-01' limit 1").fetchone()
        for month in ("2025-03-01", "2025-04-01"):          # a stray copy of one row, inside and outside the window
            con.execute(f"insert into {table} select * from {table} where month_start = date '{month}' limit 1")
    rerun = airflow_dags_test(airflow_home, home, "cakupan_transform_publish",
                              conf={"period_from": "2025-04", "period_to": "2025-04", "recheck_raw": True},
                              mark_success=rf"dbt\.(?!{BACKFILLED}_model_build$).+", CAKUPAN_CONFIG=str(home / "config"))
    assert dag_run_succeeded(rerun), rerun.stdout[-3000:] + rerun.stderr[-3000:]
    out = rerun.stdout + rerun.stderr
    assert out.count("Trying to run dbtRunner") == 1 and f"fqn:cakupan.intermediate.{BACKFILLED}'" in out
    with duckdb.connect(str(work), read_only=True) as con:
        after = con.execute(f"select * from {table}").fetchall()
    assert sorted(after, key=repr) == sorted([*built, march], key=repr)     # April rebuilt, March untouched
    with duckdb.connect(str(work)) as con:                                  # the table as built, for the next tests
        con.execute(f"delete from {table} where month_start = date '2025-03-01'")
        con.executemany(f"insert into {table} values ({', '.join('?' * len(march))})",
                        [r for r in built if r[1] == march[1]])
    with duckdb.connect(str(pub), read_only=True) as con:
        assert con.execute(query).fetchall() == before
        # the param reached the gate: this run's raw suite validated every raw row again
        details = con.execute("select details from audit.checks where table_name = 'raw.register' "
                              "order by checked_at desc limit 1").fetchone()[0]
        rows, loads = con.execute("select sum(rows_loaded), count(*) filter (where rows_loaded > 0) "
                                  "from audit.loads_published "
                                  "where source = 'register' and status = 'loaded'").fetchone()
    assert details == f"every raw row (recheck): {rows} rows of {loads} loads"


def _marts(path: Path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables where table_schema = "
                                           "'marts' order by 1").fetchall()]
        return {n: sorted(con.execute(f'select * from marts."{n}"').fetchall(), key=repr) for n in names}


def test_one_dbt_build_task_publishes_the_same_marts_as_a_task_per_model(published_home, airflow_home, tmp_path):
    """CAKUPAN_DBT_TASKS=build: the DAG runs one `dbt build` task instead of a cosmos task per model; over the
    same warehouse it publishes exactly the marts the task-per-model run published."""
    home = tmp_path / "home"
    shutil.copytree(published_home[0], home)
    before = _marts(home / "published" / "cakupan.duckdb")
    run = airflow_dags_test(airflow_home, home, "cakupan_transform_publish", CAKUPAN_CONFIG=str(home / "config"),
                            CAKUPAN_DBT_TASKS="build")
    assert dag_run_succeeded(run), run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout + run.stderr
    assert "dbt_build" in out and "dbt.stg_" not in out            # one build task, no cosmos task ran
    assert _marts(home / "published" / "cakupan.duckdb") == before


def test_a_run_whose_gate_fails_leaves_the_published_file_unchanged(published_home, airflow_home):
    home, _, _, _ = published_home
    pub = home / "published" / "cakupan.duckdb"
    before = sha(pub)
    # the raw zone gets corrupted behind the loader's back: a start date no contract allows
    with duckdb.connect(str(home / "warehouse" / "work.duckdb")) as con:
        con.execute("update raw.register set coverage_start = date '1900-01-01' where source_row = "
                    "(select min(source_row) from raw.register)")
    # the build the gate checks is the one already in the warehouse (dbt does not touch the raw zone), so the dbt
    # tasks are marked done and the run goes prepare → gate → report: the point is the gate and the publish
    failed = airflow_dags_test(airflow_home, home, "cakupan_transform_publish", mark_success=DBT_TASKS,
                               CAKUPAN_CONFIG=str(home / "config"))
    assert not dag_run_succeeded(failed)
    assert "state=failed" in failed.stdout + failed.stderr
    assert "Trying to run dbtRunner" not in failed.stdout + failed.stderr      # no dbt task ran: all were marked
    assert sha(pub) == before
    with duckdb.connect(str(home / "warehouse" / "work.duckdb"), read_only=True) as con:
        status = con.execute("select status from audit.publishes order by published_at desc limit 1").fetchone()[0]
        bad = con.execute("select count(*) from audit.checks where not success and severity = 'error' and "
                          "expectation = 'coverage_start in range'").fetchone()[0]
    assert status == "blocked" and bad >= 1


def test_a_run_whose_dbt_build_fails_blocks_a_later_publish(published_home, airflow_home, tmp_path):
    """A phantom regency 73.99 in the raw zone fails dbt's relationship test inside the Airflow run, which stops
    before the gate; the run's build is recorded as failed, and a `cakupan publish` afterwards refuses (exit 2).
    The run uses the one-task build (CAKUPAN_DBT_TASKS=build): a failed cosmos model task stops the gate the same
    way (any failed task upstream of it), and one task keeps this test to one dbt invocation."""
    from _support import run_cli

    home = tmp_path / "home"
    shutil.copytree(published_home[0], home)
    pub = home / "published" / "cakupan.duckdb"
    before = sha(pub)
    with duckdb.connect(str(home / "warehouse" / "work.duckdb")) as con:
        con.execute("update raw.register set regency_code = '73.99' where load_id = (select min(load_id) from "
                    "audit.loads where source = 'register' and status = 'loaded')")
    run = airflow_dags_test(airflow_home, home, "cakupan_transform_publish", CAKUPAN_CONFIG=str(home / "config"),
                            CAKUPAN_DBT_TASKS="build")
    assert not dag_run_succeeded(run)
    assert "relationships" in run.stdout + run.stderr               # dbt's own failing test is in the task log
    with duckdb.connect(str(home / "warehouse" / "work.duckdb"), read_only=True) as con:
        build_id, status = con.execute("select build_id, status from audit.builds order by started_at desc "
                                       "limit 1").fetchone()
    assert build_id.startswith("manual__") and status == "failed"
    proc = run_cli(home, "publish", "--json", check=False, CAKUPAN_CONFIG=str(home / "config"))
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert any(f["check"] == "the last dbt build succeeded" for f in json.loads(proc.stdout)["failed"])
    assert sha(pub) == before


def test_an_ingest_run_whose_discovery_crashes_fails(airflow_home, tmp_path):
    """A broken regency file stops discovery: the run must end failed (not 'success' with every later task
    skipped), so the failure shows in Airflow and its alerts."""
    home = tmp_path / "home"
    config = home / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "regencies" / "73.15.yml").write_text("code: [this is not a code\n")
    (home / "inbox" / "73.72").mkdir(parents=True)
    run = airflow_dags_test(airflow_home, home, "cakupan_ingest", CAKUPAN_CONFIG=str(config))
    out = run.stdout + run.stderr
    assert not dag_run_succeeded(run) and "state=failed" in out, out[-3000:]
