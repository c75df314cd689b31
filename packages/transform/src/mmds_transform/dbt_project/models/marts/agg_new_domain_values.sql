-- The values the City started sending: per field and value outside its known domain (the
-- seeds), how many requests carry it now and when the first and the latest of them was loaded.
-- What gold does with them is the treatment of their reason (docs/contracts.md). A value leaves
-- this table when its seed learns it, or when no request carries it any more.
with

unknown_values as (

    select
        field_name,
        coalesce(trim(raw_value), '') as field_value,
        quality_reason,
        treatment,
        service_request_id,
        loaded_at
    from {{ ref('fct_quarantined_requests') }}
    where quality_reason in (
        'unknown_status',
        'unknown_channel',
        'unknown_department',
        'unknown_closure_reason',
        'unknown_local_area'
    )

)

select
    cast(field_name as {{ dbt.type_string() }}) as field_name,
    cast(field_value as {{ dbt.type_string() }}) as field_value,
    cast(quality_reason as {{ dbt.type_string() }}) as quality_reason,
    cast(treatment as {{ dbt.type_string() }}) as treatment,
    cast(count(*) as bigint) as request_count,
    min(loaded_at) as first_loaded_at,
    max(loaded_at) as last_loaded_at
from unknown_values
group by field_name, field_value, quality_reason, treatment
