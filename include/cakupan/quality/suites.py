"""The gate's suites, defined here in code: the raw suite (from the source contracts, plus cross-column rules), the
business rules on the published marts, and the dbt expression rules of the published marts read from dbt's
manifest. A rule dbt also tests is defined once, as a dbt test with `meta.gate` in the published marts' YAML
(`core.dbt_sources.gate_rules`): dbt checks it on the work warehouse during the build, the gate on the candidate.
Each check has a severity: `error` blocks the publish, `warn` is only reported."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cakupan.core.contracts import all_contracts
from cakupan.core.dbt_sources import gate_rules
from cakupan.quality.batches import raw_rules
from cakupan.quality.config import GateConfig
from cakupan.quality.engine import Check, _gx

FRESHNESS_MONTHS = 18          # the newest period must be at most this old (warn)
ROWCOUNT_TOLERANCE = 0.5       # a mart may shrink by at most half against the previous publish
SEVERITIES = ("error", "warning", "info")   # of audit findings (config/findings.yml)


def raw_checks(cfg: GateConfig | None = None) -> list[Check]:
    """Generate the raw suite from the source contracts (required fields, NIK shape, dates in range) and the
    cross-column rules (`batches.raw_rules`)."""
    E = _gx().expectations
    out: list[Check] = []
    for contract in all_contracts().values():
        t = f"raw.{contract.source}"
        for c in contract.columns:
            if c.name in ("period",):
                continue
            if c.type == "nik":
                out.append(Check("raw", t, E.ExpectColumnValuesToBeInSet(column="nik_is_valid_shape", value_set=[True],
                                                                        mostly=1.0), "error", f"{c.name} shape"))
                continue
            if c.required and c.personal:
                out.append(Check("raw", t, E.ExpectColumnValuesToBeInSet(column=f"{c.name}__present",
                                                                        value_set=[True]), "error", f"{c.name} required"))
            elif c.required and c.name not in ("regency",):
                col = f"{c.name}__ymd" if c.type == "date" else c.name
                out.append(Check("raw", t, E.ExpectColumnValuesToNotBeNull(column=col), "error",
                                 f"{c.name} required"))
            if c.type in ("date",):  # dates as YYYYMMDD integers: GX 1.24 cannot compare date text on pandas 3
                out.append(Check("raw", t, E.ExpectColumnValuesToBeBetween(
                    column=f"{c.name}__ymd", min_value=19500101, max_value=21001231), "error", f"{c.name} in range"))
            if c.type in ("money", "count"):
                out.append(Check("raw", t, E.ExpectColumnValuesToBeBetween(column=c.name, min_value=0), "error",
                                 f"{c.name} non-negative"))
        for flag, name, _, severity in raw_rules(contract.source, cfg or GateConfig()):
            out.append(Check("raw", t, E.ExpectColumnValuesToBeInSet(column=flag, value_set=[True]), severity, name))
        out.append(Check("raw", t, E.ExpectColumnValuesToNotBeNull(column="source_row"), "error", "lineage row"))
        out.append(Check("raw", t, E.ExpectColumnValuesToNotBeNull(column="load_id"), "error", "lineage load"))
    return out


def mart_checks(previous_counts: dict[str, int], rules: list[DbtRule] | None = None) -> list[Check]:
    """The business rules on the published marts, the gate's reconciliations, and the dbt rules given."""
    E = _gx().expectations
    cov = "marts.mart_coverage_monthly"
    fresh_from = int((dt.date.today() - dt.timedelta(days=31 * FRESHNESS_MONTHS)).strftime("%Y%m"))
    checks = [
        Check("marts", cov, E.ExpectTableRowCountToBeBetween(min_value=1), "error", "coverage not empty"),
        Check("marts", cov, E.ExpectCompoundColumnsToBeUnique(column_list=["regency_code", "month_start"]), "error",
              "one row per regency and month"),
        Check("marts", cov, E.ExpectColumnValuesToNotBeNull(column="regency_code"), "error", "regency present"),
    ]
    for col in ("enrolled", "protected", "enrolled_apbd", "protected_apbd", "premium_billed", "premium_paid",
                "participants_billed"):
        checks.append(Check("marts", cov, E.ExpectColumnValuesToBeBetween(column=col, min_value=0), "error",
                            f"{col} non-negative"))

    def flag(table: str, column: str, severity: str, name: str) -> Check:
        return Check("marts", table, E.ExpectColumnValuesToBeInSet(column=column, value_set=[True]), severity, name)

    def no_problem(table: str, severity: str, name: str) -> Check:
        return Check("marts", table, E.ExpectColumnValuesToBeNull(column="problem"), severity, name)

    # a rule dbt also tests is defined once, as a dbt test with `meta.gate` in the published YAML
    checks += [
        Check("marts", table, E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=other, column_B=column, or_equal=True, ignore_row_if="either_value_is_missing"), severity, name)
        for table, column, other, name, severity in gate_rules()]
    checks += [
        flag(cov, "protected_has_enrolled", "error", "protected is NULL where enrolled is NULL"),
        flag(cov, "shortfall_null_safe", "error", "shortfall = enrolled - protected, NULL when either is NULL"),
        flag(cov, "gap_null_safe", "error", "gap to promise = promised - protected, NULL when either is NULL"),
        flag(cov, "within_horizon", "error", "no month after the horizon (config/gate.yml)"),
        Check("marts", cov, E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="premium_billed_with_tolerance", column_B="premium_paid", or_equal=True,
            ignore_row_if="either_value_is_missing"), "warn", "paid <= billed within tolerance"),
        Check("marts", cov, E.ExpectColumnMaxToBeBetween(column="month_key", min_value=fresh_from), "warn",
              "newest period is fresh"),
        flag("check.regency_periods", "present", "warn", "every configured regency present for every loaded period"),
        flag("check.promises", "promised_present", "error", "promised present where an accepted promise is in force"),
        no_problem("check.lineage_figures", "error", "figures agree with their lineage"),
        no_problem("check.delivered_months", "warn", "every month with figures has its own register delivery"),
        no_problem("check.month_over_month", "warn", "no large month-over-month drop (config/gate.yml)"),
        no_problem("check.deliveries", "warn", "every expected monthly delivery arrived (config/deliveries.yml)"),
        no_problem("check.promise_ceiling", "error",
                   "promises within the regency's employed population and the ceiling (config/gate.yml)"),
        no_problem("check.periods_in_horizon", "error", "no delivery for a month after the horizon (config/gate.yml)"),
        no_problem("check.raw_manifest", "error", "raw and quarantined rows equal the manifest, per load"),
        no_problem("check.last_build", "error", "the last dbt build succeeded"),
        flag("check.pseudonyms", "ok", "error", "every participant_key of every published table is a pseudonym"),
        no_problem("check.nik_shaped_text", "error", "no NIK-shaped number in any published text column"),
        flag("marts.mart_load_quality", "rows_balance_ok", "error", "rows in = loaded + quarantined"),
        Check("marts", "marts.mart_promise_vs_delivery", E.ExpectColumnValuesToBeInSet(
            column="status", value_set=["met", "behind", "no data", "promised, no deliveries"]), "error",
            "promise status closed list"),
        # audit findings are the product, not a defect of the build: their presence does not block. A missing
        # findings mart means a finding rule failed to run, and a severity nobody defined cannot be read: both block;
        # an error finding no earlier publish showed warns, once
        Check("marts", "marts.mart_audit_findings", E.ExpectTableRowCountToBeBetween(min_value=0), "error",
              "finding rules ran"),
        Check("marts", "marts.mart_audit_findings", E.ExpectColumnValuesToBeInSet(
            column="severity", value_set=list(SEVERITIES)), "error", "audit finding severities known"),
        flag("check.new_error_findings", "known", "warn", "no new error-severity findings since the last publish"),
    ]
    for rule in rules or []:
        checks.append(rule.check(E))
    for table, prev in sorted(previous_counts.items()):
        if prev > 0:
            checks.append(Check("marts", table, E.ExpectTableRowCountToBeBetween(
                min_value=int(prev * (1 - ROWCOUNT_TOLERANCE))), "warn", f"row count within tolerance of previous {prev}"))
    return checks


