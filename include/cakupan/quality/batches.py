"""The gate's batches: the SQL of every logical table the checks read, written once for DuckDB and PostgreSQL.

A `Place` says where the candidate, the previous publish and the work zones are (DuckDB: the candidate file and the
published file attached to the work connection as `cand` and `prev`; PostgreSQL: the next, published and
replicated schemas) and spells the few functions the two engines name differently. Every batch holds flags, counts,
keys and words, never a personal value: raw NIKs and names enter only as shape or presence flags, and the
pseudonym check reads a flag per participant_key, not the key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cakupan.core.contracts import all_contracts
from cakupan.quality.config import GateConfig
from cakupan.quality.redaction import NIK_SHAPED
from cakupan.quality.texts import en
from cakupan.quality.texts import sql_sentence as say

PAID_TOLERANCE = 0.01          # paid may exceed billed by 1% (rounding, late fees) before it is flagged
PSEUDONYM = "^[0-9a-f]{64}$"


@dataclass(frozen=True)
class Place:
    """Where the gate reads, and how the engine spells it."""

    dialect: str                     # duckdb | postgres
    marts: str                       # the candidate's marts schema, as SQL
    audit: str                       # the candidate's audit exports
    previous: str | None             # the published marts before this run (None: nothing published yet)
    work: bool                       # raw, quarantine and the work audit zone readable as raw / quarantine / audit
    tables: frozenset[str]           # what exists: marts.x, audit.x (candidate), previous.x, raw.x, work.builds

    def matches(self, expr: str, pattern: str) -> str:
        return f"regexp_matches({expr}, '{pattern}')" if self.dialect == "duckdb" else f"({expr} ~ '{pattern}')"

    def month(self, expr: str) -> str:
        """YYYY-MM text of a date."""
        return f"strftime({expr}, '%Y-%m')" if self.dialect == "duckdb" else f"to_char({expr}, 'YYYY-MM')"

    def month_key(self, expr: str) -> str:
        """YYYYMM integer of a date."""
        return f"cast({self.month(expr).replace('-', '')} as integer)"

    def has(self, *names: str) -> bool:
        return all(n in self.tables for n in names)


def _text(expr: str) -> str:
    return f"cast({expr} as varchar)"


# ------------------------------------------------------------------------------------------ raw -----------
def raw_rules(source: str, cfg: GateConfig) -> list[tuple[str, str, str, str]]:
    """Cross-column rules of a raw source: (flag column, check name, SQL on raw row `r` and its load `l`, severity).

    A rule the loader enforces (a row breaking it is quarantined) is an error here: a raw row that breaks it was
    changed behind the loader's back. A rule the loader does not enforce yet warns, naming the file, sheet and row:
    as an error, one clerk's row would stop every regency's publish."""
    months = int(cfg.paid_months_before_period)
    rules = [("regency_of_load", "regency is the load's regency",
              "coalesce(r.regency_code = l.regency_code, l.regency_code is null and r.regency_code is not null)",
              "error")]
    if source == "register":
        rules.append(("coverage_end_after_start", "coverage end on or after start",
                      "r.coverage_end is null or r.coverage_start is null or r.coverage_end >= r.coverage_start",
                      "error"))
    elif source == "contributions":
        rules += [("paid_near_period", f"paid at most {months} months before the billing month",
                   f"r.paid_date is null or r.period is null or r.paid_date >= r.period - interval '{months} months'",
                   "warn"),
                  ("billed_has_participants", "participants billed > 0 where an amount is billed",
                   "r.amount_billed is null or r.amount_billed <= 0 or r.participants_billed > 0", "warn")]
    elif source == "claims":
        rules.append(("paid_after_event", "claim paid on or after its event",
                      "r.paid_date is null or r.event_date is null or r.paid_date >= r.event_date", "warn"))
    elif source == "city_report":
        rules.append(("participants_within_employed", "active participants at most the employed population",
                      ("r.active_participants_total is null or r.employed_population is null "
                       "or r.active_participants_total <= r.employed_population"), "warn"))
    return rules


def raw_query(source: str, raw_schema: str = "raw", dialect: str = "postgres", cfg: GateConfig | None = None) -> str:
    """The raw batch of a source for GX: the NIK replaced by a shape flag, personal fields by presence flags,
    dates as YYYYMMDD integers, one flag per cross-column rule. One definition for both targets; only the SQL
    spelling differs by dialect."""
    duck = dialect == "duckdb"
    contract = all_contracts()[source]
    cols = []
    for c in contract.columns:
        if c.name == "period":
            continue
        col = f"r.{c.name}"
        if c.type == "nik":
            shape = f"regexp_matches({col}, '^[0-9]{{16}}$')" if duck else f"{col} ~ '^[0-9]{{16}}$'"
            cols.append(f"({col} is null or {shape}) as nik_is_valid_shape")
        elif c.personal:
            cols.append(f"({col} is not null) as {c.name}__present")
        elif c.type in ("date",):
            ymd = f"strftime({col}, '%Y%m%d')" if duck else f"to_char({col}, 'YYYYMMDD')"
            cols.append(f"cast({ymd} as integer) as {c.name}__ymd")
        elif c.type == "money":
            cols.append(f"cast({col} as {'double' if duck else 'float8'}) as {c.name}")
        else:
            cols.append(f"{col} as {c.name}")
    cols += [f"coalesce({sql}, false) as {flag}" for flag, _, sql, _ in raw_rules(source, cfg or GateConfig())]
    table = f"{raw_schema}.{source}" if duck else f'"{raw_schema}".{source}'
    return (f"select r.load_id, r.source_row, {', '.join(cols)} from {table} as r "
            "left join audit.loads as l on l.load_id = r.load_id")


def fingerprint_columns(con, source: str) -> list[str]:
    """Every column of a DuckDB raw table but the cells as delivered: whatever a mart or the raw suite reads."""
    return [c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_catalog = current_database() and "
        "table_schema = 'raw' and table_name = ? and column_name <> 'raw_cells' order by ordinal_position",
        [source]).fetchall()]


def raw_fingerprints(con, source: str) -> dict[int, tuple[int, str]]:
    """load_id -> (rows, fingerprint) of a source's raw rows: an order-free hash of every column a mart or the raw
    suite reads (lineage, regency_code and period included) and of the load's regency in the manifest, so any
    change behind the loader's back changes it."""
    cols = ", ".join(f"r.{c}" for c in fingerprint_columns(con, source))
    return {lid: (n, fp) for lid, n, fp in con.execute(
        f"select r.load_id, count(*), cast(sum(hash({cols}, l.regency_code)) as varchar) from raw.{source} as r "
        "left join audit.loads as l on l.load_id = r.load_id group by r.load_id").fetchall()}


