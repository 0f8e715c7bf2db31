-- One row per rejected source row: where it was and why. The raw cells stay in the raw zone.
with

source as (
    select * from {{ source('quarantine', 'rows') }}
),

renamed as (
    select
        load_id,
        source,
        source_file,
        sheet,
        source_row,
        regency_code,
        reason_code,
        column_name,
        participant_key
    from source
)

select * from renamed
