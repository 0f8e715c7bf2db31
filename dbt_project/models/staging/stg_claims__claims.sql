-- One row per accepted claim row.
with

source as (
    select * from {{ source('raw', 'claims') }}
),

renamed as (
    select
        -- ids
        load_id,
        claim_id,
        participant_key,
        kpj,
        regency_code,
        program as program_code,

        -- lineage
        source_file,
        sheet,
        source_row,
        received_at,

        -- dates
        cast(period as date) as event_month,
        cast(event_date as date) as event_date,
        cast(paid_date as date) as paid_date,

        -- amounts
        cast(amount_paid as decimal(18, 2)) as amount_paid

    from source
)

select * from renamed
