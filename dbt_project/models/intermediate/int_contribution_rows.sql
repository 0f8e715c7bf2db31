-- One row per accepted contributions row, with the delivery it belongs to (see int_register_rows).
with

rows_ as (
    select * from {{ ref('stg_contributions__payments') }}
),

fixes as (
    select * from {{ ref('int_load_deliveries') }}
)

select
    rows_.*,
    coalesce(fixes.delivery_load_id, rows_.load_id) as delivery_load_id
from rows_
left join fixes on fixes.load_id = rows_.load_id
