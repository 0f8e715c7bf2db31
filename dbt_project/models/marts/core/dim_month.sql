-- One row per calendar month, 2020-01 to 2030-12.
with

spine as (
    {{ dbt.date_spine(datepart="month", start_date="cast('2020-01-01' as date)", end_date="cast('2031-01-01' as date)") }}
)

select
    cast(date_month as date) as month_start,
    cast({{ dbt.last_day('date_month', 'month') }} as date) as month_end,
    cast(extract(year from date_month) as integer) as year,
    cast(extract(month from date_month) as integer) as month
from spine
