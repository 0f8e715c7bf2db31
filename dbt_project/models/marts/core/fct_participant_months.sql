{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['regency_code', 'month_start'],
    on_schema_change='fail'
) }}
-- One row per participant x regency x month enrolled (counted once however often the person is listed),
-- with the month's payment status of the person's funding source. Protection is a count per regency, month and
-- funding source (mart_coverage_monthly), never a per-person flag.
with

enrolled as (
    select * from {{ ref('int_enrollments_by_month') }}
),

payments as (
    select * from {{ ref('fct_contributions') }}
),

per_person as (
    select
        participant_key,
        regency_code,
        month_start,
        min(funding_source) as funding_source,
        count(distinct funding_source) as funding_sources,
        count(*) as listed_rows,
        min(load_id) as load_id,
        min(source_row) as first_source_row
    from enrolled
    {% if is_incremental() %}
    where {{ period_window('month_start') }}
    {% endif %}
    group by participant_key, regency_code, month_start
)

select
    pp.participant_key,
    pp.regency_code,
    pp.month_start,
    pp.funding_source,
    true as enrolled,
    coalesce(pay.payment_status, 'unbilled') as payment_status,
    pp.funding_sources,
    pp.listed_rows,
    pp.listed_rows > 1 as is_duplicate_listing,
    pp.load_id,
    pp.first_source_row
from per_person as pp
left join payments as pay
    on pay.regency_code = pp.regency_code
    and pay.month_start = pp.month_start
    and pay.funding_source = pp.funding_source
