-- One row: the audit-finding parameters of config/findings.yml, copied into reference.finding_rules by
-- cakupan.core.findings_config.write_finding_rules (kind = 'parameter'). Every finding rule reads its tolerances here.
with

rules as (
    select * from {{ ref('stg_reference__finding_rules') }} where kind = 'parameter'
)

select
    cast(max(case when name = 'payment.due_day_of_next_month' then number_value end) as integer) as payment_due_day,
    cast(max(case when name = 'payment.grace_days' then number_value end) as integer) as payment_grace_days,
    max(case when name = 'billing.count_tolerance' then number_value end) as billing_count_tolerance,
    max(case when name = 'billing.amount_tolerance' then number_value end) as billing_amount_tolerance,
    cast(max(case when name = 'age.min' then number_value end) as integer) as age_min,
    cast(max(case when name = 'age.max' then number_value end) as integer) as age_max,
    cast(max(case when name = 'promise.consecutive_months' then number_value end) as integer)
        as promise_consecutive_months,
    max(case when name = 'report.count_tolerance_workers' then number_value end) as report_count_tolerance_workers,
    max(case when name = 'report.count_tolerance_ratio' then number_value end) as report_count_tolerance_ratio,
    max(case when name = 'report.rate_tolerance_points' then number_value end) as report_rate_tolerance_points,
    cast(max(case when name = 'report.rate_window_months' then number_value end) as integer)
        as report_rate_window_months
from rules
