-- One row per sector keyword (config/sectors.yml): an occupation containing the word belongs to the sector.
with

source as (
    select * from {{ source('reference', 'sector_keywords') }}
),

renamed as (
    select
        sector_code,
        keyword,
        priority
    from source
)

select * from renamed