# ------------------------------------------------------------------------------------------ marts ---------
# the columns that name a failing row in a sample, per logical table (GX returns them for the first failing rows)
KEYS: dict[str, tuple[str, ...]] = {
    "marts.mart_coverage_monthly": ("regency_code", "month_start", "governing_load_id"),
    "marts.mart_load_quality": ("load_id", "reason_code"),
    "marts.mart_promise_vs_delivery": ("promise_id", "regency_code", "effective_month"),
    "marts.mart_audit_findings": ("finding_id", "code", "regency_code", "month_start"),
    "check.regency_periods": ("regency_code", "period_month"),
    "check.promises": ("regency_code", "month_start"),
    "check.lineage_figures": ("regency_code", "month_start", "problem"),
    "check.delivered_months": ("regency_code", "month_start", "problem"),
    "check.month_over_month": ("regency_code", "month_start", "problem"),
    "check.deliveries": ("regency_code", "month_start", "problem"),
    "check.promise_ceiling": ("regency_code", "month_start", "promise_id", "problem"),
    "check.periods_in_horizon": ("load_id", "problem"),
    "check.raw_manifest": ("load_id", "problem"),
    "check.pseudonyms": ("published_table", "location"),
    "check.nik_shaped_text": ("published_column", "problem"),
    "check.new_error_findings": ("finding_id", "code", "regency_code", "month_start"),
    "check.last_build": ("build_id", "problem"),
}
for _source in ("register", "contributions", "claims", "city_report"):
    KEYS[f"raw.{_source}"] = ("load_id", "source_row")


