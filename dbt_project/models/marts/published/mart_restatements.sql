-- One row per restatement: a coverage figure of an already-published regency-month that a later publish changed,
-- old -> new, with the publish that changed it and the loads (or the rollback) that caused it. Two parts:
-- restatements between earlier publishes (audit.published_figures stores each figure when it changed), and the
-- ones this build makes against the last publish (restated_in_run_id null: the publish that carries this mart).
{% set measures = ['enrolled', 'enrolled_apbd', 'protected', 'protected_apbd', 'promised', 'participants_billed',
                   'premium_billed', 'premium_paid'] %}
with

figures as (
    select * from {{ ref('stg_audit__published_figures') }}
),

coverage as (
    select * from {{ ref('mart_coverage_monthly') }}
),

loads as (
    select * from {{ ref('stg_audit__loads') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

stored as (
    select
        f.*,
        lag(value) over w as old_value,
        lag(run_id) over w as previous_run_id,
        lag(published_at) over w as previously_published_at,
        row_number() over w as nth
    from figures as f
    window w as (partition by regency_code, month_start, measure order by published_at)
),

between_publishes as (
    select
        regency_code, month_start, measure, old_value, value as new_value, previous_run_id, previously_published_at,
        run_id as restated_in_run_id, published_at as restated_at, caused_by
    from stored
    where nth > 1
),

last_stored as (
    select * from (
        select
            f.*,
            row_number() over (partition by regency_code, month_start, measure order by published_at desc) as latest
        from figures as f
    ) as ranked
    where latest = 1
),

this_build as (
    {% for m in measures %}
    select regency_code, month_start, '{{ m }}' as measure, cast({{ m }} as decimal(18, 2)) as value from coverage
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

new_loads as (
    select
        regency_code,
        string_agg('load ' || cast(load_id as varchar) || ' ' || file_name, ', ' order by load_id) as caused_by
    from loads
    where status = 'loaded'
        and load_id > coalesce((select max(max_load_id) from figures
                                where published_at = (select max(published_at) from figures)), -1)
    group by regency_code
),

in_this_build as (
    select
        b.regency_code, b.month_start, b.measure, l.value as old_value, b.value as new_value,
        l.run_id as previous_run_id, l.published_at as previously_published_at,
        cast(null as varchar) as restated_in_run_id, cast(null as timestamp) as restated_at, n.caused_by
    from this_build as b
    inner join last_stored as l
        on l.regency_code = b.regency_code and l.month_start = b.month_start and l.measure = b.measure
    left join new_loads as n on n.regency_code = b.regency_code
    where l.value is distinct from b.value
),

restatements as (
    select * from between_publishes
    union all
    select * from in_this_build
)

select
    r.regency_code,
    g.regency_name,
    cast(r.month_start as date) as month_start,
    r.measure,
    cast(r.old_value as decimal(18, 2)) as old_value,
    cast(r.new_value as decimal(18, 2)) as new_value,
    cast(r.new_value - r.old_value as decimal(18, 2)) as change,
    r.previous_run_id,
    r.previously_published_at,
    r.restated_in_run_id,
    r.restated_at,
    r.caused_by
from restatements as r
left join regions as g on g.regency_code = r.regency_code
