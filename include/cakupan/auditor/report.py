"""The auditor's report: a static HTML site written from the published file only (never the work warehouse).

`write_report(settings, out)` writes `index.html` (publish header, quality-gate runs and their checks, task
failures, per-file loads, quarantined rows, charts of protected vs promised, the promise-vs-delivery table, the
coverage table and audit findings) and one trace page per coverage figure (`trace/<regency>_<YYYY-MM>_<measure>.html`,
built with `cakupan.auditor.trace.trace`). Stdlib only: escaped string building, inline CSS, inline SVG, no JavaScript.

Personal data: the published file holds no NIK and no names; the report shows pseudonyms cut to 12 hex characters.
Free text that could carry an identifier by accident (error messages, check samples) goes through `scrub()`, which
removes every run of 15 or more digits and shortens long hex strings.

Consistency: the published file is replaced atomically by each publish, so the report copies it once into a
temporary snapshot and reads (and hashes) only that snapshot — every figure, trace page and the sha256 shown in the
header come from the same bytes.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import math
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import duckdb

from cakupan.core.files import sha256_file
from cakupan.core.settings import Settings, safe_id

log = logging.getLogger("cakupan.auditor.report")

MAX_RUNS = 100                 # runs shown on the index (newest first); older ones are counted
MAX_QUARANTINE_ROWS = 5000     # quarantined rows listed on the index; the rest are counted
TRACE_MEASURES = ("enrolled", "protected")
PSEUDONYM_CHARS = 12

_LONG_DIGITS = re.compile(r"\d{15,}")
_LONG_HEX = re.compile(r"\b[0-9a-fA-F]{32,}\b")


# ------------------------------------------------------------------------------------------ formatting ------
def scrub(text) -> str:
    """Return text with digit runs of 15+ removed (NIK-like) and long hex strings (pseudonyms) shortened."""
    if text is None:
        return ""
    s = _LONG_DIGITS.sub("[long number removed]", str(text))
    return _LONG_HEX.sub(lambda m: m.group(0)[:PSEUDONYM_CHARS] + "…", s)


def esc(v) -> str:
    """Escape a value for HTML text or an attribute; None becomes an empty string."""
    return "" if v is None else html.escape(str(v), quote=True)


def _missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    return type(v).__name__ in ("NAType", "NaTType")


def fmt_int(v) -> str:
    """Indonesian thousands separator: 1.234.567; missing values as an em dash."""
    if _missing(v):
        return "—"
    return f"{float(v):,.0f}".replace(",", ".")


def fmt_money(v) -> str:
    return "—" if _missing(v) else "Rp " + fmt_int(v)


def fmt_pct(v, digits: int = 1) -> str:
    if _missing(v):
        return "—"
    return f"{float(v) * 100:.{digits}f}%".replace(".", ",")


def fmt_month(v) -> str:
    if _missing(v):
        return "—"
    if isinstance(v, (dt.date, dt.datetime)):
        return f"{v:%Y-%m}"
    return str(v)[:7]


def fmt_date(v) -> str:
    if _missing(v):
        return "—"
    if isinstance(v, dt.datetime):
        return f"{v:%Y-%m-%d %H:%M:%S}"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def fmt_hex(h: str | None) -> str:
    """A full hash, HTML-escaped, with invisible break opportunities every 8 characters (copy-paste stays whole)."""
    if not h:
        return "—"
    return "<wbr>".join(esc(h[i:i + 8]) for i in range(0, len(h), 8))


def pseudonym(key: str | None) -> str:
    return "—" if not key else esc(str(key)[:PSEUDONYM_CHARS]) + "…"


def fmt_any(v) -> str:
    """Generic cell: numbers with separators, dates as ISO, text scrubbed and escaped."""
    if _missing(v):
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int) or type(v).__name__ in ("int64", "int32"):
        return fmt_int(v)
    if isinstance(v, float) or type(v).__name__ == "Decimal":
        f = float(v)
        return fmt_int(f) if f.is_integer() else f"{f:,.4g}".replace(",", "·").replace(".", ",").replace("·", ".")
    if isinstance(v, (dt.date, dt.datetime)):
        return fmt_date(v)
    return esc(scrub(v))


def _utc(ts) -> dt.datetime | None:
    if isinstance(ts, dt.datetime):
        return ts.replace(tzinfo=None) if ts.tzinfo is None else ts.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(ts, dt.date):
        return dt.datetime(ts.year, ts.month, ts.day)
    if isinstance(ts, str) and ts:
        try:
            return _utc(dt.datetime.fromisoformat(ts))
        except ValueError:
            return None
    return None


def _mtime(p: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC).replace(tzinfo=None)


def trace_file_name(regency: str, month, measure: str) -> str:
    """`trace/<regency>_<YYYY-MM>_<measure>.html` (relative to the site root)."""
    return f"trace/{safe_id(str(regency))}_{fmt_month(month)}_{safe_id(measure)}.html"


# ------------------------------------------------------------------------------------------ reading ---------
class _Db:
    """Read-only access to one published snapshot; missing tables read as None, not errors."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.tables = {f"{s}.{t}" for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables").fetchall()}

    def has(self, table: str) -> bool:
        return table in self.tables

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        cur = self.con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def table(self, table: str, order: str = "") -> list[dict] | None:
        if not self.has(table):
            return None
        return self.rows(f"select * from {table} {order}")

    def columns(self, table: str) -> list[str]:
        s, t = table.split(".", 1)
        return [c for (c,) in self.con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position", [s, t]).fetchall()]


@dataclass
class Run:
    run_id: str
    status: str | None = None
    message: str | None = None
    published_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    errors: int | None = None
    warnings: int | None = None
    candidate_sha256: str | None = None
    published_sha256: str | None = None
    checks: list[dict] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    candidate: Path | None = None
    gx_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def when(self) -> dt.datetime:
        times = [t for t in (self.published_at, self.finished_at, self.started_at) if t]
        times += [c["checked_at"] for c in self.checks if isinstance(c.get("checked_at"), dt.datetime)]
        times += [t for t in (_utc(f.get("failed_at")) for f in self.failures) if t]
        if self.candidate is not None and self.candidate.exists():
            times.append(_mtime(self.candidate))
        if self.gx_dir is not None and self.gx_dir.exists():
            times.append(_mtime(self.gx_dir))
        return max(times) if times else dt.datetime.min

    @property
    def blocked(self) -> bool:
        return (self.status or "").startswith("blocked") or any(
            not c.get("success") and c.get("severity") == "error" for c in self.checks)


def _runs(settings: Settings, db: _Db | None) -> list[Run]:
    """Every run the published file, kept candidates, GX Data Docs and the task-failure log know of."""
    runs: dict[str, Run] = {}

    def get(run_id) -> Run:
        rid = str(run_id) if run_id is not None else "(no run id)"
        return runs.setdefault(rid, Run(rid))

    if db is not None:
        if db.has("audit.runs"):
            for r in db.rows("select * from audit.runs order by started_at nulls first"):
                run = get(r.get("run_id"))
                run.started_at, run.finished_at = _utc(r.get("started_at")), _utc(r.get("finished_at"))
                run.status = run.status or r.get("status")
                run.message = run.message or r.get("message")
        if db.has("audit.publishes"):
            for r in db.rows("select * from audit.publishes order by published_at nulls first"):
                run = get(r.get("run_id"))  # the newest publish row of a run wins
                run.status, run.message = r.get("status"), r.get("message") or run.message
                run.published_at = _utc(r.get("published_at"))
                run.errors, run.warnings = r.get("errors"), r.get("warnings")
                run.candidate_sha256, run.published_sha256 = r.get("candidate_sha256"), r.get("published_sha256")
        if db.has("audit.checks"):
            for r in db.rows("select * from audit.checks order by checked_at"):
                get(r.get("run_id")).checks.append(r)
        if db.has("audit.task_failures"):
            for r in db.rows("select * from audit.task_failures order by failed_at"):
                get(r.get("run_id")).failures.append({**r, "recorded_in": "published file"})

    # candidates kept after a blocked (or interrupted) publish: their own run's records only
    if settings.published_dir.is_dir():
        for cand in sorted(settings.published_dir.glob("next-*.duckdb")):
            stem = cand.name[len("next-"):-len(".duckdb")]
            own: Run | None = next((r for r in runs.values() if safe_id(r.run_id) == stem), None)
            try:
                with duckdb.connect(str(cand), read_only=True) as c:
                    cdb = _Db(c)
                    pub = [r for r in (cdb.table("audit.publishes") or []) if safe_id(str(r["run_id"])) == stem]
                    checks = [r for r in (cdb.table("audit.checks") or []) if safe_id(str(r["run_id"])) == stem]
                readable = True
            except duckdb.Error as exc:
                pub, checks, readable = [], [], False
                log.warning("cannot read candidate %s: %s", cand, exc)
            if own is None:
                run_id = str((pub or checks or [{"run_id": stem}])[0]["run_id"])
                own = get(run_id)
            own.candidate = cand
            if pub and own.status is None:
                last = pub[-1]
                own.status, own.message = last.get("status"), last.get("message")
                own.published_at = _utc(last.get("published_at"))
                own.errors, own.warnings = last.get("errors"), last.get("warnings")
            if checks and not own.checks:
                own.checks = checks
            if own.status is None:
                own.status = "not published"
                own.notes.append("The candidate file was kept and never renamed over the published file: the "
                                 "quality gate blocked it, or the run stopped (or is still running) before publishing.")
            if not readable:
                own.notes.append(f"The candidate {cand.name} could not be read (in use by a running publish, or "
                                 "damaged).")
            elif not own.checks:
                own.notes.append("The check results of this run are not recorded in its candidate file; see its "
                                 "GX Data Docs, if any.")

    # task failures logged by the Airflow failure callback
    log_file = settings.logs_dir / "task_failures.jsonl"
    if log_file.is_file():
        seen = {(str(f.get("run_id")), f.get("dag_id"), f.get("task_id"), str(f.get("try_number")))
                for r in runs.values() for f in r.failures}
        bad = 0
        for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if not isinstance(rec, dict):
                bad += 1
                continue
            k = (str(rec.get("run_id")), rec.get("dag_id"), rec.get("task_id"), str(rec.get("try_number")))
            if k in seen:
                continue
            seen.add(k)
            get(rec.get("run_id")).failures.append({**rec, "recorded_in": "logs/task_failures.jsonl"})
        if bad:
            get("(no run id)").notes.append(f"{bad} line(s) of logs/task_failures.jsonl could not be parsed.")

    # GX Data Docs folders (one per run)
    gx_root = settings.reports_dir / "gx"
    if gx_root.is_dir():
        by_safe = {safe_id(r.run_id): r for r in runs.values()}
        for d in sorted(p for p in gx_root.iterdir() if p.is_dir() and (p / "index.html").is_file()):
            run = by_safe.get(safe_id(d.name)) or get(d.name)
            run.gx_dir = d
            if run.status is None:
                run.status = "unknown"
                run.notes.append("Only the GX Data Docs of this run exist; the published file has no record of it.")
    return sorted(runs.values(), key=lambda r: r.when, reverse=True)


# ------------------------------------------------------------------------------------------ page shell ------
CSS = """
:root { --ok:#1a7f37; --err:#b42318; --warn:#b54708; --muted:#667085; --line:#d0d5dd; --bg:#f8f9fb; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:#101828; margin:0;
       background:#fff; }
header.top { background:#0b3b60; color:#fff; padding:16px 24px; }
header.top h1 { margin:0 0 6px; font-size:22px; }
header.top dl { display:grid; grid-template-columns:max-content 1fr; gap:2px 12px; margin:0; font-size:13px; }
header.top dt { color:#b9d4ea; }
header.top code { color:#fff; word-break: break-all; }
nav { position: sticky; top:0; background:#fff; border-bottom:1px solid var(--line); padding:8px 24px; z-index:2; }
nav a { margin-right:14px; color:#0b3b60; text-decoration:none; font-weight:600; }
main { padding: 8px 24px 48px; max-width: 1400px; }
section { margin-top: 28px; }
h2 { font-size:18px; border-bottom:2px solid #0b3b60; padding-bottom:4px; }
h3 { font-size:15px; margin:18px 0 6px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border:1px solid var(--line); padding:4px 8px; text-align:left; vertical-align:top; }
th { background:var(--bg); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background:#fcfcfd; }
.muted { color: var(--muted); }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600;
         background:#eaecf0; }
.badge.ok, .badge.published, .badge.met, .badge.loaded { background:#dcfae6; color:var(--ok); }
.badge.error, .badge.blocked, .badge.failed, .badge.behind, .badge.rejected { background:#fee4e2; color:var(--err); }
.badge.warn, .badge.not-published, .badge.unknown, .badge.duplicate { background:#fef0c7; color:var(--warn); }
tr.fail-error td { background:#fee4e2; }
tr.fail-error td.result { color:var(--err); font-weight:700; }
tr.fail-warn td { background:#fffaeb; }
tr.fail-warn td.result { color:var(--warn); font-weight:700; }
tr.pass td.result { color:var(--ok); }
.banner { padding:10px 14px; border-radius:6px; margin:14px 0; font-weight:600; }
.banner.error { background:#fee4e2; color:var(--err); border:1px solid #fda29b; }
.banner.warn { background:#fffaeb; color:var(--warn); border:1px solid #fedf89; }
.banner.ok { background:#ecfdf3; color:var(--ok); border:1px solid #abefc6; }
details.run { border:1px solid var(--line); border-radius:6px; margin:10px 0; padding:6px 12px; }
details.run > summary { cursor:pointer; font-weight:600; }
.counts span { margin-right:12px; }
.charts { display:flex; flex-wrap:wrap; gap:18px; }
figure.chart { margin:0; border:1px solid var(--line); border-radius:6px; padding:8px 10px; }
figure.chart figcaption { font-weight:600; margin-bottom:4px; }
.legend span { margin-right:14px; font-size:12px; }
.legend i { display:inline-block; width:18px; height:3px; vertical-align:middle; margin-right:4px; }
svg text { font: 11px system-ui, sans-serif; fill:#475467; }
a.trace-link { color:#0b3b60; }
.small { font-size:12px; }
#counts { display:grid; grid-template-columns:max-content max-content; gap:2px 14px; }
#counts dd { margin:0; font-weight:600; }
main h1 { font-size:22px; }
.scroll { overflow-x:auto; max-width:100%; }
td.month, td.nowrap { white-space:nowrap; }
svg text.end-label { font-weight:600; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin-top:14px; }
.card { border:1px solid var(--line); border-radius:6px; padding:8px 14px; min-width:150px; background:var(--bg); }
.card b { display:block; font-size:20px; }
"""

SERIES = (("promised", "#e67e22", "6 4"), ("enrolled", "#7f8c9a", ""), ("protected", "#1a7f37", ""))


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _table(headers: list[tuple[str, str]], rows: list[str], attrs: str = "") -> str:
    """headers: (label, css class); rows: pre-rendered <tr>…</tr> strings."""
    head = "".join(f'<th class="{c}">{esc(h)}</th>' if c else f"<th>{esc(h)}</th>" for h, c in headers)
    return (f'<div class="scroll"><table {attrs}><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
            "</table></div>")


def _td(v: str, cls: str = "", attrs: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f"<td{c}{(' ' + attrs) if attrs else ''}>{v}</td>"


def _badge(text: str) -> str:
    cls = re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")
    return f'<span class="badge {esc(cls)}">{esc(text)}</span>'


# ------------------------------------------------------------------------------------------ sections --------
def _header(snapshot_sha: str | None, settings: Settings, latest: dict | None, runs: list[Run],
            generated: dt.datetime) -> str:
    rows = [("Published file", f"<code>{esc(settings.published_db)}</code>")]
    if snapshot_sha:
        rows.append(("sha256", f'<code id="published-sha256">{fmt_hex(snapshot_sha)}</code>'))
    if latest:
        rows.append(("Latest publish", (f'<span id="published-at">{esc(fmt_date(latest["published_at"]))} UTC'
                                        f'</span> — run <code>{esc(latest["run_id"])}</code>')))
    rows.append(("Report written", f"{esc(fmt_date(generated))} UTC"))
    dl = "".join(f"<dt>{k}</dt><dd style='margin:0'>{v}</dd>" for k, v in rows)
    return f'<header class="top"><h1>Cakupan — auditor report</h1><dl>{dl}</dl></header>'


def _nav(with_findings: bool) -> str:
    links = [("checks", "Quality gate"), ("loads", "Files"), ("quarantine", "Quarantine"), ("charts", "Charts"),
             ("promises", "Promises"), ("coverage", "Coverage")] + ([("findings", "Findings")] if with_findings else [])
    return "<nav>" + "".join(f'<a href="#{k}">{esc(v)}</a>' for k, v in links) + "</nav>"


def _status_banner(runs: list[Run], latest: dict | None) -> str:
    if not runs:
        return ""
    newest = next((r for r in runs if r.run_id != "(no run id)"), None)
    if newest is None:
        return ""
    if newest.status == "published":
        return (f'<div class="banner ok" id="latest-run-status" data-status="published">The latest run '
                f'<code>{esc(newest.run_id)}</code> passed the quality gate and was published.</div>')
    prev = (f" The figures below are from the previous publish at {esc(fmt_date(latest['published_at']))} UTC "
            f"(run <code>{esc(latest['run_id'])}</code>)." if latest else "")
    what = "was blocked by the quality gate" if newest.blocked or (newest.status or "").startswith("blocked") else \
        f"was not published (status: {esc(newest.status or 'unknown')})"
    return (f'<div class="banner error" id="latest-run-status" data-status="{esc(newest.status)}">The latest run '
            f"<code>{esc(newest.run_id)}</code> {what}; the published file was left unchanged.{prev}</div>")


def _check_counts(checks: list[dict]) -> dict:
    out: dict[str, dict[str, int]] = {}
    for c in checks:
        sev = str(c.get("severity") or "error")
        d = out.setdefault(sev, {"passed": 0, "failed": 0})
        d["passed" if c.get("success") else "failed"] += 1
    return out


def _summary_cards(db: _Db, runs: list[Run], cov: list[dict] | None) -> str:
    """A few headline numbers at the top of the page."""
    cards = []
    newest = next((r for r in runs if r.run_id != "(no run id)"), None)
    if newest is not None:
        c = _check_counts(newest.checks)
        failed = ", ".join(f"{d['failed']} {sev}" for sev, d in sorted(c.items()))
        cards.append(("Latest run", f"{_badge(newest.status or 'unknown')}",
                      f"failed checks: {failed}" if c else "no check results"))
    if db.has("audit.loads_published"):
        n, q = db.con.execute("select count(*), coalesce(sum(rows_quarantined), 0) from audit.loads_published"
                              ).fetchone()
        cards.append(("Files loaded", fmt_int(n), f"{fmt_int(q)} rows quarantined"))
    if cov:
        last = max(r["month_start"] for r in cov)
        now = [r for r in cov if r["month_start"] == last]
        cards.append((f"Protected {last:%Y-%m}", fmt_int(sum(r["protected"] or 0 for r in now
                                                             if not _missing(r.get("protected")))),
                      f"of {fmt_int(sum(r['enrolled'] or 0 for r in now if not _missing(r.get('enrolled'))))} enrolled"))
        promised = [r["promised"] for r in now if not _missing(r.get("promised"))]
        if promised:
            cards.append((f"Promised {last:%Y-%m}", fmt_int(sum(promised)), f"{len(promised)} {'regency' if len(promised) == 1 else 'regencies'} with a promise"))
        cards.append(("Regencies", fmt_int(len({r["regency_code"] for r in cov})), f"{fmt_int(len(cov))} regency-months"))
    return '<div class="cards" id="summary">' + "".join(
        f'<div class="card"><span class="muted small">{esc(k)}</span><b>{v}</b><span class="small">{esc(sub)}</span></div>'
        for k, v, sub in cards) + "</div>"


def _checks_section(runs: list[Run], gx_links: dict[str, str]) -> str:
    parts = ['<section id="checks"><h2>Quality gate — runs and checks</h2>',
             ('<p class="muted">Newest first. A failed <b>error</b> check blocks the publish; a failed <b>warn</b> '
              "check is only reported. Every check of every run is listed.</p>")]
    shown = [r for r in runs if r.run_id != "(no run id)" or r.failures or r.notes]
    if not shown:
        parts.append('<p class="empty">No runs are recorded yet.</p>')
    for opened, run in enumerate(shown[:MAX_RUNS]):
        counts = _check_counts(run.checks)
        count_html = " ".join(
            f'<span class="count" data-severity="{esc(sev)}" data-passed="{d["passed"]}" data-failed="{d["failed"]}">'
            f"{esc(sev)}: {d['passed']} passed, "
            f"{'<b>' if d['failed'] else ''}{d['failed']} failed{'</b>' if d['failed'] else ''}</span>"
            for sev, d in sorted(counts.items())) or '<span class="muted">no check results recorded</span>'
        is_open = opened == 0 or (run.blocked and opened < 3)
        status = run.status or "unknown"
        if run.blocked and not status.startswith("blocked") and status != "published":
            status = f"{status} (gate failed)"
        when = fmt_date(run.published_at or run.finished_at or run.started_at) if (
            run.published_at or run.finished_at or run.started_at) else ""
        parts.append(f'<details class="run" id="run-{esc(safe_id(run.run_id))}" data-run-id="{esc(run.run_id)}" '
                     f'data-status="{esc(status)}"{" open" if is_open else ""}>')
        parts.append(f"<summary><code>{esc(run.run_id)}</code> {_badge(status)} "
                     f'<span class="muted small">{esc(when)}</span> '
                     f'<span class="counts small">{count_html}</span></summary>')
        info = []
        if run.message:
            info.append(f"<li>Message: {esc(scrub(run.message))}</li>")
        if run.candidate_sha256:
            info.append(f"<li>Candidate sha256: <code>{fmt_hex(run.candidate_sha256)}</code></li>")
        if run.published_sha256:
            info.append(f"<li>Published sha256: <code>{fmt_hex(run.published_sha256)}</code></li>")
        if run.candidate is not None:
            info.append(f"<li>Candidate kept for inspection: <code>{esc(run.candidate)}</code></li>")
        if run.run_id in gx_links:
            info.append(f'<li><a class="gx-link" href="{esc(gx_links[run.run_id])}">Great Expectations Data Docs '
                        f"for this run</a></li>")
        info += [f"<li>{esc(n)}</li>" for n in run.notes]
        if info:
            parts.append(f"<ul class='small'>{''.join(info)}</ul>")
        if run.checks:
            order = {(False, "error"): 0, (False, "warn"): 1}
            rows = []
            for c in sorted(run.checks, key=lambda c: (order.get((bool(c.get("success")), c.get("severity")), 2),
                                                       str(c.get("suite")), str(c.get("table_name")),
                                                       str(c.get("expectation")))):
                ok = bool(c.get("success"))
                sev = str(c.get("severity") or "")
                cls = "check pass" if ok else f"check fail fail-{esc(sev)}"
                extra = " ".join(x for x in (
                    f"sample: {scrub(c['unexpected_sample'])}" if c.get("unexpected_sample") not in (None, "[]") else "",
                    scrub(c.get("details")) if c.get("details") else "") if x)
                rows.append(
                    f'<tr class="{cls}" data-severity="{esc(sev)}" data-success="{str(ok).lower()}">'
                    + _td(esc(c.get("suite"))) + _td(esc(c.get("table_name")))
                    + _td(esc(c.get("expectation")) + (f'<div class="muted small">{esc(c.get("column_name"))}</div>'
                                                       if c.get("column_name") else ""))
                    + _td(esc(sev)) + _td("pass" if ok else "FAIL", "result")
                    + _td(esc(scrub(c.get("observed_value"))) if c.get("observed_value") is not None else "—")
                    + _td(fmt_int(c.get("unexpected_count")), "num")
                    + _td(f'<span class="small">{esc(extra)}</span>' if extra else "") + "</tr>")
            parts.append(_table([("Suite", ""), ("Table", ""), ("Check", ""), ("Severity", ""), ("Result", ""),
                                 ("Observed value", ""), ("Unexpected", "num"), ("Sample / details", "")],
                                rows, 'class="checks"'))
        parts.append(_failures_table(run.failures))
        parts.append("</details>")
    if len(shown) > MAX_RUNS:
        parts.append(f'<p class="muted">{len(shown) - MAX_RUNS} older runs are not shown; query audit.checks and '
                     "audit.publishes in the published file.</p>")
    parts.append("</section>")
    return "".join(parts)


def _failures_table(failures: list[dict]) -> str:
    if not failures:
        return '<p class="muted small task-failures-none">No task failures recorded for this run.</p>'
    rows = ['<tr class="task-failure">' + _td(esc(f.get("dag_id"))) + _td(esc(f.get("task_id")))
            + _td(esc(fmt_date(_utc(f.get("failed_at")) or f.get("failed_at"))))
            + _td(esc(f.get("try_number")), "num") + _td(f'<span class="small">{esc(scrub(f.get("error")))}</span>')
            + _td(esc(f.get("recorded_in")), "small") + "</tr>" for f in failures]
    return "<h3>Task failures</h3>" + _table(
        [("DAG", ""), ("Task", ""), ("Failed at (UTC)", ""), ("Try", "num"), ("Error", ""), ("Recorded in", "")],
        rows, 'class="task-failures"')


def _loads_section(db: _Db) -> str:
    parts = ['<section id="loads"><h2>Files received</h2>',
             '<p class="muted">One row per file load: rows in = loaded + quarantined for every loaded file.</p>']
    loads = db.table("audit.loads_published", "order by load_id")
    quality = db.table("marts.mart_load_quality", "order by load_id") or []
    if loads is None:  # older published files: the load-quality mart carries the same manifest
        seen: dict = {}
        for q in quality:
            seen.setdefault(q["load_id"], {**q})
        loads = list(seen.values())
    reasons: dict = {}
    for q in quality:
        if q.get("reason_code"):
            reasons.setdefault(q["load_id"], []).append((q["reason_code"], q.get("reason_rows")))
    findings: dict = {}
    for f in db.table("audit.load_findings") or []:
        findings.setdefault(f.get("load_id"), []).append(f)
    if not loads:
        parts.append('<p class="empty">No file loads are recorded in the published file.</p></section>')
        return "".join(parts)
    rows = []
    for ld in loads:
        lid = ld.get("load_id")
        reason_html = "<br>".join(f'<span class="reason" data-reason="{esc(code)}">{esc(code)} × {fmt_int(n)}</span>'
                                  for code, n in sorted(reasons.get(lid, []))) or "—"
        msgs = []
        if ld.get("error_code") or ld.get("error_message"):
            msgs.append(f'<div class="file-error"><b>{esc(ld.get("error_code") or "error")}</b>: '
                        f'{esc(scrub(ld.get("error_message")))}</div>')
        if ld.get("duplicate_of") is not None and not _missing(ld.get("duplicate_of")):
            msgs.append(f"<div>Same bytes as load {esc(ld.get('duplicate_of'))}; not loaded again.</div>")
        if ld.get("notes_skipped"):
            msgs.append(f"<div class='muted'>{fmt_int(ld.get('notes_skipped'))} note/total rows skipped</div>")
        for f in findings.get(lid, []):
            detail = ", ".join(f"{k} {fmt_any(f.get(k))}" for k in ("expected", "observed") if f.get(k) is not None)
            msgs.append(f'<div class="load-finding"><b>{esc(f.get("code"))}</b>'
                        f'{" (" + esc(f.get("column_name")) + ")" if f.get("column_name") else ""}: '
                        f'{esc(scrub(f.get("message")))}{" — " + detail if detail else ""}</div>')
        rows.append(
            f'<tr class="load" data-load-id="{esc(lid)}" data-file="{esc(ld.get("file_name"))}" '
            f'data-status="{esc(ld.get("status"))}">'
            + _td(esc(lid), "num") + _td(f'<span class="file-name">{esc(ld.get("file_name"))}</span>'
                                         f'<div class="muted small">{esc(ld.get("source_file"))}</div>')
            + _td(esc(ld.get("source"))) + _td(esc(ld.get("regency_code")))
            + _td(esc(fmt_month(ld.get("period_month")))) + _td(esc(fmt_date(ld.get("received_at"))), "small")
            + _td(_badge(str(ld.get("status") or "")))
            + _td(fmt_int(ld.get("rows_in")), "num rows-in") + _td(fmt_int(ld.get("rows_loaded")), "num rows-loaded")
            + _td(fmt_int(ld.get("rows_quarantined")), "num rows-quarantined")
            + _td(reason_html, "reasons") + _td("".join(msgs) or "—", "messages small") + "</tr>")
    parts.append(_table([("Load", "num"), ("File", ""), ("Source", ""), ("Regency", ""), ("Period", ""),
                         ("Received (UTC)", ""), ("Status", ""), ("Rows in", "num"), ("Loaded", "num"),
                         ("Quarantined", "num"), ("Reasons", ""), ("File-level messages", "")],
                        rows, 'class="loads"'))
    parts.append("</section>")
    return "".join(parts)


def _quarantine_section(db: _Db) -> str:
    parts = ['<section id="quarantine"><h2>Quarantined rows</h2>',
             ('<p class="muted">Rows rejected at ingest, with their location in the delivered file. Only the '
              "pseudonym (first 12 characters) identifies the person; NIKs and names are never published.</p>")]
    q = db.table("audit.quarantine_rows", "order by source_file, sheet, source_row, reason_code")
    if q is None:
        parts.append('<p class="empty">The published file has no quarantine table.</p></section>')
        return "".join(parts)
    if not q:
        parts.append('<p class="empty">No rows were quarantined.</p></section>')
        return "".join(parts)
    by_reason: dict[str, int] = {}
    for r in q:
        by_reason[r["reason_code"]] = by_reason.get(r["reason_code"], 0) + 1
    parts.append("<p>" + " · ".join(f'<span class="badge">{esc(k)}</span> {fmt_int(v)}'
                                    for k, v in sorted(by_reason.items())) + f" — {fmt_int(len(q))} rows in all</p>")
    rows = []
    for r in q[:MAX_QUARANTINE_ROWS]:
        rows.append(
            f'<tr class="q-row" data-file="{esc(r.get("source_file"))}" data-sheet="{esc(r.get("sheet"))}" '
            f'data-row="{esc(r.get("source_row"))}" data-reason="{esc(r.get("reason_code"))}">'
            + _td(esc(r.get("source_file"))) + _td(esc(r.get("sheet") or "—"))
            + _td(esc(r.get("source_row")), "num source-row") + _td(esc(r.get("reason_code")), "reason-code")
            + _td(esc(r.get("column_name") or "—")) + _td(esc(scrub(r.get("message"))), "small")
            + _td(f"<code>{pseudonym(r.get('participant_key'))}</code>", "pseudonym") + "</tr>")
    parts.append(_table([("File", ""), ("Sheet", ""), ("Row", "num"), ("Reason", ""), ("Column", ""),
                         ("Message", ""), ("Pseudonym", "")], rows, 'class="quarantine"'))
    if len(q) > MAX_QUARANTINE_ROWS:
        parts.append(f'<p class="muted">{fmt_int(len(q) - MAX_QUARANTINE_ROWS)} more rows: query '
                     "audit.quarantine_rows in the published file.</p>")
    parts.append("</section>")
    return "".join(parts)


def _months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _nice_max(v: float) -> tuple[float, float]:
    """Return (axis max, tick step) for values up to v, with about five ticks."""
    if v <= 0:
        return 1.0, 1.0
    raw = v / 5
    mag = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    step = next((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), 10 * mag)
    step = max(step, 1)
    top = step * (int(v / step) + (0 if v % step == 0 else 1))
    return float(top), float(step)


def svg_chart(regency: str, name: str, rows: list[dict]) -> str:
    """Inline SVG line chart of promised, enrolled and protected per month; gaps (no data) break the lines."""
    w, h, ml, mr, mt, mb = 680, 250, 60, 130, 14, 42
    pts = {r["month_start"]: r for r in rows if isinstance(r.get("month_start"), dt.date)}
    if not pts:
        return '<p class="empty">No months to chart.</p>'
    months = _months_between(min(pts), max(pts))
    values = [float(pts[m][s]) for m in months if m in pts for s, _, _ in SERIES if not _missing(pts[m].get(s))]
    top, step = _nice_max(max(values) if values else 0)
    pw, ph = w - ml - mr, h - mt - mb

    def x(i: int) -> float:
        return ml + (pw / 2 if len(months) == 1 else pw * i / (len(months) - 1))

    def y(v: float) -> float:
        return mt + ph - ph * v / top

    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
            f'class="coverage-chart" data-regency="{esc(regency)}" aria-label="Protected vs promised, {esc(name)}">'),
           f"<title>{esc(regency)} {esc(name)}: promised, enrolled and protected per month</title>",
           f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="#fcfcfd" stroke="#eaecf0"/>']
    t = 0.0
    while t <= top + 1e-9:
        yy = y(t)
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eaecf0"/>'
                   f'<text x="{ml - 6}" y="{yy + 4:.1f}" text-anchor="end">{fmt_int(t)}</text>')
        t += step
    label_every = max(1, len(months) // 8)
    for i, m in enumerate(months):
        if i % label_every == 0 or i == len(months) - 1:
            out.append(f'<text x="{x(i):.1f}" y="{mt + ph + 16}" text-anchor="middle">{m:%Y-%m}</text>')
    for series, colour, dash in SERIES:
        segs, cur = [], []
        for i, m in enumerate(months):
            v = pts.get(m, {}).get(series)
            if _missing(v):
                if cur:
                    segs.append(cur)
                cur = []
            else:
                cur.append((i, m, float(v)))
        if cur:
            segs.append(cur)
        da = f' stroke-dasharray="{dash}"' if dash else ""
        for seg in segs:
            if len(seg) > 1:
                p = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, _, v in seg)
                out.append(f'<polyline class="series series-{series}" points="{p}" fill="none" stroke="{colour}" '
                           f'stroke-width="2"{da}/>')
            for i, m, v in seg:
                out.append(f'<circle class="point point-{series}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" '
                           f'fill="{colour}"><title>{m:%Y-%m} {series}: {fmt_int(v)}</title></circle>')
    # the latest value of each series, labelled at the right edge (small figures stay readable next to large ones)
    labels = []
    for series, colour, _ in SERIES:
        last = next(((i, float(pts[m][series])) for i, m in reversed(list(enumerate(months)))
                     if m in pts and not _missing(pts[m].get(series))), None)
        if last is not None:
            labels.append([y(last[1]), series, colour, last[1], last[0]])
    labels.sort(reverse=True)
    for k in range(1, len(labels)):  # bottom label first, the others pushed up to stay 13 px apart
        labels[k][0] = min(labels[k][0], labels[k - 1][0] - 13)
    for yy, series, colour, v, i in labels:
        out.append(f'<text class="end-label" x="{ml + pw + 28}" y="{yy + 4:.1f}" fill="{colour}" style="fill:{colour}">'
                   f"{esc(series)} {fmt_int(v)}</text>")
    out.append(f'<text x="{ml}" y="{h - 6}" class="muted">no point = no data for that month; labels = latest '
               "month with data</text></svg>")
    return "".join(out)


