-- One row per Kemendagri regency (kabupaten/kota) with its province (idn-area-data).
with

source as (
    select * from {{ source('reference', 'regencies') }}
),

renamed as (
    select
        code as regency_code,
        province_code,
        name as regency_name
    from source
)

select * from renamed
