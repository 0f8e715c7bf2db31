-- One row per accepted contributions row, with the delivery it belongs to (macro with_delivery).
{{ with_delivery('stg_contributions__payments') }}
