-- Report vs reality: one row per finding. A count is off when |stated - computed| > max(report.count_tolerance_
-- workers, report.count_tolerance_ratio x computed); two rates are off when more than report.rate_tolerance_points
-- apart.
--   REPORT_COVERED_MISMATCH  a structured report's vulnerable_covered vs the warehouse's protected workers for the
--                            regency and period (enrolled when the month has no contributions data)
--   REPORT_COUNT_MISMATCH    an accepted narrative count about vulnerable workers vs workers enrolled: a "previous"
--                            count (750 before) against the month before the report, a "stated" one against its month
--   REPORT_RATE_MISMATCH     a participation rate stated in a narrative report vs another report's rate for the same
--                            regency within report.rate_window_months (a structured report's active participants /
--                            employed population, or another narrative). Never against the register (domain.md).
with

reports as (
    select * from {{ ref('stg_city_report__reports') }}
),

facts as (
    select * from {{ ref('stg_reports__narrative_facts') }} where status = 'accepted'
),

coverage as (
    select * from {{ ref('mart_coverage_monthly') }}
),

rules as (
    select * from {{ ref('int_findings_rules') }}
),

-- the latest delivery of each regency x period (received time, then load id)
latest_reports as (
    select *
    from (
        select
            *,
            row_number() over (
                partition by regency_code, period_month order by received_at desc, load_id desc, source_row desc
            ) as pick
        from reports
    ) as ranked
    where pick = 1
),

covered as (
    select
        r.*,
        coalesce(c.protected, c.enrolled) as computed,
        case when c.protected is not null then 'protected workers (warehouse)'
            else 'enrolled workers (warehouse; no contributions data)' end as reference_side
    from latest_reports as r
    inner join coverage as c on c.regency_code = r.regency_code and c.month_start = r.period_month
    where r.vulnerable_covered is not null
),

counts as (
    select
        f.*,
        cast({{ dbt.date_trunc('month', 'f.event_date') }} as date) as event_month,
        case when f.role = 'previous'
            then cast({{ dbt.dateadd('month', -1, dbt.date_trunc('month', 'f.event_date')) }} as date)
            else cast({{ dbt.date_trunc('month', 'f.event_date') }} as date)
        end as reference_month
    from facts as f
    where f.fact_kind = 'count'
        and f.role in ('previous', 'stated')
        and f.segment = 'pekerja_rentan'
        and f.regency_code is not null
        and f.event_date is not null
        and f.value is not null
),

counted as (
    select c.*, cov.enrolled as computed
    from counts as c
    inner join coverage as cov on cov.regency_code = c.regency_code and cov.month_start = c.reference_month
    where cov.enrolled is not null
),

rates as (
    select
        'narrative_report' as kind,
        fact_id as statement_id,
        regency_code,
        cast({{ dbt.date_trunc('month', 'event_date') }} as date) as month_start,
        cast(value as float8) as rate_percent,
        cast(null as bigint) as load_id,
        source_file,
        cast(null as varchar) as sheet,
        char_start as source_row
    from facts
    where fact_kind = 'participation_rate' and regency_code is not null and event_date is not null
        and value is not null

    union all

    select
        'city_report',
        source_file || '#' || cast(source_row as varchar),
        regency_code,
        period_month,
        cast(100.0 * active_participants_total / employed_population as float8),
        load_id,
        source_file,
        sheet,
        source_row
    from latest_reports
    where active_participants_total is not null and employed_population > 0
),

rate_pairs as (
    select
        a.regency_code,
        a.month_start,
        a.statement_id || ' vs ' || b.statement_id as subject,
        a.rate_percent as stated_rate,
        b.rate_percent as other_rate,
        b.kind as other_kind,
        b.month_start as other_month,
        a.source_file,
        a.source_row,
        b.load_id as other_load_id,
        b.source_file as other_file,
        b.sheet as other_sheet,
        b.source_row as other_row
    from rates as a
    cross join rules as ru
    inner join rates as b
        on b.regency_code = a.regency_code
        and abs((extract(year from b.month_start) * 12 + extract(month from b.month_start))
            - (extract(year from a.month_start) * 12 + extract(month from a.month_start)))
            <= ru.report_rate_window_months
        and (b.kind = 'city_report' or b.statement_id > a.statement_id)
    where a.kind = 'narrative_report'
        and abs(a.rate_percent - b.rate_percent) > ru.report_rate_tolerance_points
),

