"""The `cakupan` command line: one entry point, scriptable (`--json` prints machine-readable JSON only)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cakupan.core.messages import Msg, SettingsError, check_name, finding_detail, text
from cakupan.outbox.cli import rejections_app, template_app
from cakupan.reports.cli import app as reports_app

app = typer.Typer(help="Cakupan: how many vulnerable workers are really protected, against what was promised.",
                  no_args_is_help=True, add_completion=False)
contracts_app = typer.Typer(help="Source contracts and what is generated from them.", no_args_is_help=True)
app.add_typer(contracts_app, name="contracts")
app.add_typer(rejections_app, name="rejections")
app.add_typer(template_app, name="template")


@app.callback()
def _language(lang: Annotated[str | None, typer.Option(
        "--lang", help="Language of messages and the report: id (Bahasa Indonesia, the default) or en (English); "
                       "the same as CAKUPAN_LANG.")] = None) -> None:
    """Cakupan: how many vulnerable workers are really protected, against what was promised."""
    from cakupan.core.messages import set_language

    set_language(lang)
console = Console(stderr=False, width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, soft_wrap=True)   # an error is one line, however narrow the terminal

# Exit codes (README "The command line"): scripts and schedulers tell these apart.
EXIT_OK, EXIT_FAILED, EXIT_BLOCKED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 64, 130

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON only (one object, or JSON lines).")]
HomeOpt = Annotated[Path | None, typer.Option("--home", help="CAKUPAN_HOME (warehouse, published files, reports).")]


def _settings(home: Path | None = None):
    from cakupan.core.settings import Settings

    return Settings.from_env(home=home)


def _emit(obj) -> None:
    print(json.dumps(obj, default=str, ensure_ascii=False))


@contextlib.contextmanager
def _json_only_stdout(as_json: bool):
    """With --json, everything else a step prints (dbt's log lines, GX's, a library's native writes) goes to
    stderr, so stdout carries only the JSON printed after the step."""
    if not as_json:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _error(message: str) -> None:
    """One failure line on stderr: `cli.error` (galat: / error:; `error` when the language itself is wrong)."""
    try:
        prefix = text("cli.error")
    except SettingsError:
        prefix = "error"
    err.print(f"[bold red]{prefix}:[/] {escape(message)}", soft_wrap=True, highlight=False)     # one line


def _fail(message: str, code: int = 1) -> None:
    _error(message)
    raise typer.Exit(code)


def _dev_tool(module: str):
    """Import a development tool (`cakupan_dev`, installed by `make venv`, not in the runtime image)."""
    import importlib

    try:
        return importlib.import_module(f"cakupan_dev.{module}")
    except ImportError:
        _fail(text("cli.dev_tools"))


app.add_typer(reports_app, name="reports", help="Narrative city reports: extract facts, review them.")


@app.command()
def synth(out: Annotated[Path, typer.Argument(help="Folder to write the regency inboxes into.")],
          regencies: Annotated[str, typer.Option(help="Comma-separated Kemendagri codes.")] = "73.72,73.73,73.14",
          months: Annotated[str, typer.Option(help="First and last month, YYYY-MM:YYYY-MM.")] = "2025-03:2025-08",
          workers: Annotated[int, typer.Option(help="Workers per regency in the first month.")] = 40,
          seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 42,
          scenarios: Annotated[str, typer.Option(help="Comma-separated scenarios, or 'all': late_payment, "
                                                      "partial_payment, unpaid_month, correction, duplicate_worker, "
                                                      "bad_rows, billing_mismatch, double_funding, "
                                                      "claims_unprotected, identity_anomaly, promise_gap, "
                                                      "report_mismatch.")] = "",
          formats: Annotated[str, typer.Option(help="Register formats to cycle through.")] = "xlsx,csv",
          sources: Annotated[str, typer.Option(help="Extra sources to write besides registers and contributions: "
                                                    "claims, city_report, narrative (comma-separated).")] = "",
          all_regencies: Annotated[bool, typer.Option("--all-regencies", help="All 514 regencies.")] = False,
          as_json: JsonOpt = False) -> None:
    """Generate synthetic regency deliveries and their ground truth (deterministic by seed)."""
    from cakupan.core.regions import regencies as all_regs
    synth_main = _dev_tool("synth").synth_main
    codes = sorted(all_regs()) if all_regencies else [c.strip() for c in regencies.split(",") if c.strip()]
    first, _, last = months.partition(":")
    month_list = _month_range(first, last or first)
    truth = synth_main(out, codes, month_list, workers, seed,
                       tuple(s for s in scenarios.split(",") if s), tuple(f for f in formats.split(",") if f),
                       sources=tuple(x for x in sources.split(",") if x))
    summary = {"out": str(out), "files": len(truth["files"]), "regencies": len(codes), "months": month_list,
               "register_rows": sum(f["rows_in"] for f in truth["files"] if f["source"] == "register")}
    if as_json:
        _emit(summary)
    else:
        console.print(text("cli.synth_wrote", files=summary["files"], rows=summary["register_rows"], out=out))


def _month_range(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while (y, m) <= (int(last[:4]), int(last[5:7])):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@app.command()
def ingest(paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders; default: every new "
                                                                       "file in the configured inboxes.")] = None,
           home: HomeOpt = None, run_id: Annotated[str | None, typer.Option(help="Run id to record.")] = None,
           as_json: JsonOpt = False) -> None:
    """Load files into the raw zone and print the load manifest per file."""
    from cakupan.pipeline import ingest as do_ingest
    from cakupan.pipeline import new_run_id

    results = do_ingest(_settings(home), run_id or new_run_id(), list(paths) if paths else None)
    if as_json:
        for r in results:
            _emit(r.to_dict())
    else:
        t = Table(*(text(f"cli.col.{c}") for c in ("load", "file", "source", "regency", "period", "status", "rows_in",
                                                   "loaded", "quarantined", "reason")))
        for r in results:
            t.add_row(str(r.load_id), r.file, r.source or "", r.regency_code or "", r.period or "", r.status,
                      str(r.rows_in), str(r.rows_loaded), str(r.rows_quarantined),
                      r.error_message or ", ".join(f"{k}×{v}" for k, v in r.reasons.items()))
        console.print(t)
    if any(r.status == "failed" for r in results):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def rekey(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Recompute every pseudonym with the current CAKUPAN_PSEUDONYM_KEY (after the key was changed on purpose)."""
    from cakupan.ingest.keys import rekey as do_rekey

    counts = do_rekey(_settings(home))
    if as_json:
        _emit(counts)
    else:
        console.print(text("cli.rekeyed", counts=", ".join(text("cli.table_rows", table=t, count=n)
                                                            for t, n in counts.items())))


@app.command()
def build(home: HomeOpt = None,
          period_from: Annotated[str | None, typer.Option(help="First month to rebuild (YYYY-MM).")] = None,
          period_to: Annotated[str | None, typer.Option(help="Last month to rebuild (YYYY-MM).")] = None,
          full_refresh: Annotated[bool, typer.Option("--full-refresh")] = False) -> None:
    """Copy config and narrative facts into the warehouse, then run `dbt build` (models and tests)."""
    from cakupan import pipeline

    s = _settings(home)
    pipeline.prepare(s)
    pipeline.build(s, period_from, period_to, full_refresh)


@app.command()
def publish(home: HomeOpt = None, run_id: Annotated[str | None, typer.Option()] = None,
            recheck_raw: Annotated[bool, typer.Option(
                "--recheck-raw", help="Validate every raw row, not only the loads no published run has "
                                      "validated under the current raw suite (DuckDB).")] = False,
            as_json: JsonOpt = False) -> None:
    """Export the candidate, run the quality gate, and publish atomically if no blocking check fails."""
    from cakupan import pipeline

    with _json_only_stdout(as_json):
        out = pipeline.gate_and_publish(_settings(home), run_id or pipeline.new_run_id(), recheck_raw=recheck_raw)
    _print_outcome(out, as_json)
    if not out.published:
        raise typer.Exit(EXIT_BLOCKED)


def _print_outcome(out, as_json: bool) -> None:
    obj = {"run_id": out.run_id, "published": out.published, "message": out.message,
           "checks": len(out.gate.results), "errors": len(out.gate.errors), "warnings": len(out.gate.warnings),
           "file": str(out.candidate), "sha256": out.published_sha256,
           "failed": [{"table": r.table_name, "check": r.expectation, "severity": r.severity,
                       "observed": r.observed_value, "unexpected": r.unexpected_count}
                      for r in out.gate.results if not r.success]}
    if as_json:
        _emit(obj)
        return
    colour = "green" if out.published else "red"
    console.print(f"[{colour}]{text('cli.published' if out.published else 'cli.not_published')}[/] "
                  + escape(text("cli.outcome", run=out.run_id, checks=obj["checks"], errors=obj["errors"],
                                warnings=obj["warnings"])))
    for f in obj["failed"]:
        console.print(f"  [{'red' if f['severity'] == 'error' else 'yellow'}]{f['severity']}[/] "
                      + escape(text("cli.failed_check", table=f["table"], check=check_name(f["check"]),
                                    observed=f["observed"], unexpected=f["unexpected"])))


@app.command()
def run(home: HomeOpt = None, run_id: Annotated[str | None, typer.Option()] = None,
        period_from: Annotated[str | None, typer.Option()] = None,
        period_to: Annotated[str | None, typer.Option()] = None, as_json: JsonOpt = False) -> None:
    """Run the whole chain in this process: ingest, build, gate, publish (Airflow runs the same steps)."""
    from cakupan import pipeline

    with _json_only_stdout(as_json):
        out = pipeline.run_all(_settings(home), run_id, period_from, period_to)
    _print_outcome(out, as_json)
    if not out.published:
        raise typer.Exit(EXIT_BLOCKED)


AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="What was published at that moment: a date (end of that day, UTC) or YYYY-MM-DDTHH:MM (UTC).")]


