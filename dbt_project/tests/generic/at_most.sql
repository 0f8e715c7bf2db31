{#- The column is at most another column of the same row, where both have a value (protected <= enrolled).
    A test with meta.gate in the published marts' YAML is also a check of the publish gate (cakupan.quality). -#}
{% test at_most(model, column_name, other) %}
select * from {{ model }}
where {{ column_name }} is not null and {{ other }} is not null and {{ column_name }} > {{ other }}
{% endtest %}
