"""Cells as text: the one rendering of a delivered cell every reader and the header search use."""

from __future__ import annotations

from cakupan.ingest import parsing


def cell_text(v: object) -> str | None:
    """`parsing.cell_text`, with a shortcut for the common clean cell (printable ASCII, nothing to trim)."""
    if type(v) is str and v.isascii() and v.isprintable() and (not v or (v[0] not in " '" and v[-1] != " "
                                                                           and "  " not in v)):
        return v or None
    return parsing.cell_text(v)


def row_texts(row: list) -> list[str]:
    """Every cell of a row as text ('' for a blank cell)."""
    return [cell_text(v) or "" for v in row]


def is_blank_row(row: list) -> bool:
    return all(cell_text(v) is None for v in row)
