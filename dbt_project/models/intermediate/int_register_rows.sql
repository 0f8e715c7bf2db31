-- One row per accepted register row, with the delivery it belongs to: a rejection workbook sent back joins the
-- delivery it fixes (cakupan.outbox.fixes), so a workbook of only the fixed rows never supersedes the workers of
-- the original; any other load is its own delivery.
with

rows_ as (
    select * from {{ ref('stg_register__enrollments') }}
),

fixes as (
    select * from {{ ref('int_load_deliveries') }}
)

select
    rows_.*,
    coalesce(fixes.delivery_load_id, rows_.load_id) as delivery_load_id
from rows_
left join fixes on fixes.load_id = rows_.load_id
