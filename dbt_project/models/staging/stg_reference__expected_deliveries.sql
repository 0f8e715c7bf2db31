-- One row per regency (NULL: the default for every regency without an entry) and source it delivers every month
-- (config/deliveries.yml, overridden under `deliveries:` in config/regencies/*.yml).
with

source as (
    select * from {{ source('reference', 'expected_deliveries') }}
),

renamed as (
    select
        -- ids
        regency_code,
        source as source_kind,
        -- dates
        cast(due_day as integer) as due_day,
        cast(first_month as date) as first_month
    from source
)

select * from renamed
