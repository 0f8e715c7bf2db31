-- Identity anomalies: one row per finding, per regency x person (pseudonym), over the rows of current (not
-- superseded) register deliveries. Reads the NIK's parts and the birth-date column from the restricted
-- stg_register__identity, and lets only derived values out (region code, flags, an age in years): never a birth date.
--   NIK_REGION_MISMATCH     the NIK's issuing regency (digits 1-4) is not the registering regency (info: people move)
--   NIK_BIRTHDATE_MISMATCH  the birth-date column disagrees with the NIK's birth date (digits 7-12, day + 40 for
--                           women; compared as day, month and two-digit year)
--   AGE_OUT_OF_RANGE        age in completed years on the first day of an enrolled month outside [age.min, age.max]
-- Period = the first delivery period (or enrolled month, for age) showing the anomaly.
with

identities as (
    select * from {{ ref('stg_register__identity') }}
),

deliveries as (
    select * from {{ ref('int_register_deliveries_ranked') }}
),

enrolled_rows as (
    select * from {{ ref('int_enrollments_by_month') }}
),

rules as (
    select * from {{ ref('int_findings_rules') }}
),

derived as (
    select
        i.load_id,
        i.sheet,
        i.source_row,
        i.regency_code,
        i.participant_key,
        i.delivery_period,
        i.nik_regency_code,
        i.nik_day,
        i.nik_month,
        i.nik_year2,
        i.birth_date
    from identities as i
    inner join deliveries as d
        on d.load_id = i.load_id
        and d.regency_code = i.regency_code
        and d.delivery_period = i.delivery_period
    where not d.is_superseded
),

checked as (
    select
        *,
        -- two-digit NIK years: one after the delivery's year is in the 1900s
        coalesce(birth_date, make_date(
            case when 2000 + nik_year2 > extract(year from delivery_period) then 1900 else 2000 end + nik_year2,
            nik_month, nik_day)) as birth_for_age,
        birth_date is not null and (
            extract(day from birth_date) <> nik_day
            or extract(month from birth_date) <> nik_month
            or mod(cast(extract(year from birth_date) as integer), 100) <> nik_year2
        ) as birth_mismatch,
        case when birth_date is not null then
            trim(
                case when extract(day from birth_date) <> nik_day then 'day ' else '' end
                || case when extract(month from birth_date) <> nik_month then 'month ' else '' end
                || case when mod(cast(extract(year from birth_date) as integer), 100) <> nik_year2
                    then 'year' else '' end)
        end as mismatch_parts
    from derived
),

region_findings as (
    select
        regency_code,
        participant_key,
        min(delivery_period) as month_start,
        min(nik_regency_code) as nik_regency_code,
        count(*) as rows_
    from checked
    where nik_regency_code <> regency_code
    group by regency_code, participant_key
),

birth_findings as (
    select
        regency_code,
        participant_key,
        min(delivery_period) as month_start,
        max(mismatch_parts) as mismatch_parts,
        count(*) as rows_
    from checked
    where birth_mismatch
    group by regency_code, participant_key
),

ages as (
    select
        e.regency_code,
        e.participant_key,
        e.month_start,
        cast(extract(year from e.month_start) - extract(year from c.birth_for_age)
            - case when extract(month from e.month_start) < extract(month from c.birth_for_age)
                or (extract(month from e.month_start) = extract(month from c.birth_for_age)
                    and extract(day from e.month_start) < extract(day from c.birth_for_age)) then 1 else 0 end
            as integer) as age
    from enrolled_rows as e
    inner join checked as c
        on c.load_id = e.load_id and coalesce(c.sheet, '') = coalesce(e.sheet, '') and c.source_row = e.source_row
),

age_out as (
    select
        a.*,
        case when a.age < r.age_min then r.age_min else r.age_max end as limit_,
        case when a.age < r.age_min then 'minimum' else 'maximum' end as limit_kind,
        row_number() over (partition by a.regency_code, a.participant_key order by a.month_start) as pick
    from ages as a
    cross join rules as r
    where a.age < r.age_min or a.age > r.age_max
),

findings as (
    select
        'NIK_REGION_MISMATCH' as code,
        regency_code,
        month_start,
        participant_key,
        nik_regency_code as counterpart_code,
        cast(null as float8) as value_source,
        cast(null as float8) as value_reference,
        'NIK issued in ' || nik_regency_code || ', registered by ' || regency_code as detail
    from region_findings

    union all

    select
        'NIK_BIRTHDATE_MISMATCH',
        regency_code,
        month_start,
        participant_key,
        cast(null as varchar),
        cast(null as float8),
        cast(null as float8),
        'birth-date column and NIK birth date differ (' || mismatch_parts || ') in ' || cast(rows_ as varchar)
            || ' register row(s)'
    from birth_findings

    union all

    select
        'AGE_OUT_OF_RANGE',
        regency_code,
        month_start,
        participant_key,
        cast(null as varchar),
        cast(age as float8),
        cast(limit_ as float8),
        'age ' || cast(age as varchar) || ' in ' || substr(cast(month_start as varchar), 1, 7) || ', ' || limit_kind
            || ' age ' || cast(limit_ as varchar)
    from age_out
    where pick = 1
)

select
{{ finding_columns(
    code="code",
    regency_code="regency_code",
    month_start="month_start",
    subject="participant_key",
    counterpart_code="counterpart_code",
    participant_key="participant_key",
    reference_month="month_start",
    source_side="case
        when code = 'NIK_REGION_MISMATCH' then 'regency issuing the NIK'
        when code = 'NIK_BIRTHDATE_MISMATCH' then 'birth-date column'
        else 'age in completed years'
    end",
    value_source="value_source",
    reference_side="case
        when code = 'NIK_REGION_MISMATCH' then 'registering regency'
        when code = 'NIK_BIRTHDATE_MISMATCH' then 'birth date in the NIK'
        else 'age limit of the scheme'
    end",
    value_reference="value_reference",
    affected_workers="1",
    detail="detail"
) }}
from findings
