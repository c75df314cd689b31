-- One row per request gold counts, with everything the fact needs: dimension keys, durations
-- and flags, after the treatments of docs/contracts.md. Requests excluded from the fact (opening
-- not on the calendar, status unknown) are left out; values outside their domain map to the
-- Other member (the unknown area: 0); unusable dates and coordinates are nulled.
-- fct_service_requests is this model materialised incrementally; a full rebuild equals it.
with

flagged as (

    select * from {{ ref('int_service_requests_flagged') }}
    where not is_excluded_from_fact

),

treated as (

    select
        service_request_id,
        local_area_id,
        {{ request_type_id('request_type') }} as request_type_id,
        {{ known_or_other('department', 'has_unknown_department') }} as department,
        {{ known_or_other('channel', 'has_unknown_channel') }} as channel,
        status,
        {{ known_or_other('closure_reason', 'has_unknown_closure_reason') }} as closure_reason,
        opened_at,
        opened_date_local,
        opened_hour_local,
        case when not has_unusable_close_date then closed_date end as closed_date,
        is_open,
        case when not is_outside_city then latitude end as latitude,
        case when not is_outside_city then longitude end as longitude,
        case when not has_unusable_last_modified then last_modified_at end as last_modified_at,
        has_quality_issues,
        quality_reasons
    from flagged

)

select
    service_request_id,
    local_area_id,
    request_type_id,
    department,
    channel,
    status,
    closure_reason,
    opened_at,
    opened_date_local,
    opened_hour_local,
    closed_date,
    case
        when not is_open
            then cast({{ dbt.datediff('opened_date_local', 'closed_date', 'day') }} as integer)
    end as days_to_close,
    is_open,
    latitude,
    longitude,
    last_modified_at,
    coalesce(closed_date < opened_date_local, false) as is_closed_before_opened,
    latitude is not null and longitude is not null as has_location,
    has_quality_issues,
    quality_reasons
from treated