def _published_file(s, as_of: str | None) -> tuple[Path, str]:
    """The published file, or the state that was published at `as_of` (from the publish history); and a title."""
    from cakupan.targets import settled

    settled(s)    # PostgreSQL: a file a killed publish left behind the server catches up first
    if as_of is None:
        if not s.published_db.exists():
            _fail(text("cli.nothing_published", path=s.published_db))
        return s.published_db, text("cli.coverage_published")
    from cakupan.targets.history import HistoryError, state_file
    from cakupan.targets.history import as_of as state_at

    try:
        e = state_at(s, as_of)
        path = state_file(s, e)
    except HistoryError as exc:
        _fail(str(exc))
    return path, text("cli.coverage_as_of", as_of=as_of, run=e.run_id, at=f"{e.published_at:%Y-%m-%d %H:%M}")


@app.command()
def coverage(home: HomeOpt = None, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    """Print the published coverage table per regency and month (read-only on the published file)."""
    from cakupan.auditor.published import open_published

    s = _settings(home)
    path, title = _published_file(s, as_of)
    with open_published(path) as con:
        rows = con.execute(
            "select regency_code, regency_name, strftime(month_start, '%Y-%m') as month, enrolled, protected, "
            "promised, premium_billed, premium_paid from marts.mart_coverage_monthly "
            "order by regency_code, month_start").fetchall()
    keys = ["regency_code", "regency_name", "month", "enrolled", "protected", "promised", "premium_billed",
            "premium_paid"]
    if as_json:
        for r in rows:
            _emit(dict(zip(keys, r)))
        return
    t = Table(*(text(f"cli.col.{c}") for c in ("regency", "name", "month", "enrolled", "protected", "promised",
                                               "billed", "paid")), title=f"{title} (mart_coverage_monthly)" if as_of else text("cli.coverage_title"))
    for r in rows:
        t.add_row(r[0], r[1], r[2], *("—" if v is None else f"{v:,.0f}".replace(",", ".") for v in r[3:]))
    console.print(t)


@app.command("trace")
def trace_cmd(mart: Annotated[str, typer.Argument(help="Mart name, e.g. mart_coverage_monthly.")],
              keys: Annotated[list[str], typer.Argument(help="The row's key, e.g. 73.72 2025-04.")],
              measure: Annotated[str, typer.Option(help="Which figure: enrolled, protected, premium_paid…")] = "enrolled",
              home: HomeOpt = None, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    """Print the source rows (file, sheet, row, pseudonym) behind a published figure (`trace finding ID`: a finding)."""
    from cakupan.auditor.trace import TraceError, finding_table, trace, trace_finding
    from cakupan.targets import settled

    s = _settings(home)
    # PostgreSQL: a file a killed publish left behind the server catches up first (with --as-of: _published_file)
    published = _published_file(s, as_of)[0] if as_of else settled(s).published_db
    try:
        if mart == "finding":  # an audit finding: its evidence rows on each side (mart_findings_evidence)
            if len(keys) != 1:
                raise TraceError(Msg("error.trace.usage"))
            t = trace_finding(published, keys[0])
        else:
            t = trace(published, mart, keys, measure)
    except TraceError as exc:
        _fail(str(exc))
    if as_json:
        _emit(t.to_dict())
        return
    if mart == "finding":
        console.print(finding_table(t))
        console.print(" ".join(f"{k}={v}" for k, v in t.counts.items()))
        return
    tb = Table(*(text(f"cli.col.{c}") for c in ("measure", "funding", "pseudonym", "load", "file", "sheet", "row")),
               title=f"{mart} {' '.join(keys)} {measure} = {t.to_dict()['figure']}")
    for r in t.rows:
        tb.add_row(r["measure"], r["funding_source"] or "", (r["participant_key"] or "")[:16], str(r["load_id"]),
                   r["source_file"], r["sheet"] or "", str(r["source_row"]))
    console.print(tb)
    console.print(" ".join(f"{k}={'—' if v is None else v}" for k, v in t.counts.items()))
    if t.note:
        console.print(t.note)


@app.command()
def report(home: HomeOpt = None, out: Annotated[Path | None, typer.Option(help="Output folder.")] = None,
           as_json: JsonOpt = False) -> None:
    """Write the auditor's static HTML report from the published file."""
    from cakupan.auditor.report import write_report
    from cakupan.targets import settled

    s = settled(_settings(home))     # PostgreSQL: the file catches up with the server's last promote first
    index = write_report(s, out, strict=True)
    if as_json:
        _emit({"index": str(index)})
    else:
        console.print(text("cli.report_written", path=index))


@app.command("demo-summary")
def demo_summary(truth: Annotated[Path | None, typer.Option(help="ground_truth.json written by `cakupan synth`.")]
                 = None, home: HomeOpt = None) -> None:
    """Print the published coverage table (and findings), and compare it with the generator's ground truth."""
    from cakupan.auditor.published import open_published

    compare_with_truth = _dev_tool("demo").compare_with_truth

    s = _settings(home)
    coverage(home=home, as_json=False)
    with open_published(s.published_db) as con:
        tables = {t for (t,) in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'marts'").fetchall()}
        if "mart_audit_findings" in tables:
            rows = con.execute("select regency_code, severity, count(*) from marts.mart_audit_findings "
                               "group by all order by 1, 2").fetchall()
            t = Table(*(text(f"cli.col.{c}") for c in ("regency", "severity", "findings")),
                      title=text("cli.findings_title"))
            for r in rows:
                t.add_row(r[0] or "—", r[1], str(r[2]))
            console.print(t)
    if truth is not None:
        problems = compare_with_truth(s.published_db, truth)
        if problems:
            for p in problems:
                err.print(f"[red]mismatch[/] {p}")
            raise typer.Exit(EXIT_FAILED)
        console.print(f"[green]{escape(text('cli.demo_truth_equal'))}[/]")


@contracts_app.command("dbt-sources")
def contracts_dbt_sources(check: Annotated[bool, typer.Option("--check", help="Fail if the committed file "
                                                                             "differs.")] = False) -> None:
    """Write (or check) the dbt sources YAML generated from the contracts."""
    from cakupan.core.dbt_sources import SOURCES_FILE, render_sources, write_sources

    if check:
        if SOURCES_FILE.read_text(encoding="utf-8") != render_sources():
            _fail(text("cli.sources_out_of_date", path=SOURCES_FILE))
        return
    write_sources()


@app.command()
def findings(home: HomeOpt = None,
             severity: Annotated[str | None, typer.Option(help="Only this severity: error, warning or info.")] = None,
             regency: Annotated[str | None, typer.Option(help="Only this regency code, e.g. 73.72.")] = None,
             list_all: Annotated[bool, typer.Option("--list", help="One line per finding (id, code, month, detail) "
                                                                    "instead of the summary.")] = False,
             as_json: JsonOpt = False) -> None:
    """Print the published audit findings per regency and severity (read-only on the published file)."""
    from cakupan.auditor.published import open_published

    s = _settings(home)
    where, params = ["1 = 1"], []
    if severity:
        where.append("severity = ?")
        params.append(severity)
    if regency:
        where.append("regency_code = ?")
        params.append(regency)
    cond = " and ".join(where)
    with open_published(s.published_db) as con:
        if con.execute("select count(*) from information_schema.tables where table_schema = 'marts' "
                       "and table_name = 'mart_audit_findings'").fetchone()[0] == 0:
            _fail(text("cli.no_findings_table"))
        if list_all:
            cur = con.execute(
                "select finding_id, code, severity, regency_code, strftime(month_start, '%Y-%m') as month, subject, "
                "value_source, value_reference, affected_workers, evidence_rows, detail from marts.mart_audit_findings "
                f"where {cond} order by regency_code, month_start, severity, code, finding_id", params)
        else:
            cur = con.execute(
                "select regency_code, any_value(regency_name) as regency_name, severity, count(*) as findings, "
                "string_agg(distinct code, ', ' order by code) as codes, "
                # people, not findings: one claimant with two claims is one person. Findings about a whole
                # month or funding source name nobody, and their counts of different things are never added.
                "count(distinct participant_key) as people_named "
                f"from marts.mart_audit_findings where {cond} group by regency_code, severity "
                "order by regency_code, case severity when 'error' then 1 when 'warning' then 2 else 3 end", params)
        keys = [d[0] for d in cur.description]
        rows = [dict(zip(keys, r)) for r in cur.fetchall()]
    if as_json:
        for r in rows:
            _emit(r)
        return
    if list_all:
        t = Table("id", *(text(f"cli.col.{c}") for c in ("code", "severity", "regency", "month", "detail")),
                  title=text("cli.findings_title"))
        for r in rows:
            t.add_row(r["finding_id"][:12], r["code"], r["severity"], r["regency_code"], r["month"],
                      finding_detail(r["detail"]))
    else:
        t = Table(*(text(f"cli.col.{c}") for c in ("regency", "name", "severity", "findings", "people_named", "codes")),
                  title=text("cli.findings_summary_title"))
        for r in rows:
            t.add_row(r["regency_code"], r["regency_name"] or "", r["severity"], str(r["findings"]),
                      str(r["people_named"]), r["codes"])
    console.print(t)
    if list_all:
        console.print(text("cli.trace_hint"))


history_app = typer.Typer(help="What was published when: the publish history auditors read.", no_args_is_help=True)
app.add_typer(history_app, name="history")


@history_app.command("list")
def history_list(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Every publish (and rollback): run id, time, gate verdict, sha256, row counts, and whether its file is kept."""
    from cakupan.targets import settled
    from cakupan.targets.history import entries

    hist = entries(settled(_settings(home)))
    if as_json:
        for e in hist:
            _emit(e.to_dict())
        return
    if not hist:
        console.print(text("cli.history_empty"))
        return
    t = Table(*(text(f"cli.col.{c}") for c in ("run", "published_utc", "kind", "gate")), "sha256",
              *(text(f"cli.col.{c}") for c in ("coverage_rows", "tables", "file")), title=text("cli.history_title"))
    for e in hist:
        g = e.gate
        verdict = "—" if not g else text("cli.history.passed" if g.get("success") else "cli.history.failed",
                                         warnings=g.get("warnings", 0))
        kind = text("cli.history.publish") if e.kind == "publish" else text("cli.history.rollback", run=e.restores,
                                                                            reason=e.reason)
        t.add_row(e.run_id, f"{e.published_at:%Y-%m-%d %H:%M:%S}", kind, verdict, e.sha256[:12],
                  str(e.rows.get("marts.mart_coverage_monthly", "—")), str(len(e.rows)),
                  text("cli.history.kept") if e.kept else text("cli.history.stored") if e.readable
                  else text("cli.history.pruned", at=f"{e.pruned_at:%Y-%m-%d}") if e.pruned_at
                  else text("cli.history.missing"))
    console.print(t)


@app.command()
def diff(run_a: Annotated[str, typer.Argument(help="The earlier run id (see `cakupan history list`).")],
         run_b: Annotated[str, typer.Argument(help="The later run id.")],
         home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """The coverage figures that changed between two publishes, by regency, month and measure."""
    from cakupan.targets import settled
    from cakupan.targets.history import HistoryError, find, state_file
    from cakupan.targets.history import diff as figures_diff

    s = settled(_settings(home))
    try:
        a, b = find(s, run_a), find(s, run_b)
        rows = figures_diff(state_file(s, a), state_file(s, b))
    except HistoryError as exc:
        _fail(str(exc))
    if as_json:
        for r in rows:
            _emit(r)
        return
    t = Table(*(text(f"cli.col.{c}") for c in ("regency", "month", "measure")), run_a, run_b,
              title=text("cli.diff_title", a=run_a, b=run_b))
    for r in rows:
        t.add_row(r["regency_code"], r["month"], r["measure"],
                  *("—" if v is None else f"{v:,.0f}".replace(",", ".") for v in (r["old_value"], r["new_value"])))
    console.print(t if rows else text("cli.diff_none", a=run_a, b=run_b))


@app.command()
def rollback(run: Annotated[str, typer.Argument(help="The run whose published state to publish again.")],
             reason: Annotated[str, typer.Option(help="Why (recorded in the audit trail).")] = "",
             home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Publish an earlier state again, atomically, after verifying its sha256; recorded with the reason."""
    from cakupan.targets.history import HistoryError

    s = _settings(home)
    if s.target == "postgres":   # published schemas restored in one transaction, then the published file
        from cakupan.targets.postgres.rollback import rollback as do_rollback
    else:
        from cakupan.targets.rollback import rollback as do_rollback
    try:
        done = do_rollback(s, run, reason)
    except HistoryError as exc:
        _fail(str(exc))
    if as_json:
        _emit(done.to_dict())
    else:
        console.print(escape(text("cli.rolled_back", run=run, sha=done.sha256[:12], recorded=done.run_id)))


def main() -> None:
    """Console-script entry point: every failure is one line on stderr and an exit code, never a traceback."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from cakupan.auditor.published import PublishedFileError
    from cakupan.core.config import ConfigError
    from cakupan.core.envfile import read_env_file
    from cakupan.core.settings import SettingsError
    from cakupan.targets.history import HistoryError
    from cakupan.targets.postgres.params import PgError
    from cakupan.targets.published_file import PublishError
    from cakupan.transform import DbtError

    read_env_file()
    try:
        from cakupan.helptext import lang_from_argv, localise, usage_error

        command = typer.main.get_command(app)
        localise(command, lang_from_argv(sys.argv[1:]))   # --help in the language (catalogue help.*)
        code = command(standalone_mode=False)   # not standalone: a usage error gets its own exit code, not 2
    except KeyboardInterrupt:
        code = _interrupted()
    except (SettingsError, ConfigError, PublishError, DbtError, PublishedFileError, PgError,
            HistoryError) as exc:  # expected
        _error(str(exc))
        code = EXIT_FAILED
    except Exception as exc:  # the promise: one clear line, never a traceback
        if type(exc).__name__ == "NoArgsIsHelpError":          # `cakupan` alone: the help, as Click shows it
            exc.show()
            code = EXIT_USAGE
        elif hasattr(exc, "show") and hasattr(exc, "exit_code"):   # Click's own: a wrong option, a missing file…
            _error(usage_error(exc) if exc.exit_code == 2 else exc.format_message())
            code = EXIT_USAGE if exc.exit_code == 2 else EXIT_FAILED   # 2: Click's usage error
        elif type(exc).__name__ == "Abort":                       # Click's form of Ctrl-C
            code = _interrupted()
        elif os.environ.get("CAKUPAN_DEBUG"):
            raise
        else:
            from cakupan.clierrors import explain

            _error(explain(exc))
            code = EXIT_FAILED
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _interrupted() -> int:
    _error(text("cli.interrupted"))
    return EXIT_INTERRUPTED
