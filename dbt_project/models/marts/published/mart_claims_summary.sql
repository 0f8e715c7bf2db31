-- One row per regency x month x program: claims paid and their amounts.
select
    regency_code,
    cast(event_month as date) as month_start,
    program_code,
    cast(count(*) as bigint) as claims,
    cast(sum(amount_paid) as decimal(18, 2)) as amount_paid
from {{ ref('fct_claims') }}
group by regency_code, event_month, program_code
