-- Promise gaps: one row per finding.
--   PROMISE_BEHIND   protected workers below the promise in force (mart_coverage_monthly.promised: the latest
--                    accepted total/target effective on or before the month) for promise.consecutive_months or more
--                    months in a row; one finding per run, at its first month, on the promise in force then.
--                    A month with no contributions or register data (protected NULL) breaks a run.
--   PROMISE_NO_DATA  a total/target promise for a regency with no register delivery at all.
-- A promise is named by a stable id: the narrative fact id, or the report file and row of a structured report.
with

coverage as (
    select * from {{ ref('mart_coverage_monthly') }}
),

promises as (
    select * from {{ ref('int_promises') }}
),

reports as (
    select * from {{ ref('stg_city_report__reports') }}
),

facts as (
    select * from {{ ref('stg_reports__narrative_facts') }}
),

deliveries as (
    select * from {{ ref('int_register_deliveries_ranked') }}
),

rules as (
    select * from {{ ref('int_findings_rules') }}
),

-- where each promise was stated (int_promises builds structured ids from the report's load and row)
promise_sources as (
    select
        p.promise_id,
        p.regency_code,
        p.effective_month,
        p.role,
        p.segment,
        p.promised_count,
        case when p.promise_source = 'structured_report' then 'city_report' else 'narrative_report' end as kind,
        coalesce(rp.load_id, cast(null as bigint)) as load_id,
        p.source_file,
        rp.sheet,
        coalesce(rp.source_row, f.char_start) as source_row,
        case
            when p.promise_source = 'structured_report'
                then p.source_file || '#' || cast(rp.source_row as varchar)
            else p.promise_id
        end as stable_id
    from promises as p
    left join reports as rp
        on p.promise_source = 'structured_report'
        and p.promise_id = 'report-' || cast(rp.load_id as varchar) || '-' || cast(rp.source_row as varchar)
    left join facts as f
        on p.promise_source = 'narrative'
        and f.fact_id = p.promise_id
),

below as (
    select
        regency_code,
        month_start,
        protected,
        promised,
        promise_id,
        cast(extract(year from month_start) * 12 + extract(month from month_start) as integer) as month_index
    from coverage
    where promised is not null and protected is not null and protected < promised
),

runs as (
    select
        *,
        month_index - row_number() over (partition by regency_code order by month_start) as run_key
    from below
),

run_lengths as (
    select regency_code, run_key, min(month_start) as run_start, count(*) as months
    from runs
    group by regency_code, run_key
),

behind as (
    select
        r.regency_code,
        r.month_start,
        r.protected,
        r.promised,
        l.months,
        ps.stable_id,
        ps.kind,
        ps.load_id,
        ps.source_file,
        ps.sheet,
        ps.source_row
    from run_lengths as l
    cross join rules as ru
    inner join runs as r
        on r.regency_code = l.regency_code and r.run_key = l.run_key and r.month_start = l.run_start
    left join promise_sources as ps on ps.promise_id = r.promise_id
    where l.months >= ru.promise_consecutive_months
),

no_data as (
    select ps.*
    from promise_sources as ps
    where ps.role in ('total', 'target')
        and not exists (select 1 from deliveries as d where d.regency_code = ps.regency_code)
),

findings as (
    select
        'PROMISE_BEHIND' as code,
        regency_code,
        month_start,
        stable_id,
        cast(promised as float8) as value_source,
        cast(protected as float8) as value_reference,
        cast(promised - protected as bigint) as affected_workers,
        cast(months as integer) as months_count,
        cast(protected as varchar) || ' protected against ' || cast(promised as varchar) || ' promised in '
            || substr(cast(month_start as varchar), 1, 7) || '; below the promise ' || cast(months as varchar)
            || ' months in a row' as detail,
        kind,
        load_id,
        source_file,
        sheet,
        source_row
    from behind

    union all

    select
        'PROMISE_NO_DATA',
        regency_code,
        effective_month,
        stable_id,
        cast(promised_count as float8),
        cast(0 as float8),
        cast(null as bigint),
        cast(null as integer),
        cast(promised_count as varchar) || ' workers promised (' || role || ', from '
            || substr(cast(effective_month as varchar), 1, 7) || ') but the regency has delivered no register',
        kind,
        load_id,
        source_file,
        sheet,
        source_row
    from no_data
)

select
{{ finding_columns(
    code="code",
    regency_code="regency_code",
    month_start="month_start",
    subject="stable_id",
    reference_month="month_start",
    source_side="'workers promised'",
    value_source="value_source",
    reference_side="case when code = 'PROMISE_BEHIND' then 'protected workers (warehouse)'
        else 'register deliveries for the regency' end",
    value_reference="value_reference",
    affected_workers="affected_workers",
    months_count="months_count",
    detail="detail",
    source_kind="kind",
    source_load_id="load_id",
    source_file="source_file",
    source_sheet="sheet",
    source_row="source_row"
) }}
from findings
