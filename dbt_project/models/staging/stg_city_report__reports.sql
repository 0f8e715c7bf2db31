-- One row per accepted structured city-report row (regency x period).
with

source as (
    select * from {{ source('raw', 'city_report') }}
),

renamed as (
    select
        -- ids
        load_id,
        regency_code,

        -- lineage
        source_file,
        sheet,
        source_row,
        received_at,

        -- dates
        cast(period as date) as period_month,

        -- counts and amounts
        employed_population,
        active_participants_total,
        vulnerable_target,
        vulnerable_covered,
        cast(budget_allocated as decimal(18, 2)) as budget_allocated,
        cast(budget_realized as decimal(18, 2)) as budget_realized

    from source
)

select * from renamed
