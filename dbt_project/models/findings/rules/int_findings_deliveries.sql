-- Delivery findings, one row per regency x month x source the calendar expects (int_delivery_calendar: sources and
-- due days from config/deliveries.yml and each regency's `deliveries:`):
--   DELIVERY_MISSING   nothing about the month received, and its due date is before the latest file received
--   DELIVERY_LATE      first received after the due date (a backfill loaded at the start is never late)
with

calendar as (
    select * from {{ ref('int_delivery_calendar') }}
    where delivery_status in ('missing', 'late')
),

loads as (
    select load_id, source_file from {{ ref('stg_audit__loads') }}
),

findings as (
    select
        case when c.delivery_status = 'missing' then 'DELIVERY_MISSING' else 'DELIVERY_LATE' end as code,
        c.*,
        l.source_file
    from calendar as c
    left join loads as l on l.load_id = c.load_id
)

select
{{ finding_columns(
    code="code",
    regency_code="regency_code",
    month_start="month_start",
    subject="source_kind",
    reference_month="month_start",
    source_side="case when code = 'DELIVERY_MISSING' then 'deliveries received' else 'days from the due date to the first delivery' end",
    value_source="case when code = 'DELIVERY_MISSING' then 0 else days_late end",
    reference_side="case when code = 'DELIVERY_MISSING' then 'deliveries expected' else 'days allowed after the due date' end",
    value_reference="case when code = 'DELIVERY_MISSING' then 1 else 0 end",
    difference="case when code = 'DELIVERY_MISSING' then -1 else days_late end",
    days_late="days_late",
    detail="case when code = 'DELIVERY_MISSING'
        then source_kind || ' for ' || substr(cast(month_start as varchar), 1, 7) || ' never received; due '
            || cast(due_date as varchar)
        else source_kind || ' for ' || substr(cast(month_start as varchar), 1, 7) || ' first received '
            || substr(cast(first_received_at as varchar), 1, 10) || ', due ' || cast(due_date as varchar) || ': '
            || " ~ counted('days_late', 'day') ~ " || ' late' end",
    source_kind="source_kind",
    source_load_id="load_id",
    source_file="source_file"
) }}
from findings
