"""What a run after new deliveries does less of, and that it still checks everything it must.

- The raw suite validates each load once per suite version: later gates check only loads no published run has
  validated as they stand, a load that fails is checked again on every run until it passes, a load whose rows were
  changed behind the loader's back is checked again, and `recheck_raw` checks all rows.
- A backfill window rebuilds its months with a delete by (regency, month) and leaves every other month alone.
- The lineage pseudonym check reads each distinct key once and still catches one bad key.

Expected values come from the warehouse's raw tables and the manifest, never from the gate's own output.
"""

from __future__ import annotations

import re
import shutil

import duckdb
import pytest
from cakupan import pipeline
from cakupan.transform import dbt_vars, run_dbt

pytestmark = pytest.mark.integration

RAW = ("register", "contributions", "claims", "city_report")


def loads_with_raw_rows(con, where: str = "true") -> set[int]:
    union = " union ".join(f"select distinct load_id from raw.{t}" for t in RAW)
    return {r[0] for r in con.execute(f"select load_id from ({union}) where {where}").fetchall()}


def raw_details(out, table: str = "raw.register") -> set[str]:
    return {r.details for r in out.gate.results if r.suite == "raw" and r.table_name == table}


def test_the_raw_suite_checks_each_load_once_until_it_changes(settings_factory, synth_inbox, tmp_path):
    s = settings_factory()
    synth_inbox(s.home)
    held = tmp_path / "held"
    held.mkdir()
    for f in s.inbox.rglob("register_*_2025-05.*"):   # one regency-month each, delivered after the first run
        shutil.move(f, held / f"{f.parent.name}__{f.name}")
    first = pipeline.run_all(s, run_id="first")
    assert first.published, first.message
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        first_loads = loads_with_raw_rows(con)
        n_register = con.execute("select count(*) from raw.register").fetchone()[0]
        recorded = con.execute("select load_id, run_id from audit.raw_validations").fetchall()
    # 3 regencies: two register months and one contributions file each
    assert len(first_loads) == 9 and {lid for lid, _ in recorded} == first_loads and len(recorded) == 9
    assert {run for _, run in recorded} == {"first"}
    assert raw_details(first) == {(f"{n_register} rows of 6 loads new or changed since validated under raw suite "
                                  f"{first.gate.raw_suite_sha256[:12]}")}

    for f in held.iterdir():                            # the new month's files arrive
        code, name = f.name.split("__")
        shutil.move(f, s.inbox / code / name)
    second = pipeline.run_all(s, run_id="second")
    assert second.published, second.message
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        new = loads_with_raw_rows(con, "load_id in (select load_id from audit.loads where run_id = 'second')")
        new_rows = con.execute("select count(*) from raw.register where load_id in "
                               "(select load_id from audit.loads where run_id = 'second')").fetchone()[0]
        by_run = dict(con.execute("select run_id, count(*) from audit.raw_validations group by 1").fetchall())
    assert len(new) == 3 and new_rows > 0
    suite = second.gate.raw_suite_sha256[:12]
    assert raw_details(second) == {(f"{new_rows} rows of 3 loads new or changed since validated under raw suite "
                                   f"{suite}; 6 loads unchanged since validated by an earlier published run")}
    assert {lid for lid, *_ in second.gate.raw_loads} == new and by_run == {"first": 9, "second": 3}
    # the contributions were all validated by the first run: this gate checked none of their rows, and passed
    assert raw_details(second, "raw.contributions") == {
        (f"0 rows of 0 loads new or changed since validated under raw suite {suite}; 3 loads unchanged since "
        "validated by an earlier published run")}
    # the published file carries the record, for auditors
    with duckdb.connect(str(s.published_db), read_only=True) as con:
        assert dict(con.execute("select run_id, count(*) from audit.raw_validations group by 1").fetchall()) == by_run

    # a raw row that breaks its contract (a loader bug) in a load no gate has seen blocks the publish ...
    with duckdb.connect(str(s.work_db)) as con:
        con.execute("insert into raw.register select * replace (999999 as load_id, '12345' as nik) "
                    "from raw.register limit 1")
    blocked = pipeline.gate_and_publish(s, "blocked-1")
    assert not blocked.published
    assert {(r.table_name, r.expectation) for r in blocked.gate.errors} >= {("raw.register", "nik shape")}
    # ... records nothing, and blocks the next run too: the load is checked again until it passes
    again = pipeline.gate_and_publish(s, "blocked-2")
    assert not again.published and any(r.expectation == "nik shape" for r in again.gate.errors)
    with duckdb.connect(str(s.work_db)) as con:
        assert con.execute("select count(*) from audit.raw_validations where load_id = 999999").fetchone()[0] == 0
        con.execute("delete from raw.register where load_id = 999999")
        # a row of a load validated by the first run, changed behind the loader's back: its load is checked again
        lid, row, start = con.execute("select load_id, source_row, coverage_start from raw.register where load_id = "
                                      "(select min(load_id) from audit.raw_validations where run_id = 'first' "
                                      "and source = 'register') order by source_row limit 1").fetchone()
        con.execute("update raw.register set coverage_start = date '1900-01-01' where load_id = ? and source_row = ?",
                    [lid, row])
        load_rows = con.execute("select count(*) from raw.register where load_id = ?", [lid]).fetchone()[0]
    tampered = pipeline.gate_and_publish(s, "tampered")
    assert not tampered.published
    assert any(r.expectation == "coverage_start in range" for r in tampered.gate.errors)
    assert raw_details(tampered) == {(f"{load_rows} rows of 1 loads new or changed since validated under raw suite "
                                     f"{suite}; 8 loads unchanged since validated by an earlier published run")}
    with duckdb.connect(str(s.work_db)) as con:        # put back as it was: validated as it stands, not again
        con.execute("update raw.register set coverage_start = ? where load_id = ? and source_row = ?",
                    [start, lid, row])
        total = con.execute("select count(*) from raw.register").fetchone()[0]
    assert pipeline.gate_and_publish(s, "restored").published
    # a recheck validates every raw row, whatever was recorded
    full = pipeline.gate_and_publish(s, "recheck", recheck_raw=True)
    assert full.published
    assert raw_details(full) == {f"every raw row (recheck): {total} rows of 9 loads"}
    with duckdb.connect(str(s.work_db), read_only=True) as con:   # a recheck records every load again
        assert con.execute("select count(*) from audit.raw_validations where run_id = 'recheck'").fetchone()[0] == 12


