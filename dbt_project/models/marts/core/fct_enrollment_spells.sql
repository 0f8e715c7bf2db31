-- One row per register row (a coverage spell) with its lineage and whether a later delivery for the same regency
-- and period superseded its delivery (is_superseded): superseded rows stay, for audit; readers filter them.
with

rows_ as (
    select * from {{ ref('int_register_rows') }}
),

deliveries as (
    select * from {{ ref('int_register_deliveries_ranked') }}
)

select
    r.load_id,
    r.source_file,
    r.sheet,
    r.source_row,
    r.participant_key,
    r.regency_code,
    r.delivery_period,
    r.coverage_start,
    r.coverage_end,
    r.funding_source,
    r.programs,
    d.is_superseded
from rows_ as r
inner join deliveries as d
    on d.load_id = r.delivery_load_id
    and d.regency_code = r.regency_code
    and d.delivery_period = r.delivery_period
