{{ config(materialized='table') }}

-- One row per request in silver, values as staged, with every quality flag: the reasons ingest
-- found in the record (bronze _quality_issues) and those found here against the known domains
-- (seeds) and across rows, as one sorted list (quality_reasons) and as the booleans gold's
-- treatments need (docs/contracts.md, "Quality reasons and treatments"). A table: the fact,
-- the dimensions, the quarantine, the snapshot's input and a dozen tests read it, and the
-- flags depend on other rows (duplicates) and on the seeds, so it is rebuilt whole each build.
with

service_requests as (

    select * from {{ ref('stg_portal__service_requests') }}

),

statuses as (

    select * from {{ ref('statuses') }}

),

channels as (

    select * from {{ ref('channels') }}

),

departments as (

    select * from {{ ref('departments') }}

),

closure_reasons as (

    select * from {{ ref('closure_reasons') }}

),

local_areas as (

    select * from {{ ref('int_local_areas') }}

),

-- Contents that more than one request carries (a group by: a window over every request
-- would carry all its columns through a sort).
duplicated_contents as (

    select row_hash
    from service_requests
    where row_hash is not null
    group by row_hash
    having count(*) > 1

),

newest_load as (

    select load_id
    from {{ ref('stg_portal__loads') }}
    where load_status = 'succeeded'
    order by finished_at desc
    limit 1

),

checked as (

    select
        service_requests.*,
        coalesce(statuses.status, service_requests.status) as known_status,
        statuses.is_open,
        coalesce(local_areas.local_area_id, 0) as local_area_id,
        -- A blank status says neither open nor closed: unknown, unless ingest flagged it missing.
        statuses.status is null
        and not {{ has_reason('service_requests.ingest_quality_reasons', 'status_missing') }}
            as has_unknown_status,
        service_requests.channel is not null and channels.channel is null as has_unknown_channel,
        service_requests.department is not null
        and departments.department is null as has_unknown_department,
        service_requests.closure_reason is not null
        and closure_reasons.closure_reason is null as has_unknown_closure_reason,
        service_requests.local_area is not null
        and local_areas.local_area_id is null as has_unknown_local_area,
        coalesce(
            service_requests.closed_date < service_requests.opened_date_local, false
        ) as is_closed_before_opened,
        (service_requests.latitude is not null or service_requests.longitude is not null)
        and not {{ is_inside_city('service_requests.latitude', 'service_requests.longitude') }}
            as is_outside_city,
        duplicated_contents.row_hash is not null as is_exact_duplicate
    from service_requests
    left join statuses
        on service_requests.status = statuses.status_as_sent
    left join channels
        on service_requests.channel = channels.channel
    left join departments
        on service_requests.department = departments.department
    left join closure_reasons
        on service_requests.closure_reason = closure_reasons.closure_reason
    left join local_areas
        on service_requests.local_area = local_areas.local_area_name
    left join duplicated_contents
        on service_requests.row_hash = duplicated_contents.row_hash

),

listed as (

    select
        *,
        nullif(
            concat_ws(
                ',',
                ingest_quality_reasons,
                case when has_unknown_status then 'unknown_status' end,
                case when has_unknown_channel then 'unknown_channel' end,
                case when has_unknown_department then 'unknown_department' end,
                case when has_unknown_closure_reason then 'unknown_closure_reason' end,
                case when has_unknown_local_area then 'unknown_local_area' end,
                case when is_closed_before_opened then 'closed_before_opened' end,
                case when is_outside_city then 'outside_city' end,
                case when is_exact_duplicate then 'exact_duplicate' end
            ),
            ''
        ) as unsorted_reasons
    from checked

),

flagged as (

    select
        *,
        case when unsorted_reasons is not null then {{ sort_reasons('unsorted_reasons') }} end as quality_reasons,
        opened_at is null
        or {{ has_reason('ingest_quality_reasons', 'service_request_open_timestamp_in_future') }}
        or {{ has_reason('ingest_quality_reasons', 'service_request_open_timestamp_before_first_year') }}
            as has_unplaceable_opening,
        {{ has_reason('ingest_quality_reasons', 'service_request_close_date_in_future') }}
        or {{ has_reason('ingest_quality_reasons', 'service_request_close_date_before_first_year') }}
            as has_unusable_close_date,
        {{ has_reason('ingest_quality_reasons', 'last_modified_timestamp_in_future') }}
        or {{ has_reason('ingest_quality_reasons', 'last_modified_timestamp_before_first_year') }}
            as has_unusable_last_modified
    from listed

)

select
    service_request_id,
    department,
    request_type,
    known_status as status,
    closure_reason,
    address,
    local_area,
    local_area_id,
    channel,
    latitude,
    longitude,
    is_open,
    closed_date,
    opened_date_local,
    opened_hour_local,
    opened_at,
    last_modified_at,
    quality_reasons,
    quality_reasons is not null as has_quality_issues,
    has_unknown_status,
    has_unknown_channel,
    has_unknown_department,
    has_unknown_closure_reason,
    has_unknown_local_area,
    is_closed_before_opened,
    is_outside_city,
    is_exact_duplicate,
    has_unplaceable_opening,
    has_unusable_close_date,
    has_unusable_last_modified,
    -- A request whose opening cannot be placed on the calendar, or whose status does not say
    -- whether it is open, cannot be counted: it stays out of the fact and everything built on it.
    has_unplaceable_opening or is_open is null as is_excluded_from_fact,
    coalesce(load_id in (select newest_load.load_id from newest_load), false) as is_in_newest_load,
    row_hash,
    load_id,
    loaded_at
from flagged
