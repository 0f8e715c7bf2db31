-- One row per accepted contributions row: regency x month x funding source, from one delivery.
with

source as (
    select * from {{ source('raw', 'contributions') }}
),

renamed as (
    select
        -- ids
        load_id,
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
)

select * from renamed
