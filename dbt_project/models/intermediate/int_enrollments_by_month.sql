{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['regency_code', 'month_start'],
    on_schema_change='fail'
) }}
-- Incremental: a backfill (vars period_from / period_to) recomputes only the months in the window and replaces
-- them (delete+insert by regency and month); without a window every month is recomputed; --full-refresh rebuilds.
-- One row per register row enrolled in a month: the row belongs to the governing delivery of its regency and
-- month, and its spell overlaps the month (start <= last day, end empty or >= first day).
with

governing as (
    select * from {{ ref('int_register_governing_months') }}
),

rows_ as (
    select * from {{ ref('int_register_rows') }}
)

select
    g.regency_code,
    g.month_start,
    r.participant_key,
    r.funding_source,
    r.occupation,
    r.programs,
    r.load_id,
    r.source_file,
    r.sheet,
    r.source_row
from governing as g
inner join rows_ as r
    on r.delivery_load_id = g.governing_load_id
    and r.regency_code = g.regency_code
where r.coverage_start <= {{ dbt.last_day('g.month_start', 'month') }}
    and (r.coverage_end is null or r.coverage_end >= g.month_start)
{% if is_incremental() %}
    and {{ period_window('g.month_start') }}
{% endif %}
