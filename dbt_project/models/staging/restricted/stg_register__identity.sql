-- RESTRICTED. One row per register row with a NIK: the parts of the NIK the identity checks compare (issuing
-- regency, birth day, month and two-digit year) and the birth-date column. The NIK itself stays in the raw zone;
-- the birth date leaves it only here. Ephemeral (never a table or a view anyone could read) and private to the
-- identity group (int_findings_identity), which lets only flags, codes and ages out.
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

        -- lineage
        sheet,
        source_row,

        -- dates
        cast(period as date) as delivery_period,

        -- derived from the NIK (digits 1-4: issuing regency; 7-12: birth date, day + 40 for women)
        substr(nik, 1, 2) || '.' || substr(nik, 3, 2) as nik_regency_code,
        mod(cast(substr(nik, 7, 2) as integer), 40) as nik_day,
        cast(substr(nik, 9, 2) as integer) as nik_month,
        cast(substr(nik, 11, 2) as integer) as nik_year2,

        -- personal data
        cast(birth_date as date) as birth_date

    from source
    where nik is not null
)

select * from renamed
