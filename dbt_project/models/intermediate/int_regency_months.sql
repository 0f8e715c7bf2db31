-- One row per regency and month from the regency's first data month to the last month any source covers.
with

months as (
    select * from {{ ref('int_months') }}
),

register as (
    select * from {{ ref('stg_register__enrollments') }}
),

payments as (
    select * from {{ ref('stg_contributions__payments') }}
),

firsts as (
    select regency_code, min(delivery_period) as first_month from register group by 1
    union all
    select regency_code, min(period_month) from payments group by 1
),

regency_first as (
    select regency_code, min(first_month) as first_month from firsts group by 1
),

last_month as (
    select max(m) as last_month from (
        select max(delivery_period) as m from register
        union all
        select max(period_month) from payments
    ) as x
)

select
    r.regency_code,
    m.month_start
from regency_first as r
cross join last_month as l
inner join months as m
    on m.month_start >= r.first_month
    and m.month_start <= l.last_month
