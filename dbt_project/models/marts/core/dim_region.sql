-- One row per Kemendagri regency (kabupaten/kota), with its province and Cakupan configuration.
with

regencies as (
    select * from {{ ref('stg_reference__regencies') }}
),

provinces as (
    select * from {{ ref('stg_reference__provinces') }}
),

configured as (
    select * from {{ ref('stg_reference__configured_regencies') }}
)

select
    r.regency_code,
    r.regency_name,
    r.province_code,
    p.province_name,
    c.regency_code is not null as is_configured,
    c.bpjs_branch
from regencies as r
inner join provinces as p on p.province_code = r.province_code
left join configured as c on c.regency_code = r.regency_code
