-- One row per Kemendagri province (idn-area-data).
with

source as (
    select * from {{ source('reference', 'provinces') }}
),

renamed as (
    select
        code as province_code,
        name as province_name
    from source
)

select * from renamed