def _charts_section(cov: list[dict] | None) -> str:
    parts = ['<section id="charts"><h2>Protected vs promised, per regency</h2>',
             '<div class="legend">' + "".join(
                 f'<span><i style="background:{c}"></i>{esc(s)}</span>' for s, c, _ in SERIES) + "</div>"]
    if not cov:
        parts.append('<p class="empty">No coverage rows are published yet.</p></section>')
        return "".join(parts)
    by_reg: dict[str, list[dict]] = {}
    for r in cov:
        by_reg.setdefault(r["regency_code"], []).append(r)
    parts.append('<div class="charts">')
    for reg, rows in sorted(by_reg.items()):
        name = rows[0].get("regency_name") or ""
        parts.append(f'<figure class="chart" id="chart-{esc(reg)}" data-regency="{esc(reg)}">'
                     f"<figcaption>{esc(reg)} {esc(name)}</figcaption>{svg_chart(reg, name, rows)}</figure>")
    parts.append("</div></section>")
    return "".join(parts)


def _findings_summary(findings: list[dict]) -> str:
    """A table of finding counts grouped by regency and severity, one column per month (counts over time)."""
    if not findings:
        return ""
    months = sorted({r.get("month_start") for r in findings if r.get("month_start") is not None})
    groups: dict[tuple[str, str], dict] = {}
    for r in findings:
        key = (str(r.get("regency_code") or "—"), str(r.get("severity") or ""))
        per = groups.setdefault(key, {})
        per[r.get("month_start")] = per.get(r.get("month_start"), 0) + 1
    order = {"error": 0, "warning": 1, "warn": 1, "info": 2}
    body = []
    for (regency, sev), per in sorted(groups.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 3))):
        cls = "fail-error" if sev == "error" else "fail-warn" if sev in ("warning", "warn") else ""
        cells = [_td(esc(regency)), _td(_badge(sev)), _td(str(sum(per.values())), "num")]
        cells += [_td(str(per[m]) if m in per else "", "num") for m in months]
        body.append(f'<tr class="findings-group {cls}" data-regency="{esc(regency)}" data-severity="{esc(sev)}">'
                    f'{"".join(cells)}</tr>')
    headers = [("Regency", ""), ("Severity", ""), ("Findings", "")] + [(fmt_month(m), "") for m in months]
    return ('</p><h3>By regency and severity, per month</h3>'
            + _table(headers, body, 'id="findings-summary" class="findings-summary"') + '<p class="muted">')


