-- One row per accepted register row, with the delivery it belongs to (macro with_delivery).
{{ with_delivery('stg_register__enrollments') }}
