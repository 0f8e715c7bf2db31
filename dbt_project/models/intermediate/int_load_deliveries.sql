-- One row per load of a rejection workbook sent back: the original delivery its rows join (the earliest, if its
-- rows fix rows of several deliveries).
select
    load_id,
    min(delivery_load_id) as delivery_load_id
from {{ ref('stg_audit__load_fixes') }}
group by load_id
