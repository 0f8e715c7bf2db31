-- One row per audit finding: the sources reconciled against each other and against the promises (rules in the
-- int_findings_* models, tolerances and severities in config/findings.yml). finding_id = md5 of the code, regency,
-- month and subject, so a rerun on the same data gives the same ids. Anchor columns (source_* / other_*) locate
-- the stated row (contributions row, claim, report row or narrative sentence) for the evidence bridge.
with

findings as (
    select * from {{ ref('int_findings_billing') }}
    union all
    select * from {{ ref('int_findings_double_funding') }}
    union all
    select * from {{ ref('int_findings_claims') }}
    union all
    select * from {{ ref('int_findings_identity') }}
    union all
    select * from {{ ref('int_findings_promises') }}
    union all
    select * from {{ ref('int_findings_reports') }}
    union all
    select * from {{ ref('int_findings_deliveries') }}
),

codes as (
    select name as code, text_value as severity, category, title
    from {{ ref('stg_reference__finding_rules') }}
    where kind = 'code'
),

keyed as (
    select
        {{ dbt.hash("f.code || '|' || f.regency_code || '|' || cast(f.month_start as varchar) || '|' || coalesce(f.subject, '')") }}
            as finding_id,
        f.*
    from findings as f
),

deduplicated as (
    select
        *,
        row_number() over (
            partition by finding_id order by source_file, source_sheet, source_row, participant_key
        ) as pick
    from keyed
)

select
    cast(d.finding_id as varchar) as finding_id,
    d.code,
    c.severity,
    c.category,
    c.title,
    d.regency_code,
    d.month_start,
    d.subject,
    d.funding_source,
    d.counterpart_code,
    d.participant_key,
    d.reference_month,
    d.source_side,
    d.value_source,
    d.reference_side,
    d.value_reference,
    -- only where both sides are the same measure (the rule says so); rounded like a figure a person reads
    cast(round(cast(d.difference as numeric), 2) as float8) as difference,
    d.affected_workers,
    d.days_late,
    d.months_count,
    d.detail,
    d.source_kind,
    d.source_load_id,
    d.source_file,
    d.source_sheet,
    d.source_row,
    d.other_kind,
    d.other_load_id,
    d.other_file,
    d.other_sheet,
    d.other_row
from deduplicated as d
left join codes as c on c.code = d.code
where d.pick = 1
