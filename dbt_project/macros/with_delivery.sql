{#- The rows of a staging model with delivery_load_id: a rejection workbook sent back joins the delivery it fixes
    (int_load_deliveries, cakupan.outbox.fixes), so a workbook of only the fixed rows never supersedes the rows of
    the original; any other load is its own delivery. -#}
{% macro with_delivery(staging_model) %}
select
    rows_.*,
    coalesce(fixes.delivery_load_id, rows_.load_id) as delivery_load_id
from {{ ref(staging_model) }} as rows_
left join {{ ref('int_load_deliveries') }} as fixes
    on fixes.load_id = rows_.load_id
{% endmacro %}
