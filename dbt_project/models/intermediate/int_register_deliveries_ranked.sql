-- One row per register delivery (load): its regency, period and receipt, and whether a later delivery for the
-- same regency and period superseded it. Superseded deliveries stay here for audit.
with

rows_ as (
    select * from {{ ref('int_register_rows') }}
),

-- a delivery is its own load plus any rejection workbook sent back for it (delivery_load_id): received when the
-- original was, so the fixed rows never move it ahead of a later delivery of the same period
deliveries as (
    select
        delivery_load_id as load_id,
        regency_code,
        delivery_period,
        coalesce(max(case when load_id = delivery_load_id then source_file end), max(source_file)) as source_file,
        coalesce(max(case when load_id = delivery_load_id then received_at end), min(received_at)) as received_at,
        count(*) as rows_loaded
    from rows_
    group by delivery_load_id, regency_code, delivery_period
),

ranked as (
    select
        *,
        row_number() over (
            partition by regency_code, delivery_period order by received_at desc, load_id desc
        ) as delivery_rank
    from deliveries
)

select
    *,
    delivery_rank > 1 as is_superseded,
    first_value(load_id) over (
        partition by regency_code, delivery_period order by received_at desc, load_id desc
    ) as current_load_id
from ranked
