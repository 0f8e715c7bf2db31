-- Billing-vs-register and payment findings: one row per finding, per regency x month x funding source.
-- Billing is compared with the register only where both have data for the regency and month (a contributions row
-- for the month and a governing register delivery): a month with one source missing is "no data", not a finding.
-- Payment findings need only the contributions row (affected workers need the register too).
--   BILLED_COUNT_MISMATCH   participants billed <> workers enrolled (beyond billing.count_tolerance)
--   BILLED_AMOUNT_MISMATCH  amount billed <> enrolled x the premium in force (config/rates.yml), unless the whole
--                           difference is the count difference x that premium (already BILLED_COUNT_MISMATCH)
--   PAYMENT_UNPAID          billed, nothing paid, and the delivery arrived after the due date
--   PAYMENT_SHORTFALL       0 < paid < billed, delivery after the due date; affected = enrolled - protected
--   PAYMENT_LATE            paid after the due date (day payment.due_day_of_next_month of M+1) + grace days
-- protected = min(enrolled, floor(paid / unit premium)), from fct_coverage_by_funding_source (the one definition).
with

deliveries as (
    select load_id, sheet, source_row, received_at from {{ ref('stg_contributions__payments') }}
),

governing as (
    select * from {{ ref('int_register_governing_months') }}
),

months as (
    select * from {{ ref('dim_month') }}
),

rules as (
    select * from {{ ref('int_findings_rules') }}
),

billed_months as (
    select distinct regency_code, month_start from {{ ref('fct_contributions') }}
),

cells as (
    select
        regency_code, month_start, funding_source, enrolled, protected as protected_or_null, participants_billed,
        amount_billed, amount_paid, paid_date, paid_workers, load_id, source_file, sheet, source_row
    from {{ ref('fct_coverage_by_funding_source') }}
),

compared as (
    select
        c.*,
        u.unit_premium as premium_in_force,
        d.received_at,
        cast({{ dbt.dateadd('day', 'r.payment_due_day - 1', dbt.dateadd('month', 1, 'c.month_start')) }} as date)
            as due_date,
        r.payment_grace_days,
        r.billing_count_tolerance,
        r.billing_amount_tolerance,
        g.regency_code is not null as has_register
    from cells as c
    cross join rules as r
    inner join billed_months as b on b.regency_code = c.regency_code and b.month_start = c.month_start
    left join governing as g on g.regency_code = c.regency_code and g.month_start = c.month_start
    left join months as u on u.month_start = c.month_start
    left join deliveries as d
        on d.load_id = c.load_id and coalesce(d.sheet, '') = coalesce(c.sheet, '') and d.source_row = c.source_row
),

measured as (
    select
        *,
        coalesce(participants_billed, 0) as billed,
        coalesce(protected_or_null, 0) as protected,
        case when paid_date is not null then {{ dbt.datediff('due_date', 'paid_date', 'day') }} end as days_late,
        received_at is not null
            and cast(received_at as date) > cast({{ dbt.dateadd('day', 'payment_grace_days', 'due_date') }} as date)
            as received_after_due
    from compared
),

findings as (
    select
        'BILLED_COUNT_MISMATCH' as code,
        m.*,
        'participants billed' as source_side,
        cast(billed as float8) as value_source,
        'workers enrolled in the register' as reference_side,
        cast(enrolled as float8) as value_reference,
        cast(abs(billed - enrolled) as bigint) as affected_workers,
        cast(null as integer) as finding_days_late,
        cast(billed as varchar) || ' billed, ' || cast(enrolled as varchar) || ' enrolled ('
            || funding_source || ')' as detail
    from measured as m
    where has_register
        and abs(billed - enrolled) > billing_count_tolerance

    union all

    select
        'BILLED_AMOUNT_MISMATCH',
        m.*,
        'amount billed (Rp)',
        cast(amount_billed as float8),
        'workers enrolled x premium in force (Rp)',
        cast(enrolled * premium_in_force as float8),
        cast(null as bigint),
        cast(null as integer),
        'billed Rp ' || cast(cast(amount_billed as bigint) as varchar) || ' for ' || cast(billed as varchar)
            || ' workers; ' || cast(enrolled as varchar) || ' enrolled x Rp '
            || cast(cast(premium_in_force as bigint) as varchar) || ' = Rp '
            || cast(cast(enrolled * premium_in_force as bigint) as varchar) || ' (' || funding_source || ')'
    from measured as m
    where has_register
        and amount_billed is not null
        and abs(amount_billed - enrolled * premium_in_force) > billing_amount_tolerance
        and abs(amount_billed - billed * premium_in_force) > billing_amount_tolerance

    union all

    select
        case when coalesce(amount_paid, 0) = 0 then 'PAYMENT_UNPAID' else 'PAYMENT_SHORTFALL' end,
        m.*,
        'premium paid (Rp)',
        cast(coalesce(amount_paid, 0) as float8),
        'premium billed (Rp)',
        cast(amount_billed as float8),
        cast(case when has_register then enrolled - protected end as bigint),
        cast(null as integer),
        'paid Rp ' || cast(cast(coalesce(amount_paid, 0) as bigint) as varchar) || ' of Rp '
            || cast(cast(amount_billed as bigint) as varchar) || ': ' || case
                when has_register then cast(enrolled - protected as varchar) || ' of ' || cast(enrolled as varchar)
                    || ' enrolled workers unprotected'
                else 'no register data for the month'
            end || ' (' || funding_source || ')'
    from measured as m
    where amount_billed > 0
        and coalesce(amount_paid, 0) < amount_billed
        and received_after_due

    union all

    select
        'PAYMENT_LATE',
        m.*,
        'days from the due date to payment',
        cast(days_late as float8),
        'grace days allowed',
        cast(payment_grace_days as float8),
        cast(null as bigint),
        cast(days_late as integer),
        'paid ' || cast(paid_date as varchar) || ', due ' || cast(due_date as varchar) || ': '
            || cast(days_late as varchar) || ' days late (' || funding_source || ')'
    from measured as m
    where coalesce(amount_paid, 0) > 0
        and days_late > payment_grace_days
)

select
{{ finding_columns(
    code="code",
    regency_code="regency_code",
    month_start="month_start",
    subject="funding_source",
    funding_source="funding_source",
    reference_month="month_start",
    source_side="source_side",
    value_source="value_source",
    reference_side="reference_side",
    value_reference="value_reference",
    affected_workers="affected_workers",
    days_late="finding_days_late",
    detail="detail",
    source_kind="case when load_id is not null then 'contributions' end",
    source_load_id="load_id",
    source_file="source_file",
    source_sheet="sheet",
    source_row="source_row"
) }}
from findings