def test_a_backfill_window_deletes_and_rebuilds_only_its_months(settings_factory, synth_inbox, tmp_path):
    s = settings_factory()
    synth_inbox(s.home)
    assert pipeline.run_all(s).published
    tables = ("intermediate.int_enrollments_by_month",)
    before, stray_march = {}, {}
    with duckdb.connect(str(s.work_db)) as con:
        for t in tables:    # a stray row in April (inside the window) and one in March (outside it)
            before[t] = con.execute(f"select * from {t}").fetchall()
            stray_march[t] = con.execute(f"select * from {t} where month_start = '2025-03-01' limit 1").fetchone()
            con.execute(f"insert into {t} select * from {t} where month_start = '2025-04-01' limit 1")
            con.execute(f"insert into {t} select * from {t} where month_start = '2025-03-01' limit 1")
    target = tmp_path / "target"
    run_dbt(s, ["run", "--select", "int_enrollments_by_month"],
            vars=dbt_vars("2025-04", "2025-04"), target_path=target)
    with duckdb.connect(str(s.work_db), read_only=True) as con:
        for t in tables:
            after = con.execute(f"select * from {t}").fetchall()
            # April rebuilt exactly (its stray row deleted with the rest of April), March untouched (stray kept)
            assert sorted(after, key=repr) == sorted([*before[t], stray_march[t]], key=repr), t
    # the delete names the keys once each, not a join of every old row to every new row of its key
    sql = (target / "run" / "cakupan" / "models" / "intermediate" / "int_enrollments_by_month.sql").read_text()
    assert re.search(r"where \(regency_code, month_start\) in \(\s*select distinct regency_code, month_start", sql)
    assert " using " not in sql.lower()


def test_the_lineage_check_catches_one_key_that_is_not_a_pseudonym(settings_factory, synth_inbox):
    s = settings_factory()
    synth_inbox(s.home)
    assert pipeline.run_all(s).published
    with duckdb.connect(str(s.work_db)) as con:
        key, rows = con.execute("select participant_key, count(*) from marts.mart_lineage where measure = 'enrolled' "
                                "group by 1 having count(*) > 1 limit 1").fetchone()
        con.execute("update marts.mart_lineage set participant_key = 'not-a-pseudonym' where participant_key = ?", [key])
        total = con.execute("select count(*) from marts.mart_lineage").fetchone()[0]
    out = pipeline.gate_and_publish(s, "leaked-name")
    assert not out.published
    (check,) = [r for r in out.gate.errors if r.expectation.startswith("every participant_key")]
    # every lineage row holding it is named by where it is, never by the value (which could be a NIK)
    assert rows > 1 and check.unexpected_count == rows and "not-a-pseudonym" not in check.unexpected_sample
    assert "marts.mart_lineage.participant_key" in check.unexpected_sample
    # the mart's row-count check still counts every lineage row (all measures), not the distinct keys
    (count,) = [r for r in out.gate.results if r.table_name == "marts.mart_lineage"]
    assert count.expectation.startswith("row count within tolerance") and count.observed_value == str(total)