def mart_extras(table: str, p: Place, horizon: dt.date) -> list[str]:
    """Computed columns a mart's batch adds to its own: tolerances, month keys and NULL-safe arithmetic flags."""
    if table == "mart_coverage_monthly":
        return [f"premium_billed * {1 + PAID_TOLERANCE} as premium_billed_with_tolerance",
                f"{p.month_key('month_start')} as month_key",
                # domain.md: with no register, enrolled is NULL, and so is every figure derived from it
                "coalesce(protected is null or enrolled is not null, false) as protected_has_enrolled",
                ("coalesce(case when enrolled is null or protected is null then shortfall is null "
                 "else shortfall = enrolled - protected end, false) as shortfall_null_safe"),
                ("coalesce(case when promised is null or protected is null then gap_to_promise is null "
                 "else gap_to_promise = promised - protected end, false) as gap_null_safe"),
                f"coalesce(month_start <= date '{horizon.isoformat()}', false) as within_horizon"]
    if table == "mart_load_quality":
        return ["(status <> 'loaded' or rows_in = rows_loaded + rows_quarantined) as rows_balance_ok"]
    return []


def mart_batch(table: str, p: Place, horizon: dt.date, rules: list[tuple[str, str]]) -> str:
    """A published mart's batch: its columns, the computed ones, and a flag per dbt expression rule (NULL fails)."""
    extras = mart_extras(table, p, horizon) + [f"coalesce(({expr}), false) as {col}" for col, expr in rules]
    return f"select {', '.join(['*', *extras])} from {p.marts}.{table}"