def _generic_section(sec_id: str, title: str, intro: str, rows: list[dict] | None, columns: list[str],
                     row_class: str) -> str:
    parts = [f'<section id="{sec_id}"><h2>{esc(title)}</h2><p class="muted">{intro}</p>']
    if rows is None:
        parts.append(f'<p class="empty">The published file has no {esc(title.lower())} table.</p></section>')
        return "".join(parts)
    if not rows:
        parts.append('<p class="empty">No rows.</p></section>')
        return "".join(parts)
    body = []
    for r in rows:
        sev = str(r.get("severity") or "").lower()
        status = str(r.get("status") or "").lower()
        cls = " ".join(filter(None, [row_class, f"severity-{esc(sev)}" if sev else "",
                                     "fail-error" if sev in ("error", "high", "critical") else
                                     "fail-warn" if sev in ("warn", "warning", "medium") else ""]))
        cells = []
        for c in columns:
            v = r.get(c)
            if c in ("status", "severity") and v:
                cells.append(_td(_badge(str(v))))
            elif c in ("month_start", "effective_month", "period", "period_month", "month") and isinstance(v, dt.date):
                cells.append(_td(esc(fmt_month(v)), "nowrap"))
            elif isinstance(v, dt.date):
                cells.append(_td(esc(fmt_date(v)), "nowrap"))
            elif c == "participant_key" and v:
                cells.append(_td(f"<code>{pseudonym(v)}</code>"))
            elif isinstance(v, (int, float)) and not isinstance(v, bool) or type(v).__name__ == "Decimal":
                cells.append(_td(fmt_any(v), "num"))
            else:
                cells.append(_td(fmt_any(v)))
        body.append(f'<tr class="{cls}" data-status="{esc(status)}">{"".join(cells)}</tr>')
    parts.append(_table([(LABELS.get(c, c.replace("_", " ").capitalize()), "") for c in columns], body,
                        f'class="{row_class}s"'))
    parts.append("</section>")
    return "".join(parts)


