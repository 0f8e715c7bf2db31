-- One row per regency Cakupan is configured for (config/regencies/*.yml).
with

source as (
    select * from {{ source('reference', 'configured_regencies') }}
),

renamed as (
    select
        regency_code,
        regency_name,
        branch as bpjs_branch,
        default_funding_source
    from source
)

select * from renamed
