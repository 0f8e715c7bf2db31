-- One row per month from the earliest month any structured source is about to the latest plus var
-- month_horizon months: the month spine, grown by the data itself (no fixed first or last year).
with recursive

register as (
    select delivery_period as month_start from {{ ref('stg_register__enrollments') }}
),

payments as (
    select period_month as month_start from {{ ref('stg_contributions__payments') }}
),

claims as (
    select event_month as month_start from {{ ref('stg_claims__claims') }}
),

reports as (
    select period_month as month_start from {{ ref('stg_city_report__reports') }}
),

bounds as (
    select min(first_month) as first_month, max(last_month) as last_month
    from (
        select min(month_start) as first_month, max(month_start) as last_month from register
        union all
        select min(month_start), max(month_start) from payments
        union all
        select min(month_start), max(month_start) from claims
        union all
        select min(month_start), max(month_start) from reports
    ) as per_source
),

spine as (
    select
        cast({{ dbt.date_trunc('month', 'first_month') }} as date) as month_start,
        cast({{ dbt.dateadd('month', var('month_horizon'), dbt.date_trunc('month', 'last_month')) }} as date)
            as last_month
    from bounds
    where first_month is not null

    union all

    select cast({{ dbt.dateadd('month', 1, 'month_start') }} as date), last_month
    from spine
    where month_start < last_month
)

select month_start from spine
