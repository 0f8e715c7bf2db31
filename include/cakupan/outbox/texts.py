"""The outbox's clerk-facing texts (rejection workbooks), read from the one message catalogue in Bahasa Indonesia:
`outbox.*` entries of messages.yml and the reason registry (contracts/reasons.yml). A workbook is written for a
regency's clerk, so always in `id`, whatever CAKUPAN_LANG says.
"""

from __future__ import annotations

from cakupan.core.contracts import reasons
from cakupan.core.messages import MONTHS, section

TEXTS_ID: dict[str, str] = section("outbox", "id")
MONTHS_ID = [m.upper() for m in MONTHS["id"]]


def reason_id(code: str, column: str | None = None, value: object = None) -> str:
    """The reason in Bahasa Indonesia, with {column} and {value} filled in (the code itself when unknown)."""
    known = reasons().get(code)
    return known.render(column, value, "id") if known else code