def check_batches(p: Place, cfg: GateConfig, horizon: dt.date) -> dict[str, tuple[tuple[str, ...], str | None]]:
    """The derived logical tables: name -> (tables it needs, SQL); SQL None = not applicable at this place (the
    work zones are not readable), so its checks are left out."""
    m, a = p.marts, p.audit
    cov, lin = f"{m}.mart_coverage_monthly", f"{m}.mart_lineage"
    t = _text
    out: dict[str, tuple[tuple[str, ...], str | None]] = {}
    out["check.regency_periods"] = (("marts.mart_coverage_monthly", "audit.loads_published",
                                     "audit.configured_regencies"), f"""
        with periods as (select distinct period_month from {a}.loads_published where status = 'loaded'
                             and period_month is not null),
             configured as (select regency_code from {a}.configured_regencies)
        select c.regency_code, p.period_month,
               exists (select 1 from {cov} x where x.regency_code = c.regency_code
                       and x.month_start = p.period_month) as present
        from configured c cross join periods p""")
    out["check.promises"] = (("marts.mart_coverage_monthly", "marts.mart_promise_vs_delivery"), f"""
        select x.regency_code, x.month_start, x.promised is not null as promised_present
        from {cov} x
        where exists (select 1 from {m}.mart_promise_vs_delivery p
                      where p.regency_code = x.regency_code and p.role in ('total', 'target')
                        and p.segment = 'pekerja_rentan' and p.effective_month <= x.month_start)""")
    out["check.lineage_figures"] = (("marts.mart_coverage_monthly", "marts.mart_lineage"), f"""
        with lin as (
            select regency_code, month_start,
                   count(distinct case when measure = 'enrolled' then participant_key end) as workers,
                   count(case when measure = 'enrolled' then 1 end) as enrolled_rows,
                   count(case when measure = 'payment' then 1 end) as payment_rows,
                   min(case when measure = 'enrolled' then coalesce(fx.delivery_load_id, m.load_id) end) as first_load,
                   max(case when measure = 'enrolled' then coalesce(fx.delivery_load_id, m.load_id) end) as last_load
            -- a rejection workbook sent back belongs to the delivery it fixes (audit.load_fixes)
            from {lin} as m left join (select load_id, min(delivery_load_id) as delivery_load_id
                                       from audit.load_fixes group by load_id) as fx on fx.load_id = m.load_id
            where mart = 'mart_coverage_monthly' group by regency_code, month_start),
        cov as (select regency_code, month_start, enrolled, protected, participants_billed, premium_paid,
                       governing_load_id from {cov}),
        both_ as (
            select coalesce(c.regency_code, l.regency_code) as regency_code,
                   coalesce(c.month_start, l.month_start) as month_start, c.regency_code is null as orphan,
                   c.enrolled, c.protected, c.governing_load_id, c.participants_billed, c.premium_paid,
                   coalesce(l.workers, 0) as workers, coalesce(l.enrolled_rows, 0) as enrolled_rows,
                   coalesce(l.payment_rows, 0) as payment_rows, l.first_load, l.last_load
            from cov c full outer join lin l on l.regency_code = c.regency_code and l.month_start = c.month_start)
        select regency_code, month_start, case
            when orphan then {say("gate.problem.lineage_orphan", enrolled_rows="enrolled_rows",
                                  payment_rows="payment_rows")}
            when enrolled is null and enrolled_rows > 0 then {say("gate.problem.lineage_enrolled_empty",
                                                                  workers="workers")}
            when enrolled is not null and enrolled <> workers then {say("gate.problem.lineage_enrolled_differs",
                                                                        enrolled="enrolled", workers="workers")}
            when enrolled_rows > 0 and (first_load <> governing_load_id or last_load <> governing_load_id
                                        or governing_load_id is null)
                 then {say("gate.problem.lineage_wrong_load", first_load="first_load",
                           governing=f"coalesce({t('governing_load_id')}, 'none')")}
            when protected > workers then {say("gate.problem.lineage_protected_above", protected="protected",
                                               workers="workers")}
            when (protected is not null or participants_billed is not null or premium_paid is not null)
                 and payment_rows = 0 then {say("gate.problem.lineage_no_payment_rows")}
            when protected is null and participants_billed is null and premium_paid is null and payment_rows > 0
                 then {say("gate.problem.lineage_payment_not_shown", payment_rows="payment_rows")}
        end as problem
        from both_""")
    out["check.delivered_months"] = (("marts.mart_coverage_monthly", "audit.loads_published"), f"""
        select c.regency_code, c.month_start, case when c.governing_load_id is not null and not exists (
                select 1 from {a}.loads_published d where d.source = 'register' and d.status = 'loaded'
                  and d.regency_code = c.regency_code and d.period_month = c.month_start)
            then {say("gate.problem.carried_forward", month=f"coalesce({p.month('g.period_month')}, '?')",
                      load="c.governing_load_id", file="coalesce(g.source_file, '?')")} end as problem
        from {cov} c left join {a}.loads_published g on g.load_id = c.governing_load_id""")
    # a regency owes a monthly delivery it never sent (config/deliveries.yml): worth a look, never a reason to block
    out["check.deliveries"] = (("marts.mart_delivery_calendar",), f"""
        select regency_code, month_start, case when delivery_status = 'missing'
            then {say("gate.problem.delivery_missing", source="source", due="due_date")} end as problem
        from {m}.mart_delivery_calendar""")
    ratio, floor_ = float(cfg.drop_max_ratio), int(cfg.drop_min_workers)
    pct = "cast(round(100.0 * ({p} - {c}) / {p}) as integer)"
    out["check.month_over_month"] = (("marts.mart_coverage_monthly",), f"""
        with c as (
            select regency_code, month_start, enrolled, protected,
                   lag(enrolled) over w as prev_enrolled, lag(protected) over w as prev_protected,
                   lag(month_start) over w as prev_month
            from {cov} window w as (partition by regency_code order by month_start))
        select regency_code, month_start, case
            when prev_enrolled >= {floor_} and enrolled < prev_enrolled * {1 - ratio}
                then {say("gate.problem.enrolled_fell", before="prev_enrolled", month=p.month('prev_month'),
                          now="enrolled", pct=pct.format(p='prev_enrolled', c='enrolled'))}
            when prev_protected >= {floor_} and protected < prev_protected * {1 - ratio}
                then {say("gate.problem.protected_fell", before="prev_protected", month=p.month('prev_month'),
                          now="protected", pct=pct.format(p='prev_protected', c='protected'))}
        end as problem from c""")
    ceiling = " ".join(f"when '{code}' then {int(n)}" for code, n in sorted(cfg.ceiling_by_regency.items()))
    ceiling = f"case x.regency_code {ceiling} else {int(cfg.ceiling_workers)} end" if ceiling else \
        str(int(cfg.ceiling_workers))
    employed = ("select regency_code, max(employed_population) as employed from raw.city_report "
                "where employed_population > 0 group by regency_code") if p.work else \
        "select cast(null as varchar) as regency_code, cast(null as bigint) as employed"
    out["check.promise_ceiling"] = (("marts.mart_coverage_monthly", "marts.mart_promise_vs_delivery"), f"""
        with employed as ({employed}),
        promises as (
            select regency_code, effective_month as month_start, promise_id, promised_count as workers
            from {m}.mart_promise_vs_delivery where promised_count is not null
            union all
            select regency_code, month_start, promise_id, promised from {cov} where promised is not null),
        x as (select p.*, e.employed, {ceiling} as ceiling
              from promises p left join employed e on e.regency_code = p.regency_code)
        select regency_code, month_start, promise_id, case
            when workers > ceiling then {say("gate.problem.promise_above_ceiling", workers="workers",
                                             ceiling="ceiling")}
            when workers > employed then {say("gate.problem.promise_above_employed", workers="workers",
                                              employed="employed")}
        end as problem from x""")
    out["check.periods_in_horizon"] = (("audit.loads_published",), f"""
        with rows_ as ({' union all '.join(
            f"select load_id, max(period) as last_period from raw.{s} group by load_id" for s in all_contracts())
            if p.work else "select cast(null as bigint) as load_id, cast(null as date) as last_period"}),
        x as (select l.load_id, l.source, l.source_file,
                     case when r.last_period is null or l.period_month > r.last_period then l.period_month
                          else r.last_period end as last_period
              from {a}.loads_published l left join (select load_id, max(last_period) as last_period from rows_
                                                     group by load_id) r on r.load_id = l.load_id
              where l.status = 'loaded')
        select load_id, case when last_period > date '{horizon.isoformat()}' then
            {say("gate.problem.period_after_horizon", source="coalesce(source, 'file')",
                 month=p.month('last_period'), horizon=f"'{horizon:%Y-%m}'")}
        end as problem from x""")
    if p.work:
        counts = " union all ".join(f"select load_id, count(*) as n from raw.{s} group by load_id"
                                    for s in all_contracts())
        out["check.raw_manifest"] = ((), f"""
            with r as (select load_id, sum(n) as n from ({counts}) as c group by load_id),
                 q as (select load_id, count(*) as n from quarantine.rows group by load_id),
                 x as (select coalesce(l.load_id, r.load_id, q.load_id) as load_id, l.load_id is null as unknown,
                              l.status, l.rows_loaded, l.rows_quarantined, coalesce(r.n, 0) as raw_rows,
                              coalesce(q.n, 0) as quarantined
                       from audit.loads l full outer join r on r.load_id = l.load_id
                       full outer join q on q.load_id = coalesce(l.load_id, r.load_id))
            select load_id, case
                when unknown then {say("gate.problem.manifest_unknown_load", raw_rows="raw_rows",
                                       quarantined="quarantined")}
                when status = 'loaded' and raw_rows <> coalesce(rows_loaded, 0) then {say(
                    "gate.problem.manifest_loaded", loaded=f"coalesce({t('rows_loaded')}, 'no')",
                    raw_rows="raw_rows")}
                when status = 'loaded' and quarantined <> coalesce(rows_quarantined, 0) then {say(
                    "gate.problem.manifest_quarantined", recorded=f"coalesce({t('rows_quarantined')}, 'no')",
                    quarantined="quarantined")}
                when status <> 'loaded' and raw_rows > 0 then {say("gate.problem.manifest_status", status="status",
                                                                    raw_rows="raw_rows")}
            end as problem from x""")
        state = f"case status when 'running' then '{en('gate.problem.build_not_finished')}' else status end"
        out["check.last_build"] = (("work.builds",), f"""
            select build_id, case when status <> 'succeeded' then coalesce({say(
                "gate.problem.last_build_message", build="build_id", started="started_at", state=state,
                message="substr(message, 1, 300)")}, {say("gate.problem.last_build", build="build_id",
                                                          started="started_at", state=state)}) end as problem
            from audit.builds order by started_at desc, build_id desc limit 1""")
    else:  # the candidate alone: no manifest or build record to compare with
        out["check.raw_manifest"] = out["check.last_build"] = ((), None)
    prev = f"or exists (select 1 from {p.previous}.mart_audit_findings o where o.finding_id = f.finding_id)" \
        if p.previous and p.has("previous.mart_audit_findings") else ""
    out["check.new_error_findings"] = (("marts.mart_audit_findings",), f"""
        select finding_id, code, regency_code, month_start, (severity <> 'error' {prev}) as known
        from {m}.mart_audit_findings f""")
    return out


