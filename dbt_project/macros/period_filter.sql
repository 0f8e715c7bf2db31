{#- Restrict a month column to the backfill window given by vars period_from / period_to (inclusive). -#}
{% macro period_window(column) -%}
    {%- set pf = var('period_from', '') -%}{%- set pt = var('period_to', '') -%}
    (1 = 1
    {%- if pf %} and {{ column }} >= cast('{{ pf }}' as date){% endif -%}
    {%- if pt %} and {{ column }} <= cast('{{ pt }}' as date){% endif -%})
{%- endmacro %}

{#- Fold free text for keyword matching: lower case, non-alphanumerics to single spaces, padded. -#}
{% macro folded_words(column) -%}
    (' ' || trim(regexp_replace(lower(coalesce({{ column }}, '')), '[^a-z0-9]+', ' ', 'g')) || ' ')
{%- endmacro %}