findings as (
    select
        'REPORT_COVERED_MISMATCH' as code,
        c.regency_code,
        c.period_month as month_start,
        c.source_file || '#' || cast(c.source_row as varchar) as subject,
        c.period_month as reference_month,
        'workers covered stated by the report' as source_side,
        cast(c.vulnerable_covered as float8) as value_source,
        c.reference_side,
        cast(c.computed as float8) as value_reference,
        cast(null as bigint) as affected_workers,
        'report states ' || cast(c.vulnerable_covered as varchar) || ' covered; the warehouse has '
            || cast(c.computed as varchar) as detail,
        'city_report' as source_kind,
        c.load_id as source_load_id,
        c.source_file,
        c.sheet as source_sheet,
        c.source_row,
        cast(null as varchar) as other_kind,
        cast(null as bigint) as other_load_id,
        cast(null as varchar) as other_file,
        cast(null as varchar) as other_sheet,
        cast(null as integer) as other_row
    from covered as c
    cross join rules as ru
    where abs(c.vulnerable_covered - c.computed)
        > greatest(ru.report_count_tolerance_workers, ru.report_count_tolerance_ratio * c.computed)

    union all

    select
        'REPORT_COUNT_MISMATCH',
        c.regency_code,
        c.event_month,
        c.fact_id,
        c.reference_month,
        'workers stated by the report (' || c.role || ')',
        cast(c.value as float8),
        'workers enrolled in the register (warehouse)',
        cast(c.computed as float8),
        cast(null as bigint),
        'report states ' || cast(cast(c.value as bigint) as varchar) || ' (' || c.role || '); '
            || cast(c.computed as varchar) || ' enrolled in ' || substr(cast(c.reference_month as varchar), 1, 7),
        'narrative_report',
        cast(null as bigint),
        c.source_file,
        cast(null as varchar),
        c.char_start,
        cast(null as varchar),
        cast(null as bigint),
        cast(null as varchar),
        cast(null as varchar),
        cast(null as integer)
    from counted as c
    cross join rules as ru
    where abs(c.value - c.computed)
        > greatest(ru.report_count_tolerance_workers, ru.report_count_tolerance_ratio * c.computed)

    union all

    select
        'REPORT_RATE_MISMATCH',
        p.regency_code,
        p.month_start,
        p.subject,
        p.other_month,
        'participation rate stated (%)',
        p.stated_rate,
        'participation rate in another report (%)',
        p.other_rate,
        cast(null as bigint),
        'report states ' || cast(round(cast(p.stated_rate as numeric), 1) as varchar) || '%; ' || p.other_file || ' states '
            || cast(round(cast(p.other_rate as numeric), 1) as varchar) || '% for ' || substr(cast(p.other_month as varchar), 1, 7),
        'narrative_report',
        cast(null as bigint),
        p.source_file,
        cast(null as varchar),
        p.source_row,
        p.other_kind,
        p.other_load_id,
        p.other_file,
        p.other_sheet,
        p.other_row
    from rate_pairs as p
)

select
{{ finding_columns(
    code="code",
    regency_code="regency_code",
    month_start="month_start",
    subject="subject",
    reference_month="reference_month",
    source_side="source_side",
    value_source="value_source",
    reference_side="reference_side",
    value_reference="value_reference",
    affected_workers="affected_workers",
    detail="detail",
    source_kind="source_kind",
    source_load_id="source_load_id",
    source_file="source_file",
    source_sheet="source_sheet",
    source_row="source_row",
    other_kind="other_kind",
    other_load_id="other_load_id",
    other_file="other_file",
    other_sheet="other_sheet",
    other_row="other_row"
) }}
from findings
