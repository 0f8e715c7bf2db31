"""What each section of the index page shows, read from the published snapshot and the runs: plain data with the
ordering, grouping and CSS classes decided; templates/sections/*.html write it out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from cakupan.auditor.formatting import (
    fmt_any,
    fmt_date,
    fmt_int,
    fmt_money,
    fmt_month,
    fmt_pct,
    is_number,
    iso_month,
    missing,
    pseudonym,
    scrub,
    trace_file_name,
)
from cakupan.auditor.published import PublishedDb, Row
from cakupan.auditor.runs import NO_RUN_ID, Run
from cakupan.core.messages import catalogue, finding_detail, finding_side, text
from cakupan.quality import texts as gate_texts

MAX_RUNS = 100                 # runs shown on the index (newest first); older ones are counted
MAX_QUARANTINE_ROWS = 5000     # quarantined rows listed on the index; the rest are counted
ERROR_SEVERITIES, WARN_SEVERITIES = ("error", "high", "critical"), ("warn", "warning", "medium")


def newest_run(runs: list[Run]) -> Run | None:
    """The newest run with a run id (failures logged without one do not count as a run)."""
    return next((r for r in runs if r.run_id != NO_RUN_ID), None)


# ------------------------------------------------------------------------------------------ quality gate ----
@dataclass
class CheckCount:
    severity: str
    passed: int = 0
    failed: int = 0


@dataclass
class CheckRow:
    check: Row
    severity: str
    ok: bool
    css: str
    extra: str


@dataclass
class RunView:
    run: Run
    status: str
    when: str
    open: bool
    counts: list[CheckCount]
    checks: list[CheckRow]
    gx_link: str | None


def check_counts(checks: list[Row]) -> list[CheckCount]:
    """Passed and failed checks per severity, by severity name."""
    out: dict[str, CheckCount] = {}
    for c in checks:
        sev = str(c.get("severity") or "error")
        count = out.setdefault(sev, CheckCount(sev))
        if c.get("success"):
            count.passed += 1
        else:
            count.failed += 1
    return [out[k] for k in sorted(out)]


def _sample(stored: str) -> str:
    """A check's sample as the gate stores it (a JSON list: one sentence per failing row naming regency, month,
    file, sheet and row), written as sentences in the report's language separated by semicolons."""
    return "; ".join(scrub(x) for x in gate_texts.sample(stored))


def _check_row(c: Row) -> CheckRow:
    ok, sev = bool(c.get("success")), str(c.get("severity") or "")
    extra = " ".join(x for x in (
        f"{text('gate.sample.label')}: {_sample(c['unexpected_sample'])}"
        if c.get("unexpected_sample") not in (None, "[]") else "",
        scrub(gate_texts.details(c.get("details"))) if c.get("details") else "") if x)
    return CheckRow(c, sev, ok, "check pass" if ok else f"check fail fail-{sev}", extra)


_FAILED_FIRST = {(False, "error"): 0, (False, "warn"): 1}


def _check_order(c: Row) -> tuple:
    """Failed errors first, then failed warnings, then the rest; by suite, table and expectation within."""
    return (_FAILED_FIRST.get((bool(c.get("success")), c.get("severity")), 2), str(c.get("suite")), str(c.get("table_name")),
            str(c.get("expectation")))


def run_view(run: Run, position: int, gx_links: dict[str, str]) -> RunView:
    """One run as the quality-gate section lists it (the newest open, and blocked ones among the first three)."""
    status = run.status or "unknown"
    if run.blocked and not status.startswith("blocked") and status != "published":
        status = f"{status} (gate failed)"
    at = run.published_at or run.finished_at or run.started_at
    return RunView(run, status, fmt_date(at) if at else "", position == 0 or (run.blocked and position < 3),
                   check_counts(run.checks), [_check_row(c) for c in sorted(run.checks, key=_check_order)],
                   gx_links.get(run.run_id))


@dataclass
class Checks:
    runs: list[RunView]
    hidden: int  # older runs not listed


