-- Per local day, area and request type on which a request of that area and type opened or
-- closed: how many opened, how many closed, and the open backlog at the end of the day. The
-- backlog only moves on such days, so each row's backlog holds until the next row of the same
-- area and type. A request is in the backlog from its opening day until the day before it
-- closes; a close date before the opening day (a source quirk) counts as closing on the opening
-- day, and a closed request without a usable close date never enters the backlog.
with

requests as (

    select
        local_area_id,
        request_type_id,
        opened_date_local,
        is_open,
        case when not is_open then closed_date end as closed_date
    from {{ ref('fct_service_requests') }}

),

-- +1 on the opening day, -1 on the day a request leaves the backlog.
backlog_moves as (

    select
        local_area_id,
        request_type_id,
        opened_date_local as activity_date,
        1 as opened,
        0 as closed,
        case
            when is_open then 1
            when closed_date is null or closed_date <= opened_date_local then 0
            else 1
        end as backlog_change
    from requests
    where opened_date_local is not null

    union all

    select
        local_area_id,
        request_type_id,
        closed_date as activity_date,
        0 as opened,
        1 as closed,
        case when opened_date_local < closed_date then -1 else 0 end as backlog_change
    from requests
    where closed_date is not null

),

daily as (

    select
        activity_date as date_local,
        local_area_id,
        request_type_id,
        sum(opened) as opened_count,
        sum(closed) as closed_count,
        sum(backlog_change) as backlog_change
    from backlog_moves
    group by activity_date, local_area_id, request_type_id

)

select
    date_local,
    local_area_id,
    request_type_id,
    cast(opened_count as bigint) as opened_count,
    cast(closed_count as bigint) as closed_count,
    cast(
        sum(backlog_change) over (
            partition by local_area_id, request_type_id
            order by date_local
            rows between unbounded preceding and current row
        ) as bigint
    ) as open_backlog_count
from daily