# ------------------------------------------------------------------------------------------ dbt rules ------
@dataclass(frozen=True)
class DbtRule:
    """A dbt data test of a published mart the gate runs again on the candidate: every `expression_true` test, and
    any other test whose `meta.gate` names a severity."""

    table: str                  # marts.<model>
    kind: str                   # expression_true | not_null | accepted_values | unique | unique_combination
    severity: str               # error | warn
    expression: str | None = None
    column: str | None = None
    values: tuple = ()

    @property
    def flag(self) -> str:
        return "dbt_rule_" + hashlib.sha256((self.expression or "").encode()).hexdigest()[:10]

    @property
    def name(self) -> str:
        what = {"expression_true": self.expression, "not_null": f"{self.column} not null",
                "accepted_values": f"{self.column} in {list(self.values)}", "unique": f"{self.column} unique",
                "unique_combination": f"{', '.join(self.values)} unique"}[self.kind]
        return f"dbt rule: {what}"

    def check(self, E) -> Check:
        if self.kind == "expression_true":   # NULL fails: the flag is coalesce((expression), false)
            e = E.ExpectColumnValuesToBeInSet(column=self.flag, value_set=[True])
        elif self.kind == "not_null":
            e = E.ExpectColumnValuesToNotBeNull(column=self.column)
        elif self.kind == "accepted_values":
            e = E.ExpectColumnValuesToBeInSet(column=self.column, value_set=list(self.values))
        elif self.kind == "unique":
            e = E.ExpectColumnValuesToBeUnique(column=self.column)
        else:
            e = E.ExpectCompoundColumnsToBeUnique(column_list=list(self.values))
        return Check("marts", self.table, e, self.severity, self.name)


