"""The auditor's report: a static HTML site written from the published file only (never the work warehouse).

`write_report(settings, out)` writes `index.html` (publish header, quality-gate runs and their checks, task
failures, per-file loads, quarantined rows, charts of protected vs promised, the promise-vs-delivery table, the
coverage table, restatements (mart_restatements) and audit findings) and one trace page per coverage figure
(`trace/<regency>_<YYYY-MM>_<measure>.html`, built with `cakupan.auditor.trace.trace`). The pages are Jinja
templates (templates/, autoescape on) filled from plain data: `runs` and `sections` read, `render` writes. Inline
CSS, inline SVG, no JavaScript.

Personal data: the published file holds no NIK and no names; the report shows pseudonyms cut to 12 hex characters.
Free text that could carry an identifier by accident (error messages, check samples) goes through `scrub()`, which
removes every run of 15 or more digits and shortens long hex strings.

Consistency: the published file is replaced atomically by each publish, so the report copies it once into a
temporary snapshot and reads (and hashes) only that snapshot — every figure, trace page and the sha256 shown in the
header come from the same bytes.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

from cakupan.auditor import sections
from cakupan.auditor.chart import SERIES, chart
from cakupan.auditor.deliveries import calendar_section
from cakupan.auditor.formatting import fmt_month, missing, trace_file_name
from cakupan.auditor.gx_docs import copy_gx_docs
from cakupan.auditor.published import PublishedDb, PublishedFileError, Row, open_published
from cakupan.auditor.render import render
from cakupan.auditor.runs import Run, collect_runs
from cakupan.auditor.trace import TraceError, Tracer
from cakupan.core.files import sha256_file
from cakupan.core.messages import Msg, text
from cakupan.core.settings import Settings


def write_report(settings: Settings, out: Path | None = None, strict: bool = False) -> Path:
    """Write the static auditor site from the published file; return the path of its index.html.

    A published file that cannot be read (damaged, truncated) gives an index saying so; with `strict` (the CLI),
    PublishedFileError is raised after that index is written."""
    out = Path(out) if out is not None else settings.reports_dir / "site"
    out.mkdir(parents=True, exist_ok=True)
    if (out / "trace").exists():
        shutil.rmtree(out / "trace")
    index = out / "index.html"
    page = {"published_path": settings.published_db, "sha": None, "latest": None,
            "generated": dt.datetime.now(dt.UTC).replace(tzinfo=None)}
    if not settings.published_db.exists():
        runs = collect_runs(settings, None)
        gx = copy_gx_docs(runs, out)
        _write(index, "index_unpublished.html", **page, newest=sections.newest_run(runs),
               checks=sections.checks_section(runs, gx) if runs else None)
        return index

    with tempfile.TemporaryDirectory(prefix="cakupan-report-") as tmp:
        snapshot = Path(tmp) / "published.duckdb"
        shutil.copyfile(settings.published_db, snapshot)  # one consistent set of bytes even if a publish swaps it now
        page["sha"] = sha256_file(snapshot)
        try:  # a truncated file may open and fail only when a query reaches a missing block: guard every read
            with open_published(snapshot) as con:
                db = PublishedDb(con)
                runs = collect_runs(settings, db)
                content = _read_index(db, runs)
            cov = content.pop("coverage_rows")
            traced = write_trace_pages(snapshot, cov, out)
        except PublishedFileError as exc:
            problem = str(exc).replace(str(snapshot), str(settings.published_db))   # name the file, not the copy
            runs = collect_runs(settings, None)
            _write(index, "index_unreadable.html", **page, error=problem,
                   checks=sections.checks_section(runs, copy_gx_docs(runs, out)))
            if strict:
                raise PublishedFileError(Msg("error.published.report_says", problem=problem, index=index)) from None
            return index

    gx = copy_gx_docs(runs, out)
    _write(index, "index.html", **(page | content | _coverage(cov, traced)), newest=sections.newest_run(runs),
           checks=sections.checks_section(runs, gx))
    return index


def _write(path: Path, template: str, **context) -> None:
    path.write_text(render(template, **context), encoding="utf-8")


def _read_index(db: PublishedDb, runs: list[Run]) -> dict:
    """Everything the index shows from the published snapshot, read while it is open."""
    latest = None
    if db.has("audit.publishes"):
        got = db.rows("select run_id, published_at from audit.publishes where status = 'published' "
                      "order by published_at desc limit 1")
        latest = got[0] if got else None
    cov = db.table("marts.mart_coverage_monthly", "order by regency_code, month_start")
    return {"latest": latest, "coverage_rows": cov,
            "promises": sections.promises_table(
                db.table("marts.mart_promise_vs_delivery", "order by regency_code, effective_month, promise_id")),
            "findings": sections.findings_section(db), "loads": sections.loads_section(db),
            "deliveries": calendar_section(db, {**{r["regency_code"]: r.get("regency_name") for r in
                                                   db.table("audit.configured_regencies") or []},
                                                **{r["regency_code"]: r.get("regency_name") for r in cov or []}}),
            "quarantine": sections.quarantine_section(db), "summary": sections.summary(db, runs, cov),
            "restatements": db.table("marts.mart_restatements",
                                     "order by regency_code, month_start, measure, previously_published_at")}


def _coverage(cov: list[Row] | None, traced: set[str]) -> dict:
    """The charts and the coverage tables, per regency; figures link to the trace pages written."""
    regencies = sections.by_regency(cov) if cov else []
    tables = None if cov is None else [(reg, sections.coverage_rows(reg, traced)) for reg in regencies]
    return {"chart_series": SERIES, "charts": [(reg, chart(reg.code, reg.name, reg.rows)) for reg in regencies],
            "coverage": tables, "coverage_headers": sections.coverage_headers()}


# ------------------------------------------------------------------------------------------ trace pages -----
def write_trace_pages(snapshot: Path, cov: list[Row] | None, out: Path) -> set[str]:
    """One page per enrolled and protected figure of the coverage mart; return their paths (relative to out)."""
    traced: set[str] = set()
    if not cov:
        return traced
    (out / "trace").mkdir(parents=True, exist_ok=True)
    with open_published(snapshot) as con:       # one connection for every page: the tracer reads a regency once
        tracer = Tracer(con, "mart_coverage_monthly")
        for r in sorted(cov, key=lambda r: r["regency_code"]):
            for measure in sections.TRACE_MEASURES:
                if missing(r.get(measure)):
                    continue
                name = trace_file_name(r["regency_code"], r["month_start"], measure)
                (out / name).write_text(trace_page(tracer, r["regency_code"], r.get("regency_name") or "",
                                                   r["month_start"], measure), encoding="utf-8")
                traced.add(name)
    return traced


def trace_page(tracer: Tracer, regency: str, name: str, month: dt.date, measure: str) -> str:
    """The trace page of one figure (read through cakupan.auditor.trace from the snapshot the tracer reads)."""
    title = text("report.trace.title", regency=f"{regency} {name}", month=fmt_month(month),
                 measure=text(f"report.col.{measure}"))
    try:
        t = tracer.trace(regency, month, measure)
    except TraceError as exc:
        return render("trace.html", title=title, error=exc)
    rows = [Row(r) for r in t.rows]
    return render("trace.html", title=title, error=None, figure=t.plain_figure(), measure=measure,
                  counts=t.counts, rows=rows, enrolled_rows=sum(1 for r in rows if r.measure == "enrolled"))
