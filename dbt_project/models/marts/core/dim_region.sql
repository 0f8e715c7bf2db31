-- One row per Kemendagri regency (kabupaten/kota), with its province and Cakupan configuration.
with

regencies as (
    select * from {{ source('reference', 'regencies') }}
),

provinces as (
    select * from {{ source('reference', 'provinces') }}
),

configured as (
    select * from {{ source('reference', 'configured_regencies') }}
)

select
    r.code as regency_code,
    r.name as regency_name,
    r.province_code,
    p.name as province_name,
    c.regency_code is not null as is_configured,
    c.branch as bpjs_branch
from regencies as r
inner join provinces as p on p.code = r.province_code
left join configured as c on c.regency_code = r.code
