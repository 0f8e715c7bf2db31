-- One row per regency and month: enrolled, protected (all funding sources and APBD only), promised, premiums.
-- Definitions: ../shared/domain.md "Coverage, defined once". A month before any register delivery has NULL
-- enrolled (no data), not 0.
with

regency_months as (
    select * from {{ ref('int_regency_months') }}
),

governing as (
    select * from {{ ref('int_register_governing_months') }}
),

enrolled_rows as (
    select * from {{ ref('int_enrollments_by_month') }}
),

promises as (
    select * from {{ ref('int_promises') }} where role in ('total', 'target') and segment = 'pekerja_rentan'
),

reports as (
    select * from {{ ref('stg_city_report__reports') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

enrolled_total as (
    select regency_code, month_start, count(distinct participant_key) as enrolled
    from enrolled_rows
    group by regency_code, month_start
),

protected_by_source as (
    select * from {{ ref('fct_coverage_by_funding_source') }}
),

protected_total as (
    select
        regency_code,
        month_start,
        sum(protected) as protected,
        sum(case when funding_source = 'APBD' then enrolled end) as enrolled_apbd,
        sum(case when funding_source = 'APBD' then protected end) as protected_apbd,
        sum(participants_billed) as participants_billed,
        sum(amount_billed) as amount_billed,
        sum(amount_paid) as amount_paid
    from protected_by_source
    group by regency_code, month_start
),

promise_pick as (
    select
        rm.regency_code,
        rm.month_start,
        pr.promised_count,
        pr.promise_id,
        row_number() over (
            partition by rm.regency_code, rm.month_start
            order by pr.effective_month desc, pr.source_priority, pr.promise_date desc, pr.promise_id desc
        ) as pick
    from regency_months as rm
    inner join promises as pr
        on pr.regency_code = rm.regency_code
        and pr.effective_month <= rm.month_start
),

participation as (
    select
        regency_code,
        period_month as month_start,
        max(cast(active_participants_total as float8) / nullif(employed_population, 0)) as participation_rate
    from reports
    group by regency_code, period_month
),

final as (
    select
        rm.regency_code,
        reg.regency_name,
        cast(rm.month_start as date) as month_start,
        g.governing_load_id,
        case when g.governing_load_id is not null then coalesce(et.enrolled, 0) end as enrolled,
        case when g.governing_load_id is not null then coalesce(pt.enrolled_apbd, 0) end as enrolled_apbd,
        -- a person enrolled under two funding sources is one worker: protected never exceeds distinct enrolled
        case when pt.protected > coalesce(et.enrolled, 0) then coalesce(et.enrolled, 0) else pt.protected end
            as protected,
        pt.protected_apbd,
        case when g.governing_load_id is not null and pt.protected is not null
            then coalesce(et.enrolled, 0)
                - case when pt.protected > coalesce(et.enrolled, 0) then coalesce(et.enrolled, 0) else pt.protected end
        end as shortfall,
        pp.promised_count as promised,
        pp.promise_id,
        pp.promised_count
            - case when pt.protected > coalesce(et.enrolled, 0) then coalesce(et.enrolled, 0) else pt.protected end
            as gap_to_promise,
        pt.participants_billed,
        cast(pt.amount_billed as decimal(18, 2)) as premium_billed,
        cast(pt.amount_paid as decimal(18, 2)) as premium_paid,
        cast(pt.amount_paid as float8) / nullif(cast(pt.amount_billed as float8), 0) as payment_ratio,
        pa.participation_rate
    from regency_months as rm
    left join regions as reg on reg.regency_code = rm.regency_code
    left join governing as g on g.regency_code = rm.regency_code and g.month_start = rm.month_start
    left join enrolled_total as et on et.regency_code = rm.regency_code and et.month_start = rm.month_start
    left join protected_total as pt on pt.regency_code = rm.regency_code and pt.month_start = rm.month_start
    left join promise_pick as pp on pp.regency_code = rm.regency_code and pp.month_start = rm.month_start
        and pp.pick = 1
    left join participation as pa on pa.regency_code = rm.regency_code and pa.month_start = rm.month_start
)

select
    regency_code,
    regency_name,
    month_start,
    cast(enrolled as bigint) as enrolled,
    cast(enrolled_apbd as bigint) as enrolled_apbd,
    cast(protected as bigint) as protected,
    cast(protected_apbd as bigint) as protected_apbd,
    cast(shortfall as bigint) as shortfall,
    cast(promised as bigint) as promised,
    cast(gap_to_promise as bigint) as gap_to_promise,
    cast(participants_billed as bigint) as participants_billed,
    premium_billed,
    premium_paid,
    payment_ratio,
    participation_rate,
    cast(governing_load_id as bigint) as governing_load_id,
    promise_id
from final
