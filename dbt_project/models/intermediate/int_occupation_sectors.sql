-- One row per distinct occupation text: the first sector (by priority) with a keyword as a whole word.
with

occupations as (
    select distinct occupation from {{ ref('stg_register__enrollments') }} where occupation is not null
),

keywords as (
    select * from {{ source('reference', 'sector_keywords') }}
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
    coalesce(m.sector_code, (select sector_code from {{ source('reference', 'sectors') }} where is_default))
        as sector_code
from occupations as o
left join matches as m on m.occupation = o.occupation and m.pick = 1
