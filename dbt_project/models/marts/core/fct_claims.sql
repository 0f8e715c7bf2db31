-- One row per current claim (latest delivery per regency and event month).
with

claims as (
    select * from {{ ref('stg_claims__claims') }}
),

latest as (
    select regency_code, event_month, load_id,
        row_number() over (partition by regency_code, event_month order by max(received_at) desc, load_id desc) as pick
    from claims
    group by regency_code, event_month, load_id
)

select
    c.claim_id,
    c.participant_key,
    c.kpj is not null as has_kpj,
    c.regency_code,
    c.program_code,
    c.event_date,
    c.event_month,
    c.paid_date,
    c.amount_paid,
    c.load_id,
    c.source_file,
    c.sheet,
    c.source_row
from claims as c
inner join latest as l
    on l.regency_code = c.regency_code and l.event_month = c.event_month and l.load_id = c.load_id
where l.pick = 1
