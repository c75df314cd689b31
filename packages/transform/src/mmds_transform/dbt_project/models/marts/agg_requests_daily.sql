-- Per local day, area and request type: requests opened, requests closed, and the open
-- backlog at the end of the day. A request is in the backlog from its opening day until the
-- day before it closes; a close date before the opening day counts as closing on the opening
-- day. Rows exist for every day on which any of the three counts is non-zero.
with

requests as (

    -- A request without a known status is still open as far as the backlog is concerned.
    select
        local_area_id,
        request_type_id,
        opened_date_local,
        case when coalesce(is_open, true) then null else closed_date end as closed_date,
        coalesce(is_open, true) as is_open
    from {{ ref('int_service_requests_enriched') }}
    where opened_date_local is not null or closed_date is not null

),

calendar as (

    select * from {{ ref('int_calendar_days') }}

),

closed_requests as (

    select
        local_area_id,
        request_type_id,
        opened_date_local,
        case
            when is_open then null
            when closed_date is null or closed_date < opened_date_local then opened_date_local
            else closed_date
        end as backlog_exit_date
    from requests

),

opened_per_day as (

    select
        local_area_id,
        request_type_id,
        opened_date_local as activity_date,
        count(*) as opened_count
    from requests
    where opened_date_local is not null
    group by 1, 2, 3

),

closed_per_day as (

    select
        local_area_id,
        request_type_id,
        closed_date as activity_date,
        count(*) as closed_count
    from requests
    where closed_date is not null
    group by 1, 2, 3

),

exits_per_day as (

    select
        local_area_id,
        request_type_id,
        backlog_exit_date as activity_date,
        count(*) as exit_count
    from closed_requests
    where opened_date_local is not null and backlog_exit_date is not null
    group by 1, 2, 3

),

-- The days each area and type needs a row on: from its first activity to its last, or to the
-- as-of day while anything is still open.
group_spans as (

    select
        local_area_id,
        request_type_id,
        case
            when min(closed_date) < min(opened_date_local) or min(opened_date_local) is null
                then min(closed_date)
            else min(opened_date_local)
        end as first_date,
        case
            when max(closed_date) > max(opened_date_local) or max(opened_date_local) is null
                then max(closed_date)
            else max(opened_date_local)
        end as last_date,
        max(case when is_open and opened_date_local is not null then 1 else 0 end) as has_open
    from requests
    group by 1, 2

),

group_days as (

    select
        calendar.calendar_date as date_local,
        group_spans.local_area_id,
        group_spans.request_type_id
    from group_spans
    inner join calendar
        on
            group_spans.first_date <= calendar.calendar_date
            and (
                group_spans.has_open = 1
                or group_spans.last_date >= calendar.calendar_date
            )

),

daily as (

    select
        group_days.date_local,
        group_days.local_area_id,
        group_days.request_type_id,
        coalesce(opened_per_day.opened_count, 0) as opened_count,
        coalesce(closed_per_day.closed_count, 0) as closed_count,
        sum(coalesce(opened_per_day.opened_count, 0) - coalesce(exits_per_day.exit_count, 0)) over (
            partition by group_days.local_area_id, group_days.request_type_id
            order by group_days.date_local
            rows between unbounded preceding and current row
        ) as open_backlog_count
    from group_days
    left join opened_per_day
        on
            group_days.date_local = opened_per_day.activity_date
            and group_days.local_area_id = opened_per_day.local_area_id
            and group_days.request_type_id = opened_per_day.request_type_id
    left join closed_per_day
        on
            group_days.date_local = closed_per_day.activity_date
            and group_days.local_area_id = closed_per_day.local_area_id
            and group_days.request_type_id = closed_per_day.request_type_id
    left join exits_per_day
        on
            group_days.date_local = exits_per_day.activity_date
            and group_days.local_area_id = exits_per_day.local_area_id
            and group_days.request_type_id = exits_per_day.request_type_id

)

select
    date_local,
    local_area_id,
    request_type_id,
    cast(opened_count as bigint) as opened_count,
    cast(closed_count as bigint) as closed_count,
    cast(open_backlog_count as bigint) as open_backlog_count
from daily
where opened_count > 0 or closed_count > 0 or open_backlog_count > 0