def published_text_columns(p: Place, columns: list[tuple[str, str, str, bool]]) -> dict[str, str]:
    """The pseudonym and NIK-shape scans over every published table: `columns` = (schema, table, column, is text)
    of the candidate's columns, schema 'marts' or 'audit'. Returns {logical table: SQL}."""
    keys, texts = [], []
    by_table: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for schema, table, col, text in columns:
        by_table.setdefault((schema, table), []).append((col, text))
    for (schema, table), typed in sorted(by_table.items()):
        src = f"{p.marts if schema == 'marts' else p.audit}.{table}"
        every, cols = [c for c, _ in typed], [c for c, text in typed if text]
        for col in (c for c in cols if c.endswith("participant_key")):
            # one passing row per column, and one failing row (with where it is) per row whose value is not a
            # pseudonym; the pattern is tested once per distinct value, the rows are found by those values
            bad = f"select k from (select distinct {col} as k from {src}) as d where not {p.matches('k', PSEUDONYM)}"
            keys.append(f"select '{schema}.{table}.{col}' as published_table, cast(null as varchar) as location, "
                        "true as ok")
            keys.append(f"select '{schema}.{table}.{col}', {_location(p, every)}, false from {src} "
                        f"where {col} in ({bad})")
        # every other text column: how many distinct values hold a stand-alone 16-digit number
        texts += [f"select '{schema}.{table}.{c}' as published_column, count(*) as found from (select distinct {c} "
                  f"as v from {src}) as d where {p.matches('v', NIK_SHAPED)}"
                  for c in cols if not c.endswith("participant_key")]
    out = {}
    if keys:
        out["check.pseudonyms"] = " union all ".join(keys)
    if texts:
        out["check.nik_shaped_text"] = (
            f"select published_column, case when found = 1 then {say('gate.problem.nik_one')} when found > 1 "
            f"then {say('gate.problem.nik_many', count='found')} end as problem from ("
            + " union all ".join(texts) + ") as s")
    return out


def _location(p: Place, cols: list[str]) -> str:
    """Words naming a published row from whichever of its lineage columns it has."""
    parts = []
    if "regency_code" in cols:
        parts.append("regency_code")
    if "month_start" in cols:
        parts.append(p.month("month_start"))
    if "finding_id" in cols:
        parts.append(say("gate.where.finding", finding="substr(finding_id, 1, 12)"))
    if "source_file" in cols:
        parts.append("source_file")
    if "sheet" in cols:
        parts.append(say("gate.where.sheet_plain", sheet="nullif(sheet, '')"))
    if "source_row" in cols:
        parts.append(say("gate.where.row", row="source_row"))
    if "load_id" in cols:
        parts.append(say("gate.where.load", load="load_id"))
    if not parts:
        return f"'{en('gate.where.no_lineage')}'"
    return "substr(" + " || ".join(f"coalesce(', ' || {x}, '')" for x in parts) + ", 3)"
