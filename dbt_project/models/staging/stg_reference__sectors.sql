-- One row per sector (config/sectors.yml): the small controlled list free-text occupations map to.
with

source as (
    select * from {{ source('reference', 'sectors') }}
),

renamed as (
    select
        sector_code,
        sector_name,
        priority,
        is_default
    from source
)

select * from renamed
