{#- The one row shape of every audit finding (int_findings_* → fct_audit_findings): each column cast to its type,
    in this order. Name a column with the SQL expression that fills it; a column not named is null.
    Usage: select {{ finding_columns(code="code", regency_code="regency_code", detail="'...' || x") }} from t
    difference: value_source - value_reference, named only where both sides are the same measure (workers and
    workers, Rupiah and Rupiah); a benefit against a row count or a premium has none. -#}
{% macro finding_columns() -%}
    {%- set columns = [
        ('code', 'varchar'), ('regency_code', 'varchar'), ('month_start', 'date'), ('subject', 'varchar'),
        ('funding_source', 'varchar'), ('counterpart_code', 'varchar'), ('participant_key', 'varchar'),
        ('reference_month', 'date'), ('source_side', 'varchar'), ('value_source', 'float8'),
        ('reference_side', 'varchar'), ('value_reference', 'float8'), ('difference', 'float8'),
        ('affected_workers', 'bigint'),
        ('days_late', 'integer'), ('months_count', 'integer'), ('detail', 'varchar'), ('source_kind', 'varchar'),
        ('source_load_id', 'bigint'), ('source_file', 'varchar'), ('source_sheet', 'varchar'),
        ('source_row', 'integer'), ('other_kind', 'varchar'), ('other_load_id', 'bigint'), ('other_file', 'varchar'),
        ('other_sheet', 'varchar'), ('other_row', 'integer')
    ] -%}
    {%- set known = columns | map(attribute=0) | list -%}
    {%- for name in kwargs -%}
        {%- if name not in known -%}
            {{ exceptions.raise_compiler_error("finding_columns: " ~ name ~ " is not a finding column (" ~ known | join(", ") ~ ")") }}
        {%- endif -%}
    {%- endfor -%}
    {%- for name, type in columns %}
    cast({{ kwargs.get(name, 'null') }} as {{ type }}) as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- A count and its noun, singular or plural: {{ counted('days_late', 'day') }} -> '1 day' / '5 days'. -#}
{% macro counted(expression, noun, plural=none) -%}
    (cast({{ expression }} as varchar) || case when {{ expression }} = 1 then ' {{ noun }}' else ' {{ plural or noun ~ "s" }}' end)
{%- endmacro %}


{#- Age in completed years of someone born on `birth` on the day `on_date` (negative when born after it). -#}
{% macro age_in_years(birth, on_date) -%}
    cast(extract(year from {{ on_date }}) - extract(year from {{ birth }})
        - case when extract(month from {{ on_date }}) < extract(month from {{ birth }})
            or (extract(month from {{ on_date }}) = extract(month from {{ birth }})
                and extract(day from {{ on_date }}) < extract(day from {{ birth }})) then 1 else 0 end
        as integer)
{%- endmacro %}
