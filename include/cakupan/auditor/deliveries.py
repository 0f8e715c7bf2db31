"""The delivery calendar an auditor reads at a glance: regencies down, months across, one mark per expected source
in each cell (delivered, late, missing, not yet due), from marts.mart_delivery_calendar."""

from __future__ import annotations

from dataclasses import dataclass

from cakupan.auditor.formatting import fmt_date, fmt_month
from cakupan.auditor.published import PublishedDb
from cakupan.core.messages import text

STATUSES = ("delivered", "late", "missing", "not_due")
SYMBOLS = {"delivered": "✓", "late": "!", "missing": "✗", "not_due": "·"}
SOURCES = ("register", "contributions", "claims")
WORST = {"missing": 3, "late": 2, "not_due": 1, "delivered": 0}


@dataclass
class Mark:
    source: str
    letter: str
    status: str
    symbol: str
    title: str


@dataclass
class Cell:
    status: str          # the worst mark of the month (the cell's colour)
    marks: list[Mark]


@dataclass
class CalendarRow:
    code: str
    name: str
    cells: list[Cell | None]     # None: not expected that month


@dataclass
class DeliveryCalendar:
    months: list
    rows: list[CalendarRow]
    counts: dict[str, int]

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(text("report.col.regency"), "")] + [(fmt_month(m), "month") for m in self.months]

    @property
    def legend(self) -> list[tuple[str, str, str]]:
        return [(s, SYMBOLS[s], text(f"report.deliveries.status.{s}")) for s in STATUSES] + [
            ("", text(f"report.deliveries.letter.{s}"), text(f"report.deliveries.source.{s}")) for s in SOURCES]


def _title(r: dict) -> str:
    """One mark's tooltip: source, month, status, due date, when it arrived."""
    words = [text(f"report.deliveries.source.{r['source']}"), fmt_month(r["month_start"]),
             text(f"report.deliveries.status.{r['delivery_status']}"),
             text("report.deliveries.due", date=fmt_date(r["due_date"]))]
    if r.get("first_received_at") is not None:
        words.append(text("report.deliveries.received", date=fmt_date(r["first_received_at"]),
                          load=r.get("load_id")))
    if r.get("days_late"):
        words.append(text("report.deliveries.days_late", days=r["days_late"]))
    return "; ".join(words)


def calendar_section(db: PublishedDb, names: dict[str, str]) -> DeliveryCalendar | None:
    """marts.mart_delivery_calendar as a grid; None when the published file has no calendar."""
    if not db.has("marts.mart_delivery_calendar"):
        return None
    rows = db.table("marts.mart_delivery_calendar", "order by regency_code, month_start, source") or []
    months = sorted({r["month_start"] for r in rows})
    by_regency: dict[str, dict] = {}
    for r in rows:
        by_regency.setdefault(r["regency_code"], {}).setdefault(r["month_start"], []).append(r)
    out = []
    for code, per_month in sorted(by_regency.items()):
        cells: list[Cell | None] = []
        for m in months:
            got = sorted(per_month.get(m, []), key=lambda r: SOURCES.index(r["source"]) if r["source"] in SOURCES
                         else len(SOURCES))
            if not got:
                cells.append(None)
                continue
            marks = [Mark(r["source"], text(f"report.deliveries.letter.{r['source']}"), r["delivery_status"],
                          SYMBOLS.get(r["delivery_status"], "?"), _title(r)) for r in got]
            cells.append(Cell(max((mk.status for mk in marks), key=lambda s: WORST.get(s, 0)), marks))
        out.append(CalendarRow(code, names.get(code) or "", cells))
    counts = {s: sum(1 for r in rows if r["delivery_status"] == s) for s in STATUSES}
    return DeliveryCalendar(months, out, counts)
