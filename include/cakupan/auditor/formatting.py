"""How the auditor site writes a value: Indonesian numbers, months, dates, short pseudonyms, and the scrub that keeps
identifiers out of free text.

Every function returns plain text; the templates escape it (autoescape), so nothing here builds HTML.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from cakupan.core import messages
from cakupan.core.personal import mask_personal
from cakupan.core.settings import safe_id

PSEUDONYM_CHARS = 12

_LONG_HEX = re.compile(r"\b[0-9a-fA-F]{32,}\b")


def scrub_digits(text: str) -> str:
    """Return text with every NIK-like number (in any form) and phone number removed (`core.personal`); digit runs
    inside a hex pseudonym are part of it and stay."""
    return mask_personal(text, "[long number removed]")


def scrub(text) -> str:
    """Return text with long hex strings (pseudonyms) shortened and NIK-like numbers and phone numbers removed."""
    if text is None:
        return ""
    return scrub_digits(_LONG_HEX.sub(lambda m: m.group(0)[:PSEUDONYM_CHARS] + "…", str(text)))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?[0-9][0-9.,]*%?")


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet would take for a formula (it starts with =, +, -, @, a tab or a carriage return, and is
    not a plain number such as -200) with a leading apostrophe, the spreadsheet's own mark for "this is text"."""
    if len(text) > 1 and text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def missing(v) -> bool:
    """True for None, NaN and pandas' NA/NaT: a value the published file does not have."""
    if v is None:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    return type(v).__name__ in ("NAType", "NaTType")


def fmt_int(v) -> str:
    """Indonesian thousands separator: 1.234.567; missing values as an em dash."""
    if missing(v):
        return "—"
    return f"{float(v):,.0f}".replace(",", ".")


def fmt_money(v) -> str:
    """Rupiah as written in Indonesia, in either language: Rp 16.800."""
    return "—" if missing(v) else messages.fmt_rupiah(v)


def fmt_pct(v, digits: int = 1) -> str:
    """A ratio as a percentage with a decimal comma: 0.125 -> 12,5%."""
    if missing(v):
        return "—"
    return f"{float(v) * 100:.{digits}f}%".replace(".", ",")


def iso_month(v) -> str:
    """YYYY-MM (file names, data attributes)."""
    if missing(v):
        return "—"
    if isinstance(v, (dt.date, dt.datetime)):
        return f"{v:%Y-%m}"
    return str(v)[:7]


def fmt_month(v) -> str:
    """A month as the report's language writes it: April 2025."""
    if missing(v):
        return "—"
    return messages.fmt_month(v) if isinstance(v, (dt.date, dt.datetime)) or _ISO_MONTH.match(str(v)) else str(v)


def fmt_date(v) -> str:
    """A date as the report's language writes it (30 April 2025), a time with its hour to the second."""
    if missing(v):
        return "—"
    if isinstance(v, dt.datetime):
        return f"{messages.fmt_date(v)} {v:%H:%M:%S}"
    if isinstance(v, dt.date):
        return messages.fmt_date(v)
    return str(v)


_ISO_MONTH = re.compile(r"\d{4}-\d{2}(-\d{2})?$")


def quarantine_message(row) -> str:
    """A quarantined row's message in the report's language, rendered now from what was stored: the file, sheet and
    row, and each problem's reason code, column and (non-personal) value. A row stored before its values were kept
    shows the message written at load time."""
    import json

    try:
        problems = json.loads(row.get("reasons") or "null")
    except (TypeError, ValueError, AttributeError):
        problems = None
    if not problems or any("value" not in p for p in problems):
        return row.get("message") or ""
    from cakupan.core.contracts import reason

    sheet = row.get("sheet") or "-"
    where = (f"{row.get('source_file')}, {messages.text('word.sheet')} {sheet}, "
             f"{messages.text('word.row')} {row.get('source_row')}: ")
    return where + "; ".join(reason(p["code"]).template().replace("{column}", p.get("column") or "")
                             .replace("{value}", p.get("value") or "") for p in problems)


def is_number(v) -> bool:
    """True for ints, floats and Decimals (not booleans): the cells written right-aligned."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) or type(v).__name__ == "Decimal"


def fmt_any(v) -> str:
    """Generic cell: numbers with separators, dates as ISO, text scrubbed."""
    if missing(v):
        return "—"
    if isinstance(v, bool):
        return messages.text("report.yes" if v else "report.no")
    if isinstance(v, int) or type(v).__name__ in ("int64", "int32"):
        return fmt_int(v)
    if isinstance(v, float) or type(v).__name__ == "Decimal":
        f = float(v)
        return fmt_int(f) if f.is_integer() else f"{f:,.4g}".replace(",", "·").replace(".", ",").replace("·", ".")
    if isinstance(v, (dt.date, dt.datetime)):
        return fmt_date(v)
    return scrub(v)


def hex_chunks(h: str) -> list[str]:
    """A full hash in pieces of 8 characters (the page puts a break opportunity between them)."""
    return [h[i:i + 8] for i in range(0, len(h), 8)]


def short_key(key) -> str:
    """A pseudonym cut to its first 12 characters; empty when there is none."""
    return str(key or "")[:PSEUDONYM_CHARS]


def pseudonym(key) -> str:
    """A pseudonym as the site shows it: its first 12 characters and an ellipsis."""
    return "—" if not key else short_key(key) + "…"


def badge_class(text) -> str:
    """The CSS class of a status badge: the status in lower case, runs of other characters as one dash."""
    return re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")


def utc(ts) -> dt.datetime | None:
    """A naive UTC datetime from a datetime, a date or an ISO string; None when it is none of these."""
    if isinstance(ts, dt.datetime):
        return ts.replace(tzinfo=None) if ts.tzinfo is None else ts.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(ts, dt.date):
        return dt.datetime(ts.year, ts.month, ts.day)
    if isinstance(ts, str) and ts:
        try:
            return utc(dt.datetime.fromisoformat(ts))
        except ValueError:
            return None
    return None


def fmt_utc(ts) -> str:
    """A time as UTC when it can be read as one, else as it was recorded."""
    return fmt_date(utc(ts) or ts)


def trace_file_name(regency: str, month, measure: str) -> str:
    """`trace/<regency>_<YYYY-MM>_<measure>.html` (relative to the site root)."""
    return f"trace/{safe_id(str(regency))}_{iso_month(month)}_{safe_id(measure)}.html"