COVERAGE_COLUMNS = (  # (column, label, formatter, trace measure)
    ("enrolled", "Enrolled", fmt_int, "enrolled"), ("enrolled_apbd", "Enrolled (APBD)", fmt_int, None),
    ("protected", "Protected", fmt_int, "protected"), ("protected_apbd", "Protected (APBD)", fmt_int, None),
    ("shortfall", "Shortfall", fmt_int, None), ("promised", "Promised", fmt_int, None),
    ("gap_to_promise", "Gap to promise", fmt_int, None), ("participants_billed", "Billed workers", fmt_int, None),
    ("premium_billed", "Premium billed", fmt_money, None), ("premium_paid", "Premium paid", fmt_money, None),
    ("payment_ratio", "Paid / billed", fmt_pct, None), ("participation_rate", "Participation rate", fmt_pct, None),
)


def _coverage_section(cov: list[dict] | None, traced: set[str]) -> str:
    parts = ['<section id="coverage"><h2>Coverage per regency and month</h2>',
             ('<p class="muted">From <code>marts.mart_coverage_monthly</code>. Enrolled and protected figures link '
              "to their trace: the source file, sheet and row of every person counted (pseudonyms only). "
              "— means no data for that month (not zero).</p>")]
    if cov is None:
        parts.append('<p class="empty">The published file has no coverage mart.</p></section>')
        return "".join(parts)
    if not cov:
        parts.append('<p class="empty">No coverage rows are published yet.</p></section>')
        return "".join(parts)
    by_reg: dict[str, list[dict]] = {}
    for r in cov:
        by_reg.setdefault(r["regency_code"], []).append(r)
    for reg, rows in sorted(by_reg.items()):
        parts.append(f'<h3 id="coverage-{esc(reg)}">{esc(reg)} {esc(rows[0].get("regency_name") or "")}</h3>')
        body = []
        for r in sorted(rows, key=lambda r: r["month_start"]):
            cells = [_td(esc(fmt_month(r["month_start"])), "month")]
            for col, _, f, measure in COVERAGE_COLUMNS:
                v = r.get(col)
                text = f(v)
                target = trace_file_name(reg, r["month_start"], measure) if measure else None
                if target and target in traced and not _missing(v):
                    text = (f'<a class="trace-link" href="{esc(quote(target))}" data-measure="{measure}" '
                            f'data-value="{esc(int(v))}">{text}</a>')
                cells.append(_td(text, f"num {col}"))
            body.append(f'<tr class="coverage-row" data-regency="{esc(reg)}" '
                        f'data-month="{esc(fmt_month(r["month_start"]))}">{"".join(cells)}</tr>')
        parts.append(_table([("Month", "")] + [(label, "num") for _, label, _, _ in COVERAGE_COLUMNS], body,
                            f'class="coverage" data-regency="{esc(reg)}"'))
    parts.append("</section>")
    return "".join(parts)


