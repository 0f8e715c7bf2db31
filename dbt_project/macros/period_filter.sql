{#- Restrict a month column to the backfill window given by vars period_from / period_to (inclusive).
    Accepts 'YYYY-MM' or 'YYYY-MM-DD'; both mean the first day of that month. -#}
{% macro period_window(column) -%}
    {%- set pf = (var('period_from', '') or '') | string | trim -%}
    {%- set pt = (var('period_to', '') or '') | string | trim -%}
    (1 = 1
    {%- if pf %} and {{ column }} >= cast('{{ pf[:7] }}-01' as date){% endif -%}
    {%- if pt %} and {{ column }} <= cast('{{ pt[:7] }}-01' as date){% endif -%})
{%- endmacro %}

{#- Fold free text for keyword matching: lower case, non-alphanumerics to single spaces, padded. -#}
{% macro folded_words(column) -%}
    (' ' || trim(regexp_replace(lower(coalesce({{ column }}, '')), '[^a-z0-9]+', ' ', 'g')) || ' ')
{%- endmacro %}
