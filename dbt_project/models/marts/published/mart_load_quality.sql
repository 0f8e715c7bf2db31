-- One row per load (delivered file) and outcome reason: rows in / loaded / quarantined, by reason.
with

loads as (
    select * from {{ ref('stg_audit__loads') }}
),

quarantined as (
    select load_id, reason_code, count(*) as rows_quarantined
    from {{ ref('stg_quarantine__rows') }}
    group by load_id, reason_code
)

select
    cast(l.load_id as bigint) as load_id,
    l.file_name,
    l.source_file,
    l.source,
    l.regency_code,
    cast(l.period_month as date) as period_month,
    l.status,
    cast(l.rows_in as bigint) as rows_in,
    cast(l.rows_loaded as bigint) as rows_loaded,
    cast(l.rows_quarantined as bigint) as rows_quarantined,
    coalesce(q.reason_code, l.error_code) as reason_code,
    cast(coalesce(q.rows_quarantined, 0) as bigint) as reason_rows,
    l.error_message,
    cast(l.duplicate_of as bigint) as duplicate_of,
    l.received_at,
    l.finished_at
from loads as l
left join quarantined as q on q.load_id = l.load_id
