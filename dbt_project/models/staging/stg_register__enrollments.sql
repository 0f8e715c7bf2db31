-- One row per accepted register row (a worker in one delivery). No NIK, name or birth date past this point:
-- the person is the pseudonym participant_key; NIK-derived region and birth date are kept for findings.
with

source as (
    select * from {{ source('raw', 'register') }}
),

renamed as (
    select
        -- ids
        load_id,
        participant_key,
        regency_code,
        substr(nik, 1, 2) || '.' || substr(nik, 3, 2) as nik_regency_code,
        kpj,

        -- lineage
        source_file,
        sheet,
        source_row,
        received_at,

        -- dates
        cast(period as date) as delivery_period,
        cast(coverage_start as date) as coverage_start,
        cast(coverage_end as date) as coverage_end,

        -- attributes
        sex,
        occupation,
        village as village_name,
        district as district_name,
        programs,
        funding_source,

        -- amounts
        cast(monthly_contribution as decimal(18, 2)) as monthly_contribution

    from source
)

select * from renamed
