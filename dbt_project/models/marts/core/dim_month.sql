-- One row per month of the data (int_months: the data's months plus a horizon), with the monthly JKK + JKM
-- premium for one BPU worker in force that month (config/rates.yml; NULL when no rate covers the month).
with

months as (
    select * from {{ ref('int_months') }}
),

rates as (
    select * from {{ ref('stg_reference__rates') }}
),

premiums as (
    select
        m.month_start,
        sum(r.monthly_amount) as unit_premium
    from months as m
    inner join rates as r
        on r.segment = 'BPU'
        and r.program_code in ('JKK', 'JKM')
        and r.valid_from <= m.month_start
        and (r.valid_to is null or r.valid_to >= m.month_start)
    group by m.month_start
)

select
    m.month_start,
    cast({{ dbt.last_day('m.month_start', 'month') }} as date) as month_end,
    cast(extract(year from m.month_start) as integer) as year,
    cast(extract(month from m.month_start) as integer) as month,
    p.unit_premium
from months as m
left join premiums as p on p.month_start = m.month_start
