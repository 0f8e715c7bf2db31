-- One row per accepted contributions row: regency x month x funding source, from one delivery.
with

source as (
    select * from {{ source('raw', 'contributions') }}
),

-- a rejection workbook sent back joins the delivery it fixes (see stg_register__enrollments)
fixes as (
    select load_id, min(delivery_load_id) as delivery_load_id
    from {{ source('audit', 'load_fixes') }}
    group by load_id
),

renamed as (
    select
        -- ids
        source.load_id,
        coalesce(fixes.delivery_load_id, source.load_id) as delivery_load_id,
        regency_code,
        funding_source,

        -- lineage
        source_file,
        sheet,
        source_row,
        received_at,

        -- dates
        cast(period as date) as period_month,
        cast(paid_date as date) as paid_date,

        -- amounts
        cast(participants_billed as bigint) as participants_billed,
        cast(amount_billed as decimal(18, 2)) as amount_billed,
        cast(amount_paid as decimal(18, 2)) as amount_paid

    from source
    left join fixes on fixes.load_id = source.load_id
)

select * from renamed
