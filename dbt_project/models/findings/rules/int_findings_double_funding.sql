-- Double funding: one row per finding.
--   DOUBLE_FUNDED_CROSS_REGENCY  per regency x month x other regency: people (pseudonyms) enrolled that month in the
--                                governing registers of both regencies (one finding on each side)
--   DOUBLE_FUNDED_TWO_SOURCES    per regency x month: people enrolled by the regency under two or more funding sources
with

enrolled_rows as (
    select * from {{ ref('int_enrollments_by_month') }}
),

person_regency_months as (
    select distinct participant_key, regency_code, month_start from enrolled_rows
),

cross_regency as (
    select
        a.regency_code,
        a.month_start,
        b.regency_code as counterpart_code,
        count(distinct a.participant_key) as persons
    from person_regency_months as a
    inner join person_regency_months as b
        on b.participant_key = a.participant_key
        and b.month_start = a.month_start
        and b.regency_code <> a.regency_code
    group by a.regency_code, a.month_start, b.regency_code
),

person_sources as (
    select
        regency_code,
        month_start,
        participant_key,
        count(distinct funding_source) as sources,
        min(funding_source) as first_source,
        max(funding_source) as last_source
    from enrolled_rows
    group by regency_code, month_start, participant_key
),

two_sources as (
    select
        regency_code,
        month_start,
        count(*) as persons,
        min(first_source) as first_source,
        max(last_source) as last_source
    from person_sources
    where sources > 1
    group by regency_code, month_start
),

findings as (
    select
        'DOUBLE_FUNDED_CROSS_REGENCY' as code,
        regency_code,
        month_start,
        counterpart_code as subject,
        counterpart_code,
        persons,
        'workers enrolled here and in ' || counterpart_code || ' in the same month' as source_side,
        cast(persons as varchar) || ' worker(s) enrolled in ' || regency_code || ' and in ' || counterpart_code
            || ' in the same month' as detail
    from cross_regency

    union all

    select
        'DOUBLE_FUNDED_TWO_SOURCES',
        regency_code,
        month_start,
        '',
        cast(null as varchar),
        persons,
        'workers enrolled under two or more funding sources',
        cast(persons as varchar) || ' worker(s) enrolled under two or more funding sources (' || first_source
            || case when last_source <> first_source then ' ... ' || last_source else '' end || ')'
    from two_sources
)

select
{{ finding_columns(
    code="code",
    regency_code="regency_code",
    month_start="month_start",
    subject="subject",
    counterpart_code="counterpart_code",
    reference_month="month_start",
    source_side="source_side",
    value_source="persons",
    reference_side="'workers expected to be funded twice'",
    value_reference="0",
    affected_workers="persons",
    detail="detail"
) }}
from findings