def _gate_severity(node: dict) -> str | None:
    """`meta.gate` of a dbt test (error / warn; false = not in the gate), else None."""
    meta = {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}
    gate = meta.get("gate")
    if gate is None:
        return None
    if gate is False:
        return "skip"
    if isinstance(gate, dict):      # {check: ..., severity: ...} (an at_most rule: `core.dbt_sources.gate_rules`)
        gate = gate.get("severity", "error")
    text = str(gate).lower()
    return "warn" if text in ("warn", "warning") else "error"


def dbt_rules(manifest: Path, published: set[str]) -> list[DbtRule]:
    """The dbt data tests of the published marts the gate runs too, read from dbt's manifest: each mart rule is
    then checked on the exact bytes that will be published, NULLs failing where dbt's `not (expression)` lets
    them pass."""
    try:
        nodes = json.loads(Path(manifest).read_bytes())["nodes"]
    except (OSError, ValueError, KeyError):
        return []
    models = {k: n.get("alias") or n["name"] for k, n in nodes.items() if n.get("resource_type") == "model"}
    out: dict[tuple, DbtRule] = {}
    for n in nodes.values():
        meta = n.get("test_metadata") or {}
        model = models.get(n.get("attached_node") or "")
        if n.get("resource_type") != "test" or model not in published:
            continue
        kind, kwargs = meta.get("name"), meta.get("kwargs") or {}
        gate = _gate_severity(n)
        if gate == "skip" or (kind != "expression_true" and gate is None):
            continue
        severity = gate or ("warn" if str((n.get("config") or {}).get("severity", "error")).lower() == "warn"
                            else "error")
        table = f"marts.{model}"
        if kind == "expression_true" and kwargs.get("expression"):
            rule = DbtRule(table, kind, severity, expression=str(kwargs["expression"]))
        elif kind in ("not_null", "unique") and kwargs.get("column_name"):
            rule = DbtRule(table, kind, severity, column=str(kwargs["column_name"]))
        elif kind == "accepted_values" and kwargs.get("column_name"):
            rule = DbtRule(table, kind, severity, column=str(kwargs["column_name"]),
                           values=tuple(kwargs.get("values") or ()))
        elif kind == "unique_combination" and kwargs.get("columns"):
            rule = DbtRule(table, kind, severity, values=tuple(kwargs["columns"]))
        else:
            continue
        out[(rule.table, rule.name)] = rule
    return [out[k] for k in sorted(out)]
