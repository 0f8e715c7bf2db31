"""`cakupan reports …`: print the facts narrative city reports state (JSON lines with --json, a table otherwise)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cakupan.core.messages import text

if TYPE_CHECKING:
    from cakupan.reports.facts import Skipped

REVIEW_FILE = "report_facts.yml"

app = typer.Typer(
    help="Facts from narrative city reports (press releases, meeting reports).", no_args_is_help=True
)


@app.callback()
def _reports() -> None:
    """Facts from narrative city reports (press releases, meeting reports)."""


def skipped_to_row(s: Skipped) -> dict:
    """Flatten a skipped number into a JSON-serialisable dict."""
    return {
        "source_file": s.source_file,
        "code": s.code,
        "reason": s.reason,
        "sentence": s.sentence,
        "start": s.start,
        "end": s.end,
    }


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _print_tables(rows: list[dict], skipped: list[Skipped], console: Console) -> None:
    table = Table(title=f"Facts ({len(rows)})", show_lines=False)
    for col in (
        "fact_id",
        "regency",
        "event date",
        "kind",
        "fact",
        "segment",
        "role",
        "value",
        "unit",
        "effective",
        "conf.",
        "status",
    ):
        table.add_column(col, overflow="fold", no_wrap=col in ("fact_id", "value"))
    for r in rows:
        value = r["value_text"] if r["value"] is None else f"{r['value']:,.10g}"
        table.add_row(
            r["fact_id"],
            r["regency_code"],
            r["event_date"] or "",
            r["event_kind"],
            r["fact_kind"],
            r["segment"] or "",
            r["role"],
            value,
            r["unit"],
            (r["effective_month"] or "")[:7],
            f"{r['confidence']:.2f}",
            r["status"],
        )
    console.print(table)
    if skipped:
        sk = Table(title=f"Skipped and notes ({len(skipped)})")
        for col in ("file", "code", "reason"):
            sk.add_column(col, overflow="fold")
        for s in skipped:
            sk.add_row(s.source_file, s.code, s.reason)
        console.print(sk)


@app.command()
def extract(
    paths: Annotated[list[Path], typer.Argument(help="Report files (TXT, HTML) or folders of them.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON lines (type: fact | skipped | note).")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Config folder (regencies/*.yml, sectors.yml, report_facts.yml); "
            "default $CAKUPAN_CONFIG or the project's config/.",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Extract facts (regency, event date, kind, segment, role, value, effective month, sentence, offsets)."""
    err = Console(stderr=True)
    missing = [p for p in paths if not p.exists()]
    if missing:
        err.print(f"[red]{escape(text('cli.no_such_path', path=missing[0]))}[/red]")
        raise typer.Exit(2)
    # the extraction's modules only here: the CLI's other commands import this module too (cakupan.reports)
    from cakupan.core.config import ConfigError
    from cakupan.core.settings import Settings
    from cakupan.reports.extract import extract_paths
    from cakupan.reports.review import ReviewConfig, ReviewFileError, load_review, review_facts
    from cakupan.reports.vocabulary import ExtractionConfig
    from cakupan.reports.warehouse import facts_to_rows

    settings = Settings.from_env()
    inbox = settings.inbox
    if config is None:
        config = settings.config_dir
    try:
        # named relative to the inbox where they lie in it: the same fact ids as the pipeline's, for the review file
        extraction = extract_paths(paths, ExtractionConfig.from_dir(config), roots=[inbox])
        review_path = config / REVIEW_FILE
        review = load_review(review_path) if review_path.exists() else ReviewConfig(None)
        reviewed = review_facts(extraction.facts, review)
    except (ReviewFileError, ConfigError) as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    rows = facts_to_rows(reviewed)
    if as_json:
        for row in rows:
            typer.echo(json.dumps({"type": "fact", **row}, ensure_ascii=False, default=_json_default))
        for s in extraction.skipped:
            typer.echo(json.dumps({"type": "skipped", **skipped_to_row(s)}, ensure_ascii=False))
        for s in extraction.notes:
            typer.echo(json.dumps({"type": "note", **skipped_to_row(s)}, ensure_ascii=False))
        return
    _print_tables(rows, extraction.skipped + extraction.notes, Console())


__all__ = ["app", "skipped_to_row"]
