-- One row per request with everything gold needs: dimension keys, durations and flags.
-- fct_service_requests is this model materialised incrementally; a full rebuild equals it.
with

service_requests as (

    select * from {{ ref('stg_portal__service_requests') }}

),

local_areas as (

    select * from {{ ref('local_areas') }}

),

enriched as (

    select
        service_requests.service_request_id,
        coalesce(local_areas.local_area_id, 0) as local_area_id,
        {{ request_type_id('service_requests.request_type') }} as request_type_id,
        service_requests.department,
        service_requests.channel,
        service_requests.status,
        service_requests.closure_reason,
        service_requests.opened_at,
        service_requests.opened_date_local,
        service_requests.opened_hour_local,
        service_requests.closed_date,
        case
            when not service_requests.is_open
                then cast(
                    {{ dbt.datediff('service_requests.opened_date_local', 'service_requests.closed_date', 'day') }}
                    as integer
                )
        end as days_to_close,
        service_requests.is_open,
        service_requests.latitude,
        service_requests.longitude,
        service_requests.last_modified_at,
        coalesce(
            service_requests.closed_date < service_requests.opened_date_local, false
        ) as is_closed_before_opened,
        service_requests.latitude is not null as has_location,
        service_requests.has_quality_issues
    from service_requests
    left join local_areas
        on service_requests.local_area = local_areas.local_area_name

)

select * from enriched
