-- One row per fact a city report states: structured template figures and accepted narrative facts.
with

structured as (
    select * from {{ ref('stg_city_report__reports') }}
),

unpivoted as (
    {% set measures = ['employed_population', 'active_participants_total', 'vulnerable_target',
                       'vulnerable_covered', 'budget_allocated', 'budget_realized'] %}
    {% for m in measures %}
    select
        'report-' || cast(load_id as varchar) || '-' || cast(source_row as varchar) || '-{{ m }}' as fact_id,
        'structured_report' as report_kind,
        regency_code,
        period_month as event_date,
        period_month as effective_month,
        '{{ m }}' as fact_kind,
        case when '{{ m }}' like 'vulnerable%' then 'pekerja_rentan' else 'all_segments' end as segment,
        case when '{{ m }}' = 'vulnerable_target' then 'target' else 'stated' end as role,
        cast({{ m }} as float8) as value,
        case when '{{ m }}' like 'budget%' then 'IDR' else 'workers' end as unit,
        source_file,
        cast(null as varchar) as sentence,
        load_id,
        source_row
    from structured
    where {{ m }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

narrative as (
    select
        fact_id,
        'narrative' as report_kind,
        regency_code,
        event_date,
        effective_month,
        case when fact_kind = 'count' then 'workers_count' else fact_kind end as fact_kind,
        segment,
        role,
        value,
        unit,
        source_file,
        sentence,
        cast(null as bigint) as load_id,
        char_start as source_row
    from {{ ref('stg_reports__narrative_facts') }}
    where status = 'accepted'
)

select * from unpivoted
union all
select * from narrative
