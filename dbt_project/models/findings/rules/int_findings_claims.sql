-- Claims without protection: one row per finding, per current claim (fct_claims).
-- The claimant is matched by pseudonym (claims with a NIK) to any register row, else by KPJ to register rows' KPJ.
--   CLAIM_UNKNOWN_PERSON   neither the pseudonym nor the KPJ is in any register
--   CLAIM_NOT_ENROLLED     known person, not enrolled in any governing register in the event month (assessed only
--                          when the claim's regency has register data for that month)
--   CLAIM_PREMIUM_UNPAID   enrolled, but no funding source the person is enrolled under paid that month (billed
--                          unpaid, or not billed while the regency-month has contributions data)
--   CLAIM_PREMIUM_PARTIAL  enrolled, the best such payment was partial: protection is counted per regency, month
--                          and funding source, never per person (domain.md), so the person may be unprotected
with

claims as (
    select * from {{ ref('fct_claims') }}
),

claim_rows as (
    select load_id, sheet, source_row, kpj from {{ ref('stg_claims__claims') }}
),

register_rows as (
    select participant_key, kpj from {{ ref('stg_register__enrollments') }}
),

enrolled_rows as (
    select * from {{ ref('int_enrollments_by_month') }}
),

payments as (
    select * from {{ ref('fct_contributions') }}
),

governing as (
    select * from {{ ref('int_register_governing_months') }}
),

known_keys as (
    select distinct participant_key from register_rows where participant_key is not null
),

kpj_keys as (
    select kpj, min(participant_key) as participant_key
    from register_rows
    where kpj is not null and participant_key is not null
    group by kpj
),

billed_months as (
    select distinct regency_code, month_start from payments
),

resolved as (
    select
        c.*,
        coalesce(kn.participant_key, kk.participant_key) as person_key
    from claims as c
    left join claim_rows as cr
        on cr.load_id = c.load_id and coalesce(cr.sheet, '') = coalesce(c.sheet, '') and cr.source_row = c.source_row
    left join known_keys as kn on kn.participant_key = c.participant_key
    left join kpj_keys as kk on kk.kpj = cr.kpj
),

person_cells as (
    select distinct
        r.regency_code as claim_regency_code,
        r.claim_id,
        e.regency_code,
        e.month_start,
        e.funding_source
    from resolved as r
    inner join enrolled_rows as e
        on e.participant_key = r.person_key
        and e.month_start = r.event_month
),

cell_status as (
    select
        pc.claim_regency_code,
        pc.claim_id,
        max(case
            when p.amount_paid >= p.amount_billed then 3
            when p.amount_paid > 0 then 2
            when bm.regency_code is not null then 1
        end) as best_payment,
        sum(coalesce(p.amount_paid, 0)) as premium_paid,
        count(*) as cells
    from person_cells as pc
    left join payments as p
        on p.regency_code = pc.regency_code
        and p.month_start = pc.month_start
        and p.funding_source = pc.funding_source
    left join billed_months as bm on bm.regency_code = pc.regency_code and bm.month_start = pc.month_start
    group by pc.claim_regency_code, pc.claim_id
),

assessed as (
    select
        r.*,
        s.best_payment,
        s.premium_paid,
        g.regency_code is not null as has_register_data,
        case
            when r.person_key is null then 'CLAIM_UNKNOWN_PERSON'
            when s.claim_id is null and g.regency_code is not null then 'CLAIM_NOT_ENROLLED'
            when s.best_payment = 2 then 'CLAIM_PREMIUM_PARTIAL'
            when s.best_payment = 1 then 'CLAIM_PREMIUM_UNPAID'
        end as code
    from resolved as r
    left join cell_status as s on s.claim_regency_code = r.regency_code and s.claim_id = r.claim_id
    left join governing as g on g.regency_code = r.regency_code and g.month_start = r.event_month
)

select
{{ finding_columns(
    code="code",
    regency_code="regency_code",
    month_start="event_month",
    subject="claim_id",
    participant_key="person_key",
    reference_month="event_month",
    source_side="'benefit paid on the claim (Rp)'",
    value_source="amount_paid",
    reference_side="case
        when code = 'CLAIM_UNKNOWN_PERSON' then 'register rows for the person (by NIK or KPJ)'
        when code = 'CLAIM_NOT_ENROLLED' then 'enrolled register rows for the person in the event month'
        else 'premium paid for the person''s funding sources in the event month (Rp)'
    end",
    value_reference="case when code in ('CLAIM_UNKNOWN_PERSON', 'CLAIM_NOT_ENROLLED') then 0 else premium_paid end",
    affected_workers="1",
    detail="'claim ' || claim_id || ' (' || program_code || ', event ' || cast(event_date as varchar) || '): ' || case
        when code = 'CLAIM_UNKNOWN_PERSON' then 'the claimant is in no register, by NIK or by KPJ'
        when code = 'CLAIM_NOT_ENROLLED' then 'the worker was not enrolled in that month'
        when code = 'CLAIM_PREMIUM_UNPAID' then 'the worker''s premium for that month was not paid'
        else 'the worker''s premium for that month was only partly paid'
    end",
    source_kind="'claims'",
    source_load_id="load_id",
    source_file="source_file",
    source_sheet="sheet",
    source_row="source_row"
) }}
from assessed
where code is not null
