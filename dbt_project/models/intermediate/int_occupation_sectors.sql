-- One row per distinct occupation text: the first sector (by priority) with a keyword as a whole word.
with

register as (
    select * from {{ ref('stg_register__enrollments') }}
),

keywords as (
    select * from {{ ref('stg_reference__sector_keywords') }}
),

sectors as (
    select * from {{ ref('stg_reference__sectors') }}
),

occupations as (
    select distinct occupation from register where occupation is not null
),

matches as (
    select
        o.occupation,
        k.sector_code,
        row_number() over (partition by o.occupation order by k.priority, k.keyword) as pick
    from occupations as o
    inner join keywords as k
        on {{ folded_words('o.occupation') }} like '% ' || k.keyword || ' %'
)

select
    o.occupation,
    coalesce(m.sector_code, (select sector_code from sectors where is_default)) as sector_code
from occupations as o
left join matches as m on m.occupation = o.occupation and m.pick = 1
