-- One row per regency x month x funding source from the current delivery: billed, paid, unit premium and how
-- many workers the payment protects at most (floor(paid / unit premium)).
with

payments as (
    select * from {{ ref('int_contributions_ranked') }} where is_current
),

months as (
    select * from {{ ref('dim_month') }}
)

select
    p.regency_code,
    p.period_month as month_start,
    p.funding_source,
    p.participants_billed,
    p.amount_billed,
    p.amount_paid,
    p.paid_date,
    coalesce(p.amount_billed / nullif(p.participants_billed, 0), m.unit_premium) as unit_premium,
    cast(floor(p.amount_paid / coalesce(p.amount_billed / nullif(p.participants_billed, 0), m.unit_premium))
        as bigint) as paid_workers,
    case
        when p.amount_paid >= p.amount_billed then 'paid'
        when p.amount_paid > 0 then 'partial'
        else 'unpaid'
    end as payment_status,
    case
        when p.paid_date > cast({{ dbt.last_day('p.period_month', 'month') }} as date)
            then {{ dbt.datediff('cast(' ~ dbt.last_day('p.period_month', 'month') ~ ' as date)', 'p.paid_date', 'day') }}
        else 0
    end as days_late,
    p.load_id,
    p.source_file,
    p.sheet,
    p.source_row
from payments as p
left join months as m on m.month_start = p.period_month