LABELS = {"promise_id": "Promise", "regency_code": "Regency", "promise_source": "Source",
          "promise_date": "Promised on", "effective_month": "Effective", "promised_count": "Promised",
          "delivered_m0": "Protected m0", "delivered_m1": "m+1", "delivered_m3": "m+3", "delivered_m6": "m+6",
          "source_file": "File", "sentence": "Sentence", "finding_code": "Finding", "month_start": "Month"}

PROMISE_COLUMNS = ["regency_code", "promise_source", "promise_date", "effective_month", "segment", "role",
                   "promised_count", "delivered_m0", "delivered_m1", "delivered_m3", "delivered_m6", "status",
                   "source_file", "sentence"]


# ------------------------------------------------------------------------------------------ trace pages -----
def _trace_page(published: Path, regency: str, name: str, month: dt.date, measure: str) -> str:
    from cakupan.auditor.trace import TraceError, trace

    title = f"Trace: {regency} {name} {month:%Y-%m} {measure}"
    back = '<p><a href="../index.html#coverage">← back to the coverage table</a></p>'
    try:
        t = trace(published, "mart_coverage_monthly", [regency, f"{month:%Y-%m}"], measure)
    except TraceError as exc:
        body = (f'<main><h1>{esc(title)}</h1>{back}<p class="banner error" id="trace-error">'
                f"{esc(scrub(exc))}</p></main>")
        return _page(title, body)
    d = t.to_dict()
    figure = d["figure"]
    rows = []
    for i, r in enumerate(t.rows, 1):
        rows.append(f'<tr class="trace-row" data-measure="{esc(r.get("measure"))}" '
                    f'data-pseudonym="{esc(str(r.get("participant_key") or "")[:PSEUDONYM_CHARS])}">'
                    + _td(str(i), "num") + _td(esc(r.get("measure"))) + _td(esc(r.get("funding_source") or "—"))
                    + _td(f"<code>{pseudonym(r.get('participant_key'))}</code>", "pseudonym")
                    + _td(esc(r.get("load_id")), "num") + _td(esc(r.get("source_file")), "file")
                    + _td(esc(r.get("sheet") or "—"), "sheet") + _td(esc(r.get("source_row")), "num source-row")
                    + "</tr>")
    n_enrolled = sum(1 for r in t.rows if r.get("measure") == "enrolled")
    counts = "".join(f'<dt>{esc(k)}</dt><dd data-count="{esc(k)}">{esc(fmt_any(v))}</dd>' for k, v in t.counts.items())
    explain = {
        "enrolled": "Enrolled = distinct pseudonyms with a spell in the governing register delivery that overlaps "
                    "the month. One row below per register row counted.",
        "protected": "Protected = min(enrolled, floor(amount paid / unit premium)) per funding source. Protection "
                     "is computed per regency, month and funding source, never per person: the rows below are the "
                     "enrolled register rows and the contribution (payment) rows it was computed from.",
    }.get(measure, "")
    body = (f"<main><h1>{esc(title)}</h1>{back}"
            f'<p>Figure in <code>marts.mart_coverage_monthly</code>: <b id="figure" data-value="{esc(figure)}" '
            f'data-measure="{esc(measure)}">{esc(fmt_any(figure))}</b></p>'
            f'<p class="muted">{esc(explain)}</p>'
            f'<dl id="counts" class="small">{counts}</dl>'
            f'<p id="row-count" data-rows="{len(t.rows)}" data-enrolled-rows="{n_enrolled}">{len(t.rows)} source '
            f"rows ({n_enrolled} enrolment rows).</p>"
            + _table([("#", "num"), ("Measure", ""), ("Funding", ""), ("Pseudonym", ""), ("Load", "num"),
                      ("File", ""), ("Sheet", ""), ("Row", "num")], rows, 'class="trace" id="trace-rows"')
            + "</main>")
    return _page(title, body)


