"""The quality gate: Great Expectations suites (defined in code) run on the candidate before publish.

- `suites`: the raw suite (from the source contracts, plus cross-column rules), the business rules on the published
  marts, and the dbt expression rules of the published marts (read from dbt's manifest, NULL failing);
- `batches`: the SQL of every logical table the checks read, once for DuckDB and PostgreSQL: reconciliations of
  figures with their lineage and of raw rows with the manifest, NULL-safe arithmetic, months past the horizon,
  promises above the employed population, carried-forward months, month-over-month drops, pseudonyms in every
  participant_key column, new error findings, the last dbt build;
- `engine`: GX validation (pandas batches on DuckDB, GX's SQL datasource on PostgreSQL) and Data Docs;
- `words`: failed-check samples naming regency, month, file, sheet and row;
- `gate`: `run_gate` / `run_gate_sql`, and the records in audit.checks and audit.raw_validations;
- `config`: the thresholds in config/gate.yml; `redaction`: no 16-digit number stored, rendered or published.
Each check carries a severity: `error` blocks the publish, `warn` is only reported. No NIK or name ever enters a
GX batch (raw checks read flags), and no 16-digit number is ever stored in a check result or written in Data Docs.

The names below are imported on first use, so importing a light submodule (`redaction`, `config`) does not import
pandas or Great Expectations.
"""

from __future__ import annotations

import importlib

_WHERE = {
    "batches": ("PAID_TOLERANCE", "raw_fingerprints", "raw_query"),
    "config": ("GateConfig", "load_gate_config"),
    "engine": ("Check", "CheckResult", "GateResult", "_gx", "import_gx_meanwhile", "validate", "validate_sql",
               "write_data_docs"),
    "gate": ("raw_suite_sha256", "record_raw_validations", "record_results", "run_gate", "run_gate_sql"),
    "redaction": ("redact",),
    "suites": ("dbt_rules", "mart_checks", "raw_checks"),
}
_MODULE = {name: module for module, names in _WHERE.items() for name in names}


def __getattr__(name: str):
    if name not in _MODULE:
        raise AttributeError(f"module 'cakupan.quality' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"cakupan.quality.{_MODULE[name]}"), name)
    globals()[name] = value
    return value
