"""The Jinja environment of the auditor site: templates/ beside this module, autoescape on, the value formats of
cakupan.auditor.formatting as filters, and `t(key, **params)`: every text of the site from the message catalogue
(cakupan.core.messages) in the language of the render (CAKUPAN_LANG / --lang)."""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from cakupan.auditor import formatting as f
from cakupan.core.contracts import reason, reasons
from cakupan.core.messages import check_name, language, text
from cakupan.core.settings import safe_id
from cakupan.quality.texts import run_message

TEMPLATES = Path(__file__).with_name("templates")

FILTERS = {
    "scrub": f.scrub, "num": f.fmt_int, "money": f.fmt_money, "pct": f.fmt_pct, "month": f.fmt_month,
    "date": f.fmt_date, "utc_date": f.fmt_utc, "cell": f.fmt_any, "pseudonym": f.pseudonym, "short_key": f.short_key,
    "hex_chunks": f.hex_chunks, "badge_class": f.badge_class, "safe_id": safe_id,
    "px": lambda v: f"{v:.1f}",   # SVG coordinates to a tenth of a pixel
}


def _finalize(value):
    """How every {{ value }} prints: None as nothing (a missing text value), never as "None"; and text from a
    delivery (a file or sheet name, a message) that a spreadsheet would run as a formula gets a leading apostrophe
    (`formatting.spreadsheet_safe`): Excel opens an HTML table as a sheet."""
    if value is None:
        return ""
    if type(value) is str:   # not Markup: a macro's output is built here, not delivered
        return f.spreadsheet_safe(value)
    return value


@functools.cache
def environment() -> Environment:
    """The one environment of the site; a typo in a template variable raises instead of printing nothing."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      finalize=_finalize, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(FILTERS)
    env.filters["quarantine_message"] = f.quarantine_message
    env.filters["check_name"] = check_name
    env.filters["run_message"] = run_message
    env.globals.update(t=text, reason_text=lambda code: reason(code).render() if code in reasons() else code)
    env.tests["missing"] = f.missing
    return env


def render(template: str, **context) -> str:
    """Render one page template."""
    return environment().get_template(template).render(lang=language(), **context)


def macros(template: str):
    """The macros of a template, callable from Python (they return escaped markup)."""
    return environment().get_template(template).module
