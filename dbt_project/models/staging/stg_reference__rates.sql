-- One row per program, segment and validity period: the monthly premium (config/rates.yml).
with

source as (
    select * from {{ source('reference', 'rates') }}
),

renamed as (
    select
        program as program_code,
        segment,
        valid_from,
        valid_to,
        monthly_amount
    from source
)

select * from renamed
