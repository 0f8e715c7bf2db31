-- Identity anomalies: one row per finding, per regency x person (pseudonym), over the rows of current (not
-- superseded) register deliveries. Reads the NIK's parts and the birth-date column from the restricted
-- stg_register__identity, and lets only derived values out (region codes, flags, ages in years, days apart):
-- never a birth date.
--   NIK_REGION_MISMATCH     the NIK's issuing regency (digits 1-4) is not the registering regency (a warning:
--                           people move, domain.md). The sides are regencies, not numbers: each side's text names
--                           its regency (code and name) and the values are NULL
--   NIK_BIRTHDATE_MISMATCH  the birth-date column disagrees with the NIK's birth date (digits 7-12, day + 40 for
--                           women; compared as day, month and two-digit year). Sides: the age each date gives on
--                           the first day of the month; the detail says which parts differ and by how many days
--   AGE_OUT_OF_RANGE        age in completed years on the first day of an enrolled month outside [age.min, age.max]
--   BIRTH_DATE_IMPOSSIBLE   the birth date (the column, else the NIK's) is after the first day of an enrolled month:
--                           a wrong date, not an under-age worker
-- Period = the first delivery period (or enrolled month, for ages) showing the anomaly.
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

regions as (
    select regency_code, regency_name from {{ ref('dim_region') }}
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

dated as (
    select
        *,
        -- two-digit NIK years: one after the delivery's year is in the 1900s
        make_date(
            case when 2000 + nik_year2 > extract(year from delivery_period) then 1900 else 2000 end + nik_year2,
            nik_month, nik_day) as nik_birth
    from derived
),

checked as (
    select
        *,
        coalesce(birth_date, nik_birth) as birth_for_age,
        case when birth_date is not null then 'birth-date column' else 'NIK' end as birth_basis,
        birth_date is not null and (
            extract(day from birth_date) <> nik_day
            or extract(month from birth_date) <> nik_month
            or mod(cast(extract(year from birth_date) as integer), 100) <> nik_year2
        ) as birth_mismatch,
        case when birth_date is not null then
            replace(trim(
                case when extract(day from birth_date) <> nik_day then 'day ' else '' end
                || case when extract(month from birth_date) <> nik_month then 'month ' else '' end
                || case when mod(cast(extract(year from birth_date) as integer), 100) <> nik_year2
                    then 'year' else '' end), ' ', ', ')
        end as mismatch_parts
    from dated
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

birth_rows as (
    select
        *,
        {{ age_in_years('birth_date', 'delivery_period') }} as age_by_column,
        {{ age_in_years('nik_birth', 'delivery_period') }} as age_by_nik,
        {{ dbt.datediff('nik_birth', 'birth_date', 'day') }} as days_apart,
        count(*) over (partition by regency_code, participant_key) as rows_,
        row_number() over (
            partition by regency_code, participant_key order by delivery_period, load_id, source_row
        ) as pick
    from checked
    where birth_mismatch
),

birth_findings as (
    select
        regency_code,
        participant_key,
        delivery_period as month_start,
        mismatch_parts,
        age_by_column,
        age_by_nik,
        days_apart,
        rows_
    from birth_rows
    where pick = 1
),

ages as (
    select
        e.regency_code,
        e.participant_key,
        e.month_start,
        c.birth_basis,
        {{ age_in_years('c.birth_for_age', 'e.month_start') }} as age
    from enrolled_rows as e
    inner join checked as c
        on c.load_id = e.load_id and coalesce(c.sheet, '') = coalesce(e.sheet, '') and c.source_row = e.source_row
),

age_out as (
    select
        a.*,
        case when a.age < 0 then 0 when a.age < r.age_min then r.age_min else r.age_max end as limit_,
        case when a.age < 0 then 'impossible' when a.age < r.age_min then 'minimum' else 'maximum' end as limit_kind,
        row_number() over (
            partition by a.regency_code, a.participant_key, a.age < 0 order by a.month_start
        ) as pick
    from ages as a
    cross join rules as r
    where a.age < r.age_min or a.age > r.age_max
),

findings as (
    select
        'NIK_REGION_MISMATCH' as code,
        f.regency_code,
        f.month_start,
        f.participant_key,
        f.nik_regency_code as counterpart_code,
        'regency issuing the NIK: ' || f.nik_regency_code || coalesce(' ' || issuing.regency_name, '')
            as source_side,
        cast(null as float8) as value_source,
        'registering regency: ' || f.regency_code || coalesce(' ' || registering.regency_name, '')
            as reference_side,
        cast(null as float8) as value_reference,
        cast(null as float8) as difference,
        'NIK issued in ' || f.nik_regency_code || coalesce(' (' || issuing.regency_name || ')', '')
            || ', registered by ' || f.regency_code || coalesce(' (' || registering.regency_name || ')', '')
            || ' in ' || {{ counted('f.rows_', 'register row') }} as detail
    from region_findings as f
    left join regions as issuing on issuing.regency_code = f.nik_regency_code
    left join regions as registering on registering.regency_code = f.regency_code

    union all

    select
        'NIK_BIRTHDATE_MISMATCH',
        regency_code,
        month_start,
        participant_key,
        cast(null as varchar),
        'age by the birth-date column (years, on the first day of the month)',
        cast(age_by_column as float8),
        'age by the birth date in the NIK (years, on the first day of the month)',
        cast(age_by_nik as float8),
        cast(age_by_column - age_by_nik as float8),
        'birth-date column and NIK birth date differ (' || mismatch_parts || '), '
            || {{ counted('abs(days_apart)', 'day') }} || ' apart, in ' || {{ counted('rows_', 'register row') }}
    from birth_findings

    union all

    select
        case when limit_kind = 'impossible' then 'BIRTH_DATE_IMPOSSIBLE' else 'AGE_OUT_OF_RANGE' end,
        regency_code,
        month_start,
        participant_key,
        cast(null as varchar),
        'age in completed years on the first day of the month',
        cast(age as float8),
        case when limit_kind = 'impossible' then 'lowest possible age' else limit_kind || ' age of the scheme' end,
        cast(limit_ as float8),
        cast(age - limit_ as float8),
        case
            when limit_kind = 'impossible' then 'birth date (' || birth_basis || ') after the first day of '
                || substr(cast(month_start as varchar), 1, 7) || ', an enrolled month (age ' || cast(age as varchar)
                || '): the date is wrong, not the worker under age'
            else 'age ' || cast(age as varchar) || ' in ' || substr(cast(month_start as varchar), 1, 7) || ', '
                || limit_kind || ' age ' || cast(limit_ as varchar)
        end
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
    source_side="source_side",
    value_source="value_source",
    reference_side="reference_side",
    value_reference="value_reference",
    difference="difference",
    affected_workers="1",
    detail="detail"
) }}
from findings
