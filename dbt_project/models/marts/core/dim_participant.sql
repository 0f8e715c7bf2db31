-- One row per person, keyed by the pseudonym only: no NIK, name or birth date ever reaches this table.
with

rows_ as (
    select * from {{ ref('stg_register__enrollments') }}
),

latest as (
    select
        participant_key,
        sex,
        occupation,
        regency_code,
        row_number() over (partition by participant_key order by received_at desc, load_id desc, source_row) as pick
    from rows_
),

sectors as (
    select * from {{ ref('int_occupation_sectors') }}
),

firsts as (
    select participant_key, min(coverage_start) as first_coverage_start, count(distinct regency_code) as regencies
    from rows_
    group by participant_key
)

select
    l.participant_key,
    l.sex,
    coalesce(s.sector_code, 'lainnya') as sector_code,
    l.regency_code as latest_regency_code,
    f.first_coverage_start,
    f.regencies as registered_regencies
from latest as l
inner join firsts as f on f.participant_key = l.participant_key
left join sectors as s on s.occupation = l.occupation
where l.pick = 1
