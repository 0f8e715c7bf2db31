"""Helpers of the PostgreSQL tests (the fixtures are in conftest.py): run the CLI, write the inbox, the chains."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from cakupan_dev.pgcluster import PgCluster

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
CAKUPAN = Path(sys.executable).parent / "cakupan"
KEY = "postgres-test-pseudonym-key"
# what BI must find in `published`: the marts dbt tags `published`, written out so that a lost tag fails a test
PUBLISHED_MARTS = ("mart_audit_findings", "mart_claims_summary", "mart_coverage_monthly", "mart_findings_evidence",
                   "mart_lineage", "mart_load_quality", "mart_promise_vs_delivery", "mart_restatements",
                   "mart_delivery_calendar")


def child_env(home: Path, target: str, pg: PgCluster | None = None, dbname: str = "cakupan") -> dict[str, str]:
    """Environment of a `cakupan` subprocess: only this test's CAKUPAN_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAKUPAN_", "AIRFLOW_CONN_"))}
    # no .env of the repository: each test says what it sets
    env.update(CAKUPAN_HOME=str(home), CAKUPAN_PSEUDONYM_KEY=KEY, CAKUPAN_TARGET=target, NO_COLOR="1",
               CAKUPAN_ENV_FILE=os.devnull,
               DBT_SEND_ANONYMOUS_USAGE_STATS="False", GX_ANALYTICS_ENABLED="False")
    if pg is not None:
        env.update(pg.env(dbname=dbname))
    return env


def cli(home: Path, *args: str, target: str = "duckdb", pg: PgCluster | None = None, dbname: str = "cakupan",
        check: bool = True, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real `cakupan` CLI in a subprocess (`env`: more variables)."""
    proc = subprocess.run([str(CAKUPAN), *args], env={**child_env(home, target, pg, dbname), **(env or {})},
                          capture_output=True, text=True, timeout=600, check=False, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"cakupan {' '.join(args)} ({target}) failed ({proc.returncode}):\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def write_inbox(inbox: Path) -> dict:
    """Synthetic deliveries for Parepare and Sidrap (with rows to quarantine), plus (when present) the shared sample deliveries (claims,
    a structured city report, a correction) and the narrative city reports (promises), so every mart has rows."""
    from cakupan_dev.synth import SynthSpec, generate

    truth = generate(SynthSpec(regencies=["73.72", "73.14"], months=["2025-03", "2025-04", "2025-05"], workers=20,
                               seed=5, scenarios=("partial_payment", "correction", "bad_rows")), inbox)
    samples, reports = SHARED / "samples", SHARED / "city_reports"
    if samples.is_dir():
        for p in sorted(samples.iterdir()):
            if p.suffix.lower() in (".xlsx", ".xls", ".csv"):
                shutil.copy2(p, inbox / "73.14" / p.name)
    if reports.is_dir():
        (inbox / "reports").mkdir(exist_ok=True)
        for p in sorted(reports.iterdir()):
            shutil.copy2(p, inbox / "reports" / p.name)
    return truth


@dataclass
class Chains:
    """The same inbox run through the whole chain on each target."""

    pg: PgCluster
    dbname: str
    duck_home: Path
    pg_home: Path

    def settings(self, home: Path | None = None, dbname: str | None = None):
        from cakupan.core.settings import PROJECT_ROOT, Settings

        home = home or self.pg_home
        return Settings(home=home, inbox=home / "inbox", config_dir=PROJECT_ROOT / "config", target="postgres",
                        pseudonym_key=KEY, pg_dsn=self.pg.dsn(dbname=dbname or self.dbname))

    def clone(self, tmp: Path, name: str):
        """A private copy of the PostgreSQL chain (database from template + home folder) for tests that change it:
        returns (settings, dbname)."""
        db = f"{name}_{uuid.uuid4().hex[:8]}"
        self.pg.create_database(db, template=self.dbname)
        home = tmp / db
        shutil.copytree(self.pg_home, home, symlinks=True)
        return self.settings(home, db), db
