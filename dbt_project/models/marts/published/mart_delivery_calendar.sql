-- One row per regency x source x month expected: delivered / late / missing / not_due, with the due date, when
-- Cakupan first received the month's delivery and in which load (rules: int_delivery_calendar).
with

calendar as (
    select * from {{ ref('int_delivery_calendar') }}
)

select
    regency_code,
    source_kind as source,
    cast(month_start as date) as month_start,
    cast(due_date as date) as due_date,
    delivery_status,
    first_received_at,
    cast(load_id as bigint) as load_id,
    cast(days_late as integer) as days_late
from calendar
