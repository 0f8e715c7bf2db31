-- One row per month: the monthly JKK + JKM premium for one BPU worker in force (config/rates.yml).
with

months as (
    select * from {{ ref('dim_month') }}
),

rates as (
    select * from {{ source('reference', 'rates') }}
)

select
    m.month_start,
    sum(r.monthly_amount) as unit_premium
from months as m
inner join rates as r
    on r.segment = 'BPU'
    and r.program in ('JKK', 'JKM')
    and r.valid_from <= m.month_start
    and (r.valid_to is null or r.valid_to >= m.month_start)
group by m.month_start
