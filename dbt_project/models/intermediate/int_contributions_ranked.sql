-- Contributions rows with supersede status: per regency and period, the latest delivery wins (received time,
-- then load id); a file spanning several months supersedes period by period. Superseded rows stay for audit.
with

payments as (
    select * from {{ ref('int_contribution_rows') }}
),

latest as (
    select
        regency_code,
        period_month,
        delivery_load_id,
        -- a rejection workbook sent back is part of the delivery it fixes, received when that was
        row_number() over (
            partition by regency_code, period_month
            order by coalesce(max(case when load_id = delivery_load_id then received_at end), min(received_at)) desc,
                delivery_load_id desc
        ) as pick
    from payments
    group by regency_code, period_month, delivery_load_id
)

select
    p.*,
    l.pick = 1 as is_current
from payments as p
inner join latest as l
    on l.regency_code = p.regency_code
    and l.period_month = p.period_month
    and l.delivery_load_id = p.delivery_load_id
