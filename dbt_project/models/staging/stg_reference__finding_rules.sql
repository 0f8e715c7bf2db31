-- One row per audit-finding parameter (kind = 'parameter') and per finding code (kind = 'code'), from
-- config/findings.yml (cakupan.core.findings_config.write_finding_rules).
with

source as (
    select * from {{ source('reference', 'finding_rules') }}
),

renamed as (
    select
        kind,
        name,
        number_value,
        text_value,
        category,
        title
    from source
)

select * from renamed
