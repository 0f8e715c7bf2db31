"""Trace a published mart figure back to its source rows (file, sheet, row, pseudonym — never the NIK)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from cakupan.auditor.formatting import missing
from cakupan.auditor.published import open_published
from cakupan.core.messages import Msg, finding_detail

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
    note: str | None = None        # what a reader must know to read the figure (e.g. no register governs it)

    def plain_figure(self):
        """The figure as JSON and the pages show it (None for no data, an int when whole)."""
        return _plain(self.figure)

    def to_dict(self) -> dict:
        return {"mart": self.mart, "key": self.key, "measure": self.measure, "figure": self.plain_figure(),
                "counts": self.counts, "note": self.note,
                "rows": [{k: _plain(v) for k, v in r.items()} for r in self.rows]}


def _plain(v):
    if missing(v):
        return None
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
        raise TraceError(Msg("error.trace.not_month", value=repr(text))) from None


def trace(published: Path, mart: str, keys: list[str], measure: str = "enrolled") -> Trace:
    """Return the source rows behind one figure of a published mart, and the counts they add up to."""
    if mart not in TRACEABLE:
        raise TraceError(Msg("error.trace.mart", mart=mart, marts=", ".join(TRACEABLE)))
    if measure not in TRACEABLE[mart]:
        raise TraceError(Msg("error.trace.measure", measure=repr(measure), measures=", ".join(TRACEABLE[mart])))
    if len(keys) != 2:
        raise TraceError(Msg("error.trace.keys", mart=mart))
    regency, month = keys[0], _month(keys[1])
    if not published.exists():
        raise TraceError(Msg("error.trace.no_published", path=published))
    with open_published(published) as con:
        return Tracer(con, mart).trace(regency, month, measure)


LINEAGE_COLUMNS = ["measure", "funding_source", "participant_key", "load_id", "source_file", "sheet", "source_row"]


class Tracer:
    """Traces figures of one mart through one open connection to a published file. A regency's mart rows and
    lineage are read once, when its first figure is traced (the auditor site traces every figure: a query per
    figure made a national month's report take minutes)."""

    def __init__(self, con, mart: str):
        self.con, self.mart = con, mart
        self._regency: str | None = None
        self._rows: dict[str, dict] = {}                        # month (YYYY-MM) → the mart's row
        self._lineage: dict[tuple[str, str], list[dict]] = {}   # (month, enrolled | payment) → source rows, in order

    def _load(self, regency: str) -> None:
        def records(sql: str, params: list) -> list[dict]:
            cur = self.con.execute(sql, params)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]

        self._rows = {f"{r['month_start']:%Y-%m}": r for r in records(
            f"select * from marts.{self.mart} where regency_code = ?", [regency])}
        self._lineage = {}
        for r in records(
                f"select month_start, {', '.join(LINEAGE_COLUMNS)} from marts.mart_lineage where mart = ? and "
                "regency_code = ? and measure in ('enrolled', 'payment') "
                "order by month_start, measure, source_file, sheet, source_row", [self.mart, regency]):
            self._lineage.setdefault((f"{r.pop('month_start'):%Y-%m}", r["measure"]), []).append(r)
        self._regency = regency

    def trace(self, regency: str, month: dt.date, measure: str) -> Trace:
        if regency != self._regency:
            self._load(regency)
        key = f"{month:%Y-%m}"
        row = self._rows.get(key)
        if row is None:
            raise TraceError(Msg("error.trace.no_row", mart=self.mart, regency=regency, month=key))
        t = Trace(self.mart, {"regency_code": regency, "month_start": month.isoformat()}, measure, row[measure])
        enrolled = self._lineage.get((key, "enrolled"), [])
        payments = self._lineage.get((key, "payment"), [])
        governed = not missing(row["enrolled"])
        if measure in ("enrolled", "protected"):
            t.rows += enrolled
            # no governing register: the month has no enrolled figure (NULL, domain.md), not 0 workers
            t.counts["enrolled"] = (len({r["participant_key"] for r in enrolled if r["participant_key"] is not None})
                                    if governed else None)
        if measure in ("protected", "premium_paid", "premium_billed", "participants_billed"):
            t.rows += payments
            t.counts["payment_rows"] = len(payments)
        if measure == "protected":
            t.counts["protected"] = _plain(row["protected"])
        if not governed and measure in ("enrolled", "protected"):
            t.note = (f"no register delivery governs {month:%Y-%m} for {regency}: enrolled"
                      + (" and protected are" if measure == "protected" else " is") + " unknown (no data), not 0")
        return t


# --- audit findings ------------------------------------------------------------------------------------------
FINDING_COLUMNS = ["side", "source", "regency_code", "month_start", "funding_source", "participant_key", "load_id",
                   "source_file", "sheet", "source_row", "note"]


def trace_finding(published: Path, finding_id: str) -> Trace:
    """Return the source rows on each side of one audit finding (marts.mart_findings_evidence), read-only.

    finding_id may be abbreviated to a unique prefix of at least 6 characters.
    """
    fid = (finding_id or "").strip().lower()
    if len(fid) < 6:
        raise TraceError(Msg("error.trace.finding_id"))
    if not published.exists():
        raise TraceError(Msg("error.trace.no_published", path=published))
    with open_published(published) as con:
        tables = {t for (t,) in con.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'marts'").fetchall()}
        if not {"mart_audit_findings", "mart_findings_evidence"} <= tables:
            raise TraceError(Msg("cli.no_findings_table"))
        found = _records(con.execute("select * from marts.mart_audit_findings where finding_id like ? "
                                     "order by finding_id", [fid + "%"]))
        if not found:
            raise TraceError(Msg("error.trace.no_finding", id=repr(finding_id)))
        if len(found) > 1:
            raise TraceError(Msg("error.trace.ambiguous", id=repr(finding_id), n=len(found)))
        f = found[0]
        rows = _records(con.execute(
            f"select {', '.join(FINDING_COLUMNS)} from marts.mart_findings_evidence where finding_id = ? "
            "order by side desc, source, source_file, sheet, source_row", [f["finding_id"]]))
    key = {k: _plain(f[k]) for k in ("finding_id", "code", "severity", "regency_code", "month_start", "subject")}
    t = Trace("mart_audit_findings", key, f["code"], finding_detail(f["detail"]), rows=rows)
    t.counts = {"source_rows": sum(r["side"] == "source" for r in rows),
                "reference_rows": sum(r["side"] == "reference" for r in rows),
                "value_source": None if f["value_source"] is None else _plain(f["value_source"]),
                "value_reference": None if f["value_reference"] is None else _plain(f["value_reference"])}
    return t


def _records(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def finding_table(t: Trace):
    """Return a rich Table of a finding's evidence rows (source side first), for the CLI."""
    from rich.table import Table

    d = t.to_dict()
    k = d["key"]
    tb = Table("side", "source", "regency", "month", "funding", "pseudonym", "load", "file", "sheet", "row",
               title=f"{k['code']} ({k['severity']}) {k['regency_code']} {str(k['month_start'])[:7]}: {d['figure']}")
    for r in t.rows:
        tb.add_row(r["side"], r["source"], r["regency_code"] or "", str(r["month_start"] or "")[:7],
                   r["funding_source"] or "", (r["participant_key"] or "")[:16],
                   "" if r["load_id"] is None else str(r["load_id"]), r["source_file"], r["sheet"] or "",
                   "" if r["source_row"] is None else str(r["source_row"]))
    return tb
