"""Audit-finding rules (config/findings.yml) → reference.finding_rules, the one table dbt reads them from.

The table is long: one row per parameter (kind = 'parameter', name like 'payment.due_day_of_next_month', number)
and one row per finding code (kind = 'code', name = the code, text = severity, plus category and title). The dbt
model int_findings_rules pivots the parameters into one row; fct_audit_findings joins the codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from cakupan.core.config import ConfigError
from cakupan.core.files import load_yaml
from cakupan.core.messages import Msg
from cakupan.targets.zones import insert_rows

FINDINGS_FILE = "findings.yml"
SEVERITIES = ("error", "warning", "info")
# every parameter the models read, with its section in findings.yml; all are required
PARAMETERS = (
    "payment.due_day_of_next_month", "payment.grace_days",
    "billing.count_tolerance", "billing.amount_tolerance",
    "age.min", "age.max",
    "promise.consecutive_months",
    "report.count_tolerance_workers", "report.count_tolerance_ratio", "report.rate_tolerance_points",
    "report.rate_window_months",
)
TABLE_DDL = ("create or replace table reference.finding_rules (kind varchar, name varchar, number_value double, "
             "text_value varchar, category varchar, title varchar)")


@dataclass(frozen=True)
class FindingCode:
    code: str
    severity: str
    category: str
    title: str


@dataclass(frozen=True)
class FindingRules:
    parameters: dict[str, float]
    codes: dict[str, FindingCode]

    def rows(self) -> list[tuple]:
        """Return the reference.finding_rules rows."""
        out: list[tuple] = [("parameter", k, float(v), None, None, None) for k, v in sorted(self.parameters.items())]
        out += [("code", c.code, None, c.severity, c.category, c.title) for c in self.codes.values()]
        return out


def load_finding_rules(config_dir: Path) -> FindingRules:
    """Read and check config/findings.yml; errors name the file and the key."""
    path = Path(config_dir) / FINDINGS_FILE
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(Msg("error.config.findings_missing", path=path)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(Msg("error.config.not_yaml", path=path, error=exc)) from None
    if not isinstance(data, dict):
        raise ConfigError(Msg("error.config.not_mapping", path=path))
    params: dict[str, float] = {}
    for name in PARAMETERS:
        section, key = name.split(".")
        value = (data.get(section) or {}).get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(Msg("error.config.not_number", path=path, key=name, value=repr(value)))
        if value < 0:
            raise ConfigError(Msg("error.config.negative", path=path, key=name))
        params[name] = float(value)
    if not 1 <= params["payment.due_day_of_next_month"] <= 28:
        raise ConfigError(Msg("error.config.due_day", path=path))
    if params["age.min"] >= params["age.max"]:
        raise ConfigError(Msg("error.config.age", path=path))
    if params["promise.consecutive_months"] < 1:
        raise ConfigError(Msg("error.config.consecutive", path=path))
    codes: dict[str, FindingCode] = {}
    for code, spec in (data.get("codes") or {}).items():
        if not isinstance(spec, dict):
            raise ConfigError(Msg("error.config.code_mapping", path=path, code=code))
        sev = spec.get("severity")
        if sev not in SEVERITIES:
            raise ConfigError(Msg("error.config.severity", path=path, code=code, severities=", ".join(SEVERITIES)))
        for k in ("category", "title"):
            if not spec.get(k):
                raise ConfigError(Msg("error.config.key_missing", path=path, key=f"codes.{code}.{k}"))
        codes[str(code)] = FindingCode(str(code), sev, str(spec["category"]), str(spec["title"]))
    if not codes:
        raise ConfigError(Msg("error.config.no_codes", path=path))
    return FindingRules(params, codes)


def write_finding_rules(con: duckdb.DuckDBPyConnection, config_dir: Path) -> int:
    """Replace reference.finding_rules from config/findings.yml; return the number of rows written."""
    rules = load_finding_rules(config_dir)
    rows = rules.rows()
    con.execute("create schema if not exists reference")
    con.execute(TABLE_DDL)
    insert_rows(con, "reference.finding_rules", rows)
    return len(rows)
