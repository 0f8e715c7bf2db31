"""Failed-check samples in words an auditor reads: each failing row named by regency, month, file, sheet and row,
found through the load ids and lineage columns GX returns for it (never a personal value)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from cakupan.quality.batches import KEYS, Place
from cakupan.quality.texts import en

log = logging.getLogger("cakupan.quality")

Fetch = Callable[[str], list[tuple]]


class Describer:
    """Turns GX's failing-row keys into sentences, reading the manifest (file, regency, period per load), the
    regency names and, for raw rows, their sheets."""

    def __init__(self, place: Place, fetch: Fetch):
        self.place, self.fetch = place, fetch
        self._loads: dict | None = None
        self._names: dict | None = None

    def _safe(self, sql: str) -> list[tuple]:
        try:
            return self.fetch(sql)
        except Exception as exc:  # noqa: BLE001 - words are a courtesy: a failed lookup leaves the bare keys
            log.warning("could not look up the words for a check sample: %s", exc)
            return []

    @property
    def loads(self) -> dict:
        if self._loads is None:
            a = self.place.audit
            rows = self._safe(f"select load_id, source, source_file, regency_code, period_month "
                              f"from {a}.loads_published") if self.place.has("audit.loads_published") else []
            self._loads = {int(r[0]): r[1:] for r in rows if r[0] is not None}
        return self._loads

    @property
    def names(self) -> dict:
        if self._names is None:
            a = self.place.audit
            rows = self._safe(f"select regency_code, regency_name from {a}.configured_regencies") \
                if self.place.has("audit.configured_regencies") else []
            self._names = {r[0]: r[1] for r in rows if r[1]}
        return self._names

    def regency(self, code) -> str:
        name = self.names.get(code)
        return f"{name} ({code})" if name else str(code)

    def load(self, load_id) -> str:
        try:
            source, path, regency, period = self.loads[int(load_id)]
        except (KeyError, TypeError, ValueError):
            return en("gate.where.load", load=load_id)
        month = f", {str(period)[:7]}" if period else ""
        return en("gate.where.file", source=source or "file", file=path, load=load_id,
                  regency=f"{self.regency(regency)}{month}")

    def sheets(self, source: str, rows: list[dict]) -> dict[tuple[int, int], str]:
        pairs = {(int(r["load_id"]), int(r["source_row"])) for r in rows
                 if r.get("load_id") is not None and r.get("source_row") is not None}
        if not pairs or not self.place.work:
            return {}
        where = " or ".join(f"(load_id = {lid} and source_row = {row})" for lid, row in sorted(pairs))
        return {(int(lid), int(row)): sheet for lid, row, sheet in
                self._safe(f"select load_id, source_row, sheet from raw.{source} where {where}") if sheet}

    def __call__(self, table: str, rows: list[dict]) -> list[str]:
        keys = KEYS.get(table, ())
        sheets = self.sheets(table.split(".", 1)[1], rows) if table.startswith("raw.") else {}
        out = []
        for r in rows:
            if table.startswith("raw."):
                where = en("gate.where.row", row=r.get("source_row"))
                sheet = sheets.get((int(r["load_id"]), int(r["source_row"]))) if r.get("load_id") is not None \
                    and r.get("source_row") is not None else None
                where += ", " + en("gate.where.sheet", sheet=sheet) if sheet else ""
                where += ", " + en("gate.where.of", load=self.load(r.get("load_id")))
            else:
                where = self.location(r)
            values = [f"{k} {v}" for k, v in r.items()
                      if k not in keys and k != "problem" and not isinstance(v, bool) and v is not None]
            problem = r.get("problem")
            out.append(where + (f": {problem}" if problem else "") + (f" ({', '.join(values)})" if values else ""))
        return out

    def location(self, r: dict) -> str:
        parts = []
        if r.get("published_table") or r.get("published_column"):
            parts.append(str(r.get("published_table") or r.get("published_column")))
            if r.get("location"):
                parts.append(str(r["location"]))
        if r.get("build_id"):
            parts.append(en("gate.where.build", build=r["build_id"]))
        if r.get("finding_id"):
            parts.append(en("gate.where.finding", finding=f"{str(r['finding_id'])[:12]} {r.get('code') or ''}".rstrip()))
        if r.get("promise_id"):
            parts.append(en("gate.where.promise", promise=r["promise_id"]))
        if r.get("regency_code"):
            month = r.get("month_start") or r.get("period_month") or r.get("effective_month")
            parts.append(self.regency(r["regency_code"]) + (f" {str(month)[:7]}" if month else ""))
        governing = r.get("governing_load_id")
        if governing is not None:
            parts.append(en("gate.where.from", load=self.load(governing)))
        elif r.get("load_id") is not None:
            parts.append(self.load(r["load_id"]) + (", " + en("gate.where.reason", reason=r["reason_code"])
                                                    if r.get("reason_code") else ""))
        return ", ".join(parts) or en("gate.where.no_key")
