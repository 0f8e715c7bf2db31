-- Every published coverage figure, stored when it changed (cakupan.targets.history.record_figures).
with

source as (
    select * from {{ source('audit', 'published_figures') }}
)

select
    run_id,
    published_at,
    regency_code,
    cast(month_start as date) as month_start,
    measure,
    value,
    caused_by,
    max_load_id
from source
