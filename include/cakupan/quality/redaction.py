"""No 16-digit number (a NIK) in anything the gate stores, renders or publishes: one pattern, in Python and in the
SQL DuckDB and PostgreSQL both read. Light on purpose: the publish step's audit exports import it."""

from __future__ import annotations

import re

# a 16-digit number standing alone; digits inside a hex pseudonym or a longer number are left alone
NIK_SHAPED = r"(^|[^0-9A-Za-z])[0-9]{16}([^0-9A-Za-z]|$)"
_NIK_SHAPED = re.compile(r"(?<![0-9A-Za-z])[0-9]{16}(?![0-9A-Za-z])")
REDACTED = "[16-digit number removed]"


def redact(text: str | None) -> str | None:
    """Return text with every stand-alone 16-digit number replaced."""
    return None if text is None else _NIK_SHAPED.sub(REDACTED, text)


def redacted_sql(column: str) -> str:
    """`column` with every stand-alone 16-digit number replaced, as a select-list item (DuckDB and PostgreSQL);
    applied twice, as a match takes the separator after it, which may also precede the next number."""
    once = "regexp_replace({}, '" + NIK_SHAPED + "', '\\1" + REDACTED + "\\2', 'g')"
    return once.replace("{}", once.replace("{}", column)) + f" as {column}"
