-- One row per regency x source x month expected (config/deliveries.yml and each regency's `deliveries:`): when
-- it was due, when Cakupan first received it and in which load, and its status.
--   months   from the regency's first expected month (its `from`, else the first month it delivered any expected
--            source) to the last month any accepted delivery is about (one calendar end for every regency, so a
--            regency that stopped sending shows its missing months)
--   due      day due_day of the next month (the month's last day when it has fewer days)
--   delivered / late   first received on or before / after the due date; a delivery of month M is an accepted load
--            whose period is M, or, for contributions and claims, whose rows are about M
--   missing  never received and the due date is before the latest time Cakupan received any file (the data's
--            "now": a rebuild of the same data gives the same calendar)
--   not_due  never received, not yet due
-- A month due before Cakupan received its first file ever is history loaded at the start (a backfill): it is
-- delivered or missing, never late.
with

expected as (
    select * from {{ ref('stg_reference__expected_deliveries') }}
),

loads as (
    select * from {{ ref('stg_audit__loads') }}
),

accepted as (
    select load_id, source as source_kind, regency_code, period_month, received_at
    from loads
    where status = 'loaded' and regency_code is not null
),

row_months as (
    select distinct load_id, period_month as month_start from {{ ref('stg_contributions__payments') }}
    union
    select distinct load_id, event_month from {{ ref('stg_claims__claims') }}
),

delivered_months as (
    select regency_code, source_kind, period_month as month_start, received_at, load_id
    from accepted
    where period_month is not null
    union
    select a.regency_code, a.source_kind, r.month_start, a.received_at, a.load_id
    from row_months as r
    inner join accepted as a on a.load_id = r.load_id
    where r.month_start is not null
),

first_delivery as (
    select
        regency_code,
        source_kind,
        cast({{ dbt.date_trunc('month', 'month_start') }} as date) as month_start,
        received_at,
        load_id,
        row_number() over (
            partition by regency_code, source_kind, {{ dbt.date_trunc('month', 'month_start') }}
            order by received_at, load_id
        ) as pick
    from delivered_months
),

clock as (
    select
        cast(min(received_at) as date) as watching_since,
        cast(max(received_at) as date) as as_of
    from loads
    where received_at is not null
),

regencies as (
    select regency_code from accepted
    union
    select regency_code from expected where regency_code is not null and first_month is not null
),

-- each regency's own entry, else the default (regency_code NULL)
regency_sources as (
    select r.regency_code, e.source_kind, e.due_day, e.first_month
    from regencies as r
    inner join expected as e on e.regency_code = r.regency_code

    union all

    select r.regency_code, d.source_kind, d.due_day, cast(null as date)
    from regencies as r
    cross join expected as d
    where d.regency_code is null
        and r.regency_code not in (select regency_code from expected where regency_code is not null)
),

expected_sources as (
    select distinct source_kind from regency_sources
),

bounds as (
    select
        r.regency_code,
        coalesce(
            max(r.first_month),
            min(f.month_start)
        ) as first_month
    from regency_sources as r
    left join first_delivery as f on f.regency_code = r.regency_code and f.source_kind = r.source_kind
    group by r.regency_code
),

last_month as (
    select max(f.month_start) as last_month
    from first_delivery as f
    inner join expected_sources as s on s.source_kind = f.source_kind
),

spine as (
    select m.month_start
    from {{ ref('int_months') }} as m
    cross join last_month as l
    where m.month_start <= l.last_month
),

calendar as (
    select
        r.regency_code,
        r.source_kind,
        m.month_start,
        cast(
            least(
                {{ dbt.dateadd('day', 'r.due_day - 1', dbt.dateadd('month', 1, 'm.month_start')) }},
                {{ dbt.dateadd('day', -1, dbt.dateadd('month', 2, 'm.month_start')) }}
            ) as date
        ) as due_date,
        f.received_at as first_received_at,
        f.load_id
    from regency_sources as r
    inner join bounds as b on b.regency_code = r.regency_code
    inner join spine as m on m.month_start >= b.first_month
    left join first_delivery as f
        on f.regency_code = r.regency_code and f.source_kind = r.source_kind and f.month_start = m.month_start
        and f.pick = 1
)

select
    c.regency_code,
    c.source_kind,
    c.month_start,
    c.due_date,
    case
        when c.first_received_at is not null
            and (cast(c.first_received_at as date) <= c.due_date or c.due_date < k.watching_since) then 'delivered'
        when c.first_received_at is not null then 'late'
        when c.due_date < k.as_of then 'missing'
        else 'not_due'
    end as delivery_status,
    c.first_received_at,
    c.load_id,
    case
        when c.first_received_at is not null and c.due_date >= k.watching_since
            and cast(c.first_received_at as date) > c.due_date
            then {{ dbt.datediff('c.due_date', 'cast(c.first_received_at as date)', 'day') }}
    end as days_late
from calendar as c
cross join clock as k