def checks_section(runs: list[Run], gx_links: dict[str, str]) -> Checks:
    """The runs listed in the quality-gate section, newest first, at most MAX_RUNS."""
    shown = [r for r in runs if r.run_id != NO_RUN_ID or r.failures or r.notes]
    return Checks([run_view(r, i, gx_links) for i, r in enumerate(shown[:MAX_RUNS])], max(0, len(shown) - MAX_RUNS))


# ------------------------------------------------------------------------------------------ summary ---------
@dataclass
class Summary:
    newest: Run | None = None
    newest_counts: list[CheckCount] = field(default_factory=list)
    files: tuple[int, int] | None = None            # (loads, rows quarantined)
    last_month: dt.date | None = None
    protected: float = 0
    enrolled: float = 0
    promised: list = field(default_factory=list)    # the latest month's promises, one per regency with one
    regencies: int = 0
    regency_months: int = 0


def summary(db: PublishedDb, runs: list[Run], cov: list[Row] | None) -> Summary:
    """A few headline numbers at the top of the page."""
    s = Summary(newest=newest_run(runs))
    if s.newest is not None:
        s.newest_counts = check_counts(s.newest.checks)
    if db.has("audit.loads_published"):
        s.files = db.con.execute("select count(*), coalesce(sum(rows_quarantined), 0) from audit.loads_published"
                                 ).fetchone()
    if cov:
        s.last_month = max(r["month_start"] for r in cov)
        now = [r for r in cov if r["month_start"] == s.last_month]
        s.protected = sum(r["protected"] or 0 for r in now if not missing(r.get("protected")))
        s.enrolled = sum(r["enrolled"] or 0 for r in now if not missing(r.get("enrolled")))
        s.promised = [r["promised"] for r in now if not missing(r.get("promised"))]
        s.regencies, s.regency_months = len({r["regency_code"] for r in cov}), len(cov)
    return s


# ------------------------------------------------------------------------------------------ files -----------
@dataclass
class LoadRow:
    load: Row
    reasons: list[tuple[str, int]]
    findings: list[tuple[Row, str]]   # (finding, "expected x, observed y")


def loads_section(db: PublishedDb) -> list[LoadRow]:
    """One row per file load, with its quarantine reasons and file-level findings."""
    loads = db.table("audit.loads_published", "order by load_id")
    quality = db.table("marts.mart_load_quality", "order by load_id") or []
    if loads is None:  # older published files: the load-quality mart carries the same manifest
        seen: dict = {}
        for q in quality:
            seen.setdefault(q["load_id"], Row(q))
        loads = list(seen.values())
    reasons: dict = {}
    for q in quality:
        if q.get("reason_code"):
            reasons.setdefault(q["load_id"], []).append((q["reason_code"], q.get("reason_rows")))
    findings: dict = {}
    for f in db.table("audit.load_findings") or []:
        detail = ", ".join(f"{k} {fmt_any(f.get(k))}" for k in ("expected", "observed") if f.get(k) is not None)
        findings.setdefault(f.get("load_id"), []).append((f, detail))
    return [LoadRow(ld, sorted(reasons.get(ld.get("load_id"), [])), findings.get(ld.get("load_id"), []))
            for ld in loads]


@dataclass
class Quarantine:
    rows: list[Row]                  # the first MAX_QUARANTINE_ROWS
    total: int
    by_reason: list[tuple[str, int]]


def quarantine_section(db: PublishedDb) -> Quarantine | None:
    """The quarantined rows; None when the published file has no quarantine table."""
    q = db.table("audit.quarantine_rows", "order by source_file, sheet, source_row, reason_code")
    if q is None:
        return None
    by_reason: dict[str, int] = {}
    for r in q:
        by_reason[r["reason_code"]] = by_reason.get(r["reason_code"], 0) + 1
    return Quarantine(q[:MAX_QUARANTINE_ROWS], len(q), sorted(by_reason.items()))


