"""Restatements end to end (real ingest, dbt, GX gate, publish): a corrected register delivered after its month
was published is recorded old -> new with the load that caused it, published as mart_restatements, and the earlier
state stays readable as it was."""

from __future__ import annotations

import json
import shutil
from contextlib import closing

import duckdb
import pytest
from _support import run_cli
from cakupan import pipeline
from cakupan.targets import history
from history_states import snapshot

pytestmark = pytest.mark.integration
FILES = {"CAKUPAN_HISTORY_FILES": "1"}


def test_a_late_correction_is_a_restatement_and_as_of_still_shows_the_first_figures(settings_factory, synth_inbox,
                                                                                    tmp_path):
    s = settings_factory(history_files=1)    # every state but the newest: in the changed-rows store only
    truth = synth_inbox(s.home, regencies=("73.72", "73.73"), months=("2025-03", "2025-04", "2025-05"),
                        workers=15, scenarios=("correction",))
    fix = next(e for e in truth["injected"] if e["scenario"] == "correction")
    assert fix["enrolled_first_delivery"] != fix["enrolled_corrected"]
    held = tmp_path / "koreksi"
    held.mkdir()
    shutil.move(s.inbox / fix["file"], held / "f")          # the correction arrives after the first publish
    assert pipeline.run_all(s, run_id="first").published
    first_copy = tmp_path / "first.duckdb"
    shutil.copyfile(s.published_db, first_copy)
    with closing(duckdb.connect(str(s.published_db), read_only=True)) as con:
        assert con.execute("select count(*) from marts.mart_restatements").fetchone()[0] == 0  # nothing restated yet
        first = {(r, str(m)[:7]): e for r, m, e in con.execute(
            "select regency_code, month_start, enrolled from marts.mart_coverage_monthly").fetchall()}
    key = (fix["regency_code"], fix["month"])
    assert first[key] == fix["enrolled_first_delivery"]

    shutil.move(held / "f", s.inbox / fix["file"])
    assert pipeline.run_all(s, run_id="second").published
    with closing(duckdb.connect(str(s.published_db), read_only=True)) as con:
        rows = con.execute("select regency_code, strftime(month_start, '%Y-%m'), measure, old_value, new_value, "
                           "previous_run_id, restated_in_run_id, caused_by from marts.mart_restatements").fetchall()
        load = con.execute("select load_id from audit.loads_published where source_file = ?",
                           [fix["file"]]).fetchone()[0]
    enrolled = [r for r in rows if r[2] == "enrolled"]
    assert [r[:5] for r in enrolled] == [(*key, "enrolled", fix["enrolled_first_delivery"], fix["enrolled_corrected"])]
    assert enrolled[0][5] == "first" and enrolled[0][6] is None     # restated by the publish carrying the mart
    assert f"load {load} " in enrolled[0][7] and fix["file"].split("/")[1] in enrolled[0][7]
    assert {r[0] for r in rows} == {fix["regency_code"]}            # the other regency was not touched

    # the earlier state, exactly: as-of the first publish reads the first file's figures
    one = history.find(s, "first")
    out = run_cli(s.home, "coverage", "--json", "--as-of", one.published_at.isoformat(), **FILES).stdout
    then = {(r["regency_code"], r["month"]): r["enrolled"] for r in map(json.loads, out.splitlines())}
    assert then == {k: v for k, v in first.items()}
    # every table of the first published file, rebuilt from the store: columns, types and rows
    assert not one.kept and snapshot(history.state_file(s, one)) == snapshot(first_copy)
    # and its trace: the first publish's figure comes from the first delivery, today's from the correction
    traced = {}
    for when in (one.published_at.isoformat(), "2999-01-01"):
        t = json.loads(run_cli(s.home, "trace", "mart_coverage_monthly", *key, "--as-of", when, "--json",
                               **FILES).stdout)
        traced[when] = (t["figure"], {r["source_file"] for r in t["rows"] if r["measure"] == "enrolled"})
    assert traced[one.published_at.isoformat()] == (fix["enrolled_first_delivery"], {fix["supersedes"]})
    assert traced["2999-01-01"] == (fix["enrolled_corrected"], {fix["file"]})
    diff = run_cli(s.home, "diff", "first", "second", "--json", **FILES).stdout.splitlines()
    assert {(d["regency_code"], d["month"]) for d in map(json.loads, diff) if d["measure"] == "enrolled"} == {key}
    # a third publish with nothing new restates nothing more, and keeps the earlier restatement with its run ids
    assert pipeline.run_all(s, run_id="third").published
    with closing(duckdb.connect(str(s.published_db), read_only=True)) as con:
        again = con.execute("select previous_run_id, restated_in_run_id from marts.mart_restatements "
                            "where measure = 'enrolled'").fetchall()
    assert again == [("first", "second")]
