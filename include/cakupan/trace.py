"""Trace a published mart figure back to its source rows (file, sheet, row, pseudonym — never the NIK)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

TRACEABLE = {"mart_coverage_monthly": ("enrolled", "protected", "premium_paid", "premium_billed", "participants_billed")}


class TraceError(ValueError):
    """The mart, key or measure cannot be traced; the message says why."""


@dataclass
class Trace:
    mart: str
    key: dict
    measure: str
    figure: object
    rows: list[dict] = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"mart": self.mart, "key": self.key, "measure": self.measure, "figure": _plain(self.figure),
                "counts": self.counts, "rows": [{k: _plain(v) for k, v in r.items()} for r in self.rows]}


def _plain(v):
    if isinstance(v, dt.date):
        return v.isoformat()
    if hasattr(v, "is_integer") or type(v).__name__ == "Decimal":
        f = float(v)
        return int(f) if f.is_integer() else f
    return v


def _month(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text[:7] + "-01")
    except ValueError:
        raise TraceError(f"{text!r} is not a month (YYYY-MM)") from None


def trace(published: Path, mart: str, keys: list[str], measure: str = "enrolled") -> Trace:
    """Return the source rows behind one figure of a published mart, and the counts they add up to."""
    if mart not in TRACEABLE:
        raise TraceError(f"{mart} cannot be traced; traceable marts: {', '.join(TRACEABLE)}")
    if measure not in TRACEABLE[mart]:
        raise TraceError(f"measure {measure!r} is not traceable; choose one of {', '.join(TRACEABLE[mart])}")
    if len(keys) != 2:
        raise TraceError(f"{mart} is keyed by regency code and month, e.g. `73.72 2025-04`")
    regency, month = keys[0], _month(keys[1])
    if not published.exists():
        raise TraceError(f"no published warehouse at {published}: run the pipeline first")
    with duckdb.connect(str(published), read_only=True) as con:
        row = con.execute(f"select * from marts.{mart} where regency_code = ? and month_start = ?",
                          [regency, month]).df()
        if row.empty:
            raise TraceError(f"{mart} has no row for regency {regency} and month {month:%Y-%m}")
        figure = row.iloc[0][measure]
        t = Trace(mart, {"regency_code": regency, "month_start": month.isoformat()}, measure, figure)
        enrolled = con.execute(
            "select * from marts.mart_lineage where mart = ? and regency_code = ? and month_start = ? and measure = "
            "'enrolled' order by source_file, sheet, source_row", [mart, regency, month]).df()
        payments = con.execute(
            "select * from marts.mart_lineage where mart = ? and regency_code = ? and month_start = ? and measure = "
            "'payment' order by source_file, sheet, source_row", [mart, regency, month]).df()
        cols = ["measure", "funding_source", "participant_key", "load_id", "source_file", "sheet", "source_row"]
        if measure in ("enrolled", "protected"):
            t.rows += enrolled[cols].to_dict("records")
            t.counts["enrolled"] = int(enrolled["participant_key"].nunique())
        if measure in ("protected", "premium_paid", "premium_billed", "participants_billed"):
            t.rows += payments[cols].to_dict("records")
            t.counts["payment_rows"] = len(payments)
        if measure == "protected":
            t.counts["protected"] = None if row.iloc[0]["protected"] is None else _plain(row.iloc[0]["protected"])
    return t
