-- One row per audit finding, for BI and the auditor: code, severity, regency, period, the values on both sides and
-- how many evidence rows back it (list them with `cakupan trace finding <finding_id>`, from mart_findings_evidence).
with

findings as (
    select * from {{ ref('fct_audit_findings') }}
),

evidence as (
    select finding_id, count(*) as evidence_rows
    from {{ ref('mart_findings_evidence') }}
    group by finding_id
),

regions as (
    select * from {{ ref('dim_region') }}
)

select
    f.finding_id,
    f.code,
    f.severity,
    f.category,
    f.title,
    f.regency_code,
    r.regency_name,
    cast(f.month_start as date) as month_start,
    f.subject,
    f.funding_source,
    f.counterpart_code,
    f.participant_key,
    cast(f.reference_month as date) as reference_month,
    f.source_side,
    cast(f.value_source as float8) as value_source,
    f.reference_side,
    cast(f.value_reference as float8) as value_reference,
    cast(f.difference as float8) as difference,
    cast(f.affected_workers as bigint) as affected_workers,
    cast(f.days_late as integer) as days_late,
    cast(f.months_count as integer) as months_count,
    f.detail,
    cast(coalesce(e.evidence_rows, 0) as bigint) as evidence_rows,
    -- the detail in Bahasa Indonesia, from the message catalogue (macros/finding_detail_id.sql, generated)
    cast({{ finding_detail_id('f.detail') }} as varchar) as detail_id
from findings as f
left join evidence as e on e.finding_id = f.finding_id
left join regions as r on r.regency_code = f.regency_code
