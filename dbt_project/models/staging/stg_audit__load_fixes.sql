-- One row per row of a rejection workbook sent back (cakupan.outbox.fixes) and the rejected row it fixes.
with

source as (
    select * from {{ source('audit', 'load_fixes') }}
),

renamed as (
    select
        -- ids
        load_id,
        fixes_load_id,
        delivery_load_id,

        -- lineage
        sheet,
        source_row,
        fixes_sheet,
        fixes_source_row,

        -- flags
        fixed
    from source
)

select * from renamed
