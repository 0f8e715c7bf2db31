-- One row per regency and month: the register delivery that governs it (domain.md, "Governing register"): among the
-- accepted deliveries whose period is <= the month, the one with the latest period; among several for that period,
-- the most recently received (received time = when Cakupan first saw the file, then load id). A correction for an
-- old period received later thus replaces only that period and the months it already governed, never a register of
-- a later period. No row = no data (NULL).
with

regency_months as (
    select * from {{ ref('int_regency_months') }}
),

deliveries as (
    select * from {{ ref('int_register_deliveries_ranked') }}
),

candidates as (
    select
        rm.regency_code,
        rm.month_start,
        d.load_id,
        d.delivery_period,
        row_number() over (
            partition by rm.regency_code, rm.month_start
            order by d.delivery_period desc, d.received_at desc, d.load_id desc
        ) as pick
    from regency_months as rm
    inner join deliveries as d
        on d.regency_code = rm.regency_code
        and d.delivery_period <= rm.month_start
)

select regency_code, month_start, load_id as governing_load_id, delivery_period as governing_period
from candidates
where pick = 1
