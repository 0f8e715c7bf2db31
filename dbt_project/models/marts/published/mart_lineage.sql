-- The lineage bridge: one row per source row behind a mart figure (regency x month), with the pseudonym only.
-- measure = 'enrolled' (a register row counted in the month) or 'payment' (the contributions row).
select
    'mart_coverage_monthly' as mart,
    regency_code,
    cast(month_start as date) as month_start,
    'enrolled' as measure,
    funding_source,
    participant_key,
    cast(load_id as bigint) as load_id,
    source_file,
    sheet,
    cast(source_row as integer) as source_row
from {{ ref('int_enrollments_by_month') }}
union all
select
    'mart_coverage_monthly',
    regency_code,
    cast(month_start as date),
    'payment',
    funding_source,
    cast(null as varchar),
    cast(load_id as bigint),
    source_file,
    sheet,
    cast(source_row as integer)
from {{ ref('fct_contributions') }}