# ------------------------------------------------------------------------------------------ coverage --------
COVERAGE_COLUMNS: tuple[tuple[str, str, Callable, str | None], ...] = (  # (column, label, formatter, trace measure)
    ("enrolled", "Enrolled", fmt_int, "enrolled"), ("enrolled_apbd", "Enrolled (APBD)", fmt_int, None),
    ("protected", "Protected", fmt_int, "protected"), ("protected_apbd", "Protected (APBD)", fmt_int, None),
    ("shortfall", "Shortfall", fmt_int, None), ("promised", "Promised", fmt_int, None),
    ("gap_to_promise", "Gap to promise", fmt_int, None), ("participants_billed", "Billed workers", fmt_int, None),
    ("premium_billed", "Premium billed", fmt_money, None), ("premium_paid", "Premium paid", fmt_money, None),
    ("payment_ratio", "Paid / billed", fmt_pct, None), ("participation_rate", "Participation rate", fmt_pct, None),
)


def coverage_headers() -> list[tuple[str, str]]:
    """The coverage table's headers in the report's language."""
    return [(text("report.col.month"), "")] + [(text(f"report.col.{c}"), "num") for c, _, _, _ in COVERAGE_COLUMNS]


TRACE_MEASURES = ("enrolled", "protected")


@dataclass
class TraceLink:
    href: str
    measure: str
    value: int


@dataclass
class CoverageCell:
    column: str
    text: str
    link: TraceLink | None = None


@dataclass
class CoverageRow:
    month: str        # YYYY-MM
    label: str        # the month in the report's language
    cells: list[CoverageCell]


@dataclass
class Regency:
    code: str
    name: str
    rows: list[Row]


def by_regency(cov: list[Row]) -> list[Regency]:
    """Coverage rows grouped per regency, by regency code."""
    groups: dict[str, list[Row]] = {}
    for r in cov:
        groups.setdefault(r["regency_code"], []).append(r)
    return [Regency(code, rows[0].get("regency_name") or "", rows) for code, rows in sorted(groups.items())]


def coverage_rows(reg: Regency, traced: set[str]) -> list[CoverageRow]:
    """A regency's months; enrolled and protected figures link to their trace page when it was written."""
    out = []
    for r in sorted(reg.rows, key=lambda r: r["month_start"]):
        cells = []
        for col, _, f, measure in COVERAGE_COLUMNS:
            v = r.get(col)
            target = trace_file_name(reg.code, r["month_start"], measure) if measure else None
            link = TraceLink(quote(target), measure, int(v)) if target in traced and not missing(v) else None
            cells.append(CoverageCell(col, f(v), link))
        out.append(CoverageRow(iso_month(r["month_start"]), fmt_month(r["month_start"]), cells))
    return out


# ------------------------------------------------------------------------------------------ mart tables -----
LABELS = {"promise_id": "Promise", "regency_code": "Regency", "promise_source": "Source",
          "promise_date": "Promised on", "effective_month": "Effective", "promised_count": "Promised",
          "delivered_m0": "Protected m0", "delivered_m1": "m+1", "delivered_m3": "m+3", "delivered_m6": "m+6",
          "source_file": "File", "sentence": "Sentence", "finding_code": "Finding", "month_start": "Month"}
PROMISE_COLUMNS = ["regency_code", "promise_source", "promise_date", "effective_month", "segment", "role",
                   "promised_count", "delivered_m0", "delivered_m1", "delivered_m3", "delivered_m6", "status",
                   "source_file", "sentence"]
MONTH_COLUMNS = ("month_start", "effective_month", "period", "period_month", "month")


def label(column: str) -> str:
    """A published column's header in the report's language (the catalogue's `report.col.<column>`); a column the
    catalogue does not know (a mart grew one) is shown by its name."""
    key = f"report.col.{column}"
    return text(key) if key in catalogue() else LABELS.get(column, column.replace("_", " ").capitalize())


@dataclass
class Cell:
    text: str
    css: str = ""
    badge: bool = False
    code: bool = False


@dataclass
class TableRow:
    css: str
    status: str
    cells: list[Cell]


@dataclass
class MartTable:
    headers: list[tuple[str, str]]   # (label, CSS class)
    rows: list[TableRow] | None      # None: the published file has no such table


def _cell(column: str, v) -> Cell:
    if column in ("status", "severity") and v:
        return Cell(str(v), badge=True)
    if column in MONTH_COLUMNS and isinstance(v, dt.date):
        return Cell(fmt_month(v), "nowrap")
    if isinstance(v, dt.date):
        return Cell(fmt_date(v), "nowrap")
    if column == "participant_key" and v:
        return Cell(pseudonym(v), code=True)
    return Cell(fmt_any(v), "num" if is_number(v) else "")


