"""Settings from CAKUPAN_* environment variables (or explicit arguments), never from the current directory."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cakupan.core.messages import Msg, SettingsError  # SettingsError is defined with the catalogue

PACKAGE_DIR = Path(__file__).resolve().parents[1]
PROJECT_ROOT = PACKAGE_DIR.parents[1]
REFERENCE_DIR = PACKAGE_DIR / "reference" / "idn-area-data"
CONTRACTS_DIR = PACKAGE_DIR / "contracts"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


@dataclass(frozen=True)
class Settings:
    """Where everything lives; one object passed explicitly to every step."""

    home: Path
    inbox: Path
    config_dir: Path
    target: str = "duckdb"
    pseudonym_key: str | None = field(default=None, repr=False)
    pg_dsn: str | None = field(default=None, repr=False)
    history_keep: int = 5             # the newest N publishes are kept whatever their age (targets.history)
    history_days: int = 90            # every publish of the last N days
    history_monthly: int | None = None  # then the last publish of each month for N months (None: for ever)
    history_files: int = 5            # whole files for the newest N states; older ones in the changed-rows store
    settle_seconds: float = 2.0     # an inbox file changed more recently than this waits for the next ingest
    ingest_memory_limit: str = "128MB"  # DuckDB's memory_limit while the loader writes the work file

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Build settings from CAKUPAN_* variables, with keyword overrides."""
        env = os.environ
        home = Path(overrides.pop("home", None) or env.get("CAKUPAN_HOME") or PROJECT_ROOT / "var")
        values = {
            "home": home,
            "inbox": Path(env.get("CAKUPAN_INBOX") or home / "inbox"),
            "config_dir": Path(env.get("CAKUPAN_CONFIG") or PROJECT_ROOT / "config"),
            "target": env.get("CAKUPAN_TARGET", "duckdb"),
            "pseudonym_key": env.get("CAKUPAN_PSEUDONYM_KEY"),
            "pg_dsn": env.get("CAKUPAN_PG_DSN"),
            "history_keep": _int(env, "CAKUPAN_HISTORY_KEEP", "5"),
            "history_days": _int(env, "CAKUPAN_HISTORY_DAYS", "90"),
            "history_monthly": (None if env.get("CAKUPAN_HISTORY_MONTHLY", "all").strip().lower() in ("all", "")
                                else _int(env, "CAKUPAN_HISTORY_MONTHLY", "all")),
            "history_files": _int(env, "CAKUPAN_HISTORY_FILES", "5"),
            "settle_seconds": _seconds(env.get("CAKUPAN_SETTLE_SECONDS", "2")),
            "ingest_memory_limit": _memory(env, "CAKUPAN_INGEST_MEMORY_LIMIT", "128MB"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("home", "inbox", "config_dir"):
            values[key] = Path(values[key]).resolve()
        s = cls(**values)
        if s.target not in ("duckdb", "postgres"):
            raise SettingsError(Msg("error.settings.target", value=repr(s.target)))
        return s

    def require_key(self) -> bytes:
        """Return the pseudonym secret, or fail with a clear message."""
        if not self.pseudonym_key:
            raise SettingsError(Msg("error.settings.no_key"))
        return self.pseudonym_key.encode("utf-8")

    # --- the zones -------------------------------------------------------------------------------------------
    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def work_db(self) -> Path:
        """The one file the pipeline writes: raw, quarantine, audit and the dbt build."""
        return self.warehouse_dir / "work.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.home / "published"

    @property
    def published_db(self) -> Path:
        """The file BI tools and the auditor report open, read-only."""
        return self.published_dir / "cakupan.duckdb"

    def candidate_db(self, run_id: str) -> Path:
        return self.published_dir / f"next-{safe_id(run_id)}.duckdb"

    @property
    def history_dir(self) -> Path:
        return self.published_dir / "history"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    def ensure_dirs(self) -> None:
        """Create the zone folders."""
        for p in (self.warehouse_dir, self.published_dir, self.history_dir, self.reports_dir, self.inbox):
            p.mkdir(parents=True, exist_ok=True)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 86400:
        raise SettingsError(Msg("error.settings.settle_seconds", value=repr(text)))
    return value


def _int(env, name: str, default: str) -> int:
    text = env.get(name, default)
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(Msg("error.settings.not_whole", name=name, value=repr(text))) from None
    if value < 0:
        raise SettingsError(Msg("error.settings.negative", name=name, value=repr(text)))
    return value


_MEMORY = re.compile(r"\d+(\.\d+)?\s*([KMGT]i?B|%)", re.IGNORECASE)


def _memory(env, name: str, default: str) -> str:
    """A DuckDB memory size (`256MB`, `1GB`, `10%`), checked here so a typo is one clear line, not a DuckDB error."""
    text = env.get(name, default).strip()
    if not _MEMORY.fullmatch(text):
        raise SettingsError(Msg("error.settings.memory", name=name, value=repr(text)))
    return text


def safe_id(run_id: str) -> str:
    """Make a run id safe to use in a file name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
