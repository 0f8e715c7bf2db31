-- One row per register delivery (load): its regency, period and receipt, and whether a later delivery for the
-- same regency and period superseded it. Superseded deliveries stay here for audit.
with

rows_ as (
    select * from {{ ref('stg_register__enrollments') }}
),

deliveries as (
    select
        load_id,
        regency_code,
        delivery_period,
        max(source_file) as source_file,
        max(received_at) as received_at,
        count(*) as rows_loaded
    from rows_
    group by load_id, regency_code, delivery_period
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