# ------------------------------------------------------------------------------------------ GX docs ---------
_REMOTE = r"""\s*=\s*["']?(?:https?:)?//"""
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_REMOTE_TAG = re.compile(r"<(?:link|img|iframe|source|embed)\b[^>]*\b(?:href|src)" + _REMOTE + r"[^>]*>", re.IGNORECASE)
GX_COPY_CSS = ("<style>body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#101828}"
               "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d0d5dd;padding:3px 8px;"
               "vertical-align:top}.cakupan-note{background:#fffaeb;border:1px solid #fedf89;padding:8px 12px;"
               "margin-bottom:12px}</style>")


def offline_gx_page(text: str, origin: Path) -> str:
    """A GX Data Docs page made self-contained: scripts and remote stylesheets/images removed, NIK-like numbers
    scrubbed, and a note saying where the original is."""
    text = _LONG_DIGITS.sub("[long number removed]", text)
    text = _SCRIPT.sub("", text)
    text = _REMOTE_TAG.sub("", text)
    note = (f'<div class="cakupan-note">Copy of the Great Expectations Data Docs in <code>{esc(origin)}</code>, '
            "with remote scripts, stylesheets and images removed so that the report makes no network requests. "
            '<a href="../../index.html#checks">Back to the report</a>.</div>')
    text, n = re.subn(r"(<head\b[^>]*>)", lambda m: m.group(1) + GX_COPY_CSS, text, count=1, flags=re.IGNORECASE)
    if not n:
        text = GX_COPY_CSS + text
    text, n = re.subn(r"(<body\b[^>]*>)", lambda m: m.group(1) + note, text, count=1, flags=re.IGNORECASE)
    return text if n else note + text


