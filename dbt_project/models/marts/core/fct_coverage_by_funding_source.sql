-- One row per regency x month x funding source that has enrolled workers or a contributions row: enrolled (distinct
-- people), the current payment row, and protected = min(enrolled, floor(paid / unit premium)) (domain.md). This is
-- the one definition of "protected"; the coverage mart and the payment findings both read it. NULL protected = no
-- contributions row for the cell (no data), not 0. A table: both readers would otherwise compute it again.
with

enrolled_rows as (
    select * from {{ ref('int_enrollments_by_month') }}
),

payments as (
    select * from {{ ref('fct_contributions') }}
),

enrolled as (
    select regency_code, month_start, funding_source, count(distinct participant_key) as enrolled
    from enrolled_rows
    group by regency_code, month_start, funding_source
)

select
    coalesce(p.regency_code, e.regency_code) as regency_code,
    coalesce(p.month_start, e.month_start) as month_start,
    coalesce(p.funding_source, e.funding_source) as funding_source,
    coalesce(e.enrolled, 0) as enrolled,
    case
        when p.paid_workers is null then null
        when p.paid_workers < coalesce(e.enrolled, 0) then p.paid_workers
        else coalesce(e.enrolled, 0)
    end as protected,
    p.participants_billed,
    p.amount_billed,
    p.amount_paid,
    p.paid_date,
    p.paid_workers,
    p.load_id,
    p.source_file,
    p.sheet,
    p.source_row
from payments as p
full outer join enrolled as e
    on e.regency_code = p.regency_code
    and e.month_start = p.month_start
    and e.funding_source = p.funding_source
