-- The status history of the requests gold counts: one row per request and status version, a
-- version being a stretch of time over which the status and closure reason stayed the same.
-- Read from the status snapshot, whose versions also start on edits that change neither (a new
-- close date, an address): consecutive versions with the same status and closure reason are
-- merged, so that a reopened request is an Open row after a Closed one.
with

snapshot_versions as (

    select
        service_request_id,
        status,
        closure_reason,
        dbt_valid_from as valid_from,
        dbt_valid_to as valid_to
    from {{ ref('snap_service_request_statuses') }}

),

counted_requests as (

    select service_request_id from {{ ref('fct_service_requests') }}

),

counted_versions as (

    select
        snapshot_versions.*,
        lag(snapshot_versions.valid_from) over (
            partition by snapshot_versions.service_request_id order by snapshot_versions.valid_from
        ) as previous_valid_from,
        lag(snapshot_versions.status) over (
            partition by snapshot_versions.service_request_id order by snapshot_versions.valid_from
        ) as previous_status,
        lag(snapshot_versions.closure_reason) over (
            partition by snapshot_versions.service_request_id order by snapshot_versions.valid_from
        ) as previous_closure_reason
    from snapshot_versions
    where exists (
        select 1 from counted_requests
        where counted_requests.service_request_id = snapshot_versions.service_request_id
    )

),

marked as (

    select
        *,
        -- silver text is never empty (blank is null), so '' stands for null in the comparison
        case
            when
                previous_valid_from is not null
                and coalesce(previous_status, '') = coalesce(status, '')
                and coalesce(previous_closure_reason, '') = coalesce(closure_reason, '')
                then 0
            else 1
        end as starts_a_change
    from counted_versions

),

numbered as (

    select
        *,
        sum(starts_a_change) over (
            partition by service_request_id
            order by valid_from
            rows between unbounded preceding and current row
        ) as change_number
    from marked

),

merged as (

    select
        service_request_id,
        change_number,
        min(status) as status,
        min(closure_reason) as closure_reason,
        min(valid_from) as valid_from,
        -- the current version (valid_to null) ends its stretch: the stretch is current too
        case when count(*) = count(valid_to) then max(valid_to) end as valid_to
    from numbered
    group by service_request_id, change_number

)

select
    cast(service_request_id as {{ dbt.type_string() }}) as service_request_id,
    cast(status as {{ dbt.type_string() }}) as status,
    cast(closure_reason as {{ dbt.type_string() }}) as closure_reason,
    valid_from,
    valid_to,
    valid_to is null as is_current
from merged
