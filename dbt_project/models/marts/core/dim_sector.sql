-- One row per sector (config/sectors.yml): the small controlled list free-text occupations map to.
select
    sector_code,
    sector_name,
    priority,
    is_default
from {{ source('reference', 'sectors') }}
