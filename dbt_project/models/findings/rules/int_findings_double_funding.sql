-- Double funding: one row per finding.
--   DOUBLE_FUNDED_CROSS_REGENCY  per regency x month x other regency: people (pseudonyms) enrolled that month in the
--                                governing registers of both regencies. One finding on each side, each naming the
--                                other: the same people, listed once under each regency (not twice as many)
--   DOUBLE_FUNDED_TWO_SOURCES    per regency x month: people enrolled by the regency under two or more funding sources
with

enrolled_rows as (
    select * from {{ ref('int_enrollments_by_month') }}
),

regions as (
    select regency_code, regency_name from {{ ref('dim_region') }}
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
        c.regency_code,
        c.month_start,
        c.counterpart_code as subject,
        c.counterpart_code,
        c.persons,
        'workers enrolled here and in ' || c.counterpart_code || ' in the same month' as source_side,
        {{ counted('c.persons', 'worker') }} || ' enrolled in ' || c.regency_code
            || coalesce(' (' || here.regency_name || ')', '') || ' and in ' || c.counterpart_code
            || coalesce(' (' || there.regency_name || ')', '') || ' in the same month; the same '
            || case when c.persons = 1 then 'worker is' else 'workers are' end || ' listed under '
            || c.counterpart_code || ' too (one finding on each side)' as detail
    from cross_regency as c
    left join regions as here on here.regency_code = c.regency_code
    left join regions as there on there.regency_code = c.counterpart_code

    union all

    select
        'DOUBLE_FUNDED_TWO_SOURCES',
        regency_code,
        month_start,
        '',
        cast(null as varchar),
        persons,
        'workers enrolled under two or more funding sources',
        {{ counted('persons', 'worker') }} || ' enrolled under two or more funding sources (' || first_source
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
    difference="persons",
    affected_workers="persons",
    detail="detail"
) }}
from findings