def _copy_gx(runs: list[Run], out: Path) -> dict[str, str]:
    """Copy each run's GX Data Docs into the site (scrubbed), return run id -> relative link."""
    dest_root = out / "gx"
    if dest_root.exists():
        shutil.rmtree(dest_root)
    links = {}
    for run in runs:
        if run.gx_dir is None:
            continue
        dest = dest_root / safe_id(run.run_id)
        dest.mkdir(parents=True, exist_ok=True)
        for f in sorted(run.gx_dir.rglob("*")):
            if not f.is_file():
                continue
            target = dest / f.relative_to(run.gx_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            if f.suffix.lower() in (".html", ".htm"):
                target.write_text(offline_gx_page(f.read_text(encoding="utf-8", errors="replace"), run.gx_dir),
                                  encoding="utf-8")
            elif f.suffix.lower() in (".json", ".txt", ".css"):
                target.write_text(_LONG_DIGITS.sub("[long number removed]",
                                                   f.read_text(encoding="utf-8", errors="replace")), encoding="utf-8")
            else:
                shutil.copy2(f, target)
        links[run.run_id] = f"gx/{quote(safe_id(run.run_id))}/index.html"
    return links


# ------------------------------------------------------------------------------------------ entry point -----
def write_report(settings: Settings, out: Path | None = None) -> Path:
    """Write the static auditor site from the published file; return the path of its index.html."""
    out = Path(out) if out is not None else settings.reports_dir / "site"
    out.mkdir(parents=True, exist_ok=True)
    trace_dir = out / "trace"
    if trace_dir.exists():
        shutil.rmtree(trace_dir)
    generated = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    index = out / "index.html"
    published = settings.published_db
    if not published.exists():
        runs = _runs(settings, None)
        gx = _copy_gx(runs, out)
        body = (_header(None, settings, None, runs, generated)
                + '<main><div class="banner warn" id="nothing-published">Nothing has been published yet: there is no '
                  f"published file at <code>{esc(published)}</code>. Run the pipeline (<code>cakupan run</code>); a "
                  "file is published only when the quality gate passes.</div>"
                + _status_banner(runs, None) + (_checks_section(runs, gx) if runs else "") + "</main>")
        index.write_text(_page("Cakupan — nothing published yet", body), encoding="utf-8")
        return index

    with tempfile.TemporaryDirectory(prefix="cakupan-report-") as tmp:
        snapshot = Path(tmp) / "published.duckdb"
        shutil.copyfile(published, snapshot)  # one consistent set of bytes even if a publish swaps the file now
        sha = sha256_file(snapshot)
        try:
            con = duckdb.connect(str(snapshot), read_only=True)
        except duckdb.Error as exc:
            runs = _runs(settings, None)
            gx = _copy_gx(runs, out)
            body = (_header(sha, settings, None, runs, generated)
                    + f'<main><div class="banner error" id="unreadable">The published file cannot be read: '
                      f"{esc(scrub(exc))}</div>{_checks_section(runs, gx)}</main>")
            index.write_text(_page("Cakupan — published file unreadable", body), encoding="utf-8")
            return index
        try:
            db = _Db(con)
            runs = _runs(settings, db)
            latest = None
            if db.has("audit.publishes"):
                got = db.rows("select run_id, published_at from audit.publishes where status = 'published' "
                              "order by published_at desc limit 1")
                latest = got[0] if got else None
            cov = db.table("marts.mart_coverage_monthly", "order by regency_code, month_start")
            promises = db.table("marts.mart_promise_vs_delivery", "order by regency_code, effective_month, promise_id")
            findings = None
            if db.has("marts.mart_audit_findings"):
                findings = db.table("marts.mart_audit_findings")
                fcols = db.columns("marts.mart_audit_findings")
                sev_rank = {"error": 0, "critical": 0, "high": 0, "warn": 1, "warning": 1, "medium": 1}
                findings.sort(key=lambda r: (sev_rank.get(str(r.get("severity") or "").lower(), 2),
                                             str(r.get("regency_code")), str(r.get("month_start") or r.get("period")
                                                                             or r.get("month") or "")))
            pcols = [c for c in PROMISE_COLUMNS if promises and c in promises[0]] + (
                [c for c in promises[0] if c not in PROMISE_COLUMNS and c != "promise_id"] if promises else [])
            if promises:
                pcols = ["promise_id"] + pcols if "promise_id" in promises[0] else pcols
            loads_html, quarantine_html = _loads_section(db), _quarantine_section(db)
            summary = _summary_cards(db, runs, cov)
        finally:
            con.close()

        # trace pages (read the same snapshot through cakupan.auditor.trace)
        traced: set[str] = set()
        if cov:
            trace_dir.mkdir(parents=True, exist_ok=True)
            for r in cov:
                for measure in TRACE_MEASURES:
                    if _missing(r.get(measure)):
                        continue
                    name = trace_file_name(r["regency_code"], r["month_start"], measure)
                    (out / name).write_text(_trace_page(snapshot, r["regency_code"], r.get("regency_name") or "",
                                                        r["month_start"], measure), encoding="utf-8")
                    traced.add(name)

    gx = _copy_gx(runs, out)
    body = "".join([
        _header(sha, settings, latest, runs, generated), _nav(findings is not None), "<main>",
        _status_banner(runs, latest) if latest or runs else "",
        "" if latest else '<div class="banner warn" id="no-publish-record">The published file holds no publish '
                          "record; it may predate publish auditing.</div>",
        summary,
        _checks_section(runs, gx),
        loads_html, quarantine_html,
        _charts_section(cov),
        _generic_section("promises", "Promise vs delivery",
                         "Each accepted promise (a target or total stated by the regency) against the protected "
                         "count delivered in its effective month (m0) and 1, 3 and 6 months later.",
                         promises, pcols, "promise"),
        _coverage_section(cov, traced),
        _generic_section("findings", "Audit findings", "Findings per regency and period from "
                         "<code>marts.mart_audit_findings</code>." + _findings_summary(findings or []),
                         findings, fcols, "finding")
        if findings is not None else "",
        "</main>"])
    index.write_text(_page("Cakupan — auditor report", body), encoding="utf-8")
    return index
