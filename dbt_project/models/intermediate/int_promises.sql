-- One row per promise: an accepted narrative fact with role total or target, or a structured report's
-- vulnerable_target. Effective month = the stated start, else the event month (domain.md, "Promised").
with

narrative as (
    select
        fact_id as promise_id,
        'narrative' as promise_source,
        regency_code,
        event_date as promise_date,
        coalesce(effective_month, cast({{ dbt.date_trunc('month', 'event_date') }} as date)) as effective_month,
        case when segment in ('pekerja_rentan', 'all', 'all_segments') then 'pekerja_rentan' else segment end
            as segment,
        role,
        cast(value as bigint) as promised_count,
        1 as source_priority,
        source_file,
        sentence
    from {{ ref('stg_reports__narrative_facts') }}
    where status = 'accepted'
        and fact_kind = 'count'
        and role in ('total', 'target', 'part')
        and regency_code is not null
),

structured as (
    select
        'report-' || cast(load_id as varchar) || '-' || cast(source_row as varchar) as promise_id,
        'structured_report' as promise_source,
        regency_code,
        period_month as promise_date,
        period_month as effective_month,
        'pekerja_rentan' as segment,
        'target' as role,
        vulnerable_target as promised_count,
        2 as source_priority,
        source_file,
        cast(null as varchar) as sentence
    from {{ ref('stg_city_report__reports') }}
    -- a template's target of 0 or an empty cell means "no target set" (domain.md): not a promise of 0
    where vulnerable_target > 0
)

select * from narrative
union all
select * from structured
