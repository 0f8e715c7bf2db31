-- One row per file load attempt (the manifest).
with

source as (
    select * from {{ source('audit', 'loads') }}
),

renamed as (
    select
        load_id,
        run_id,
        source,
        regency_code,
        cast(period as date) as period_month,
        source_file,
        file_name,
        file_sha256,
        file_size,
        received_at,
        started_at,
        finished_at,
        status,
        rows_in,
        rows_loaded,
        rows_quarantined,
        notes_skipped,
        error_code,
        error_message,
        duplicate_of
    from source
)

select * from renamed