def _severity_class(sev: str) -> str:
    return "fail-error" if sev in ERROR_SEVERITIES else "fail-warn" if sev in WARN_SEVERITIES else ""


def mart_table(rows: list[Row] | None, columns: list[str], row_class: str) -> MartTable:
    """A published mart as a table: badges for status and severity, months as YYYY-MM, pseudonyms cut short."""
    headers = [(label(c), "") for c in columns]
    if rows is None:
        return MartTable(headers, None)
    body = []
    for r in rows:
        sev = str(r.get("severity") or "").lower()
        css = " ".join(filter(None, [row_class, f"severity-{sev}" if sev else "", _severity_class(sev)]))
        body.append(TableRow(css, str(r.get("status") or "").lower(), [_cell(c, r.get(c)) for c in columns]))
    return MartTable(headers, body)


def promises_table(promises: list[Row] | None) -> MartTable:
    """marts.mart_promise_vs_delivery: the promise id, the known columns in their order, then any others."""
    cols: list[str] = []
    if promises:
        first = promises[0]
        cols = [c for c in PROMISE_COLUMNS if c in first] + [
            c for c in first if c not in PROMISE_COLUMNS and c != "promise_id"]
        cols = ["promise_id", *cols] if "promise_id" in first else cols
    return mart_table(promises, cols, "promise")


@dataclass
class FindingsGroup:
    regency: str
    severity: str
    css: str
    total: int
    per_month: list[int | None]


@dataclass
class Findings:
    table: MartTable
    months: list
    groups: list[FindingsGroup]

    @property
    def summary_headers(self) -> list[tuple[str, str]]:
        return [(text("report.col.regency"), ""), (text("report.col.severity"), ""), (text("report.col.findings"), "")
                ] + [(fmt_month(m), "") for m in self.months]


REPORT_HIDES = {"detail_id"}


def findings_section(db: PublishedDb) -> Findings | None:
    """marts.mart_audit_findings, most severe first, with finding counts per regency, severity and month."""
    if not db.has("marts.mart_audit_findings"):
        return None
    findings = db.table("marts.mart_audit_findings") or []
    for r in findings:      # the rules' English sentence and labels, read in the report's language (detail.*, side.*)
        r["detail"] = finding_detail(r.get("detail"))
        for side in ("source_side", "reference_side"):
            if side in r:
                r[side] = finding_side(r[side])
    sev_rank = {"error": 0, "critical": 0, "high": 0, "warn": 1, "warning": 1, "medium": 1}
    findings.sort(key=lambda r: (sev_rank.get(str(r.get("severity") or "").lower(), 2), str(r.get("regency_code")),
                                 str(r.get("month_start") or r.get("period") or r.get("month") or "")))
    months = sorted({r.get("month_start") for r in findings if r.get("month_start") is not None})
    counts: dict[tuple[str, str], dict] = {}
    for r in findings:
        per = counts.setdefault((str(r.get("regency_code") or "—"), str(r.get("severity") or "")), {})
        per[r.get("month_start")] = per.get(r.get("month_start"), 0) + 1
    order = {"error": 0, "warning": 1, "warn": 1, "info": 2}
    groups = [FindingsGroup(regency, sev, "fail-error" if sev == "error" else "fail-warn" if sev in ("warning", "warn")
                            else "", sum(per.values()), [per.get(m) for m in months])
              for (regency, sev), per in sorted(counts.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 3)))]
    known = catalogue()
    for r in findings:   # a finding's title in the report's language, by its code (the mart keeps config's English)
        code = r.get("finding_code") or r.get("code")
        if r.get("title") is not None and f"finding.{code}" in known:
            r["title"] = text(f"finding.{code}")
    # detail_id is the Indonesian detail for BI tools: the report shows `detail` in its own language already
    columns = [c for c in db.columns("marts.mart_audit_findings") if c not in REPORT_HIDES]
    return Findings(mart_table(findings, columns, "finding"), months, groups)
