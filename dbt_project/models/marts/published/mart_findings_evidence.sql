-- The findings' evidence bridge: one row per source row behind an audit finding, on each side, with the pseudonym
-- only (never a NIK or a name). side = 'source' (what is audited: the contributions row, claim, report row or
-- narrative sentence, the listing that is doubled, the register rows with the identity anomaly) or 'reference'
-- (what it is checked against: register rows enrolled in the month, payment rows, the other regency's or funding
-- source's rows, another report). Narrative reports have no rows: source_row is the sentence's character offset.
with

findings as (
    select * from {{ ref('fct_audit_findings') }}
),

enrolled_rows as (
    select * from {{ ref('int_enrollments_by_month') }}
),

payments as (
    select * from {{ ref('fct_contributions') }}
),

spells as (
    select * from {{ ref('fct_enrollment_spells') }} where not is_superseded
),

person_regency_months as (
    select distinct participant_key, regency_code, month_start from enrolled_rows
),

person_sources as (
    select regency_code, month_start, participant_key, min(funding_source) as first_source
    from enrolled_rows
    group by regency_code, month_start, participant_key
    having count(distinct funding_source) > 1
),

anchors as (
    select
        finding_id,
        'source' as side,
        source_kind as source,
        regency_code,
        month_start,
        funding_source,
        participant_key,
        source_load_id as load_id,
        source_file,
        source_sheet as sheet,
        source_row,
        case when source_kind = 'narrative_report' then 'source_row = character offset of the sentence' end
            as note
    from findings
    where source_file is not null

    union all

    select
        finding_id,
        'reference',
        other_kind,
        regency_code,
        reference_month,
        cast(null as varchar),
        cast(null as varchar),
        other_load_id,
        other_file,
        other_sheet,
        other_row,
        case when other_kind = 'narrative_report' then 'source_row = character offset of the sentence' end
    from findings
    where other_file is not null
),

register_cells as (
    -- billing and payment findings: the workers enrolled under that funding source in that month
    select f.finding_id, 'reference' as side, e.*, cast(null as varchar) as note
    from findings as f
    inner join enrolled_rows as e
        on e.regency_code = f.regency_code
        and e.month_start = f.month_start
        and e.funding_source = f.funding_source
    where f.code in ('BILLED_COUNT_MISMATCH', 'BILLED_AMOUNT_MISMATCH', 'PAYMENT_UNPAID', 'PAYMENT_SHORTFALL',
                     'PAYMENT_LATE')

    union all

    -- a funding source billed for nobody: the month's register, which lists no one under it
    select f.finding_id, 'reference', e.*, 'the month''s register: nobody enrolled under ' || f.funding_source
    from findings as f
    inner join enrolled_rows as e on e.regency_code = f.regency_code and e.month_start = f.month_start
    where f.code in ('BILLED_COUNT_MISMATCH', 'BILLED_AMOUNT_MISMATCH')
        and not exists (
            select 1 from enrolled_rows as x
            where x.regency_code = f.regency_code and x.month_start = f.month_start
                and x.funding_source = f.funding_source
        )

    union all

    -- a month nobody billed: the workers enrolled in it (the listing no bill covers)
    select f.finding_id, 'source', e.*, cast(null as varchar)
    from findings as f
    inner join enrolled_rows as e on e.regency_code = f.regency_code and e.month_start = f.month_start
    where f.code = 'BILLING_MISSING'

    union all

    -- the same people enrolled here (source) and in the other regency (reference)
    select
        f.finding_id,
        case when e.regency_code = f.regency_code then 'source' else 'reference' end,
        e.*,
        cast(null as varchar)
    from findings as f
    inner join person_regency_months as here
        on here.regency_code = f.regency_code and here.month_start = f.month_start
    inner join person_regency_months as there
        on there.regency_code = f.counterpart_code
        and there.month_start = f.month_start
        and there.participant_key = here.participant_key
    inner join enrolled_rows as e
        on e.participant_key = here.participant_key
        and e.month_start = f.month_start
        and e.regency_code in (f.regency_code, f.counterpart_code)
    where f.code = 'DOUBLE_FUNDED_CROSS_REGENCY'

    union all

    -- people listed under two funding sources: the first source's rows (source) and the others (reference)
    select
        f.finding_id,
        case when e.funding_source = ps.first_source then 'source' else 'reference' end,
        e.*,
        cast(null as varchar)
    from findings as f
    inner join person_sources as ps on ps.regency_code = f.regency_code and ps.month_start = f.month_start
    inner join enrolled_rows as e
        on e.regency_code = ps.regency_code
        and e.month_start = ps.month_start
        and e.participant_key = ps.participant_key
    where f.code = 'DOUBLE_FUNDED_TWO_SOURCES'

    union all

    -- claims: the claimant's enrolled rows in the event month (any regency)
    select f.finding_id, 'reference', e.*, cast(null as varchar)
    from findings as f
    inner join enrolled_rows as e on e.participant_key = f.participant_key and e.month_start = f.month_start
    where f.code in ('CLAIM_PREMIUM_UNPAID', 'CLAIM_PREMIUM_PARTIAL')

    union all

    -- promises and report counts: the workers enrolled in the compared month
    select f.finding_id, 'reference', e.*, cast(null as varchar)
    from findings as f
    inner join enrolled_rows as e on e.regency_code = f.regency_code and e.month_start = f.reference_month
    where f.code in ('PROMISE_BEHIND', 'REPORT_COVERED_MISMATCH', 'REPORT_COUNT_MISMATCH')
),

register_spells as (
    -- identity findings: the person's rows in the regency's current deliveries (source)
    select
        f.finding_id,
        'source' as side,
        s.regency_code,
        s.delivery_period as month_start,
        s.funding_source,
        s.participant_key,
        s.load_id,
        s.source_file,
        s.sheet,
        s.source_row,
        cast(null as varchar) as note
    from findings as f
    inner join spells as s on s.regency_code = f.regency_code and s.participant_key = f.participant_key
    where f.code in ('NIK_REGION_MISMATCH', 'NIK_BIRTHDATE_MISMATCH', 'AGE_OUT_OF_RANGE', 'BIRTH_DATE_IMPOSSIBLE')

    union all

    -- a claim for a worker not enrolled that month, or before the coverage start: where the person is registered
    -- (any month, any regency)
    select
        f.finding_id,
        'reference',
        s.regency_code,
        s.delivery_period,
        s.funding_source,
        s.participant_key,
        s.load_id,
        s.source_file,
        s.sheet,
        s.source_row,
        case when f.code = 'CLAIM_BEFORE_START' then 'registered, coverage starting after the event'
            else 'registered, but not enrolled in the event month' end
    from findings as f
    inner join spells as s on s.participant_key = f.participant_key
    where f.code in ('CLAIM_NOT_ENROLLED', 'CLAIM_BEFORE_START')
),

payment_rows as (
    -- the payment rows behind protected counts and premium statuses
    select
        f.finding_id,
        'reference' as side,
        p.regency_code,
        p.month_start,
        p.funding_source,
        cast(null as varchar) as participant_key,
        p.load_id,
        p.source_file,
        p.sheet,
        p.source_row,
        cast(null as varchar) as note
    from findings as f
    inner join payments as p on p.regency_code = f.regency_code and p.month_start = f.reference_month
    where f.code in ('PROMISE_BEHIND', 'REPORT_COVERED_MISMATCH')

    union all

    select distinct
        f.finding_id,
        'reference',
        p.regency_code,
        p.month_start,
        p.funding_source,
        cast(null as varchar),
        p.load_id,
        p.source_file,
        p.sheet,
        p.source_row,
        cast(null as varchar)
    from findings as f
    inner join enrolled_rows as e on e.participant_key = f.participant_key and e.month_start = f.month_start
    inner join payments as p
        on p.regency_code = e.regency_code
        and p.month_start = e.month_start
        and p.funding_source = e.funding_source
    where f.code in ('CLAIM_PREMIUM_UNPAID', 'CLAIM_PREMIUM_PARTIAL')
),

evidence as (
    select
        finding_id, side, source, regency_code, month_start, funding_source, participant_key, load_id, source_file,
        sheet, source_row, note
    from anchors
    union all
    select
        finding_id, side, 'register', regency_code, month_start, funding_source, participant_key, load_id,
        source_file, sheet, source_row, note
    from register_cells
    union all
    select
        finding_id, side, 'register', regency_code, month_start, funding_source, participant_key, load_id,
        source_file, sheet, source_row, note
    from register_spells
    union all
    select
        finding_id, side, 'contributions', regency_code, month_start, funding_source, participant_key, load_id,
        source_file, sheet, source_row, note
    from payment_rows
)

select
    cast(e.finding_id as varchar) as finding_id,
    cast(f.code as varchar) as code,
    cast(e.side as varchar) as side,
    cast(e.source as varchar) as source,
    cast(e.regency_code as varchar) as regency_code,
    cast(e.month_start as date) as month_start,
    cast(e.funding_source as varchar) as funding_source,
    cast(e.participant_key as varchar) as participant_key,
    cast(e.load_id as bigint) as load_id,
    cast(e.source_file as varchar) as source_file,
    cast(e.sheet as varchar) as sheet,
    cast(e.source_row as integer) as source_row,
    cast(e.note as varchar) as note
from evidence as e
inner join findings as f on f.finding_id = e.finding_id
