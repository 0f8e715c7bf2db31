{#- Every row satisfies a SQL expression (arithmetic rules such as protected <= enrolled). -#}
{% test expression_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
