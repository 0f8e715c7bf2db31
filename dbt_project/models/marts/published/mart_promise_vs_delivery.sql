-- One row per promise (MoU or target): promised count vs protected workers at the promise month and +1/+3/+6.
-- A promise for a regency that is not configured (no config/regencies/<code>.yml, so no deliveries are read) is
-- kept as 'promised, no deliveries' rather than dropped: the press reported it, the warehouse cannot check it.
with

promises as (
    select * from {{ ref('int_promises') }} where role in ('total', 'target', 'part')
),

regions as (
    select regency_code, is_configured from {{ ref('dim_region') }}
),

coverage as (
    select * from {{ ref('mart_coverage_monthly') }}
),

sector_protected as (
    -- part promises for a sector (2,000 nelayan) compare with enrolled workers of that sector
    select e.regency_code, e.month_start, s.sector_code, count(distinct e.participant_key) as enrolled
    from {{ ref('int_enrollments_by_month') }} as e
    left join {{ ref('int_occupation_sectors') }} as s on s.occupation = e.occupation
    group by e.regency_code, e.month_start, s.sector_code
),

offsets as (
    select 0 as k union all select 1 union all select 3 union all select 6
),

delivered as (
    select
        p.promise_id,
        o.k,
        case
            when p.segment = 'pekerja_rentan' then c.protected
            else sp.enrolled
        end as delivered
    from promises as p
    cross join offsets as o
    left join coverage as c
        on c.regency_code = p.regency_code
        and c.month_start = cast({{ dbt.dateadd('month', 'o.k', 'p.effective_month') }} as date)
    left join sector_protected as sp
        on sp.regency_code = p.regency_code
        and sp.sector_code = p.segment
        and sp.month_start = cast({{ dbt.dateadd('month', 'o.k', 'p.effective_month') }} as date)
),

pivoted as (
    select
        promise_id,
        max(case when k = 0 then delivered end) as delivered_m0,
        max(case when k = 1 then delivered end) as delivered_m1,
        max(case when k = 3 then delivered end) as delivered_m3,
        max(case when k = 6 then delivered end) as delivered_m6
    from delivered
    group by promise_id
)

select
    p.promise_id,
    p.promise_source,
    p.regency_code,
    cast(p.promise_date as date) as promise_date,
    cast(p.effective_month as date) as effective_month,
    p.segment,
    p.role,
    cast(p.promised_count as bigint) as promised_count,
    cast(v.delivered_m0 as bigint) as delivered_m0,
    cast(v.delivered_m1 as bigint) as delivered_m1,
    cast(v.delivered_m3 as bigint) as delivered_m3,
    cast(v.delivered_m6 as bigint) as delivered_m6,
    case
        when not coalesce(r.is_configured, false) then 'promised, no deliveries'
        when coalesce(v.delivered_m6, v.delivered_m3, v.delivered_m1, v.delivered_m0) is null then 'no data'
        when coalesce(v.delivered_m6, v.delivered_m3, v.delivered_m1, v.delivered_m0) >= p.promised_count
            then 'met'
        else 'behind'
    end as status,
    p.source_file,
    p.sentence
from promises as p
left join pivoted as v on v.promise_id = p.promise_id
left join regions as r on r.regency_code = p.regency_code
