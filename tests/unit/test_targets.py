"""targets.base: the published set from dbt's tag, the publish record by column name, the target a setting picks,
and `publish_run`'s order of steps (gate → record → promote or keep) on a stand-in target."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from cakupan import quality
from cakupan.core.settings import Settings
from cakupan.orchestration import MANIFEST_PATH
from cakupan.quality import CheckResult, GateResult
from cakupan.targets import for_settings
from cakupan.targets.base import (
    Candidate,
    PublishRecord,
    Target,
    insert_publish_record,
    publish_run,
    published_marts,
)
from cakupan.targets.duckdb import DuckDBTarget
from cakupan.targets.postgres.target import PostgresTarget
from cakupan.targets.published_file import PublishError
from cakupan.targets.zones import AUDIT_DDL, connect_work


@pytest.fixture(autouse=True)
def _english(settings_factory, monkeypatch):
    """These tests read the English text of the catalogue's error messages (tests/i18n reads both languages);
    after settings_factory, which cleans every CAKUPAN_ variable."""
    monkeypatch.setenv("CAKUPAN_LANG", "en")

# the marts BI reads, written out: a model losing (or gaining) the `published` tag must fail here
PUBLISHED = ["mart_audit_findings", "mart_claims_summary", "mart_coverage_monthly", "mart_delivery_calendar",
             "mart_findings_evidence", "mart_lineage", "mart_load_quality", "mart_promise_vs_delivery",
             "mart_restatements"]


def _manifest(path: Path, models: dict[str, list[str]]) -> Path:
    nodes = {f"model.cakupan.{m}": {"resource_type": "model", "name": m, "alias": m, "tags": tags}
             for m, tags in models.items()}
    nodes["test.cakupan.t"] = {"resource_type": "test", "name": "t", "alias": "t", "tags": ["published"]}
    path.write_text(json.dumps({"nodes": nodes}))
    return path


def test_the_project_publishes_the_models_tagged_published():
    assert published_marts(MANIFEST_PATH) == PUBLISHED


def test_the_tag_decides_not_the_name_and_the_order_is_by_name(tmp_path):
    m = _manifest(tmp_path / "manifest.json", {"mart_zeta": ["published"], "mart_untagged": [],
                                                "coverage_extra": ["published", "x"], "mart_alpha": ["published"]})
    assert published_marts(m) == ["coverage_extra", "mart_alpha", "mart_zeta"]


def test_no_manifest_is_a_publish_error(tmp_path):
    with pytest.raises(PublishError, match="no dbt manifest"):
        published_marts(tmp_path / "missing.json")


def test_the_home_build_manifest_wins_over_the_project_one(settings_factory):
    target = for_settings(settings_factory())
    assert target.manifest() == MANIFEST_PATH
    built = target.dbt_target_path / "manifest.json"
    built.parent.mkdir(parents=True)
    _manifest(built, {"mart_only_here": ["published"]})
    assert target.manifest() == built
    assert published_marts(target.manifest()) == ["mart_only_here"]


def test_the_setting_picks_the_target(settings_factory):
    duck = for_settings(settings_factory())
    pg = for_settings(settings_factory(target="postgres", pg_dsn="host=h dbname=d"))
    home = duck.settings.home
    assert isinstance(duck, DuckDBTarget) and isinstance(pg, PostgresTarget)
    assert duck.dbt_target_path == home / "dbt" / "target-duckdb"
    assert pg.dbt_target_path == home / "dbt" / "target-postgres"
    assert duck.dbt_env() == {"CAKUPAN_TARGET": "duckdb", "CAKUPAN_WORK_DB": str(home / "warehouse" / "work.duckdb")}
    assert pg.dbt_env()["CAKUPAN_TARGET"] == "postgres" and pg.dbt_env()["CAKUPAN_PG_HOST"] == "h"


def test_the_publish_record_is_the_audit_publishes_row_by_column_name():
    con = duckdb.connect()
    con.execute(AUDIT_DDL)
    cols = [c for (c,) in con.execute("select column_name from information_schema.columns where table_schema = "
                                      "'audit' and table_name = 'publishes' order by ordinal_position").fetchall()]
    assert cols == list(PublishRecord.__dataclass_fields__)
    # by name: a table with the columns in another order gets each value in its column
    con.execute("create table shuffled as select " + ", ".join(reversed(cols)) + " from audit.publishes")
    now = dt.datetime(2025, 5, 1, 12)
    insert_publish_record(con, PublishRecord("r1", now, "blocked", "c" * 64, None, "1,2", False, 3, 1, "gate failed"),
                          table="shuffled")
    row = con.execute("select run_id, published_at, status, input_loads, errors, warnings, message from shuffled").fetchone()
    assert row == ("r1", now, "blocked", "1,2", 3, 1, "gate failed")


# ----------------------------------------------------------------------------------------- publish_run ----------
class StandIn(Target):
    """A target that records the steps publish_run asks of it."""

    name = "duckdb"

    def __init__(self, settings, gate: GateResult, fail: str | None = None):
        super().__init__(settings)
        self.result, self.fail, self.steps = gate, fail, []

    def build_candidate(self, run_id, marts):
        self.steps.append(("build", tuple(marts)))
        return Candidate(run_id, "c" * 64, self.settings.candidate_db(run_id))

    def gate(self, candidate, work_con, recheck_raw):
        self.steps.append(("gate", recheck_raw))
        return self.result

    def add_verdict(self, candidate, gate, record, raw_validated_at=None):
        self.steps.append(("verdict", record.status, raw_validated_at is not None))

    def keep_blocked(self, candidate):
        self.steps.append(("keep",))
        return candidate.path, "kept"

    def promote(self, candidate):
        self.steps.append(("promote",))
        if self.fail == "promote":
            raise PublishError("could not rename")

    def export_published(self, candidate):
        self.steps.append(("export",))
        if self.fail == "export":
            raise OSError("disk full")
        return "p" * 64


@pytest.fixture(scope="module")
def work_template(tmp_path_factory) -> Path:
    settings = Settings.from_env(home=tmp_path_factory.mktemp("work"), pseudonym_key="k")
    with connect_work(settings):
        pass
    return settings.work_db


@pytest.fixture
def settings(settings_factory, work_template, monkeypatch) -> Settings:
    monkeypatch.setattr(quality, "import_gx_meanwhile", lambda: None)
    s = settings_factory()
    s.ensure_dirs()
    shutil.copy(work_template, s.work_db)
    built = for_settings(s).dbt_target_path / "manifest.json"
    built.parent.mkdir(parents=True)
    _manifest(built, {"mart_b": ["published"], "mart_a": ["published"]})
    return s


def _gate(run_id: str, error: bool) -> GateResult:
    return GateResult(run_id, [CheckResult(run_id, "marts", "protected <= enrolled", "expect", "marts.m", None,
                                           "error", not error, None, None, None),
                               CheckResult(run_id, "marts", "fresh", "expect", "marts.m", None, "warn", False, None,
                                           None, None)])


def _records(settings) -> list[tuple]:
    with connect_work(settings) as con:
        return con.execute("select run_id, status, published_sha256, errors, warnings, message from audit.publishes "
                           "order by published_at").fetchall()


def test_a_blocked_run_is_recorded_and_kept(settings):
    target = StandIn(settings, _gate("r", error=True))
    out = publish_run(target, "r", recheck_raw=True)
    assert not out.published and out.candidate == settings.candidate_db("r")
    assert out.message == "gate failed: marts.m protected <= enrolled"
    assert target.steps == [("build", ("mart_a", "mart_b")), ("gate", True), ("verdict", "blocked", False),
                            ("keep",)]
    assert _records(settings) == [("r", "blocked", None, 1, 1, "gate failed: marts.m protected <= enrolled")]
    with connect_work(settings) as con:
        assert con.execute("select count(*) from audit.checks where run_id = 'r'").fetchone()[0] == 2


def test_a_passing_run_is_promoted_then_recorded(settings):
    target = StandIn(settings, _gate("r", error=False))
    out = publish_run(target, "r")
    assert out.published and out.published_sha256 == "p" * 64 and out.message == "2 checks, 1 warnings"
    assert [s[0] for s in target.steps] == ["build", "gate", "verdict", "promote", "export"]
    assert ("verdict", "published", True) in target.steps
    assert _records(settings) == [("r", "published", "p" * 64, 0, 1, "2 checks, 1 warnings")]


def test_a_failed_promote_records_nothing(settings):
    target = StandIn(settings, _gate("r", error=False), fail="promote")
    with pytest.raises(PublishError):
        publish_run(target, "r")
    assert _records(settings) == []


def test_a_promoted_run_whose_file_export_failed_is_still_recorded(settings):
    target = StandIn(settings, _gate("r", error=False), fail="export")
    with pytest.raises(OSError, match="disk full"):
        publish_run(target, "r")
    failed = "2 checks, 1 warnings; the DuckDB export of the published schema failed"
    assert _records(settings) == [("r", "published", None, 0, 1, failed)]
    assert target.steps[-1] == ("export",)
