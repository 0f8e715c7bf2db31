-- One row per fact extracted from a narrative city report (press release), with its review status.
with

source as (
    select * from {{ source('raw', 'report_facts') }}
),

renamed as (
    select
        -- ids
        fact_id,
        regency_code,

        -- lineage
        source_file,
        sentence,
        "start" as char_start,
        "end" as char_end,

        -- dates
        cast(event_date as date) as event_date,
        cast(effective_month as date) as effective_month,

        -- the fact
        event_kind,
        fact_kind,
        segment,
        role,
        value,
        value_text,
        unit,
        confidence,
        status,
        reviewed_by,
        reviewed_at,
        review_why

    from source
)

select * from renamed
